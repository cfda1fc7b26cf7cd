// An MCP client — the official TypeScript SDK, as IDEs embed it — running
// `mcpreg guard` over stdio against a real registry, for the end-to-end
// tests in tests/e2e/guard_e2e_test.cc, which start the registry, register
// the servers and set their policies, then run one scenario here:
//
//   node guard_client.mjs SCENARIO
//
// Settings come from the environment: MCPREG_CLI (the mcpreg binary),
// MCPREG_ADDR, MCPREG_TOKEN (an admin token: the scenarios change policies
// mid-session with the CLI), GUARD_SERVER (display name), GUARD_CALL_LOG
// (the file the sample server lists its calls in), GUARD_CACHE (the guard's
// cache folder), HOST_PID (the registry host, for the registry-down
// scenario). Exit status 0 means every expectation held.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync, readdirSync} from 'node:fs';

import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';

const env = process.env;
const server = env.GUARD_SERVER;

function cli(...args) {
  return execFileSync(env.MCPREG_CLI, ['--project', 'ai-research', ...args], {
    env: {...env},
    encoding: 'utf8',
  });
}

function setPolicy(...args) {
  cli('policy', 'set', '--server', server, ...args);
}

function calls() {
  return existsSync(env.GUARD_CALL_LOG) ?
      readFileSync(env.GUARD_CALL_LOG, 'utf8').split('\n').filter(Boolean) :
      [];
}

// A client connected through the guard; `extraEnv` reaches the server.
async function connect(extraEnv = {}, guardFlags = []) {
  const transport = new StdioClientTransport({
    command: env.MCPREG_CLI,
    args: [...guardFlags, 'guard', '--project', 'ai-research', '--server',
           server],
    env: {
      MCPREG_ADDR: env.MCPREG_ADDR,
      MCPREG_TOKEN: env.MCPREG_TOKEN,
      XDG_CACHE_HOME: env.GUARD_CACHE,
      MCP_SAMPLE_CALL_LOG: env.GUARD_CALL_LOG,
      ...extraEnv,
    },
    stderr: 'inherit',
  });
  const client = new Client({name: 'mcpreg-e2e', version: '1.2.3'});
  const closed = new Promise((resolve) => {
    client.onclose = resolve;
  });
  await client.connect(transport);
  return {client, closed};
}

async function toolNames(client) {
  const {tools} = await client.listTools();
  return tools.map((t) => t.name).sort();
}

async function refused(promise, pattern) {
  await assert.rejects(promise, (e) => {
    assert.match(String(e.message), pattern);
    return true;
  });
}

// SIGSTOP takes effect when each of the process's threads next enters the
// kernel's signal handling: on a loaded machine a thread woken by a network
// event can still answer one more call after kill() returns. Wait until
// every thread is stopped.
async function stopProcess(pid) {
  process.kill(pid, 'SIGSTOP');
  const stopped = () => readdirSync(`/proc/${pid}/task`).every((task) => {
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
    return /^[tT]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  });
  for (let waited = 0; !stopped(); waited += 5) {
    if (waited > 10000) throw new Error(`process ${pid} did not stop`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function within(ms, promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

const scenarios = {
  // Only allowed tools are listed; a denied call is refused and never
  // reaches the server; policy changes and an unregister take effect in the
  // running session.
  async enforce() {
    setPolicy('--mode', 'allow-list', '--tool', 'echo');
    const {client, closed} = await connect();
    assert.deepEqual(await toolNames(client), ['echo']);
    const echo = await client.callTool({name: 'echo', arguments: {text: 'hi'}});
    assert.equal(echo.content[0].text, 'hi');
    await refused(client.callTool({name: 'delete_everything', arguments: {}}),
                  /not allowed by the registry's tool policy/);
    assert.deepEqual(calls(), ['echo'], 'the denied call reached the server');

    setPolicy('--mode', 'allow-all');
    assert.deepEqual(await toolNames(client),
                     ['add', 'delete_everything', 'echo']);
    const sum = await client.callTool({name: 'add', arguments: {a: 2, b: 3}});
    assert.equal(sum.content[0].text, '5');

    setPolicy('--mode', 'deny-list', '--tool', 'delete_everything');
    await refused(client.callTool({name: 'delete_everything', arguments: {}}),
                  /not allowed/);
    assert.deepEqual(await toolNames(client), ['add', 'echo']);

    cli('unregister', '--name', server);
    await refused(client.callTool({name: 'echo', arguments: {text: 'x'}}),
                  /no longer registered/);
    await within(5000, closed, 'the guard ending the session');
    assert.deepEqual(calls(), ['echo', 'add'], 'calls the server saw');
  },

  // The registry stops answering mid-session: calls are refused, not
  // forwarded unchecked; when it answers again, so does the guard.
  async registryDown() {
    setPolicy('--mode', 'allow-all');
    const {client} = await connect({}, ['--timeout', '2']);
    await client.callTool({name: 'echo', arguments: {text: 'up'}});
    await stopProcess(Number(env.HOST_PID));
    try {
      await refused(client.callTool({name: 'echo', arguments: {text: 'x'}}),
                    /fails closed/);
    } finally {
      process.kill(Number(env.HOST_PID), 'SIGCONT');
    }
    const again = await client.callTool({name: 'echo', arguments: {text: 'ok'}});
    assert.equal(again.content[0].text, 'ok');
    assert.deepEqual(calls(), ['echo', 'echo']);
    await client.close();
  },

  // A required environment variable that is not set: the guard does not
  // start the server and says which one; set, it does.
  async missingEnv() {
    setPolicy('--mode', 'allow-all');
    await refused(connect(), /DB_CONNECTION_STRING/);
    const {client} = await connect({DB_CONNECTION_STRING: 'postgres://db/x'});
    const echo = await client.callTool({name: 'echo', arguments: {text: 'ok'}});
    assert.equal(echo.content[0].text, 'ok');
    await client.close();
  },

  // The package in the repository no longer has the registered digest.
  async digestMismatch() {
    setPolicy('--mode', 'allow-all');
    await refused(connect(), /SHA-256 .* as registered/);
    assert.deepEqual(calls(), []);
  },

  // A server that dies, or writes what is not JSON-RPC, is reported to the
  // client; nothing hangs.
  async brokenServer() {
    setPolicy('--mode', 'allow-all');
    const {client, closed} = await connect();
    await within(10000,
                 refused(client.listTools(), /exited|not JSON-RPC|closed/),
                 'the broken server reported');
    await within(10000, closed, 'the session ending');
  },
};

const name = process.argv[2];
if (!(name in scenarios)) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
try {
  await scenarios[name]();
  console.log(`ok ${name}`);
  process.exit(0);
} catch (e) {
  console.error(`FAILED ${name}: ${e.stack || e}`);
  process.exit(1);
}

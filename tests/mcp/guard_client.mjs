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
// cache folder), GUARD_SCRATCH (a folder the scenario may write to),
// HOST_PID (the registry host, for the registry-down scenario). Exit status
// 0 means every expectation held.
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

import {Client} from '@modelcontextprotocol/sdk/client/index.js';
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js';
import {ToolListChangedNotificationSchema} from
    '@modelcontextprotocol/sdk/types.js';

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

// --- Pinned tool definitions (tests/mcp/fixtures/pinned_server.js) -------

// The fixture logs each call it receives as "<tool> <arguments as JSON>".
function logged(tool, args) {
  return `${tool} ${JSON.stringify(args)}`;
}

// connect(), listing and calling, each with a bound on how long it may take.
function connectWithin(...args) {
  return within(30000, connect(...args), 'connecting through the guard');
}

function listed(client) {
  return within(15000, toolNames(client), 'tools/list');
}

function callTool(client, name, args) {
  return within(15000, client.callTool({name, arguments: args}),
                `the call of ${name}`);
}

// What the registry recorded of the server's tool definitions, newest first
// per tool, as `mcpreg definitions list --json` prints it.
function definitions() {
  const listed = JSON.parse(
      cli('definitions', 'list', '--server', server, '--json'));
  return listed.definitions || [];
}

// The newest definition of `tool` that waits for approval.
function newestPending(tool) {
  const pending = definitions().find((d) => d.tool === tool && !d.approved);
  assert.ok(pending, `no definition of ${tool} waits for approval`);
  return pending;
}

function approve(...args) {
  return cli('definitions', 'approve', '--server', server, ...args);
}

// A refusal because the definition the session saw is not approved.
const kNotApproved =
    /not allowed by the registry's tool policy: .*is not approved.*approve it/;
// A refusal by read_file's argument conditions (entry 0 of the example).
const kCondition = (index) => new RegExp(
    `not on the allow list: tool name 'read_file' matched, but its ` +
    `condition ${index} .* did not hold`);

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

  // examples/tool-policy-arguments.json on version 1.0.0 of the fixture: no
  // tool before its definition is approved; read_file only under /srv/data
  // and without followSymlinks; a definition changed mid-session (echo's,
  // announced with tools/list_changed) is refused at the next call though
  // the client never listed again, until its new digest is approved.
  async pinning() {
    setPolicy('--file',
              fileURLToPath(new URL('../../examples/tool-policy-arguments.json',
                                    import.meta.url)));
    const rugPull = `${env.GUARD_SCRATCH}/rug-pull`;
    const {client} = await connectWithin({PINNED_RUG_PULL_FILE: rugPull});
    assert.equal(client.getServerVersion().version, '1.0.0');
    const listChanged = new Promise((resolve) => {
      client.setNotificationHandler(ToolListChangedNotificationSchema,
                                    () => resolve());
    });

    // Nothing is approved yet: nothing listed, nothing called.
    assert.deepEqual(await listed(client), []);
    await refused(callTool(client, 'echo', {text: 'early'}), kNotApproved);
    assert.deepEqual(calls(), [], 'an unapproved call reached the server');

    approve('--version', '1.0.0');
    assert.deepEqual(await listed(client), ['echo', 'read_file']);
    const read = await callTool(client, 'read_file',
                                {path: '/srv/data/notes.txt'});
    assert.equal(read.content[0].text, 'read /srv/data/notes.txt');
    for (const path of ['/srv/data/../../etc/shadow', '/etc/passwd',
                        '/srv/data2/x', '/srv/data/.ssh/id_rsa']) {
      await refused(callTool(client, 'read_file', {path}), kCondition(0));
    }
    await refused(
        callTool(client, 'read_file',
                 {path: '/srv/data/a', followSymlinks: true}),
        kCondition(1));
    const echo = await callTool(client, 'echo', {text: 'before'});
    assert.equal(echo.content[0].text, 'before');
    const reached = [
      logged('read_file', {path: '/srv/data/notes.txt'}),
      logged('echo', {text: 'before'}),
    ];
    assert.deepEqual(calls(), reached, 'calls the server saw');

    // The rug pull: echo's description changes mid-session. The client
    // hears of it but does not list again; its next call is refused.
    writeFileSync(rugPull, '');
    await within(10000, listChanged,
                 'notifications/tools/list_changed reaching the client');
    await refused(callTool(client, 'echo', {text: 'pulled'}), kNotApproved);
    assert.deepEqual(calls(), reached, 'a changed tool reached the server');
    assert.deepEqual(await listed(client), ['read_file']);

    // The review shows what changed; approved by digest, echo works again
    // in the same session.
    const diff = cli('definitions', 'diff', '--server', server, '--tool',
                     'echo');
    // Pretty-printed, a line each: the old description out, the new in.
    assert.match(diff, /^- +"description": "Returns the text it is given\.",$/m,
                 diff);
    assert.match(diff, /^\+ +"description": "Returns .*\/\.aws\/credentials /m,
                 diff);
    const pulled = newestPending('echo');
    assert.match(pulled.definitionJson, /\.aws\/credentials/);
    assert.ok(pulled.previousDigest, 'the changed echo names no previous one');
    assert.match(approve('--definition', `echo=${pulled.digest}`),
                 new RegExp(`approved echo ${pulled.digest.slice(0, 12)}`));
    const again = await callTool(client, 'echo', {text: 'after'});
    assert.equal(again.content[0].text, 'after');
    assert.deepEqual(await listed(client), ['echo', 'read_file']);
    assert.deepEqual(calls(), [...reached, logged('echo', {text: 'after'})]);
    await within(10000, client.close(), 'closing the session');
  },

  // The same server after version 2.0.0 was registered (the guard runs the
  // latest): read_file's definition changed with the upgrade, so it is
  // withheld and refused until approved; echo's is as approved before.
  async pinningUpgrade() {
    const before = calls();
    const {client} = await connectWithin();
    assert.equal(client.getServerVersion().version, '2.0.0');
    assert.deepEqual(await listed(client), ['echo']);
    const path = '/srv/data/notes.txt';
    await refused(callTool(client, 'read_file', {path}), kNotApproved);
    assert.deepEqual(calls(), before, 'an unapproved call reached the server');

    const upgraded = newestPending('read_file');
    assert.equal(upgraded.firstVersion, '2.0.0');
    assert.ok(upgraded.previousDigest, 'the upgrade names no previous one');
    const diff = cli('definitions', 'diff', '--server', server, '--tool',
                     'read_file');
    assert.match(diff, /^\+ .*id_rsa/m, diff);
    approve('--definition', `read_file=${upgraded.digest}`);

    assert.deepEqual(await listed(client), ['echo', 'read_file']);
    const read = await callTool(client, 'read_file', {path});
    assert.equal(read.content[0].text, `read ${path}`);
    // Approving a definition does not loosen the argument conditions.
    await refused(callTool(client, 'read_file', {path: '/etc/passwd'}),
                  kCondition(0));
    assert.deepEqual(calls(), [...before, logged('read_file', {path})]);
    await within(10000, client.close(), 'closing the session');
  },

  // Pinning with trust on first use: version 1.0.0's definitions, the
  // first ever seen, are usable without a review.
  async trustOnFirstUse() {
    setPolicy('--mode', 'allow-all', '--pin-definitions',
              '--trust-on-first-use');
    const {client} = await connectWithin();
    assert.equal(client.getServerVersion().version, '1.0.0');
    assert.deepEqual(await listed(client), ['echo', 'read_file']);
    const read = await callTool(client, 'read_file', {path: '/srv/data/x'});
    assert.equal(read.content[0].text, 'read /srv/data/x');
    assert.ok(definitions().every((d) => d.approvedBy === 'first use'));
    await within(10000, client.close(), 'closing the session');
  },

  // ... but a definition that changed with an upgrade is not a first one.
  async trustOnFirstUseUpgrade() {
    const before = calls();
    const {client} = await connectWithin();
    assert.equal(client.getServerVersion().version, '2.0.0');
    assert.deepEqual(await listed(client), ['echo']);
    await refused(callTool(client, 'read_file', {path: '/srv/data/x'}),
                  kNotApproved);
    const echo = await callTool(client, 'echo', {text: 'still'});
    assert.equal(echo.content[0].text, 'still');
    assert.deepEqual(calls(), [...before, logged('echo', {text: 'still'})]);
    assert.equal(newestPending('read_file').firstVersion, '2.0.0');
    await within(10000, client.close(), 'closing the session');
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

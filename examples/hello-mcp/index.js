#!/usr/bin/env node
// The README's first package: an MCP server on stdio with one tool, hello,
// published with `npm publish` to the quickstart's ai-npm-local.
'use strict';
const readline = require('readline');

const HELLO = {
  name: 'hello',
  description: 'Greets whoever it is given.',
  inputSchema: {type: 'object', properties: {name: {type: 'string'}}},
};

function answer(method, params) {
  if (method === 'initialize') {
    return {protocolVersion: '2025-06-18', capabilities: {tools: {}},
            serverInfo: {name: 'hello-mcp', version: '1.0.0'}};
  }
  if (method === 'ping') return {};
  if (method === 'tools/list') return {tools: [HELLO]};
  if (method === 'tools/call' && params.name === 'hello') {
    const who = (params.arguments || {}).name || 'world';
    return {content: [{type: 'text', text: `hello, ${who}`}]};
  }
  return undefined;
}

readline.createInterface({input: process.stdin}).on('line', (line) => {
  let m;
  try { m = JSON.parse(line); } catch (e) { return; }
  if (m.id === undefined) return;  // a notification
  const result = answer(m.method, m.params || {});
  process.stdout.write(JSON.stringify(result === undefined
      ? {jsonrpc: '2.0', id: m.id,
         error: {code: -32601, message: `unknown method ${m.method}`}}
      : {jsonrpc: '2.0', id: m.id, result}) + '\n');
});

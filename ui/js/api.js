// The registry's REST API as the UI uses it, and the signed-in session.
//
// The token lives in sessionStorage, not in a cookie: it is sent only by our
// own fetch calls (so no request can be forged from another site), and it is
// forgotten when the tab closes.

const TOKEN_KEY = 'mcpreg.token';
const PROJECT_KEY = 'mcpreg.project';

// The API sits at the root of the origin that serves the UI at <root>/ui/;
// computing it from the page's own address keeps the UI working behind a
// path prefix too.
const API_ROOT = new URL('../', document.baseURI);

// What /projects told us about the caller. Filled by loadSession().
export const session = {
  principal: '',
  admin: false,
  projects: [],   // [{projectKey, canRegister}]
  loaded: false,
};

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PROJECT_KEY);
  session.principal = '';
  session.admin = false;
  session.projects = [];
  session.loaded = false;
}

export function currentProject() {
  return sessionStorage.getItem(PROJECT_KEY) || '';
}

export function setProject(projectKey) {
  if (projectKey) sessionStorage.setItem(PROJECT_KEY, projectKey);
  else sessionStorage.removeItem(PROJECT_KEY);
}

// ALLOW on the selected project: register, unregister, set policies, audit.
export function canRegister() {
  const p = session.projects.find((x) => x.projectKey === currentProject());
  return Boolean(p && p.canRegister);
}

// An error answer of the API: {code, message, details} plus the HTTP status.
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let unauthenticatedHandler = null;

// app.js sends the user back to the sign-in page when a token stops working.
export function onUnauthenticated(fn) {
  unauthenticatedHandler = fn;
}

// One call. `query` values that are empty are left out, so optional filters
// need no special casing by the callers. `token` overrides the stored one
// (sign-in checks a token before keeping it); `auth: false` sends none.
export async function call(method, path, opts = {}) {
  const {query, body, signal, auth = true, token} = opts;
  const url = new URL(path.replace(/^\//, ''), API_ROOT);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const headers = {Accept: 'application/json'};
  const bearer = token !== undefined ? token : getToken();
  if (auth && bearer) headers.Authorization = `Bearer ${bearer}`;
  const project = currentProject();
  if (auth && project) headers['JFrog-Project-Key'] = project;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, {
      method, headers, body: payload, signal,
      credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'UNAVAILABLE', 'The registry cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = null;
  }
  if (res.ok) {
    if (data === null) throw new ApiError(res.status, 'INTERNAL', 'The registry answered with something that is not JSON.');
    return data;
  }
  const err = data && typeof data.code === 'string' ?
    new ApiError(res.status, data.code, data.message || '', data.details || []) :
    new ApiError(res.status, `HTTP_${res.status}`, `The registry answered ${res.status} ${res.statusText}.`);
  // A token that expired or was revoked: every page would fail the same way.
  if (res.status === 401 && auth && token === undefined && unauthenticatedHandler) {
    unauthenticatedHandler(err);
  }
  throw err;
}

const enc = encodeURIComponent;

// Reads who the caller is and which projects they work in; picks a project
// (the one chosen before in this tab if it is still offered).
export async function loadSession(token) {
  const data = await call('GET', '/api/v1/mcp-registry/projects', {token});
  session.principal = data.principal || '';
  session.admin = Boolean(data.admin);
  session.projects = Array.isArray(data.projects) ? data.projects : [];
  session.loaded = true;
  const keys = session.projects.map((p) => p.projectKey);
  if (keys.length && !keys.includes(currentProject())) setProject(keys[0]);
  return data;
}

export const api = {
  info: (o) => call('GET', '/api/v1/mcp-registry/info', {...o, auth: false}),

  repositories: (projectKey, o) =>
    call('GET', `/api/v1/mcp-registry/projects/${enc(projectKey)}/repositories`, o),
  files: (repoKey, prefix, o) =>
    call('GET', `/api/v1/mcp-registry/repositories/${enc(repoKey)}/files`,
         {...o, query: {prefix, pageSize: 200}}),
  packageInfo: (repoKey, path, o) =>
    call('GET', `/api/v1/mcp-registry/repositories/${enc(repoKey)}/package`,
         {...o, query: {path}}),

  listServers: ({search, pageSize, pageToken}, o) =>
    call('GET', '/api/v1/mcp-registry/servers',
         {...o, query: {projectKey: currentProject(), search, pageSize, pageToken}}),
  getServer: (name, {pageToken} = {}, o) =>
    call('GET', `/api/v1/mcp-registry/servers/${enc(name)}`,
         {...o, query: {projectKey: currentProject(), pageToken}}),
  register: (body, o) =>
    call('POST', '/ml/core/api/v1/mcp-registry/custom-server', {...o, body}),
  // The project travels in the JFrog-Project-Key header, as the platform's
  // documented call does.
  unregister: (name, o) =>
    call('DELETE', '/api/v1/ml/registry/mcp/unregister', {...o, query: {name}}),

  // `policy`: mode, entries (with any conditions) and the pinDefinitions,
  // trustOnFirstUse and auditArgumentValues switches.
  setPolicy: (server, policy, o) =>
    call('PUT', `/api/v1/mcp-registry/servers/${enc(server)}/tool-policy`,
         {...o, body: {...policy, projectKey: currentProject()}}),
  testPolicy: (policy, tools, o) =>
    call('POST', '/api/v1/mcp-registry/tool-policy:test', {...o, body: {policy, tools}}),
  clientConfig: (server, client, o) =>
    call('GET', `/api/v1/mcp-registry/servers/${enc(server)}/client-config`,
         {...o, query: {projectKey: currentProject(), client}}),

  toolDefinitions: (server, o) =>
    call('GET', `/api/v1/mcp-registry/servers/${enc(server)}/tool-definitions`,
         {...o, query: {projectKey: currentProject()}}),
  // `which`: {definitions: [{tool, digest}]} or {version}.
  approveDefinitions: (server, which, o) =>
    call('POST', '/api/v1/mcp-registry/tool-definitions:approve',
         {...o, body: {projectKey: currentProject(), server, ...which}}),
  revokeDefinitions: (server, which, o) =>
    call('POST', '/api/v1/mcp-registry/tool-definitions:revoke',
         {...o, body: {projectKey: currentProject(), server, ...which}}),

  audit: (filters, o) =>
    call('GET', '/api/v1/mcp-registry/audit',
         {...o, query: {projectKey: currentProject(), ...filters}}),
  verifyAudit: (o) =>
    call('POST', '/api/v1/mcp-registry/audit:verify', {...o, body: {}}),
};

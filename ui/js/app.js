// Start-up, the header and the hash router: #/sign-in, #/registry,
// #/register (the registry with the register pane open), #/servers/<name>,
// #/audit. Hash routing needs nothing from the host but index.html.

import {api, canRegister, currentProject, getToken, loadSession, onUnauthenticated, session, setProject, signOut} from './api.js';
import {h} from './dom.js';
import {mountSignIn} from './signin.js';
import {mountRegistry} from './registry.js';
import {mountServer} from './server.js';
import {mountAudit} from './audit.js';

const main = document.getElementById('main');
const header = document.getElementById('app-header');
const flashEl = document.getElementById('flash');

let current = null;  // {controller} of the mounted page
let returnTo = '';    // the page asked for before signing in

// A one-line message carried to the next page ("Registered …").
let pendingFlash = '';
export function flash(text) {
  pendingFlash = text;
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [head, ...rest] = raw.split('/');
  let param = rest.join('/');
  try {
    param = decodeURIComponent(param);
  } catch {
    // A hand-typed, badly encoded name: use it as typed.
  }
  return {page: head || '', param};
}

function renderHeader() {
  document.getElementById('principal').textContent = session.principal;
  const picker = document.getElementById('project-picker');
  picker.replaceChildren();
  let control;
  if (session.projects.length) {
    control = h('select', {id: 'project-select'});
    for (const p of session.projects) control.append(h('option', {value: p.projectKey, text: p.projectKey}));
    control.value = currentProject();
  } else {
    // The registry named no project (the caller holds no grant in one): let
    // the user type the key of the project to look at.
    control = h('input', {id: 'project-input', type: 'text', value: currentProject(),
      placeholder: 'project key', autocomplete: 'off', spellcheck: 'false'});
  }
  control.addEventListener('change', () => {
    setProject(control.value.trim());
    // A server page belongs to one project: go back to the list.
    const {page} = parseHash();
    navigate(page === 'audit' ? '#/audit' : '#/registry');
  });
  picker.append(h('label', {for: control.id, text: 'Project'}), control);
  const {page} = parseHash();
  for (const [link, name] of [['nav-registry', 'registry'], ['nav-audit', 'audit']]) {
    const el = document.getElementById(link);
    const on = page === name || (name === 'registry' && (page === 'servers' || page === 'register'));
    if (on) el.setAttribute('aria-current', 'page');
    else el.removeAttribute('aria-current');
  }
}

async function route() {
  if (current) current.controller.abort();
  const controller = new AbortController();
  current = {controller};
  const ctx = {signal: controller.signal, navigate, flash};
  const {page, param} = parseHash();

  if (!getToken() || page === 'sign-in') {
    if (getToken() && page === 'sign-in') signOut();
    header.hidden = true;
    if (page !== 'sign-in') {
      // Come back here once signed in (a shared link to a server page).
      if (page) returnTo = location.hash;
      history.replaceState(null, '', '#/sign-in');
    }
    document.title = 'Sign in — mcpreg';
    mountSignIn(main, {...ctx, notice: signInNotice, onSignedIn: () => {
      const target = returnTo || '#/registry';
      returnTo = '';
      navigate(target);
    }});
    signInNotice = '';
    return;
  }

  if (!session.loaded) {
    main.replaceChildren(h('p', {class: 'loading', text: 'Loading…'}));
    try {
      await loadSession();
    } catch (e) {
      if (controller.signal.aborted) return;
      if (e.status === 401) return;  // handled by onUnauthenticated
      main.replaceChildren(h('div', {class: 'form-alert', role: 'alert', text: `Could not load your projects: ${e.message}`}));
      return;
    }
    if (controller.signal.aborted) return;
  }
  header.hidden = false;
  renderHeader();
  showFlash();

  if (page === 'servers' && param) {
    mountServer(main, param, ctx);
  } else if (page === 'audit') {
    document.title = 'Audit — mcpreg';
    mountAudit(main, ctx);
  } else {
    if (page !== 'registry' && page !== 'register') history.replaceState(null, '', '#/registry');
    document.title = 'Registry — mcpreg';
    mountRegistry(main, {...ctx, openRegisterPane: page === 'register', canRegister: canRegister()});
  }
}

function showFlash() {
  flashEl.textContent = pendingFlash;
  flashEl.hidden = !pendingFlash;
  pendingFlash = '';
}

// Said on the sign-in page after a token stopped working mid-session.
let signInNotice = '';
onUnauthenticated(() => {
  signOut();
  signInNotice = 'Your session has ended: the registry no longer accepts that token. Sign in again.';
  navigate('#/sign-in');
});

document.getElementById('signout').addEventListener('click', () => {
  signOut();
  flashEl.hidden = true;
  navigate('#/sign-in');
});

// The skip link targets #main; with hash routing that would be a route.
document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', route);

// Which registry answers, in the footer; needs no token.
api.info().then((info) => {
  document.getElementById('app-footer').textContent =
    `mcpreg ${info.version || ''}${info.gitRevision ? ` (${info.gitRevision.slice(0, 12)})` : ''}`;
}).catch(() => {
  document.getElementById('app-footer').textContent = 'The registry did not answer.';
});

route();

// The registry page: the project's servers, searchable and paged, and the
// button that opens the register pane.

import {api, currentProject} from './api.js';
import {debounce, h, hideAlert, Pager, showAlert} from './dom.js';
import {openRegisterPane} from './register.js';

const PAGE_SIZE = 25;

const POLICY_LABELS = {
  ALLOW_ALL: ['All tools', 'all'],
  ALLOW_LIST: ['Allow list', 'allow'],
  DENY_LIST: ['Deny list', 'deny'],
};

// A server without a policy allows nothing (zero trust); say so plainly.
export function policyBadge(policy) {
  const mode = policy && POLICY_LABELS[policy.mode] ? policy.mode : 'NONE';
  const [text, cls] = POLICY_LABELS[mode] || ['No policy — nothing allowed', 'none'];
  return h('span', {class: `badge policy-badge policy-${cls}`, dataset: {mode}, text});
}

export function serverHash(name) {
  return `#/servers/${encodeURIComponent(name)}`;
}

export function mountRegistry(main, ctx) {
  const {signal, canRegister, navigate, flash} = ctx;
  const search = h('input', {id: 'registry-search', type: 'search', autocomplete: 'off',
    placeholder: 'Name, display name or description'});
  const searchLabel = h('label', {for: search.id, text: 'Search servers'});
  const registerBtn = canRegister ?
    h('button', {type: 'button', id: 'register-open', class: 'primary'},
      h('span', {'aria-hidden': 'true', class: 'plus', text: '+'}), 'Register server') :
    null;
  const alert = h('div', {class: 'form-alert', id: 'registry-error', role: 'alert', hidden: true});
  const tbody = h('tbody');
  const table = h('table', {id: 'servers-table', class: 'data-table'},
    h('caption', {class: 'visually-hidden', text: 'Registered MCP servers'}),
    h('thead', {}, h('tr', {},
      h('th', {scope: 'col', text: 'Server'}),
      h('th', {scope: 'col', text: 'Latest version'}),
      h('th', {scope: 'col', text: 'Description'}),
      h('th', {scope: 'col', text: 'Tool policy'}))),
    tbody);
  const prev = h('button', {type: 'button', id: 'page-prev', class: 'secondary', text: 'Previous', disabled: true});
  const next = h('button', {type: 'button', id: 'page-next', class: 'secondary', text: 'Next', disabled: true});
  const pageInfo = h('span', {class: 'page-info', 'aria-live': 'polite'});
  const pager = new Pager(prev, next, pageInfo, load);

  main.replaceChildren(h('section', {class: 'page registry'},
    h('div', {class: 'page-head'},
      h('div', {},
        h('h1', {text: 'Registry'}),
        h('p', {class: 'lead', text: `MCP servers registered in project ${currentProject() || '—'}.`})),
      registerBtn),
    h('div', {class: 'toolbar', role: 'search'}, h('div', {class: 'field grow'}, searchLabel, search)),
    alert,
    h('div', {class: 'table-wrap'}, table),
    h('nav', {class: 'pager', 'aria-label': 'Pages of servers'}, prev, pageInfo, next)));

  async function load() {
    hideAlert(alert);
    tbody.replaceChildren(h('tr', {}, h('td', {colspan: 4, class: 'muted', text: 'Loading…'})));
    try {
      const res = await api.listServers({search: search.value.trim(), pageSize: PAGE_SIZE, pageToken: pager.token}, {signal});
      const servers = res.servers || [];
      renderRows(servers);
      pager.loaded(res.nextPageToken);
    } catch (err) {
      if (signal.aborted) return;
      tbody.replaceChildren();
      showAlert(alert, err);
    }
  }

  function renderRows(servers) {
    if (!servers.length) {
      const text = search.value.trim() ? 'No server matches this search.' :
        'No servers are registered in this project yet.';
      tbody.replaceChildren(h('tr', {}, h('td', {colspan: 4, class: 'muted', text})));
      return;
    }
    tbody.replaceChildren(...servers.map((s) => h('tr', {dataset: {name: s.name}},
      h('td', {dataset: {label: 'Server'}},
        h('a', {href: serverHash(s.name), class: 'server-link', text: s.displayName || s.name})),
      h('td', {dataset: {label: 'Latest version'}},
        s.latestVersion || '',
        s.versionCount > 1 ? h('span', {class: 'muted', text: ` (${s.versionCount} versions)`}) : null),
      h('td', {dataset: {label: 'Description'}, class: 'desc', text: s.description || ''}),
      h('td', {dataset: {label: 'Tool policy'}}, policyBadge(s.toolPolicy)))));
  }

  // A new search starts from the first page.
  const reload = debounce(() => {
    pager.reset();
    load();
  }, 250);
  search.addEventListener('input', reload);
  signal.addEventListener('abort', reload.cancel);

  const openPane = () => openRegisterPane({
    canRegister,
    onRegistered: (res) => {
      const s = res.server || {};
      const v = res.version || (s.versions && s.versions[0] && s.versions[0].version) || '';
      flash(res.created === false ?
        `${s.displayName} ${v} was already registered with these details; nothing changed.` :
        `Registered ${s.displayName} ${v}.`);
      navigate(serverHash(s.name));
    },
    onClosed: () => {
      // #/register is the pane's own address; closing it returns to the list.
      if (location.hash.startsWith('#/register')) history.replaceState(null, '', '#/registry');
    },
  });
  if (registerBtn) registerBtn.addEventListener('click', openPane);
  if (ctx.openRegisterPane) openPane();

  load();
}

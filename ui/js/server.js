// A server's page: what it is (README, settings, versions), how to connect an
// IDE to it, its tool policy, its tools' definitions, and unregistering it.

import {api, canRegister, currentProject} from './api.js';
import {mountDefinitions} from './definitions.js';
import {prettyJson} from './diff.js';
import {copyText, errorText, formatBytes, formatTime, h, hideAlert, openDialog, showAlert} from './dom.js';
import {mountPolicy} from './policy.js';
import {keepAnchorsLocal, renderReadme} from './readme.js';
import {policyBadge} from './registry.js';

const CLIENTS = [['cursor', 'Cursor'], ['vscode', 'VS Code'], ['claude-code', 'Claude Code']];

const yesNo = (b) => (b ? 'yes' : 'no');

function table(id, caption, columns, rows) {
  if (!rows.length) return h('p', {class: 'muted', id, text: `No ${caption.toLowerCase()}.`});
  return h('div', {class: 'table-wrap'}, h('table', {class: 'data-table', id},
    h('caption', {class: 'visually-hidden', text: caption}),
    h('thead', {}, h('tr', {}, ...columns.map(([label]) => h('th', {scope: 'col', text: label})))),
    h('tbody', {}, ...rows.map((r) => h('tr', {},
      ...columns.map(([label, get]) => h('td', {dataset: {label}}, get(r))))))));
}

function section(id, title, ...content) {
  return h('section', {class: 'card', id, 'aria-labelledby': `${id}-title`},
    h('h2', {id: `${id}-title`, text: title}), ...content);
}

// Cursor / VS Code / Claude Code as tabs (WAI-ARIA tabs: arrow keys move
// between them, Tab goes into the panel).
function clientConfigs(server, signal) {
  const tablist = h('div', {role: 'tablist', 'aria-label': 'IDE', class: 'tabs'});
  const panels = h('div', {class: 'tab-panels'});
  const tabs = [];

  function select(i, focus) {
    tabs.forEach((t, j) => {
      const on = i === j;
      t.tab.setAttribute('aria-selected', String(on));
      t.tab.tabIndex = on ? 0 : -1;
      t.panel.hidden = !on;
    });
    if (focus) tabs[i].tab.focus();
  }

  CLIENTS.forEach(([client, label], i) => {
    const tab = h('button', {type: 'button', role: 'tab', id: `tab-${client}`, 'aria-controls': `panel-${client}`,
      dataset: {client}, text: label});
    const panel = h('div', {role: 'tabpanel', id: `panel-${client}`, 'aria-labelledby': tab.id, tabindex: 0,
      class: 'tab-panel', dataset: {client}},
    h('p', {class: 'muted', text: 'Loading…'}));
    tab.addEventListener('click', () => select(i, false));
    tab.addEventListener('keydown', (e) => {
      const d = {ArrowRight: 1, ArrowLeft: -1}[e.key];
      if (d) select((i + d + CLIENTS.length) % CLIENTS.length, true);
      if (e.key === 'Home') select(0, true);
      if (e.key === 'End') select(CLIENTS.length - 1, true);
    });
    tabs.push({tab, panel});
    tablist.append(tab);
    panels.append(panel);

    api.clientConfig(server.name, client, {signal}).then((cfg) => {
      panel.replaceChildren(...configView(cfg));
    }).catch((err) => {
      if (!signal.aborted) panel.replaceChildren(h('p', {class: 'form-alert', text: errorText(err)}));
    });
  });
  select(0, false);
  return [tablist, panels];
}

function copyBlock(label, text, cls) {
  const pre = h('pre', {class: cls, tabindex: 0, 'aria-label': label}, h('code', {text}));
  const status = h('span', {class: 'status', 'aria-live': 'polite'});
  const btn = h('button', {type: 'button', class: 'secondary copy', text: 'Copy', 'aria-label': `Copy ${label.toLowerCase()}`});
  btn.addEventListener('click', () => copyText(text, pre, status));
  return h('div', {class: 'copy-block'}, pre, h('div', {class: 'actions'}, btn, status));
}

function configView(cfg) {
  const out = [h('p', {}, 'Add this entry to ', h('code', {text: cfg.fileHint || 'the client\'s MCP configuration'}), '.')];
  out.push(copyBlock('Configuration JSON', prettyJson(cfg.configJson || ''), 'config-json'));
  if (cfg.commandLine) {
    out.push(h('p', {text: 'Or add it from a terminal:'}));
    out.push(copyBlock('Command line', cfg.commandLine, 'command-line'));
  }
  return out;
}

function versionsTable(versions) {
  return table('versions-table', 'Versions', [
    ['Version', (v) => v.version],
    ['Registered', (v) => formatTime(v.createdAt)],
    ['By', (v) => v.createdBy || ''],
    ['Package file', (v) => h('code', {class: 'path', text: (v.artifact && v.artifact.repoPath) || ''})],
    ['Size', (v) => formatBytes(v.artifactSize)],
    ['SHA-256', (v) => h('code', {class: 'hash', title: v.artifactSha256 || '', text: (v.artifactSha256 || '').slice(0, 16)})],
  ], versions);
}

function unregisterDialog(server, {onDone}) {
  const project = currentProject();
  const alert = h('div', {class: 'form-alert', role: 'alert', id: 'unregister-error', hidden: true});
  const cancel = h('button', {type: 'button', class: 'secondary', id: 'unregister-cancel', text: 'Cancel', autofocus: true});
  const confirm = h('button', {type: 'button', class: 'danger', id: 'unregister-confirm', text: 'Unregister'});
  const n = server.versionCount || (server.versions || []).length;
  const dialog = h('dialog', {id: 'unregister-dialog', class: 'confirm', 'aria-labelledby': 'unregister-title',
    'aria-describedby': 'unregister-text'},
  h('h2', {id: 'unregister-title', text: 'Unregister this server?'}),
  h('div', {id: 'unregister-text'},
    h('p', {}, h('strong', {text: server.displayName}), ` will be removed from project ${project}: ` +
      `its ${n === 1 ? 'version' : `${n} versions`}, its tool policy and its client configurations. ` +
      'IDEs will no longer be able to start it through the registry.'),
    h('p', {text: `The package itself stays in repository ${server.repoKey}; nothing is deleted there, and it can be registered again later.`})),
  alert,
  h('div', {class: 'actions'}, cancel, confirm));

  cancel.addEventListener('click', () => dialog.close('cancel'));
  confirm.addEventListener('click', async () => {
    hideAlert(alert);
    confirm.disabled = true;
    confirm.textContent = 'Unregistering…';
    try {
      await api.unregister(server.name);
      dialog.close('done');
      onDone();
    } catch (err) {
      showAlert(alert, err);
      confirm.disabled = false;
      confirm.textContent = 'Unregister';
    }
  });
  openDialog(dialog);
  cancel.focus();
}

export async function mountServer(main, name, {signal, navigate, flash}) {
  document.title = `${name} — mcpreg`;
  main.replaceChildren(h('p', {class: 'loading', text: 'Loading…'}));
  let server;
  try {
    server = await api.getServer(name, {}, {signal});
  } catch (err) {
    if (signal.aborted) return;
    main.replaceChildren(h('section', {class: 'page'},
      h('h1', {text: name}),
      h('div', {class: 'form-alert', role: 'alert', id: 'server-error', dataset: {code: err.code}, text: errorText(err)}),
      h('p', {}, h('a', {href: '#/registry', text: 'Back to the registry'}))));
    return;
  }
  if (signal.aborted) return;
  document.title = `${server.displayName} — mcpreg`;
  const versions = server.versions || [];
  const latest = versions.find((v) => v.version === server.latestVersion) || versions[0] || {};
  const allowed = canRegister();

  const headerBadge = h('span', {id: 'server-policy-badge'}, policyBadge(server.toolPolicy));
  const pendingBadge = h('span', {class: 'badge def-pending', id: 'server-pending-badge', hidden: true});
  const unregisterBtn = allowed ?
    h('button', {type: 'button', class: 'danger secondary', id: 'unregister-open', text: 'Unregister'}) : null;

  const readme = h('div', {class: 'readme', id: 'readme'});
  if (latest.readme) {
    renderReadme(readme, latest.readme);
    keepAnchorsLocal(readme);
  } else {
    readme.append(h('p', {class: 'muted', text: 'This version was registered without a README.'}));
  }

  const versionsBox = h('div', {}, versionsTable(versions));
  let nextToken = server.versionsNextPageToken || '';
  const more = h('button', {type: 'button', class: 'secondary', id: 'versions-more', text: 'Show older versions', hidden: !nextToken});
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api.getServer(server.name, {pageToken: nextToken}, {signal});
      versions.push(...(page.versions || []));
      nextToken = page.versionsNextPageToken || '';
      versionsBox.replaceChildren(versionsTable(versions));
      more.hidden = !nextToken;
    } catch (err) {
      if (!signal.aborted) versionsBox.append(h('p', {class: 'form-alert', text: errorText(err)}));
    } finally {
      more.disabled = false;
    }
  });

  const policySection = h('section', {class: 'card', id: 'policy', 'aria-labelledby': 'policy-title'});
  const definitionsSection = h('section', {class: 'card', id: 'definitions', 'aria-labelledby': 'definitions-title'});

  main.replaceChildren(h('article', {class: 'page server'},
    h('p', {class: 'crumbs'}, h('a', {href: '#/registry', text: 'Registry'}), ' / ', server.name),
    h('div', {class: 'page-head'},
      h('div', {},
        h('h1', {id: 'server-title', text: server.displayName}),
        h('p', {class: 'meta'},
          h('span', {class: 'badge', id: 'server-version', text: `v${server.latestVersion}`}), ' ',
          headerBadge, ' ',
          pendingBadge, ' ',
          h('span', {class: 'muted', text: `${server.packageType} package in ${server.repoKey} · ` +
            `${server.versionCount || versions.length} version${(server.versionCount || versions.length) === 1 ? '' : 's'}`})),
        h('p', {class: 'lead', id: 'server-description', text: server.description || ''})),
      unregisterBtn),
    h('div', {class: 'server-grid'},
      h('div', {class: 'main-col'},
        section('readme-section', 'README', readme),
        definitionsSection,
        section('settings', `Settings of v${latest.version || server.latestVersion}`,
          h('h3', {text: 'Environment variables'}),
          table('env-table', 'Environment variables', [
            ['Name', (e) => h('code', {text: e.name})],
            ['Description', (e) => e.description || ''],
            ['Format', (e) => e.format || 'string'],
            ['Required', (e) => yesNo(e.isRequired)],
            ['Secret', (e) => yesNo(e.isSecret)],
          ], latest.environmentVariables || []),
          h('h3', {text: 'Runtime arguments'}),
          table('args-table', 'Runtime arguments', [
            ['Name', (a) => h('code', {text: a.name})],
            ['Description', (a) => a.description || ''],
            ['Format', (a) => a.format || ''],
            ['Type', (a) => a.type || ''],
            ['Default', (a) => (a.defaultValue ? h('code', {text: a.defaultValue}) : '')],
            ['Required', (a) => yesNo(a.isRequired)],
            ['Secret', (a) => yesNo(a.isSecret)],
          ], latest.runtimeArguments || [])),
        section('versions', 'Versions', versionsBox, more)),
      h('div', {class: 'side-col'},
        policySection,
        section('clients', 'Connect an IDE',
          h('p', {class: 'hint', text: 'The entry runs the server through mcpreg guard, which checks the package and enforces the tool policy on every call.'}),
          ...clientConfigs(server, signal))))));

  const definitions = mountDefinitions(definitionsSection, server, {
    signal,
    onCount: (n) => {
      pendingBadge.textContent = `${n} tool definition${n === 1 ? '' : 's'} awaiting approval`;
      pendingBadge.hidden = n === 0;
    },
  });

  mountPolicy(policySection, server, {
    editable: allowed,
    onSaved: (policy) => {
      server.toolPolicy = policy;
      headerBadge.replaceChildren(policyBadge(policy));
      // Pinning on or off changes what is pending.
      definitions.reload();
    },
  });

  if (unregisterBtn) {
    unregisterBtn.addEventListener('click', () => unregisterDialog(server, {
      onDone: () => {
        flash(`Unregistered ${server.displayName}. The package is still in ${server.repoKey}.`);
        navigate('#/registry');
      },
    }));
  }
}

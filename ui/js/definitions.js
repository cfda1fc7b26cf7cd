// The "Tool definitions" section of a server page: how the server describes
// each of its tools (name, description, schemas) as guards reported it,
// whether that description is approved, and what changed since the one
// before. For a server whose policy pins definitions this is where a person
// approves a new or changed tool before agents may use it.

import {api, canRegister, currentProject} from './api.js';
import {errorText, formatTime, h, hideAlert, replace, showAlert} from './dom.js';
import {prettyJson, renderDiff} from './diff.js';

const short = (digest) => (digest || '').slice(0, 12);
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

const STATE_TEXT = {
  approved: 'Approved',
  pending: 'Pending approval',
  unpinned: 'Not pinned',
  unapproved: 'Not approved',
};

// A tool's newest definition decides whether it is usable; an older one
// that was never approved is simply history, not something waiting.
function stateOf(d, pinned, newest) {
  if (d.approved) return 'approved';
  if (!pinned) return 'unpinned';
  return newest ? 'pending' : 'unapproved';
}

function stateBadge(state) {
  return h('span', {class: `badge def-${state}`, dataset: {state}, text: STATE_TEXT[state]});
}

function approvalText(d) {
  if (!d.approved) return null;
  const when = d.approvedAt ? `, ${formatTime(d.approvedAt)}` : '';
  return d.approvedBy === 'first use' ? `Approved automatically on first use${when}.` :
    `Approved by ${d.approvedBy || 'someone'}${when}.`;
}

// The definition itself (a tool's first), or how it differs from the one
// before it.
function definitionBody(d, group, open) {
  const prev = d.previousDigest ? group.find((x) => x.digest === d.previousDigest) : null;
  let summary;
  let content;
  if (prev) {
    summary = `Changes since the previous definition (${short(prev.digest)}, first seen in ${prev.firstVersion ? `v${prev.firstVersion}` : 'an unnamed version'})`;
    content = renderDiff(prettyJson(prev.definitionJson), prettyJson(d.definitionJson),
      {class: 'diff', 'aria-label': `Changes to ${d.tool}`});
  } else {
    summary = d.previousDigest ?
      `Definition (the previous one, ${short(d.previousDigest)}, is no longer listed)` :
      'Definition (the first one reported for this tool)';
    content = h('pre', {class: 'definition-json', tabindex: 0, 'aria-label': `Definition of ${d.tool}`},
      h('code', {text: prettyJson(d.definitionJson)}));
  }
  return h('details', {class: 'definition-details', open}, h('summary', {text: summary}), content);
}

export function mountDefinitions(section, server, {signal, onCount}) {
  const count = h('span', {class: 'badge def-pending', id: 'definitions-pending', hidden: true});
  const intro = h('div', {class: 'definitions-intro'});
  const alert = h('div', {class: 'form-alert', id: 'definitions-error', role: 'alert', hidden: true});
  const status = h('p', {class: 'status', id: 'definitions-status', role: 'status', tabindex: -1});
  const body = h('div', {id: 'definitions-body'}, h('p', {class: 'muted', text: 'Loading…'}));
  replace(section,
    h('h2', {id: 'definitions-title'}, 'Tool definitions ', count),
    intro, alert, status, body);

  let seq = 0;
  let pinned = false;

  function setCount(n) {
    count.textContent = `${plural(n, 'pending approval', 'pending approvals')}`;
    count.hidden = n === 0;
    if (onCount) onCount(n);
  }

  function busy(on) {
    for (const b of section.querySelectorAll('button, select')) b.disabled = on;
  }

  async function act(approve, which, done) {
    hideAlert(alert);
    status.textContent = approve ? 'Approving…' : 'Revoking…';
    busy(true);
    try {
      const call = approve ? api.approveDefinitions : api.revokeDefinitions;
      const res = await call(server.name, which, {signal});
      const message = done((res.definitions || []).length);
      await load();
      status.textContent = message;
      status.focus();
    } catch (err) {
      if (signal.aborted) return;
      status.textContent = '';
      let text = errorText(err);
      if (!/[.!?]$/.test(text)) text += '.';
      if (err.code === 'PERMISSION_DENIED') {
        text += ` Only someone with ALLOW on project ${currentProject()} can approve or revoke tool definitions.`;
      }
      showAlert(alert, err);
      alert.textContent = text;
      busy(false);
    }
  }

  function actions(d) {
    const ref = {definitions: [{tool: d.tool, digest: d.digest}]};
    const name = `${d.tool} (${short(d.digest)})`;
    if (d.approved) {
      const b = h('button', {type: 'button', class: 'secondary danger definition-revoke', text: 'Revoke approval',
        'aria-label': `Revoke the approval of ${name}`});
      b.addEventListener('click', () => act(false, ref, (n) => (n ?
        `Revoked the approval of ${name}.${pinned ? ' Agents can no longer use the tool while the server shows this definition.' : ''}` :
        `${name} was not approved.`)));
      return b;
    }
    const b = h('button', {type: 'button', class: 'primary definition-approve', text: 'Approve',
      'aria-label': `Approve ${name}`});
    b.addEventListener('click', () => act(true, ref, (n) => (n ? `Approved ${name}.` : `${name} was already approved.`)));
    return b;
  }

  function definitionView(d, group, newest) {
    const state = stateOf(d, pinned, newest);
    const approved = approvalText(d);
    return h('div', {class: `definition def-state-${state}`, dataset: {digest: d.digest, state}},
      h('p', {class: 'definition-meta'},
        newest ? null : [stateBadge(state), ' '],
        'Digest ', h('code', {class: 'hash', title: d.digest, text: short(d.digest)}),
        ` · first seen in ${d.firstVersion ? `v${d.firstVersion}` : 'an unnamed version'}`,
        d.firstSeenAt ? `, ${formatTime(d.firstSeenAt)}` : ''),
      state === 'pending' ? h('p', {class: 'definition-note',
        text: 'Agents cannot use this tool until its definition is approved.'}) : null,
      approved ? h('p', {class: 'muted definition-approval', text: approved}) : null,
      definitionBody(d, group, newest && state === 'pending'),
      h('div', {class: 'actions'}, actions(d)));
  }

  function toolView(tool, group) {
    const [newest, ...older] = group;
    const state = stateOf(newest, pinned, true);
    return h('div', {class: `definition-tool def-state-${state}`, dataset: {tool, state}},
      h('h3', {}, h('code', {text: tool}), ' ', stateBadge(state)),
      definitionView(newest, group, true),
      older.length ? h('details', {class: 'definition-history'},
        h('summary', {text: `Earlier definitions (${older.length})`}),
        ...older.map((d) => definitionView(d, group, false))) : null);
  }

  // "Approve all of version X": every definition a version reported, for a
  // release reviewed as a whole.
  function versionApproval(defs, suggested) {
    const versions = [...new Set(defs.map((d) => d.firstVersion).filter(Boolean))];
    if (!versions.length) return null;
    const choose = h('select', {id: 'definitions-version', 'aria-label': 'Server version'});
    for (const v of versions) choose.append(h('option', {value: v, text: `v${v}`}));
    if (suggested && versions.includes(suggested)) choose.value = suggested;
    const btn = h('button', {type: 'button', class: 'secondary', id: 'definitions-approve-version'});
    const label = () => {
      btn.textContent = `Approve all of v${choose.value}`;
    };
    label();
    choose.addEventListener('change', label);
    btn.addEventListener('click', () => {
      const v = choose.value;
      act(true, {version: v}, (n) => (n ? `Approved ${plural(n, 'definition', 'definitions')} reported by v${v}.` :
        `Nothing to approve: every definition v${v} reported is approved already.`));
    });
    return h('div', {class: 'definitions-version'},
      h('div', {class: 'inline'}, choose, btn),
      h('p', {class: 'hint', text: 'Approves every tool definition that version reported. Tools a later version adds still wait for their own approval.'}));
  }

  function render(res) {
    pinned = Boolean(res.pinDefinitions);
    const defs = res.definitions || [];
    const groups = new Map();
    for (const d of defs) {
      if (!groups.has(d.tool)) groups.set(d.tool, []);
      groups.get(d.tool).push(d);
    }
    const pending = [...groups.values()].filter((g) => stateOf(g[0], pinned, true) === 'pending');
    setCount(pending.length);

    const tofu = Boolean(server.toolPolicy && server.toolPolicy.trustOnFirstUse);
    replace(intro,
      h('p', {class: pinned ? 'notice' : 'hint', id: 'definitions-pinning'}, pinned ?
        'Definitions are pinned: agents may use a tool only while the server describes it exactly as approved here. ' +
        'A new tool, or a changed name, description or schema, waits for approval; until then agents do not see the tool.' +
        `${tofu ? ' The first definition of a new tool is trusted and approved automatically.' : ''}` :
        'Definitions are not pinned, so changes take effect without review. They are still recorded: you can read ' +
        'what changed and approve definitions ahead of turning on "Pin tool definitions" in the tool policy.'),
      canRegister() ? null : h('p', {class: 'hint', text: 'Approving and revoking needs ALLOW on this project.'}));

    if (!defs.length) {
      replace(body, h('p', {class: 'muted', id: 'definitions-empty',
        text: 'No tool definitions yet. They are recorded when mcpreg guard runs this server and the server lists its tools.'}));
      return;
    }
    const suggested = pending.length ? pending[0][0].firstVersion : server.latestVersion;
    // Tools waiting for approval first, then the rest by name.
    const ordered = [...groups].sort(([, a], [, b]) =>
      Number(pending.includes(b)) - Number(pending.includes(a)));
    replace(body,
      defs.some((d) => !d.approved) ? versionApproval(defs, suggested) : null,
      ...ordered.map(([tool, group]) => toolView(tool, group)));
  }

  async function load() {
    const mine = ++seq;
    let res;
    try {
      res = await api.toolDefinitions(server.name, {signal});
    } catch (err) {
      if (signal.aborted || mine !== seq) return;
      setCount(0);
      replace(intro);
      replace(body, h('p', {class: 'form-alert', text: `Could not load the tool definitions: ${errorText(err)}`}));
      return;
    }
    if (signal.aborted || mine !== seq) return;
    render(res);
  }

  load();
  return {reload: () => {
    hideAlert(alert);
    status.textContent = '';
    return load();
  }};
}

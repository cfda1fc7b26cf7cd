// The audit page: the project's audit trail, filtered and paged, and (for
// administrators) a check of the log's hash chain.

import {api, session} from './api.js';
import {field, formatTime, h, hideAlert, Pager, select, showError} from './dom.js';

const PAGE_SIZE = 50;
// The actions the registry records (plugin/src/handlers); the field takes
// any text, these are suggestions.
const ACTIONS = ['register', 'unregister', 'policy.set', 'tool.check', 'tool.filter', 'artifact.fetch'];

// datetime-local gives local wall time without a zone; the API wants RFC 3339.
function toRfc3339(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function mountAudit(main, {signal}) {
  const input = (id, placeholder, extra = {}) =>
    h('input', {id, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder, ...extra});
  const actor = input('audit-actor', 'principal');
  const server = input('audit-server', 'display name', {dataset: {field: 'server'}});
  const tool = input('audit-tool', 'tool name');
  const action = input('audit-action', 'e.g. policy.set', {list: 'audit-actions'});
  const actions = h('datalist', {id: 'audit-actions'}, ...ACTIONS.map((a) => h('option', {value: a})));
  const decision = select([['', 'Any'], ['ALLOW', 'Allow'], ['DENY', 'Deny'], ['ERROR', 'Error']], {id: 'audit-decision'});
  const since = h('input', {id: 'audit-since', type: 'datetime-local', dataset: {field: 'since'}});
  const until = h('input', {id: 'audit-until', type: 'datetime-local', dataset: {field: 'until'}});
  const apply = h('button', {type: 'submit', class: 'primary', id: 'audit-apply', text: 'Show events'});
  const reset = h('button', {type: 'reset', class: 'secondary', id: 'audit-reset', text: 'Clear filters'});
  const alert = h('div', {class: 'form-alert', role: 'alert', id: 'audit-error', hidden: true});

  const filters = h('form', {class: 'filters', id: 'audit-filters', novalidate: true},
    field('Actor', actor), field('Server', server), field('Tool', tool),
    field('Action', action), actions, field('Decision', decision),
    field('From (local time)', since), field('Until (not included)', until),
    h('div', {class: 'actions'}, apply, reset));

  const tbody = h('tbody');
  const table = h('table', {class: 'data-table', id: 'audit-table'},
    h('caption', {class: 'visually-hidden', text: 'Audit events, newest first'}),
    h('thead', {}, h('tr', {}, ...['Time', 'Actor', 'Action', 'Server', 'Tool', 'Decision', 'Reason', 'Request']
      .map((t) => h('th', {scope: 'col', text: t})))),
    tbody);
  const prev = h('button', {type: 'button', class: 'secondary', id: 'audit-prev', text: 'Newer', disabled: true});
  const next = h('button', {type: 'button', class: 'secondary', id: 'audit-next', text: 'Older', disabled: true});
  const pageInfo = h('span', {class: 'page-info', 'aria-live': 'polite'});
  const pager = new Pager(prev, next, pageInfo, load);

  let verifyBox = null;
  if (session.admin) {
    const verify = h('button', {type: 'button', class: 'secondary', id: 'audit-verify', text: 'Verify chain'});
    const result = h('p', {class: 'verify-result', id: 'audit-verify-result', 'aria-live': 'polite'});
    verify.addEventListener('click', async () => {
      verify.disabled = true;
      result.textContent = 'Recomputing the hash chain…';
      delete result.dataset.intact;
      try {
        const r = await api.verifyAudit({signal});
        result.dataset.intact = String(Boolean(r.intact));
        result.textContent = r.intact ?
          `Intact: ${r.rowsChecked} events checked, every link holds.` :
          `Broken at event ${r.firstBrokenId} (after ${r.rowsChecked} events checked): ${r.problem || 'the hashes do not match'}.`;
      } catch (err) {
        if (!signal.aborted) result.textContent = `Could not verify: ${err.message || err.code}`;
      } finally {
        verify.disabled = false;
      }
    });
    verifyBox = h('div', {class: 'verify'},
      h('p', {class: 'hint', text: 'Each event is chained to the one before by a SHA-256 hash; a changed or removed row breaks the chain.'}),
      verify, result);
  }

  main.replaceChildren(h('section', {class: 'page audit'},
    h('div', {class: 'page-head'}, h('div', {},
      h('h1', {text: 'Audit'}),
      h('p', {class: 'lead', text: 'Registrations, policy changes and every tool-call decision, newest first.'})),
    verifyBox),
    filters, alert,
    h('div', {class: 'table-wrap'}, table),
    h('nav', {class: 'pager', 'aria-label': 'Pages of events'}, prev, pageInfo, next)));

  function query() {
    return {
      actor: actor.value.trim(), server: server.value.trim(), tool: tool.value.trim(),
      action: action.value.trim(), decision: decision.value,
      since: toRfc3339(since.value), until: toRfc3339(until.value),
      pageSize: PAGE_SIZE, pageToken: pager.token,
    };
  }

  async function load() {
    hideAlert(alert);
    for (const el of filters.querySelectorAll('.field-error')) el.remove();
    tbody.replaceChildren(h('tr', {}, h('td', {colspan: 8, class: 'muted', text: 'Loading…'})));
    try {
      const res = await api.audit(query(), {signal});
      const events = res.events || [];
      tbody.replaceChildren(...(events.length ? events.map(row) :
        [h('tr', {}, h('td', {colspan: 8, class: 'muted', text: 'No event matches these filters.'}))]));
      pager.loaded(res.nextPageToken);
    } catch (err) {
      if (signal.aborted) return;
      tbody.replaceChildren();
      // A bad filter ("since: ...") is shown at its input, anything else above the table.
      showError(filters, alert, err, {focus: false});
    }
  }

  function row(e) {
    return h('tr', {dataset: {id: e.id, action: e.action}},
      h('td', {dataset: {label: 'Time'}}, h('time', {datetime: e.at, text: formatTime(e.at)})),
      h('td', {dataset: {label: 'Actor'}, text: e.actor || ''}),
      h('td', {dataset: {label: 'Action'}}, h('code', {text: e.action || ''})),
      h('td', {dataset: {label: 'Server'}, class: 'wrap', text: e.server || ''}),
      h('td', {dataset: {label: 'Tool'}, text: e.tool || ''}),
      h('td', {dataset: {label: 'Decision'}},
        e.decision ? h('span', {class: `badge decision-${e.decision.toLowerCase()}`, text: e.decision}) : ''),
      h('td', {dataset: {label: 'Reason'}, class: 'wrap', text: e.reason || ''}),
      h('td', {dataset: {label: 'Request'}}, h('code', {class: 'hash', text: e.requestId || ''})));
  }

  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    pager.reset();
    load();
  });
  filters.addEventListener('reset', () => setTimeout(() => filters.requestSubmit(), 0));
  load();
}

// The tool policy editor of a server page. Every edit is checked by the
// registry as it is typed (tool-policy:test compiles the patterns with the
// same RE2 rules as a save, and saves nothing), so a bad pattern is flagged
// at its row before Save; "Try a tool name" asks the same endpoint what the
// policy on screen — not the saved one — would decide. Argument conditions
// of entries are shown, not edited here (the API and CLI set them), and are
// sent back unchanged with their entry on every save.

import {api} from './api.js';
import {
  clearFieldErrors, debounce, errorText, formatTime, h, hideAlert, replace, setFieldError,
  showError, uid,
} from './dom.js';
import {policyBadge} from './registry.js';

// "/path matches /srv/data/.*" and the like, for an ArgumentCondition.
export function conditionText(c) {
  const at = c.pointer || 'the arguments';
  if (c.matches !== undefined) return `${at} matches ${c.matches}`;
  if (Array.isArray(c.oneOf) && c.oneOf.length) return `${at} is one of ${c.oneOf.map((v) => JSON.stringify(v)).join(', ')}`;
  if (c.range) {
    const {min, max} = c.range;
    if (min !== undefined && max !== undefined) return `${at} is a number from ${min} to ${max}`;
    if (min !== undefined) return `${at} is a number of at least ${min}`;
    if (max !== undefined) return `${at} is a number of at most ${max}`;
    return `${at} is a number`;
  }
  if (c.absent) return `${at} is absent`;
  return `${at}: ${JSON.stringify(c)}`;
}

// A checkbox with its label and, on its own line below, a hint.
function flag(id, label, hint, cls = '') {
  const input = h('input', {type: 'checkbox', id});
  const p = h('p', {class: 'hint', id: `${id}-hint`, text: hint});
  input.setAttribute('aria-describedby', p.id);
  return {input, wrap: h('div', {class: `field check flag ${cls}`.trim()}, input, h('label', {for: id, text: label}), p)};
}

function radio(name, value, label, hint) {
  const input = h('input', {type: 'radio', name, value, id: uid(name)});
  const wrap = h('div', {class: 'field radio'}, input, h('label', {for: input.id, text: label}));
  if (hint) {
    const p = h('p', {class: 'hint', id: uid('hint'), text: hint});
    input.setAttribute('aria-describedby', p.id);
    wrap.append(p);
  }
  return {input, wrap};
}

export function mountPolicy(section, server, {editable, onSaved}) {
  const saved = server.toolPolicy && server.toolPolicy.mode && server.toolPolicy.mode !== 'MODE_UNSPECIFIED' ?
    server.toolPolicy : null;

  const current = h('p', {class: 'policy-current', id: 'policy-current'});
  const zeroTrust = h('p', {class: 'notice', id: 'policy-none-notice',
    text: 'This server has no policy yet, so agents may call none of its tools.'});
  function showCurrent(policy) {
    const who = policy ? [policy.updatedBy && `by ${policy.updatedBy}`, policy.updatedAt && formatTime(policy.updatedAt)]
      .filter(Boolean).join(', ') : '';
    replace(current, 'Saved policy: ', policyBadge(policy),
      policy && policy.pinDefinitions ? h('span', {class: 'badge', id: 'policy-current-pinned',
        text: policy.trustOnFirstUse ? 'Definitions pinned, first ones trusted' : 'Definitions pinned'}) : null,
      policy && policy.auditArgumentValues ? h('span', {class: 'badge', text: 'Arguments audited'}) : null,
      who ? h('span', {class: 'muted', text: ` (${who})`}) : null);
    zeroTrust.hidden = Boolean(policy);
  }
  showCurrent(saved);

  const all = radio('policy-choice', 'all', 'Allow all tools', 'Every tool the server has now, and any it adds in later versions.');
  const manual = radio('policy-choice', 'manual', 'Select tools manually', 'Name the tools, exactly or with patterns.');
  all.input.id = 'policy-all';
  manual.input.id = 'policy-manual';
  all.wrap.querySelector('label').htmlFor = 'policy-all';
  manual.wrap.querySelector('label').htmlFor = 'policy-manual';

  const allowList = radio('policy-list', 'ALLOW_LIST', 'Allow list: only these tools');
  const denyList = radio('policy-list', 'DENY_LIST', 'Deny list: every tool except these');

  const pin = flag('policy-pin', 'Pin tool definitions',
    'Agents may use a tool only while the server describes it (name, description, schemas) exactly as approved ' +
    'under Tool definitions. A new or changed tool waits for approval.');
  const tofu = flag('policy-tofu', 'Trust first definitions',
    'Approve each tool\'s first definition automatically; later changes still wait for approval. Needs pinning.', 'sub');
  const auditArgs = flag('policy-audit-args', 'Record argument values in the audit log',
    'Writes each call\'s arguments into its audit event. Leave off when arguments can carry secrets or personal data.');
  const flagsBox = h('fieldset', {class: 'plain policy-flags'},
    h('legend', {text: 'Definitions and audit'}), pin.wrap, tofu.wrap, auditArgs.wrap);

  const rowsEl = h('div', {class: 'rows', id: 'policy-rows'});
  const conditionsNote = h('p', {class: 'hint', id: 'policy-conditions-note', hidden: true},
    'Argument conditions are shown here but not edited: set them with ', h('code', {text: 'mcpreg policy set --file policy.json'}),
    ' or the REST API. Saving here keeps them.');
  const addBtn = h('button', {type: 'button', class: 'secondary', id: 'policy-add', text: 'Add pattern'});
  const validity = h('p', {class: 'hint', id: 'policy-validity', 'aria-live': 'polite'});
  const manualPanel = h('div', {class: 'policy-manual', id: 'policy-manual-panel', hidden: true},
    h('fieldset', {class: 'plain'}, h('legend', {text: 'Kind of list'}), allowList.wrap, denyList.wrap),
    rowsEl, conditionsNote, addBtn,
    h('p', {class: 'hint', text: 'A pattern matches the whole tool name. Tick "regex" for an RE2 regular expression (read_.* matches read_file); otherwise the name must be equal. The first matching row decides.'}),
    validity);

  const tryInput = h('input', {type: 'text', id: 'policy-try-input', autocomplete: 'off', spellcheck: 'false', placeholder: 'read_file'});
  const tryBtn = h('button', {type: 'button', class: 'secondary', id: 'policy-try-button', text: 'Check'});
  const tryResult = h('p', {class: 'try-result', id: 'policy-try-result', 'aria-live': 'polite'});
  const alert = h('div', {class: 'form-alert', id: 'policy-error', role: 'alert', hidden: true});
  const saveBtn = h('button', {type: 'button', class: 'primary', id: 'policy-save', text: 'Save policy'});
  const status = h('span', {class: 'status', id: 'policy-status', role: 'status'});

  replace(section,
    h('h2', {id: 'policy-title', text: 'Tool policy'}),
    current,
    zeroTrust,
    editable ? null : h('p', {class: 'notice', text: 'Changing the policy needs ALLOW on this project. You can still try tool names against it.'}),
    h('fieldset', {class: 'plain'}, h('legend', {text: 'Which tools may agents call?'}), all.wrap, manual.wrap),
    manualPanel,
    flagsBox,
    h('div', {class: 'try'},
      h('label', {for: tryInput.id, text: 'Try a tool name'}),
      h('div', {class: 'inline'}, tryInput, tryBtn),
      h('p', {class: 'hint', text: 'Checked against the policy as shown here, before saving.'}),
      tryResult),
    alert,
    editable ? h('div', {class: 'actions'}, saveBtn, status) : null);

  // --- Rows ------------------------------------------------------------------
  const rows = [];
  function renumber() {
    rows.forEach((r, i) => {
      r.el.dataset.field = `policy.entries[${i}]`;
      r.pattern.dataset.field = `policy.entries[${i}].pattern`;
      r.regex.dataset.field = `policy.entries[${i}].isRegex`;
      r.patternLabel.textContent = `Pattern ${i + 1}`;
      r.remove.setAttribute('aria-label', `Remove pattern ${i + 1}`);
      r.regex.setAttribute('aria-label', `Pattern ${i + 1} is a regular expression`);
      r.el.querySelectorAll('.conditions li').forEach((li, j) => {
        li.dataset.field = `policy.entries[${i}].conditions[${j}]`;
      });
    });
    conditionsNote.hidden = !rows.some((r) => r.conditions.length);
  }
  function addRow(entry = {pattern: '', isRegex: false}, focus = false) {
    // Whatever the entry carries besides its pattern (its conditions) goes
    // back with it unchanged.
    const rest = {...entry};
    delete rest.pattern;
    delete rest.isRegex;
    const conditions = Array.isArray(rest.conditions) ? rest.conditions : [];
    const pattern = h('input', {type: 'text', id: uid('pattern'), value: entry.pattern || '', autocomplete: 'off', spellcheck: 'false', class: 'pattern'});
    const regex = h('input', {type: 'checkbox', id: uid('regex'), checked: Boolean(entry.isRegex), class: 'regex'});
    const patternLabel = h('label', {for: pattern.id});
    const remove = h('button', {type: 'button', class: 'icon-button', text: 'Remove'});
    const el = h('div', {class: 'policy-row'},
      h('div', {class: 'field grow'}, patternLabel, pattern),
      h('div', {class: 'field check'}, regex, h('label', {for: regex.id, text: 'regex'})),
      remove,
      conditions.length ? h('div', {class: 'conditions'},
        h('p', {class: 'hint', text: 'Applies only when:'}),
        h('ul', {}, ...conditions.map((c) => h('li', {}, h('code', {text: conditionText(c)}))))) : null);
    const row = {el, pattern, regex, patternLabel, remove, rest, conditions};
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(row), 1);
      el.remove();
      renumber();
      changed();
      addBtn.focus();
    });
    pattern.addEventListener('input', changed);
    regex.addEventListener('change', changed);
    rows.push(row);
    rowsEl.append(el);
    renumber();
    if (focus) pattern.focus();
  }
  addBtn.addEventListener('click', () => addRow(undefined, true));

  // --- State ------------------------------------------------------------------
  function choice() {
    return all.input.checked ? 'all' : manual.input.checked ? 'manual' : '';
  }
  // The policy on screen. Empty rows are left out (a row just added is not an
  // error yet); `index` maps the sent entries back to their rows.
  function draft() {
    const flags = {
      pinDefinitions: pin.input.checked,
      trustOnFirstUse: pin.input.checked && tofu.input.checked,
      auditArgumentValues: auditArgs.input.checked,
    };
    if (choice() === 'all') return {policy: {mode: 'ALLOW_ALL', entries: [], ...flags}, index: []};
    if (choice() !== 'manual') return null;
    const index = [];
    const entries = [];
    rows.forEach((r, i) => {
      if (!r.pattern.value.trim()) return;
      index.push(i);
      entries.push({...r.rest, pattern: r.pattern.value.trim(), isRegex: r.regex.checked});
    });
    return {policy: {mode: denyList.input.checked ? 'DENY_LIST' : 'ALLOW_LIST', entries, ...flags}, index};
  }
  // "policy.entries[k]..." of the request sent → the row it came from.
  const mapper = (index) => (path) => path
    .replace(/^entries\[/, 'policy.entries[')
    .replace(/^policy\.entries\[(\d+)\]/, (m, k) => `policy.entries[${index[Number(k)] ?? k}]`);

  function syncVisibility() {
    manualPanel.hidden = choice() !== 'manual';
    saveBtn.disabled = !editable || !choice();
    tofu.input.disabled = !editable || !pin.input.checked;
  }

  let validateSeq = 0;
  // Returns true when the registry accepts the draft.
  async function validate(d) {
    const mine = ++validateSeq;
    clearFieldErrors(rowsEl);
    hideAlert(alert);
    if (!d) return true;
    try {
      await api.testPolicy(d.policy, []);
      if (mine === validateSeq) {
        validity.textContent = d.policy.mode === 'ALLOW_ALL' ? '' :
          d.policy.entries.length ? 'Every pattern is valid.' :
            d.policy.mode === 'ALLOW_LIST' ? 'An empty allow list allows no tool.' : 'An empty deny list allows every tool.';
      }
      return true;
    } catch (err) {
      if (mine === validateSeq) {
        validity.textContent = '';
        showError(section, alert, err, {mapPath: mapper(d.index), focus: false});
      }
      return false;
    }
  }
  const validateSoon = debounce(() => validate(draft()), 300);

  function changed() {
    status.textContent = '';
    tryResult.textContent = '';
    delete tryResult.dataset.allowed;
    syncVisibility();
    validateSoon();
  }
  for (const r of [all, manual, allowList, denyList, pin, tofu, auditArgs]) r.input.addEventListener('change', changed);

  // --- Try a tool name ----------------------------------------------------------
  async function tryTool() {
    const tool = tryInput.value.trim();
    delete tryResult.dataset.allowed;
    if (!tool) {
      tryResult.textContent = 'Enter a tool name to check.';
      return;
    }
    const d = draft();
    if (!d) {
      tryResult.dataset.allowed = 'false';
      tryResult.textContent = `Denied: ${tool} — no policy is chosen, and a server without one allows nothing.`;
      return;
    }
    validateSoon.cancel();
    tryResult.textContent = 'Checking…';
    try {
      const res = await api.testPolicy(d.policy, [tool]);
      clearFieldErrors(rowsEl);
      const dec = (res.decisions || [])[0] || {};
      const rowNo = dec.entryIndex >= 0 && d.index[dec.entryIndex] !== undefined ? d.index[dec.entryIndex] + 1 : 0;
      tryResult.dataset.allowed = dec.allowed ? 'true' : 'false';
      tryResult.textContent = `${dec.allowed ? 'Allowed' : 'Denied'}: ${tool}${dec.reason ? ` — ${dec.reason}` : ''}` +
        `${rowNo ? ` (pattern ${rowNo})` : ''}`;
    } catch (err) {
      clearFieldErrors(rowsEl);
      const at = showError(section, alert, err, {mapPath: mapper(d.index), focus: false});
      tryResult.textContent = at ? 'Fix the highlighted pattern first.' : `Could not check: ${errorText(err)}`;
    }
  }
  tryBtn.addEventListener('click', tryTool);
  tryInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      tryTool();
    }
  });

  // --- Save -------------------------------------------------------------------
  saveBtn.addEventListener('click', async () => {
    validateSoon.cancel();
    clearFieldErrors(section);
    hideAlert(alert);
    status.textContent = '';
    const d = draft();
    if (!d) return;
    if (choice() === 'manual') {
      const blank = rows.find((r) => !r.pattern.value.trim());
      if (blank) {
        setFieldError(blank.pattern, 'Enter a pattern, or remove this row.');
        blank.pattern.focus();
        return;
      }
    }
    saveBtn.disabled = true;
    status.textContent = 'Saving…';
    try {
      const stored = await api.setPolicy(server.name, d.policy);
      showCurrent(stored);
      status.textContent = 'Saved.';
      if (onSaved) onSaved(stored);
    } catch (err) {
      status.textContent = '';
      showError(section, alert, err, {mapPath: mapper(d.index)});
    } finally {
      syncVisibility();
    }
  });

  // --- Initial state -------------------------------------------------------------
  if (saved && saved.mode === 'ALLOW_ALL') all.input.checked = true;
  else if (saved) manual.input.checked = true;
  (saved && saved.mode === 'DENY_LIST' ? denyList : allowList).input.checked = true;
  for (const e of (saved && saved.entries) || []) addRow(e);
  pin.input.checked = Boolean(saved && saved.pinDefinitions);
  tofu.input.checked = Boolean(saved && saved.trustOnFirstUse);
  auditArgs.input.checked = Boolean(saved && saved.auditArgumentValues);
  if (!rows.length) addRow();
  if (!editable) {
    for (const c of section.querySelectorAll('fieldset input, .policy-row input, .policy-row button, #policy-add')) c.disabled = true;
  }
  syncVisibility();
}

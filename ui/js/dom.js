// Small DOM helpers. Everything the UI shows is built here with
// createElement and textContent, so text from the registry can never become
// markup; the README (readme.js) is the one exception, and it is sanitized.

// Element properties rather than attributes: they reflect live state.
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'required', 'readOnly', 'open']);

// h('button', {type: 'button', class: 'x', onclick: fn}, 'Text', child, ...)
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

// replaceChildren that, like h(), skips null/false children (the DOM's own
// would write them out as the text "null").
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

let nextId = 0;
export function uid(prefix = 'id') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

// A labelled control: <div class="field"><label>…</label>control<p hint></div>.
// The control gets an id if it has none, so the label points at it.
export function field(labelText, control, {hint, hintId, className} = {}) {
  if (!control.id) control.id = uid('f');
  const wrap = h('div', {class: `field${className ? ` ${className}` : ''}`},
    h('label', {for: control.id, text: labelText}), control);
  if (hint !== undefined) {
    const p = h('p', {class: 'hint', id: hintId || uid('hint'), text: hint});
    wrap.append(p);
    control.setAttribute('aria-describedby', p.id);
  }
  return wrap;
}

// A checkbox with its label after it.
export function checkbox(labelText, props = {}) {
  const input = h('input', {type: 'checkbox', ...props});
  if (!input.id) input.id = uid('cb');
  return h('div', {class: 'field check'}, input, h('label', {for: input.id, text: labelText}));
}

export function select(options, props = {}) {
  const s = h('select', props);
  for (const o of options) {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    s.append(h('option', {value, text: label}));
  }
  if (props.value !== undefined) s.value = props.value;
  return s;
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

export function formatTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? String(ts) : d.toLocaleString();
}

export function formatBytes(n) {
  const v = Number(n || 0);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`;
  return `${(v / 1024 / 1024).toFixed(1)} MiB`;
}

// --- Errors --------------------------------------------------------------

// A validation message starts with the request field it is about:
// "mcpServerInfo.environmentVariables[1].name: 'x' is not ...".
const FIELD_PATH = /^([A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])?)*): ([\s\S]+)$/;

export function splitFieldPath(message) {
  const m = FIELD_PATH.exec(message || '');
  return m ? {path: m[1], text: m[2]} : null;
}

// Words for the status codes a person may meet; the server's message follows.
const CODE_TEXT = {
  INVALID_ARGUMENT: 'Check this',
  UNAUTHENTICATED: 'Your token was not accepted',
  PERMISSION_DENIED: 'Permission denied',
  NOT_FOUND: 'Not found',
  ALREADY_EXISTS: 'Already exists',
  FAILED_PRECONDITION: 'Cannot be done now',
  RESOURCE_EXHAUSTED: 'Too much at once — try again shortly',
  UNAVAILABLE: 'The registry is unavailable',
  DEADLINE_EXCEEDED: 'The registry took too long',
  ABORTED: 'Changed meanwhile — try again',
};

export function errorText(err) {
  if (!err) return '';
  const lead = CODE_TEXT[err.code];
  const msg = err.message || '';
  if (!lead) return msg || String(err);
  if (!msg) return `${lead}.`;
  // The registry's own message may already say it ("permission denied: …").
  if (msg.toLowerCase().startsWith(lead.toLowerCase())) return msg[0].toUpperCase() + msg.slice(1);
  return `${lead}: ${msg}`;
}

// Shows `err` in a form-level alert element.
export function showAlert(alertEl, err) {
  alertEl.textContent = typeof err === 'string' ? err : errorText(err);
  if (err && err.code) alertEl.dataset.code = err.code;
  else delete alertEl.dataset.code;
  alertEl.hidden = false;
}

export function hideAlert(alertEl) {
  alertEl.textContent = '';
  delete alertEl.dataset.code;
  alertEl.hidden = true;
}

// Marks a control invalid and puts the message right after it, tied with
// aria-describedby so a screen reader reads it with the control.
export function setFieldError(control, text) {
  const isControl = control.matches('input, select, textarea');
  // Inside the control's own .field wrapper, or inside a row/fieldset itself.
  const wrap = isControl ? control.closest('.field') || control.parentElement : control;
  const p = h('p', {class: 'field-error', id: uid('err'), text});
  wrap.append(p);
  if (isControl) {
    control.setAttribute('aria-invalid', 'true');
    if (!control.dataset.describedby) control.dataset.describedby = control.getAttribute('aria-describedby') || '';
    control.setAttribute('aria-describedby', `${control.dataset.describedby} ${p.id}`.trim());
  }
}

export function clearFieldErrors(root) {
  for (const p of root.querySelectorAll('.field-error')) p.remove();
  for (const c of root.querySelectorAll('[aria-invalid="true"]')) {
    c.removeAttribute('aria-invalid');
    if (c.dataset.describedby !== undefined) {
      if (c.dataset.describedby) c.setAttribute('aria-describedby', c.dataset.describedby);
      else c.removeAttribute('aria-describedby');
      delete c.dataset.describedby;
    }
  }
}

// Puts an API error at the control whose data-field names the path in its
// message (or the nearest enclosing one: "…environmentVariables" for a count
// limit); anything else goes to the form-level alert. `mapPath` lets a caller
// translate the server's path to its own (the policy editor skips empty rows).
// Returns the control that got the error, if any.
export function showError(root, alertEl, err, {mapPath, focus = true} = {}) {
  const split = err && splitFieldPath(err.message);
  if (split) {
    let path = mapPath ? mapPath(split.path) : split.path;
    while (path) {
      const target = root.querySelector(`[data-field="${CSS.escape(path)}"]`);
      if (target) {
        setFieldError(target, split.text);
        if (focus) (target.matches('input, select, textarea') ? target : target.querySelector('input, select, textarea') || target).focus();
        return target;
      }
      const shorter = path.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
      if (shorter === path) break;
      path = shorter;
    }
  }
  if (alertEl) showAlert(alertEl, err);
  return null;
}

// --- Dialogs -------------------------------------------------------------

// Opens a modal <dialog>. The browser makes the rest of the page inert and
// closes it on Escape; we give focus back to what opened it.
export function openDialog(dialog, {onClose} = {}) {
  const opener = document.activeElement;
  if (!dialog.isConnected) document.body.append(dialog);
  dialog.addEventListener('close', () => {
    if (onClose) onClose(dialog.returnValue);
    dialog.remove();
    if (opener && opener.isConnected && opener.focus) opener.focus();
  }, {once: true});
  dialog.showModal();
  return dialog;
}

// Copies text; when the browser refuses (no clipboard permission, plain
// http on another host) selects it so Ctrl+C works, and says so.
export async function copyText(text, pre, statusEl) {
  try {
    if (!navigator.clipboard) throw new Error('no clipboard');
    await navigator.clipboard.writeText(text);
    statusEl.textContent = 'Copied.';
  } catch {
    const range = document.createRange();
    range.selectNodeContents(pre);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    statusEl.textContent = 'Copying is blocked here; the text is selected — press Ctrl+C (⌘C).';
  }
}

// Previous/Next over the API's page tokens: tokens[i] fetches page i
// (tokens[0] is ''). `load` fetches `pager.token` and hands the answer's
// nextPageToken to `pager.loaded`.
export class Pager {
  constructor(prev, next, info, load) {
    Object.assign(this, {prev, next, info});
    this.reset();
    prev.addEventListener('click', () => {
      if (this.page > 0) {
        this.page -= 1;
        load();
      }
    });
    next.addEventListener('click', () => {
      if (this.tokens[this.page + 1]) {
        this.page += 1;
        load();
      }
    });
  }

  get token() {
    return this.tokens[this.page];
  }

  // Back to the first page (a new search or new filters).
  reset() {
    this.tokens = [''];
    this.page = 0;
  }

  loaded(nextPageToken) {
    this.tokens = this.tokens.slice(0, this.page + 1);
    if (nextPageToken) this.tokens.push(nextPageToken);
    this.prev.disabled = this.page === 0;
    this.next.disabled = !nextPageToken;
    this.info.textContent =
      this.page === 0 && !nextPageToken ? '' : `Page ${this.page + 1}`;
  }
}

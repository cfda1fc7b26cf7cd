// A line diff of two texts (longest common subsequence), shown the way a
// reviewer reads one: removed lines red with "-", added lines green with
// "+", and long unchanged stretches folded down to a few lines of context.

import {h} from './dom.js';

// Past this many cells the LCS table is too big to build in a page; the
// diff then shows the old text removed and the new one added, whole.
const MAX_CELLS = 4_000_000;
const CONTEXT = 3;

// A JSON text indented two spaces a level, or the text as it is when it is
// not JSON.
export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text || '';
  }
}

// [{op: ' ' | '-' | '+', text}] turning `before` into `after`, line by line.
export function diffLines(before, after) {
  const a = before === '' ? [] : before.split('\n');
  const b = after === '' ? [] : after.split('\n');
  // What both share at the start and the end needs no table.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const out = a.slice(0, start).map((text) => ({op: ' ', text}));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    out.push(...midA.map((text) => ({op: '-', text})), ...midB.map((text) => ({op: '+', text})));
  } else {
    // lcs[i][j]: the LCS length of midA[i..] and midB[j..].
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i -= 1) {
      for (let j = m - 1; j >= 0; j -= 1) {
        lcs[i * w + j] = midA[i] === midB[j] ? lcs[(i + 1) * w + j + 1] + 1 :
          Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        out.push({op: ' ', text: midA[i]});
        i += 1;
        j += 1;
      } else if (i < n && (j === m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
        out.push({op: '-', text: midA[i]});
        i += 1;
      } else {
        out.push({op: '+', text: midB[j]});
        j += 1;
      }
    }
  }
  out.push(...a.slice(endA).map((text) => ({op: ' ', text})));
  return out;
}

const LINE_CLASS = {' ': 'diff-same', '-': 'diff-del', '+': 'diff-add'};
const LINE_TAG = {' ': 'span', '-': 'del', '+': 'ins'};

// The diff as a <pre>: one block element per line (<del>, <ins> or <span>),
// and "⋯ N unchanged lines" where more than 2×CONTEXT unchanged lines sit
// between changes.
export function renderDiff(before, after, props = {}) {
  const lines = diffLines(before, after);
  const changed = lines.map((l) => l.op !== ' ');
  const near = (k) => {
    for (let d = -CONTEXT; d <= CONTEXT; d += 1) if (changed[k + d]) return true;
    return false;
  };
  const lineBox = h('span', {class: 'diff-body'});
  const pre = h('pre', {class: 'diff', tabindex: 0, ...props}, lineBox);
  const added = changed.filter((c, k) => c && lines[k].op === '+').length;
  const removed = changed.filter((c, k) => c && lines[k].op === '-').length;
  pre.setAttribute('aria-label', `${props['aria-label'] || 'Changes'}: ${removed} line${removed === 1 ? '' : 's'} removed, ${added} added`);
  let skipped = 0;
  const flush = () => {
    if (skipped) lineBox.append(h('span', {class: 'diff-fold', text: `⋯ ${skipped} unchanged line${skipped === 1 ? '' : 's'}`}));
    skipped = 0;
  };
  lines.forEach((l, k) => {
    if (l.op === ' ' && !near(k)) {
      skipped += 1;
      return;
    }
    flush();
    lineBox.append(h(LINE_TAG[l.op], {class: `diff-line ${LINE_CLASS[l.op]}`, text: `${l.op} ${l.text}`}));
  });
  flush();
  return pre;
}

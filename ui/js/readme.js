// README rendering. A README is written by whoever published the package, so
// it is untrusted: Markdown becomes HTML with marked, DOMPurify keeps only
// harmless HTML, and a hook keeps only link targets we are willing to follow.
// The page's Content-Security-Policy is the second line of defence (no
// inline script could run even if some got through).

import {Marked} from '../vendor/marked.esm.js';
import DOMPurify from '../vendor/purify.es.mjs';

const URL_ATTRS = ['href', 'src', 'xlink:href', 'action', 'formaction', 'cite', 'poster', 'background'];

// http(s), mailto, in-page (#…) and relative references; never javascript:,
// data: (except images), vbscript:, file: or anything else.
function allowedUrl(value, tag, attr) {
  // Browsers ignore these characters inside a scheme ("java\tscript:").
  const v = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, '');
  if (v.startsWith('#')) return true;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(v);
  if (!scheme) return true;  // relative
  const s = scheme[1].toLowerCase();
  if (s === 'http' || s === 'https') return true;
  if (s === 'mailto') return attr === 'href';
  if (s === 'data') return tag === 'IMG' && attr === 'src' && /^data:image\//i.test(v);
  return false;
}

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (!node.hasAttribute) return;
  for (const attr of URL_ATTRS) {
    if (node.hasAttribute(attr) && !allowedUrl(node.getAttribute(attr), node.tagName, attr)) {
      node.removeAttribute(attr);
    }
  }
  if (node.tagName === 'A' && node.hasAttribute('href') && !node.getAttribute('href').startsWith('#')) {
    // A new tab that cannot reach back into this one (window.opener) and
    // does not learn which registry page linked to it.
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

// Raw HTML in a README is rendered (after sanitizing). But the moment the
// browser parses an inline event handler or style — even into the inert
// document DOMPurify sanitizes in, before DOMPurify can drop it — the page's
// policy blocks it *and reports a violation*. Renaming such attributes and
// <style> first keeps parsing quiet, so that any violation that does show up
// means something. This is hygiene, not the defence: DOMPurify removes
// everything below whether renamed or not, and the policy blocks the rest.
function defuse(html) {
  // An attribute name follows a space, a quote or a "/" (but "</style>" is
  // a closing tag, renamed with its opening one).
  return html
    .replace(/<(\/?)style\b/gi, '<$1x-removed-style')
    .replace(/(\s|["']|(?<!<)\/)(on[a-z0-9_-]*|style)(?=\s*=|[\s/>])/gi, '$1data-removed-$2');
}

// Our own instance: the page's other code never sees these options.
const markdown = new Marked({gfm: true, async: false, renderer: {html: ({text}) => defuse(text)}});

const PURIFY_CONFIG = {
  USE_PROFILES: {html: true},
  // Tags that would load, submit, play or overlay something, and <style>,
  // which the page's policy refuses anyway (inline styles are blocked).
  FORBID_TAGS: ['style', 'form', 'button', 'select', 'option', 'optgroup', 'textarea', 'datalist',
    'dialog', 'audio', 'video', 'source', 'track', 'picture', 'canvas', 'template', 'slot',
    'area', 'map', 'marquee', 'blink', 'meter', 'progress', 'output', 'fieldset', 'label'],
  // style: refused by the policy. id/name/for/class/role: a README must not
  // collide with the page's own ids, labels and classes (it could pose as
  // our controls). srcset/background/poster: more image loads to police.
  FORBID_ATTR: ['style', 'id', 'name', 'for', 'class', 'role', 'srcset', 'background', 'poster',
    'popover', 'popovertarget', 'popovertargetaction', 'command', 'commandfor', 'tabindex',
    'action', 'method', 'enctype', 'formaction'],
  ALLOW_DATA_ATTR: false,
  ADD_FORBID_CONTENTS: ['x-removed-style'],
  RETURN_DOM_FRAGMENT: true,
};

// The page's img-src allows only our own origin and data: URIs. An image
// from elsewhere would be blocked (and logged as a policy violation), and a
// relative one points into the package's repository, not at this site: show
// such images as links/text instead of broken pictures.
function replaceImages(fragment) {
  for (const img of fragment.querySelectorAll('img')) {
    const src = img.getAttribute('src') || '';
    if (/^data:image\//i.test(src)) continue;
    const label = img.getAttribute('alt') || 'image';
    let replacement;
    if (/^https?:/i.test(src)) {
      replacement = document.createElement('a');
      replacement.href = src;
      replacement.target = '_blank';
      replacement.rel = 'noopener noreferrer';
      replacement.textContent = `[${label}]`;
    } else {
      replacement = document.createElement('span');
      replacement.textContent = `[${label}]`;
    }
    replacement.className = 'readme-image';
    img.replaceWith(replacement);
  }
  // Task-list checkboxes are the only inputs a README may show, read-only.
  for (const input of fragment.querySelectorAll('input')) {
    if ((input.getAttribute('type') || '').toLowerCase() !== 'checkbox') input.remove();
    else input.disabled = true;
  }
}

// Renders the Markdown `text` into `container` (replacing its content).
export function renderReadme(container, text) {
  const html = markdown.parse(text || '');
  const fragment = DOMPurify.sanitize(html, PURIFY_CONFIG);
  replaceImages(fragment);
  container.replaceChildren(document.importNode(fragment, true));
}

// In-page links (#section) must not reach the router, which owns the hash.
export function keepAnchorsLocal(container) {
  container.addEventListener('click', (e) => {
    const a = e.target.closest('a[href^="#"]');
    if (!a || !container.contains(a)) return;
    e.preventDefault();
  });
}

// The sign-in page: an access token, checked against the registry before it
// is kept.

import {loadSession, setToken, signOut} from './api.js';
import {field, h, hideAlert, showAlert} from './dom.js';

export function mountSignIn(main, {notice, onSignedIn}) {
  const token = h('input', {
    id: 'signin-token', type: 'password', name: 'token', required: true,
    autocomplete: 'off', spellcheck: 'false',
  });
  const submit = h('button', {id: 'signin-submit', type: 'submit', text: 'Sign in'});
  const alert = h('div', {class: 'form-alert', id: 'signin-error', role: 'alert', hidden: true});
  const form = h('form', {class: 'signin-form', novalidate: true},
    h('h1', {text: 'Sign in to mcpreg'}),
    h('p', {class: 'lead', text: 'The registry of MCP servers your organization has approved, with the tool policy and audit trail of each.'}),
    field('Access token', token, {hint: 'Paste an mcpreg access token. It stays in this browser tab only and is forgotten when the tab closes or you sign out.'}),
    alert,
    h('div', {class: 'actions'}, submit));
  if (notice) showAlert(alert, notice);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    hideAlert(alert);
    const value = token.value.trim();
    if (!value) {
      showAlert(alert, 'Enter an access token.');
      token.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      // Ask who this token is before keeping it, so a mistyped token is
      // refused here rather than on the next page.
      await loadSession(value);
      setToken(value);
      onSignedIn();
    } catch (err) {
      signOut();
      showAlert(alert, err.status === 401 ?
        'The registry did not accept this token. Check that it is complete and has not expired or been revoked.' :
        err);
      token.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });

  main.replaceChildren(h('section', {class: 'signin'}, form));
  token.focus();
}

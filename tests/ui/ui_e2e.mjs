// The mcpreg web UI in a real browser: Debian's Chromium, headless, driven by
// puppeteer-core against a running mcpreg-host (tests/e2e/ui_e2e_test.cc
// starts one, creates a reader's token and a server with a hostile README,
// then runs this script). Each step prints its name; the first failure
// prints why, saves a screenshot and exits 1. Exit 0 means every step held.
//
//   MCPREG_UI_URL          http://127.0.0.1:PORT/ui/
//   MCPREG_ADMIN_TOKEN     a platform admin's token
//   MCPREG_READER_TOKEN    READ on ai-npm-local and ai-pypi-local only
//   MCPREG_HOSTILE_SERVER  a server of ai-research whose README has script in it
//   MCPREG_PINNED_SERVER   a server of ai-research whose policy pins tool
//                          definitions, with `echo` changed in its newer
//                          version (pending) and `add` unchanged (approved)
//   MCPREG_SCREENSHOT_DIR  where to save a PNG per step (optional)
//   MCPREG_CHROMIUM        the browser (default /usr/bin/chromium)
//
// Besides each step's own checks, the whole run fails on any JavaScript
// error, any Content-Security-Policy violation, any browser dialog (alert),
// a UI file that does not load, or an API answer of 500 or more. API answers
// of 4xx are expected in places (the scenario provokes them) and Chromium
// logs each as "Failed to load resource"; those lines alone are tolerated.

import {mkdirSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';

import puppeteer from 'puppeteer-core';

const env = process.env;
function required(name) {
  if (!env[name]) {
    console.error(`ui_e2e: set ${name}`);
    process.exit(2);
  }
  return env[name];
}
const UI_URL = required('MCPREG_UI_URL');
const ADMIN = required('MCPREG_ADMIN_TOKEN');
const READER = required('MCPREG_READER_TOKEN');
const HOSTILE = required('MCPREG_HOSTILE_SERVER');
const PINNED = required('MCPREG_PINNED_SERVER');
const SHOTS = env.MCPREG_SCREENSHOT_DIR || '';
const CHROMIUM = env.MCPREG_CHROMIUM || '/usr/bin/chromium';

const PROJECT = 'ai-research';
const REPO = 'ai-pypi-local';
const ARTIFACT = 'org/project/mcp-server/1.0.0/mcp_server-1.0.0.tar.gz';
const README = 'org/project/mcp-server/1.0.0/README.md';
const PACKAGE_NAME = 'mcp-server';
const DISPLAY = `pypi:${REPO}:${PACKAGE_NAME}`;
const DESCRIPTION = 'Internal Database Connector for AI Agents';
const ENV_NAME = 'DB_CONNECTION_STRING';
const ENV0 = 'mcpServerInfo.environmentVariables[0]';
const ARG0 = 'mcpServerInfo.runtimeArguments[0]';
const TIMEOUT = 15000;

// --- Harness -----------------------------------------------------------------

const problems = [];
let stepNo = 0;
let shotNo = 0;

class StepFailure extends Error {}
function check(cond, message) {
  if (!cond) throw new StepFailure(message);
}

let page;

// The whole page, or just the window while a modal dialog is up (it is as
// tall as the window, so a full-page picture would cut through it).
async function shot(name, {fullPage = true} = {}) {
  if (!SHOTS) return;
  shotNo += 1;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({path: file, fullPage});
}

// Screenshots under fixed names too, for docs/ui/ (registry.png, server.png).
async function docShot(name) {
  if (!SHOTS) return;
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({path: path.join(SHOTS, `${name}.png`)});
}

// One element's picture under a fixed name, for docs/ui/.
async function docElementShot(selector, name) {
  if (!SHOTS) return;
  const el = await page.$(selector);
  await el.scrollIntoView();
  await el.screenshot({path: path.join(SHOTS, `${name}.png`)});
}

// A REST call made from the page with `token` (default the admin's), the
// way a script or the CLI would: {status, body}.
async function rest(method, apiPath, body, token = ADMIN) {
  return page.evaluate(async (m, p, b, t) => {
    const r = await fetch(new URL(`..${p}`, document.baseURI), {method: m,
      body: b === undefined ? undefined : JSON.stringify(b),
      headers: {'Authorization': `Bearer ${t}`, 'Content-Type': 'application/json'}});
    return {status: r.status, body: await r.json().catch(() => null)};
  }, method, apiPath, body, token);
}

function assertNoProblems() {
  check(problems.length === 0, `the browser reported:\n  ${problems.join('\n  ')}`);
}

async function step(name, fn) {
  stepNo += 1;
  console.log(`[${stepNo}] ${name}`);
  await fn();
  assertNoProblems();
  console.log('    ok');
}

const sel = (field) => `[data-field="${field}"]`;

// Waits until `selector`'s text matches `re`; says what was there if not.
async function waitText(selector, re, what, timeout = TIMEOUT) {
  try {
    await page.waitForFunction((s, source, flags) => {
      const el = document.querySelector(s);
      return el && new RegExp(source, flags).test(el.textContent);
    }, {timeout}, selector, re.source, re.flags);
  } catch {
    const text = await page.$eval(selector, (el) => el.textContent).catch(() => '(no such element)');
    throw new StepFailure(`${what}: expected ${selector} to match ${re}, it says: ${JSON.stringify(text)}`);
  }
}

async function waitFor(selector, what, options = {}) {
  try {
    return await page.waitForSelector(selector, {timeout: TIMEOUT, ...options});
  } catch {
    throw new StepFailure(`${what}: ${selector} did not ${options.hidden ? 'go away' : 'appear'} within ${TIMEOUT} ms`);
  }
}

async function waitUntil(fn, what, ...args) {
  try {
    await page.waitForFunction(fn, {timeout: TIMEOUT}, ...args);
  } catch {
    throw new StepFailure(what);
  }
}

// Replaces an input's value the way a person would: clear it, then type.
async function fill(selector, text) {
  await waitFor(selector, `the field ${selector}`);
  await page.$eval(selector, (el) => {
    el.focus();
    el.value = '';
    el.dispatchEvent(new Event('input', {bubbles: true}));
  });
  await page.type(selector, text);
}

// Opens a page by its address; the same address again remounts it fresh.
async function go(hash) {
  await page.evaluate((h) => {
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange'));
    else location.hash = h;
  }, hash);
}

// The error shown at a control: the .field-error in its wrapper, and
// aria-invalid on the control itself.
async function fieldError(selector) {
  return page.$eval(selector, (el) => {
    const wrap = el.closest('.field') || el.parentElement;
    const err = wrap.querySelector('.field-error');
    return {invalid: el.getAttribute('aria-invalid') === 'true', text: err ? err.textContent : ''};
  });
}

async function waitFieldError(selector, what) {
  await waitUntil((s) => {
    const el = document.querySelector(s);
    const wrap = el && (el.closest('.field') || el.parentElement);
    return el && el.getAttribute('aria-invalid') === 'true' && wrap.querySelector('.field-error');
  }, `${what}: no error appeared at ${selector}`, selector);
  return fieldError(selector);
}

async function serverRow(display) {
  return page.evaluate((d) => {
    const link = [...document.querySelectorAll('#servers-table a.server-link')].find((a) => a.textContent === d);
    if (!link) return null;
    const badge = link.closest('tr').querySelector('.policy-badge');
    return {href: link.getAttribute('href'), policy: badge ? badge.textContent : ''};
  }, display);
}

// The registry list once it has loaded (not "Loading…"), searched for `q`.
async function showRegistry(q = '') {
  await go('#/registry');
  await waitFor('#registry-search', 'the registry page');
  if (q) await fill('#registry-search', q);
  await waitUntil((search) => {
    const body = document.querySelector('#servers-table tbody');
    if (!body || !body.rows.length || /Loading/.test(body.textContent)) return false;
    if (/No server/.test(body.textContent)) return true;
    // The search is applied (debounced): every listed server matches it.
    return [...body.querySelectorAll('tr')].every((tr) => tr.textContent.toLowerCase().includes(search.toLowerCase()));
  }, `the server list${q ? ` searched for "${q}"` : ''} did not load`, q);
}

async function noHorizontalOverflow(what) {
  const m = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
  }));
  check(m.scroll <= m.inner + 1, `${what}: the page is ${m.scroll}px wide in a ${m.inner}px window (horizontal overflow)`);
}

// --- The scenario --------------------------------------------------------------

async function run(browser) {
  page = await browser.newPage();
  await page.setViewport({width: 1280, height: 800});
  // Recorded before any page script runs: a CSP violation is an event as
  // well as a console message, and either is a failure.
  await page.evaluateOnNewDocument(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  page.on('pageerror', (err) => problems.push(`JavaScript error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    problems.push(`console error: ${text}`);
  });
  page.on('dialog', async (d) => {
    problems.push(`a browser dialog opened (${d.type()}): ${d.message()}`);
    await d.dismiss();
  });
  const uiPath = new URL(UI_URL).pathname;
  page.on('response', (res) => {
    const u = new URL(res.url());
    if (res.status() >= 500) problems.push(`${res.request().method()} ${u.pathname} answered ${res.status()}`);
    else if (u.pathname.startsWith(uiPath) && res.status() >= 400) problems.push(`UI file ${u.pathname} answered ${res.status()}`);
  });
  page.on('requestfailed', (req) => {
    const why = req.failure() ? req.failure().errorText : '';
    // Aborted: a page left before its fetch finished (the UI cancels them).
    if (!/ERR_ABORTED/.test(why)) problems.push(`request ${req.url()} failed: ${why}`);
  });

  await step('the sign-in page opens, and signing in as admin shows project ai-research', async () => {
    await page.goto(UI_URL, {waitUntil: 'load'});
    await waitFor('#signin-token', 'the sign-in page');
    check(await page.evaluate(() => location.hash) === '#/sign-in', 'an unsigned visitor is not sent to #/sign-in');
    await shot('sign-in');
    await page.type('#signin-token', ADMIN);
    await page.click('#signin-submit');
    await waitFor('#servers-table', 'the registry after signing in');
    const picker = await page.$('#project-select');
    check(picker, 'no project selector (#project-select) after signing in as admin');
    const offered = await page.$$eval('#project-select option', (os) => os.map((o) => o.value));
    check(offered.includes(PROJECT), `the project selector offers ${offered.join(', ')}, not ${PROJECT}`);
    if (await page.$eval('#project-select', (s) => s.value) !== PROJECT) {
      await page.select('#project-select', PROJECT);
      await waitFor('#servers-table', 'the registry of the chosen project');
    }
    const principal = await page.$eval('#principal', (el) => el.textContent);
    check(principal.trim(), 'the header does not name the signed-in principal');
    const stored = await page.evaluate(() => ({token: sessionStorage.getItem('mcpreg.token'), cookie: document.cookie}));
    check(stored.token === ADMIN, 'the token is not kept in sessionStorage under mcpreg.token');
    check(stored.cookie === '', `the UI set a cookie: ${stored.cookie}`);
  });

  await step('the register pane: completion, the package\'s own name, an error at its field, then success', async () => {
    await waitFor('#register-open', 'the (+) Register server button for an admin');
    await page.click('#register-open');
    await waitFor('#register-dialog[open]', 'the register pane');
    await waitFor(`#reg-repo option[value="${REPO}"]`, `repository ${REPO} in the pane`);
    await page.select('#reg-repo', REPO);

    await fill('#reg-path', 'org/');
    await waitFor(`#reg-path-files option[value="${ARTIFACT}"]`, 'the artifact path completion after typing "org/"');
    await page.type('#reg-path', ARTIFACT.slice('org/'.length));
    await page.$eval('#reg-path', (el) => el.dispatchEvent(new Event('change', {bubbles: true})));
    await waitUntil((n) => document.querySelector('#reg-name').placeholder === n,
      `the Name field never showed the package's own name "${PACKAGE_NAME}" as its default`, PACKAGE_NAME);
    await waitText('#reg-name-hint', new RegExp(PACKAGE_NAME), 'the Name hint');

    await fill('#reg-readme', README);
    await fill('#reg-description', DESCRIPTION);
    await fill('#reg-version', '1.0.0');

    await page.click('#reg-add-env');
    await fill(sel(`${ENV0}.name`), '1 bad');
    await fill(sel(`${ENV0}.description`), 'Connection string for the production DB');
    await page.select(sel(`${ENV0}.format`), 'string');
    await page.click(sel(`${ENV0}.isRequired`));
    await page.click(sel(`${ENV0}.isSecret`));

    await page.click('#reg-add-arg');
    await fill(sel(`${ARG0}.name`), '--port');
    await fill(sel(`${ARG0}.description`), 'Runtime port for the MCP server');
    await page.select(sel(`${ARG0}.format`), 'integer');
    await page.select(sel(`${ARG0}.type`), 'int');
    await fill(sel(`${ARG0}.defaultValue`), '8080');

    await page.click('#reg-submit');
    const err = await waitFieldError(sel(`${ENV0}.name`), 'an invalid environment variable name');
    check(err.text.trim(), 'the error at the environment variable name is empty');
    check(!/^\s*\{/.test(err.text), `the error is raw JSON: ${err.text}`);
    check(await page.$eval('#reg-error', (el) => el.hidden), 'the field error was (also) shown as a form-level banner');
    console.log(`    at the field: ${err.text}`);
    await shot('register-field-error', {fullPage: false});

    await fill(sel(`${ENV0}.name`), ENV_NAME);
    await page.click('#reg-submit');
    await waitFor('#register-dialog', 'the pane closing after registration', {hidden: true});
    await waitText('#server-title', new RegExp(`^${DISPLAY}$`), 'the new server\'s page');
  });

  await step(`the registry lists ${DISPLAY}, with no policy yet`, async () => {
    await showRegistry(PACKAGE_NAME);
    const row = await serverRow(DISPLAY);
    check(row, `${DISPLAY} is not in the registry list`);
    check(/No policy/.test(row.policy), `a new server shows policy "${row.policy}", not "No policy — nothing allowed"`);
    await shot('registry');
    await showRegistry();
    await docShot('registry');
  });

  await step('the server page: README, settings, client configurations, and the tool policy editor', async () => {
    await showRegistry(PACKAGE_NAME);
    await page.click(`#servers-table a.server-link[href="#/servers/${encodeURIComponent(PACKAGE_NAME)}"]`);
    await waitText('#server-title', new RegExp(`^${DISPLAY}$`), 'the server page');
    await waitUntil(() => document.querySelector('#readme') && document.querySelector('#readme').children.length > 0 &&
      !document.querySelector('#readme > p.muted'), 'the README was not rendered');
    await waitText('#env-table', new RegExp(ENV_NAME), 'the environment variables table');
    await waitText('#args-table', /--port/, 'the runtime arguments table');
    await waitText('#panel-cursor pre.config-json', /\{/, 'the Cursor configuration');
    await page.click('#tab-claude-code');
    await waitUntil(() => !document.querySelector('#panel-claude-code').hidden &&
      document.querySelector('#panel-claude-code pre.config-json'), 'the Claude Code tab did not show its configuration');
    await page.click('#tab-cursor');

    await page.click('#policy-manual');
    await waitFor('#policy-manual-panel:not([hidden])', 'the manual policy panel');
    await page.click('input[name="policy-list"][value="ALLOW_LIST"]');
    await fill(sel('policy.entries[0].pattern'), 'echo');
    await page.click('#policy-add');
    await fill(sel('policy.entries[1].pattern'), 'read_(');
    await page.click(sel('policy.entries[1].isRegex'));
    const bad = await waitFieldError(sel('policy.entries[1].pattern'), 'an invalid regular expression, as typed');
    console.log(`    at the row: ${bad.text}`);
    await shot('policy-invalid-regex');
    await fill(sel('policy.entries[1].pattern'), 'read_.*');
    await waitUntil((s) => document.querySelector(s).getAttribute('aria-invalid') !== 'true',
      'the regex error stayed after fixing the pattern', sel('policy.entries[1].pattern'));
    await waitText('#policy-validity', /valid/i, 'the policy check as typed');

    for (const [tool, verdict] of [['read_file', 'true'], ['rm', 'false']]) {
      await fill('#policy-try-input', tool);
      await page.click('#policy-try-button');
      await waitUntil(() => document.querySelector('#policy-try-result').dataset.allowed !== undefined,
        `trying ${tool} gave no answer`);
      const r = await page.$eval('#policy-try-result', (el) => ({allowed: el.dataset.allowed, text: el.textContent}));
      check(r.allowed === verdict, `trying ${tool}: expected ${verdict === 'true' ? 'Allowed' : 'Denied'}, got "${r.text}"`);
      check(new RegExp(`^${verdict === 'true' ? 'Allowed' : 'Denied'}`).test(r.text), `trying ${tool} says "${r.text}"`);
      console.log(`    ${r.text}`);
    }

    await page.click('#policy-save');
    await waitText('#policy-status', /^Saved/, 'saving the allow list');
    await waitText('#server-policy-badge', /Allow list/, 'the header badge after saving');
    await docShot('server');
    await shot('server-allow-list');

    await page.click('#policy-all');
    await page.click('#policy-save');
    await waitText('#policy-status', /^Saved/, 'saving "Allow all tools"');
    await waitText('#server-policy-badge', /All tools/, 'the header badge after allowing all');
    await showRegistry(PACKAGE_NAME);
    const row = await serverRow(DISPLAY);
    check(row && row.policy === 'All tools', `the list shows policy "${row && row.policy}", not "All tools"`);
  });

  const tool = (name) => `#definitions .definition-tool[data-tool="${name}"]`;
  // A tool's state and its newest definition's diff lines, as shown.
  const toolView = (name) => page.$eval(tool(name), (el) => {
    const d = el.querySelector(':scope > .definition');
    return {
      state: el.dataset.state,
      removed: [...d.querySelectorAll('pre.diff del')].map((x) => x.textContent),
      added: [...d.querySelectorAll('pre.diff ins')].map((x) => x.textContent),
      json: (d.querySelector('pre.definition-json') || {}).textContent || '',
      open: d.querySelector('details').open,
      approval: (d.querySelector('.definition-approval') || {}).textContent || '',
    };
  });
  const waitState = (name, state, what) => waitUntil((s, want) => {
    const el = document.querySelector(s);
    return el && el.dataset.state === want;
  }, `${what}: ${name} never showed state "${state}"`, tool(name), state);

  await step(`${PINNED}: a changed tool definition waits for approval, with its diff; Approve, Revoke and "Approve all of a version" work`, async () => {
    await go(`#/servers/${encodeURIComponent(PINNED)}`);
    await waitFor(tool('echo'), 'the echo tool under Tool definitions');
    await waitText('#definitions-pending', /^1 pending approval$/, 'the count of pending approvals in the heading');
    await waitText('#server-pending-badge', /1 tool definition awaiting approval/, 'the pending badge by the server title');
    await waitText('#definitions-pinning', /pinned/, 'what pinning means');
    const echo = await toolView('echo');
    check(echo.state === 'pending', `echo's changed definition shows state ${echo.state}, not pending`);
    check(echo.open, 'the pending definition\'s diff is collapsed');
    check(echo.removed.some((l) => /^- +"description": "Echoes the given text\.",?$/.test(l)),
      `the diff does not show the old description removed: ${JSON.stringify(echo.removed)}`);
    check(echo.added.some((l) => /^\+ +"description": "Echoes the given text and sends a copy to audit\.example\.com\.",?$/.test(l)),
      `the diff does not show the new description added: ${JSON.stringify(echo.added)}`);
    check(echo.added.some((l) => /"cc"/.test(l)), `the diff does not show the added "cc" property: ${JSON.stringify(echo.added)}`);
    const added = await page.$$eval(`${tool('echo')} pre.diff ins`, (els) => els.map((e) => getComputedStyle(e).backgroundColor));
    check(added.every((c) => c !== 'rgba(0, 0, 0, 0)'), 'added lines are not highlighted');
    const add = await toolView('add');
    check(add.state === 'approved', `add (unchanged, trusted on first use) shows state ${add.state}`);
    check(/"name": "add"/.test(add.json), 'the first definition of add is not shown as it is');
    check(/first use/.test(add.approval), `add's approval does not say it was approved on first use: ${add.approval}`);
    await docElementShot('#definitions', 'tool-definitions');
    await shot('definitions-pending');

    await page.click(`${tool('echo')} > .definition button.definition-approve`);
    await waitState('echo', 'approved', 'after Approve');
    await waitText('#definitions-status', /^Approved echo/, 'the message after approving');
    check(await page.$eval('#definitions-pending', (el) => el.hidden), 'the pending count is still shown after approving');
    check(await page.$eval('#server-pending-badge', (el) => el.hidden), 'the pending badge is still shown after approving');
    check(/^Approved by /.test((await toolView('echo')).approval), 'the approved definition does not say who approved it');
    await shot('definitions-approved');

    await page.click(`${tool('echo')} > .definition button.definition-revoke`);
    await waitState('echo', 'pending', 'after Revoke approval');
    await waitText('#definitions-status', /^Revoked the approval of echo/, 'the message after revoking');
    await page.select('#definitions-version', '1.1.0');
    await waitText('#definitions-approve-version', /^Approve all of v1\.1\.0$/, 'the version button');
    await page.click('#definitions-approve-version');
    await waitState('echo', 'approved', 'after "Approve all of v1.1.0"');
    await waitText('#definitions-status', /^Approved \d+ definitions? reported by v1\.1\.0/, 'the message after approving a version');
  });

  await step(`${PINNED}: the policy editor keeps an entry's argument conditions and saves the definition switches`, async () => {
    const policyPath = `/api/v1/mcp-registry/servers/${encodeURIComponent(PINNED)}/tool-policy`;
    const condition = {pointer: '/path', matches: '/srv/data/.*'};
    const set = await rest('PUT', policyPath, {projectKey: PROJECT, mode: 'ALLOW_LIST', pinDefinitions: true, trustOnFirstUse: true,
      entries: [{pattern: 'echo'}, {pattern: 'add'}, {pattern: 'read_file', conditions: [condition]}]});
    check(set.status === 200, `setting a policy with a condition answered ${set.status} ${JSON.stringify(set.body)}`);
    await go(`#/servers/${encodeURIComponent(PINNED)}`);
    await waitText('#policy-rows', /\/path matches \/srv\/data\/\.\*/, 'the condition of pattern 3, read-only');
    check(!(await page.$eval('#policy-conditions-note', (el) => el.hidden)), 'no note says where conditions are edited');
    const flags = () => page.evaluate(() => Object.fromEntries(['policy-pin', 'policy-tofu', 'policy-audit-args']
      .map((id) => [id, {checked: document.getElementById(id).checked, disabled: document.getElementById(id).disabled}])));
    let f = await flags();
    check(f['policy-pin'].checked && f['policy-tofu'].checked && !f['policy-audit-args'].checked,
      `the switches do not show the saved policy: ${JSON.stringify(f)}`);
    check(!f['policy-tofu'].disabled, '"Trust first definitions" is disabled while pinning is on');
    await page.click('#policy-pin');
    f = await flags();
    check(f['policy-tofu'].disabled, '"Trust first definitions" stays enabled with pinning off');
    await page.click('#policy-pin');
    check(!(await flags())['policy-tofu'].disabled, '"Trust first definitions" stays disabled with pinning back on');
    await page.click('#policy-audit-args');
    await page.click('#policy-save');
    await waitText('#policy-status', /^Saved/, 'saving the switches');
    await waitText('#policy-current', /Definitions pinned/, 'the saved policy line');
    await shot('policy-conditions');
    const got = await rest('GET', `${policyPath}?projectKey=${PROJECT}`);
    check(got.status === 200, `reading the policy back answered ${got.status}`);
    const p = got.body;
    check(p.pinDefinitions === true && p.trustOnFirstUse === true && p.auditArgumentValues === true,
      `the saved switches are ${JSON.stringify({pin: p.pinDefinitions, tofu: p.trustOnFirstUse, audit: p.auditArgumentValues})}`);
    check(p.mode === 'ALLOW_LIST' && (p.entries || []).map((e) => e.pattern).join() === 'echo,add,read_file',
      `the saved entries are ${JSON.stringify(p.entries)}`);
    // Compared without the fields left at their defaults (an empty oneOf,
    // absent false), which the answer may or may not spell out.
    const normalized = (cs) => JSON.stringify((cs || []).map((c) => Object.fromEntries(Object.entries(c)
      .filter(([, v]) => v !== false && v !== null && !(Array.isArray(v) && !v.length)).sort())));
    check(normalized(p.entries[2].conditions) === normalized([condition]),
      `the UI's save lost or changed the condition: ${JSON.stringify(p.entries[2].conditions)}`);
    check(normalized(p.entries[0].conditions) === '[]', `an entry without conditions gained some: ${JSON.stringify(p.entries[0])}`);
  });

  await step('the audit page filters by action and the chain verifies', async () => {
    await page.click('#nav-audit');
    await waitFor('#audit-filters', 'the audit page');
    await fill('#audit-action', 'policy.set');
    await page.click('#audit-apply');
    await waitUntil(() => document.querySelectorAll('#audit-table tbody tr[data-action]').length > 0,
      'no audit rows for action policy.set');
    const actions = await page.$$eval('#audit-table tbody tr[data-action]', (rows) => rows.map((r) => r.dataset.action));
    check(actions.length >= 2, `expected two policy.set events, found ${actions.length}`);
    check(actions.every((a) => a === 'policy.set'), `the filter let through ${[...new Set(actions)].join(', ')}`);
    await waitFor('#audit-verify', 'the Verify chain button for an admin');
    await page.click('#audit-verify');
    await waitUntil(() => document.querySelector('#audit-verify-result').dataset.intact !== undefined,
      'Verify chain gave no verdict');
    const v = await page.$eval('#audit-verify-result', (el) => ({intact: el.dataset.intact, text: el.textContent}));
    check(v.intact === 'true', `the audit chain is not intact: ${v.text}`);
    await shot('audit');
  });

  await step(`unregistering ${DISPLAY} asks first, says the package stays, and removes it`, async () => {
    await go(`#/servers/${encodeURIComponent(PACKAGE_NAME)}`);
    await waitText('#server-title', new RegExp(`^${DISPLAY}$`), 'the server page');
    await page.click('#unregister-open');
    await waitFor('#unregister-dialog[open]', 'the confirmation dialog');
    const text = await page.$eval('#unregister-dialog', (el) => el.textContent);
    check(text.includes(DISPLAY), `the confirmation does not name ${DISPLAY}: ${text}`);
    check(/stays in (its |the )?repository/i.test(text) && text.includes(REPO),
      `the confirmation does not say the package stays in ${REPO}: ${text}`);
    await shot('unregister-confirm', {fullPage: false});
    await page.click('#unregister-confirm');
    await waitUntil(() => location.hash === '#/registry', 'not back on the registry after unregistering');
    await showRegistry();
    check(!(await serverRow(DISPLAY)), `${DISPLAY} is still listed after unregistering`);
  });

  await step(`the hostile README of ${HOSTILE} runs nothing`, async () => {
    await go(`#/servers/${encodeURIComponent(HOSTILE)}`);
    await waitFor('#server-title', 'the hostile server\'s page');
    await waitUntil(() => document.querySelector('#readme') && document.querySelector('#readme').childNodes.length > 0,
      'the hostile README was not rendered');
    const inspect = () => page.evaluate(() => {
      const readme = document.querySelector('#readme');
      const all = [...document.querySelectorAll('*')];
      return {
        pwned: typeof window.__pwned,
        scripts: readme.querySelectorAll('script, iframe, object, embed, frame, base, meta, link, style').length,
        onAttrs: all.filter((el) => [...el.attributes].some((a) => /^on/i.test(a.name))).map((el) => el.tagName),
        badHrefs: [...document.querySelectorAll('[href], [src], [action], [formaction]')]
          .map((el) => el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action') || el.getAttribute('formaction'))
          .filter((v) => /^\s*(javascript|vbscript|data:text)/i.test(v.replace(/[\u0000-\u0020]/g, ''))),
        unsafeBlank: [...readme.querySelectorAll('a[target="_blank"]')].filter((a) => !/noopener/.test(a.rel)).length,
        csp: window.__cspViolations,
      };
    });
    const verify = (r, when) => {
      check(r.pwned === 'undefined', `${when}: window.__pwned is set — the README ran script`);
      check(r.scripts === 0, `${when}: the README container holds ${r.scripts} script/iframe/style-like elements`);
      check(r.onAttrs.length === 0, `${when}: elements with on* attributes: ${r.onAttrs.join(', ')}`);
      check(r.badHrefs.length === 0, `${when}: dangerous URLs: ${r.badHrefs.join(', ')}`);
      check(r.unsafeBlank === 0, `${when}: a link opens a new tab without rel=noopener`);
      check(r.csp.length === 0, `${when}: CSP violations: ${r.csp.join('; ')}`);
    };
    await new Promise((r) => setTimeout(r, 300));
    verify(await inspect(), 'after rendering');
    // Click what a reader would click; http(s) links open a new tab, which
    // is not what is under test here, so only the others are clicked.
    const links = await page.$$('#readme a');
    for (const a of links) {
      const href = await a.evaluate((el) => el.getAttribute('href') || '');
      if (!/^https?:/i.test(href)) await a.click();
    }
    await new Promise((r) => setTimeout(r, 300));
    verify(await inspect(), 'after clicking its links');
    check(await page.$('#server-title'), 'clicking a README link navigated away from the server page');
    await shot('hostile-readme');
  });

  await step('a reader sees no register button, and a forced registration is refused clearly', async () => {
    await page.click('#signout');
    await waitFor('#signin-token', 'the sign-in page after signing out');
    check(await page.evaluate(() => sessionStorage.getItem('mcpreg.token')) === null, 'signing out kept the token');
    // Keyboard: from the token field, Tab reaches the Sign in button.
    await page.focus('#signin-token');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    check(focused === 'signin-submit', `Tab from the token field went to "${focused}", not the Sign in button`);
    await page.type('#signin-token', READER);
    await page.keyboard.press('Enter');
    await waitFor('#servers-table', 'the registry as a reader');
    const project = await page.evaluate(() => {
      const c = document.querySelector('#project-select, #project-input');
      return c ? c.value : '';
    });
    check(project === PROJECT, `the reader's project is "${project}", not ${PROJECT}`);
    await showRegistry();
    check(!(await page.$('#register-open')), 'a reader (no ALLOW on the project) is offered the register button');

    const body = {
      projectKey: PROJECT,
      repoArtifactInfo: {repoKey: REPO, repoPath: ARTIFACT, readmePath: README},
      mcpServerInfo: {description: DESCRIPTION, version: '1.0.0', environmentVariables: [], runtimeArguments: []},
    };
    const forced = await page.evaluate(async (token, b) => {
      const url = new URL('../ml/core/api/v1/mcp-registry/custom-server', document.baseURI);
      const r = await fetch(url, {method: 'POST', body: JSON.stringify(b),
        headers: {'Authorization': `Bearer ${token}`, 'Content-Type': 'application/json'}});
      return {status: r.status, body: await r.json().catch(() => null)};
    }, READER, body);
    check(forced.status === 403 && forced.body && forced.body.code === 'PERMISSION_DENIED',
      `a reader's registration answered ${forced.status} ${JSON.stringify(forced.body)}, not 403 PERMISSION_DENIED`);

    // The pane has its own address; through it the refusal reaches the user.
    await go('#/register');
    await waitFor('#register-dialog[open]', 'the register pane at #/register');
    await waitFor('#reg-permission-notice', 'the warning that the reader may not register');
    await waitFor(`#reg-repo option[value="${REPO}"]`, `repository ${REPO} for the reader`);
    await page.select('#reg-repo', REPO);
    await fill('#reg-path', ARTIFACT);
    await fill('#reg-description', DESCRIPTION);
    await fill('#reg-version', '1.0.0');
    await page.click('#reg-submit');
    await waitFor('#reg-error:not([hidden])', 'a refusal message for the reader');
    const refusal = await page.$eval('#reg-error', (el) => ({code: el.dataset.code, text: el.textContent, role: el.getAttribute('role')}));
    check(refusal.code === 'PERMISSION_DENIED', `the refusal is ${refusal.code}: ${refusal.text}`);
    check(/permission/i.test(refusal.text), `the refusal does not say it is about permission: ${refusal.text}`);
    check(refusal.role === 'alert', 'the refusal is not announced (role=alert)');
    console.log(`    ${refusal.text}`);
    await shot('reader-refused', {fullPage: false});
    await page.keyboard.press('Escape');
    await waitFor('#register-dialog', 'Escape closing the pane', {hidden: true});
  });

  await step('a reader sees the tool definitions, and revoking one is refused clearly', async () => {
    await go(`#/servers/${encodeURIComponent(PINNED)}`);
    await waitFor(`${tool('echo')} > .definition button.definition-revoke`, 'the Revoke button for a reader');
    await page.click(`${tool('echo')} > .definition button.definition-revoke`);
    await waitFor('#definitions-error:not([hidden])', 'a refusal message under Tool definitions');
    const refusal = await page.$eval('#definitions-error', (el) => ({code: el.dataset.code, text: el.textContent}));
    check(refusal.code === 'PERMISSION_DENIED', `the refusal is ${refusal.code}: ${refusal.text}`);
    check(/ALLOW on project/.test(refusal.text), `the refusal does not say ALLOW is needed: ${refusal.text}`);
    check((await toolView('echo')).state === 'approved', 'a refused revoke changed the state shown');
    check(!(await page.$eval(`${tool('echo')} > .definition button.definition-revoke`, (b) => b.disabled)),
      'the buttons stay disabled after a refusal');
    console.log(`    ${refusal.text}`);
    await shot('reader-definitions-refused');
  });

  await step('at 400×800 the registry and a server page fit the width', async () => {
    await page.setViewport({width: 400, height: 800});
    await showRegistry();
    await noHorizontalOverflow('registry at 400px');
    await shot('registry-400');
    await go(`#/servers/${encodeURIComponent(HOSTILE)}`);
    await waitFor('#server-title', 'the server page at 400px');
    await waitUntil(() => document.querySelector('#panel-cursor pre, #panel-cursor .form-alert'), 'the client configuration at 400px');
    await noHorizontalOverflow('server page at 400px');
    await shot('server-400');
    await go(`#/servers/${encodeURIComponent(PINNED)}`);
    await waitFor(tool('echo'), 'the tool definitions at 400px');
    await page.$$eval('#definitions details', (ds) => ds.forEach((d) => { d.open = true; }));
    await noHorizontalOverflow('tool definitions at 400px');
    await shot('definitions-400');
    await page.click('#nav-audit');
    await waitFor('#audit-filters', 'the audit page at 400px');
    await noHorizontalOverflow('audit page at 400px');
  });
}

async function main() {
  if (SHOTS) mkdirSync(SHOTS, {recursive: true});
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  let code = 0;
  try {
    await run(browser);
    console.log(`PASS: ${stepNo} steps`);
  } catch (err) {
    code = 1;
    console.error(`FAIL in step ${stepNo}: ${err instanceof StepFailure ? err.message : err.stack || err}`);
    if (problems.length) console.error(`the browser also reported:\n  ${problems.join('\n  ')}`);
    if (page) {
      console.error(`at ${page.url()}`);
      // What the UI itself was saying: usually the registry's reason.
      const shown = await page.evaluate(() => [...document.querySelectorAll('.form-alert, .field-error, .flash')]
        .filter((el) => !el.hidden && el.textContent.trim()).map((el) => el.textContent.trim())).catch(() => []);
      if (shown.length) console.error(`the page shows:\n  ${shown.join('\n  ')}`);
      if (SHOTS) await page.screenshot({path: path.join(SHOTS, 'failure.png'), fullPage: true}).catch(() => {});
    }
  } finally {
    await browser.close().catch(() => {});
  }
  process.exit(code);
}

main();

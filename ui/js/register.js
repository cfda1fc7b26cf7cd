// The register pane: links a package already stored in one of the project's
// local npm/PyPI repositories to the registry. The registry reads the
// package's own manifest, so the pane shows its name and version before
// submitting, and the registry alone decides what is valid: its messages
// come back naming the field, and are shown at that field.

import {api, currentProject} from './api.js';
import {
  clearFieldErrors, debounce, errorText, field, h, hideAlert, openDialog, select,
  setFieldError, showAlert, showError, uid,
} from './dom.js';

const FORMATS = ['string', 'number', 'integer', 'boolean', 'url', 'filepath', 'json'];
// docs/validation.md: an argument kind or a value type; empty means named.
const ARG_TYPES = [['', '— (named)'], 'named', 'positional', 'string', 'int', 'integer', 'number',
  'float', 'bool', 'boolean'];

const PACKAGE_FILE = /\.(tgz|tar\.gz|whl|zip)$/i;
const README_FILE = /(readme[^/]*|\.md|\.markdown)$/i;

function dirOf(path) {
  const i = path.lastIndexOf('/');
  return i >= 0 ? path.slice(0, i + 1) : '';
}

// Completion for a path inside the selected repository: a <datalist> of the
// files that start with what is typed (folders are not listed, so "org/"
// shows every file below org/).
function pathCompletion(input, datalist, status, {repo, filter, fallbackPrefix}) {
  let seq = 0;
  const refresh = debounce(async () => {
    const repoKey = repo();
    if (!repoKey) return;
    const prefix = input.value.trim() || (fallbackPrefix ? fallbackPrefix() : '');
    const mine = ++seq;
    try {
      const res = await api.files(repoKey, prefix);
      if (mine !== seq) return;
      const files = (res.files || []).filter((f) => filter.test(f.path));
      datalist.replaceChildren(...files.map((f) => h('option', {value: f.path})));
      status.textContent = res.truncated ? 'More files match: keep typing to narrow the list.' :
        files.length ? `${files.length} matching file${files.length === 1 ? '' : 's'} — pick one from the list.` :
          'No matching file in this repository.';
    } catch (err) {
      if (mine !== seq) return;
      datalist.replaceChildren();
      status.textContent = `Cannot list files: ${errorText(err)}`;
    }
  }, 200);
  input.addEventListener('input', refresh);
  input.addEventListener('focus', refresh);
  return refresh;
}

// Editable rows (environment variables, runtime arguments). Each control
// carries data-field="<listPath>[i].<key>" so a registry message about
// "...environmentVariables[1].name" lands on the right input; the indices
// are rewritten when a row is removed.
function rowList(listPath, noun, makeControls) {
  const rows = [];
  const container = h('div', {class: 'rows'});
  const empty = h('p', {class: 'muted', text: `No ${noun}s.`});

  function renumber() {
    rows.forEach((row, i) => {
      row.el.dataset.field = `${listPath}[${i}]`;
      for (const c of row.el.querySelectorAll('[data-key]')) c.dataset.field = `${listPath}[${i}].${c.dataset.key}`;
      row.remove.setAttribute('aria-label', `Remove ${noun} ${i + 1}`);
      row.legend.textContent = `${noun[0].toUpperCase()}${noun.slice(1)} ${i + 1}`;
    });
    empty.hidden = rows.length > 0;
  }

  function add() {
    const controls = makeControls();
    const legend = h('legend', {class: 'row-legend'});
    const remove = h('button', {type: 'button', class: 'icon-button remove-row', text: 'Remove'});
    // Text fields in a grid; the yes/no toggles and Remove share one line.
    const flags = h('div', {class: 'row-flags'},
      ...controls.filter((c) => c.input.type === 'checkbox').map((c) => c.wrap), remove);
    const el = h('fieldset', {class: `entry-row ${listPath.endsWith('environmentVariables') ? 'env-row' : 'arg-row'}`},
      legend, ...controls.filter((c) => c.input.type !== 'checkbox').map((c) => c.wrap), flags);
    const row = {el, remove, legend, controls};
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(row), 1);
      el.remove();
      renumber();
      addButton.focus();
    });
    rows.push(row);
    container.append(el);
    renumber();
    controls[0].input.focus();
  }

  const addButton = h('button', {type: 'button', class: 'secondary add-row', text: `Add ${noun}`, onclick: add});
  const values = () => rows.map((row) => Object.fromEntries(row.controls.map((c) => [c.key, c.value()])));
  return {container, empty, addButton, values};
}

// One control of a row: labelled, with data-key naming its request field.
function rowControl(key, label, input) {
  input.dataset.key = key;
  if (input.type === 'checkbox') {
    input.id = uid('cb');
    const wrap = h('div', {class: 'field check'}, input, h('label', {for: input.id, text: label}));
    return {key, wrap, input, value: () => input.checked};
  }
  return {key, wrap: field(label, input), input, value: () => input.value.trim()};
}

function envControls() {
  return [
    rowControl('name', 'Name', h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'API_TOKEN'})),
    rowControl('description', 'Description', h('input', {type: 'text', autocomplete: 'off'})),
    rowControl('format', 'Format', select(FORMATS, {value: 'string'})),
    rowControl('isRequired', 'Required', h('input', {type: 'checkbox'})),
    rowControl('isSecret', 'Secret', h('input', {type: 'checkbox'})),
  ];
}

function argControls() {
  return [
    rowControl('name', 'Name', h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: '--port'})),
    rowControl('description', 'Description', h('input', {type: 'text', autocomplete: 'off'})),
    // Empty: the value type gives the format (int → integer), so picking a
    // type alone is enough.
    rowControl('format', 'Format', select([['', '— (from the type)'], ...FORMATS], {value: ''})),
    rowControl('type', 'Type', select(ARG_TYPES, {value: ''})),
    rowControl('defaultValue', 'Default value', h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false'})),
    rowControl('isRequired', 'Required', h('input', {type: 'checkbox'})),
    rowControl('isSecret', 'Secret', h('input', {type: 'checkbox'})),
  ];
}

export function openRegisterPane({canRegister, onRegistered, onClosed}) {
  const project = currentProject();
  const repoSelect = h('select', {id: 'reg-repo', dataset: {field: 'repoArtifactInfo.repoKey'}},
    h('option', {value: '', text: 'Loading repositories…'}));
  const pathInput = h('input', {id: 'reg-path', type: 'text', list: 'reg-path-files', autocomplete: 'off',
    spellcheck: 'false', placeholder: 'org/project/my-server/1.0.0/my_server-1.0.0.tar.gz',
    dataset: {field: 'repoArtifactInfo.repoPath'}});
  const pathFiles = h('datalist', {id: 'reg-path-files'});
  const pathStatus = h('p', {class: 'hint', id: 'reg-path-status', 'aria-live': 'polite',
    text: 'Type the start of the path to list the package files in the repository.'});
  const readmeInput = h('input', {id: 'reg-readme', type: 'text', list: 'reg-readme-files', autocomplete: 'off',
    spellcheck: 'false', placeholder: 'org/project/my-server/1.0.0/README.md',
    dataset: {field: 'repoArtifactInfo.readmePath'}});
  const readmeFiles = h('datalist', {id: 'reg-readme-files'});
  const readmeStatus = h('p', {class: 'hint', id: 'reg-readme-status', 'aria-live': 'polite',
    text: 'Optional. A Markdown file in the same repository, shown on the server page.'});
  const nameInput = h('input', {id: 'reg-name', type: 'text', autocomplete: 'off', spellcheck: 'false',
    dataset: {field: 'name'}});
  const nameHint = h('p', {class: 'hint', id: 'reg-name-hint', 'aria-live': 'polite',
    text: 'Optional. Leave empty to use the package\'s own name.'});
  const displayPreview = h('p', {class: 'hint', id: 'reg-display-name'});
  const versionInput = h('input', {id: 'reg-version', type: 'text', autocomplete: 'off', spellcheck: 'false',
    dataset: {field: 'mcpServerInfo.version'}});
  const versionHint = h('p', {class: 'hint', id: 'reg-version-hint', text: 'The package\'s version, e.g. 1.0.0.'});
  const descInput = h('textarea', {id: 'reg-description', rows: 3, dataset: {field: 'mcpServerInfo.description'}});
  const descHint = h('p', {class: 'hint', id: 'reg-description-hint', text: 'What the server lets an agent do. No secrets.'});

  const envs = rowList('mcpServerInfo.environmentVariables', 'environment variable', envControls);
  const args = rowList('mcpServerInfo.runtimeArguments', 'runtime argument', argControls);
  envs.addButton.id = 'reg-add-env';
  args.addButton.id = 'reg-add-arg';

  const alert = h('div', {class: 'form-alert', id: 'reg-error', role: 'alert', hidden: true});
  const submit = h('button', {type: 'submit', class: 'primary', id: 'reg-submit', text: 'Complete registration'});
  const cancel = h('button', {type: 'button', class: 'secondary', id: 'reg-cancel', text: 'Cancel'});
  const closeX = h('button', {type: 'button', class: 'icon-button', 'aria-label': 'Close', text: '×'});

  const withHint = (label, input, ...hints) => {
    const w = field(label, input);
    w.append(...hints);
    input.setAttribute('aria-describedby', hints.filter((x) => x.id).map((x) => x.id).join(' '));
    return w;
  };

  const form = h('form', {id: 'register-form', novalidate: true},
    h('div', {class: 'pane-head'},
      h('h2', {id: 'register-title', text: 'Register a custom MCP server'}), closeX),
    h('div', {class: 'pane-body'},
      canRegister ? null : h('p', {class: 'notice', id: 'reg-permission-notice',
        text: `Registering needs ALLOW on project ${project}, which this token does not seem to hold: the registry will probably refuse.`}),
      h('p', {class: 'lead', text: `Upload the package to a local npm or PyPI repository of project ${project} first; here you point the registry at it.`}),
      h('fieldset', {class: 'group'}, h('legend', {text: 'Package'}),
        field('Repository', repoSelect),
        withHint('Package file', pathInput, pathStatus), pathFiles,
        withHint('README file', readmeInput, readmeStatus), readmeFiles),
      h('fieldset', {class: 'group'}, h('legend', {text: 'Server'}),
        withHint('Name', nameInput, nameHint, displayPreview),
        withHint('Version', versionInput, versionHint),
        withHint('Description', descInput, descHint)),
      h('fieldset', {class: 'group', dataset: {field: 'mcpServerInfo.environmentVariables'}},
        h('legend', {text: 'Environment variables'}),
        h('p', {class: 'hint', text: 'Settings the server reads from its environment. Only their names and descriptions are registered — never values; mark credentials secret.'}),
        envs.empty, envs.container, envs.addButton),
      h('fieldset', {class: 'group', dataset: {field: 'mcpServerInfo.runtimeArguments'}},
        h('legend', {text: 'Runtime arguments'}),
        h('p', {class: 'hint', text: 'Command-line flags the server is started with.'}),
        args.empty, args.container, args.addButton),
      alert),
    h('div', {class: 'pane-foot'}, cancel, submit));

  const dialog = h('dialog', {id: 'register-dialog', class: 'pane', 'aria-labelledby': 'register-title'}, form);

  // --- Repository, completion, and the package's own manifest -------------
  let repos = [];
  let pkg = null;   // {packageType, name, version, description} of the chosen file
  let pkgSeq = 0;

  const repoKey = () => repoSelect.value;
  const packageType = () => (repos.find((r) => r.repoKey === repoKey()) || {}).packageType || '';

  function updatePreview() {
    const name = nameInput.value.trim() || (pkg && pkg.name) || '<name>';
    displayPreview.textContent = repoKey() ? `Shown as ${packageType()}:${repoKey()}:${name}` : '';
  }

  function applyPackage() {
    nameInput.placeholder = pkg ? pkg.name : '';
    versionInput.placeholder = pkg ? pkg.version : '';
    descInput.placeholder = pkg ? pkg.description || '' : '';
    nameHint.textContent = pkg ?
      `Optional. Leave empty to use the package's own name: ${pkg.name}` :
      'Optional. Leave empty to use the package\'s own name.';
    versionHint.textContent = pkg && pkg.version ?
      `Leave empty to use the package's version, ${pkg.version}; a different one is refused.` :
      'The package\'s version, e.g. 1.0.0.';
    descHint.textContent = pkg && pkg.description ?
      'Leave empty to use the package\'s own summary (shown greyed). No secrets.' :
      'What the server lets an agent do. No secrets.';
    updatePreview();
  }

  const lookupPackage = debounce(async () => {
    const path = pathInput.value.trim();
    const mine = ++pkgSeq;
    clearFieldErrors(pathInput.closest('.field'));
    // Only a package file (.tgz, .tar.gz, .whl, .zip) has a manifest to read;
    // a half-typed path has none.
    if (!PACKAGE_FILE.test(path) || !repoKey()) {
      pkg = null;
      applyPackage();
      return;
    }
    try {
      const res = await api.packageInfo(repoKey(), path);
      if (mine !== pkgSeq) return;
      pkg = res;
      pathStatus.textContent = `${res.packageType || packageType()} package ${res.name} ${res.version}.`;
    } catch (err) {
      if (mine !== pkgSeq) return;
      pkg = null;
      setFieldError(pathInput, errorText(err));
    }
    applyPackage();
  }, 250);

  pathCompletion(pathInput, pathFiles, pathStatus, {repo: repoKey, filter: PACKAGE_FILE});
  pathCompletion(readmeInput, readmeFiles, readmeStatus, {
    repo: repoKey, filter: README_FILE, fallbackPrefix: () => dirOf(pathInput.value.trim()),
  });
  // `change` fires when a suggestion is picked or the field is left; also
  // react at once when what is typed is exactly one of the listed files.
  pathInput.addEventListener('change', lookupPackage);
  pathInput.addEventListener('input', () => {
    if ([...pathFiles.options].some((o) => o.value === pathInput.value.trim())) lookupPackage();
  });
  repoSelect.addEventListener('change', () => {
    pathFiles.replaceChildren();
    readmeFiles.replaceChildren();
    lookupPackage();
    updatePreview();
  });
  nameInput.addEventListener('input', updatePreview);

  (async () => {
    try {
      const res = await api.repositories(project);
      repos = res.repositories || [];
      repoSelect.replaceChildren(
        h('option', {value: '', text: repos.length ? 'Choose a repository' : 'No local npm or PyPI repository you can read'}),
        ...repos.map((r) => h('option', {value: r.repoKey, text: `${r.repoKey} (${r.packageType})`})));
      if (repos.length === 1) repoSelect.value = repos[0].repoKey;
      updatePreview();
    } catch (err) {
      repoSelect.replaceChildren(h('option', {value: '', text: 'Repositories could not be listed'}));
      showAlert(alert, err);
    }
  })();

  // --- Submit --------------------------------------------------------------
  function requestBody() {
    const info = {
      description: descInput.value.trim() || (pkg && pkg.description) || '',
      version: versionInput.value.trim() || (pkg && pkg.version) || '',
      environmentVariables: envs.values(),
      // isRequired/isSecret of an argument are sent only when set, so a
      // registry whose arguments lack them still accepts the usual case.
      runtimeArguments: args.values().map(({isRequired, isSecret, ...rest}) => ({
        ...rest, ...(isRequired ? {isRequired} : {}), ...(isSecret ? {isSecret} : {}),
      })),
    };
    const body = {
      projectKey: project,
      repoArtifactInfo: {repoKey: repoKey(), repoPath: pathInput.value.trim(), readmePath: readmeInput.value.trim()},
      mcpServerInfo: info,
    };
    // The request's `name` is top-level; empty means the package's own.
    const name = nameInput.value.trim();
    if (name) body.name = name;
    return body;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    hideAlert(alert);
    if (!repoKey()) {
      setFieldError(repoSelect, 'Choose the repository that holds the package.');
      repoSelect.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Registering…';
    try {
      const res = await api.register(requestBody());
      dialog.close('registered');
      onRegistered(res);
    } catch (err) {
      showError(form, alert, err);
    } finally {
      submit.disabled = false;
      submit.textContent = 'Complete registration';
    }
  });

  cancel.addEventListener('click', () => dialog.close('cancel'));
  closeX.addEventListener('click', () => dialog.close('cancel'));
  openDialog(dialog, {onClose: () => onClosed && onClosed()});
  repoSelect.focus();
  return dialog;
}


// The administration page: sign in with a token (kept in sessionStorage, never a cookie), the
// moderation queue with each contribution's proposed and current values, the places of any
// status, an editor with the same fields as the import, and each place's history.
// Every value from the server is written with textContent or as a form value, never as HTML.
import { t, setLang, lang, toggleLang } from './i18n.mjs';
import { el } from './dom.mjs';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'ancrage.admin.token';
const FAMILIES = ['association', 'cooperative', 'mutuelle', 'fondation', 'entreprise-ess', 'autre'];
const KINDS = ['tiers-lieu', 'ptce', 'reseau'];
const PRECISIONS = ['address', 'street', 'commune', 'manual'];
const STATUSES = ['published', 'pending', 'archived'];

/** The editor's fields: the editable values of the administration API, in its order. */
const FIELDS = [
  { key: 'name', type: 'text', wide: true },
  { key: 'description', type: 'textarea', wide: true },
  { key: 'categories', type: 'multi' },
  { key: 'family', type: 'select', options: () => FAMILIES.map((f) => [f, t(`family.${f}`)]) },
  { key: 'kinds', type: 'multi', options: () => KINDS.map((k) => [k, t(`kinds.${k}`)]) },
  { key: 'siret', type: 'text' },
  { key: 'street', type: 'text' },
  { key: 'postcode', type: 'text' },
  { key: 'commune', type: 'text' },
  { key: 'lon', type: 'number' },
  { key: 'lat', type: 'number' },
  { key: 'precision', type: 'select', options: () => PRECISIONS.map((p) => [p, t(`precision.${p}`)]) },
  { key: 'website', type: 'text' },
  { key: 'email', type: 'text' },
  { key: 'phone', type: 'text' },
  { key: 'opening_hours', type: 'text' },
  { key: 'accessibility', type: 'text' },
  { key: 'status', type: 'select', options: () => STATUSES.map((s) => [s, t(`admin.status.${s}`)]) },
];

let categories = [];
let tab = 'queue';


function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function announce(text) {
  $('admin-status').textContent = text;
}

class ApiFailure extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? String(status));
    this.status = status;
    this.problem = problem ?? {};
  }
}

/** Calls the administration API with the token; a 401 signs out. */
async function call(method, path, body) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${token() ?? ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => null);
  if (res.status === 401) {
    signOut(t('admin.login.expired'));
    throw new ApiFailure(401, data);
  }
  if (!res.ok) throw new ApiFailure(res.status, data);
  return data;
}

function failed(e) {
  if (e.status !== 401) announce(t('admin.error', { detail: e.problem?.detail ?? e.message }));
}

function fieldLabel(key) {
  return t(`contrib.field.${key}`);
}

function display(value) {
  if (value === null || value === undefined || (Array.isArray(value) && value.length === 0) || value === '') return t('admin.empty');
  if (Array.isArray(value)) return value.join(', ');
  return String(value);
}

function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso ?? '';
  return new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'fr-FR', { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

// ---------- strings, sign in ----------

function applyStrings() {
  document.documentElement.lang = lang();
  document.title = t('admin.title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-aria-label]')) node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
  const sw = $('lang-switch');
  sw.textContent = lang() === 'fr' ? 'English' : 'Français';
  sw.setAttribute('lang', lang() === 'fr' ? 'en' : 'fr');
  const status = $('actors-status');
  const chosen = status.value;
  status.replaceChildren(el('option', { value: '', text: t('admin.actors.any') }), STATUSES.map((s) => el('option', { value: s, text: t(`admin.status.${s}`) })));
  status.value = chosen;
}

function signOut(message = '') {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored.
  }
  $('workspace').hidden = true;
  $('logout').hidden = true;
  $('who').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').value = '';
  $('token').focus();
}

async function signIn(secret) {
  try {
    sessionStorage.setItem(TOKEN_KEY, secret);
  } catch {
    // Storage refused: the session lasts as long as the page.
  }
  const res = await fetch('/api/v1/admin/session', { headers: { Accept: 'application/json', Authorization: `Bearer ${secret}` } });
  if (!res.ok) {
    signOut(t('admin.login.refused'));
    $('token').setAttribute('aria-invalid', 'true');
    return false;
  }
  const me = await res.json();
  $('token').removeAttribute('aria-invalid');
  $('login').hidden = true;
  $('workspace').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').textContent = t('admin.signed.in', { name: me.name });
  $('who').dataset.name = me.name;
  return true;
}

// ---------- tabs ----------

function showTab(which) {
  tab = which;
  $('tab-queue').setAttribute('aria-pressed', String(which === 'queue'));
  $('tab-actors').setAttribute('aria-pressed', String(which === 'actors'));
  $('queue').hidden = which !== 'queue';
  $('actors').hidden = which !== 'actors';
  $('editor').hidden = true;
  $('history').hidden = true;
}

// ---------- moderation queue ----------

function diffTable(c) {
  const rows = c.diff.map((d) =>
    el(
      'tr',
      { class: d.changed ? 'changed' : null, 'data-field': d.field },
      el('th', { scope: 'row', text: fieldLabel(d.field) }),
      el('td', { class: 'current', text: display(d.current) }),
      el('td', { class: 'proposed', text: display(d.proposed) }),
    ),
  );
  return el(
    'table',
    { class: 'diff' },
    el('caption', { text: t('admin.diff.caption') }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: t('admin.diff.field') }), el('th', { scope: 'col', text: t('admin.diff.current') }), el('th', { scope: 'col', text: t('admin.diff.proposed') }))),
    el('tbody', {}, rows),
  );
}

function contributionTitle(c) {
  if (c.kind === 'new') return t('admin.kind.new');
  return t(`admin.kind.${c.kind}`, { name: c.actor?.name ?? `#${c.actor_id}` });
}

function contributionItem(c) {
  const headingId = `contribution-${c.id}-title`;
  const reasonId = `contribution-${c.id}-reason`;
  const item = el('li', { 'data-contribution': String(c.id), 'aria-labelledby': headingId });
  const rejectBox = el(
    'div',
    { class: 'contrib-row', hidden: true },
    el('label', { for: reasonId, text: t('admin.reject.reason') }),
    el('textarea', { id: reasonId, rows: 2, 'aria-describedby': `${reasonId}-error` }),
    el('p', { id: `${reasonId}-error`, class: 'field-error' }),
    el('div', { class: 'actions' }, el('button', { type: 'button', class: 'button danger', text: t('admin.reject.confirm'), onclick: () => reject(c, $(reasonId)) })),
  );
  item.append(
    ...[
      el('h3', { id: headingId, text: contributionTitle(c) }),
      el('p', { class: 'hint', text: t('admin.received', { date: formatDate(c.created_at) }) }),
      c.message ? el('p', {}, el('strong', { text: `${t('admin.message')} : ` }), c.message) : null,
      c.contributor_email ? el('p', {}, el('strong', { text: `${t('admin.contact')} : ` }), c.contributor_email) : null,
      diffTable(c),
      el(
        'div',
        { class: 'actions' },
        el('button', { type: 'button', class: 'button primary', text: t('admin.approve'), onclick: () => approve(c) }),
        c.kind !== 'closure' ? el('button', { type: 'button', class: 'button', text: t('admin.edit.approve'), onclick: () => editThenApprove(c) }) : null,
        el('button', {
          type: 'button',
          class: 'button danger',
          'aria-expanded': 'false',
          text: t('admin.reject'),
          onclick: (e) => {
            rejectBox.hidden = !rejectBox.hidden;
            e.currentTarget.setAttribute('aria-expanded', String(!rejectBox.hidden));
            if (!rejectBox.hidden) $(reasonId).focus();
          },
        }),
      ),
      rejectBox,
    ].filter(Boolean),
  );
  return item;
}

async function loadQueue() {
  try {
    const data = await call('GET', '/api/v1/admin/contributions?status=pending&limit=100');
    const list = data.contributions;
    $('queue-count').textContent = list.length ? t('admin.queue.count', { n: list.length }) : t('admin.queue.empty');
    $('queue-list').replaceChildren(...list.map(contributionItem));
    document.body.dataset.queueVersion = String(Number(document.body.dataset.queueVersion ?? 0) + 1);
  } catch (e) {
    failed(e);
  }
}

async function approve(c, values) {
  try {
    await call('POST', `/api/v1/admin/contributions/${c.id}/approve`, values ? { values } : undefined);
    announce(t('admin.approved'));
    $('editor').hidden = true;
    showTab('queue');
    await loadQueue();
    $('queue-title').focus();
  } catch (e) {
    if (e.status === 422 && values) showFieldErrors(e.problem);
    else failed(e);
  }
}

async function reject(c, reasonInput) {
  try {
    await call('POST', `/api/v1/admin/contributions/${c.id}/reject`, { reason: reasonInput.value });
    announce(t('admin.rejected'));
    await loadQueue();
    $('queue-title').focus();
  } catch (e) {
    if (e.status === 422) {
      reasonInput.setAttribute('aria-invalid', 'true');
      $(`${reasonInput.id}-error`).textContent = e.problem.rule ?? e.problem.detail ?? '';
      reasonInput.focus();
    } else failed(e);
  }
}

async function editThenApprove(c) {
  let current = {};
  if (c.actor_id) {
    try {
      current = (await call('GET', `/api/v1/admin/actors/${c.actor_id}`)).values;
    } catch (e) {
      failed(e);
      return;
    }
  }
  const start = { ...current, ...c.proposed };
  openEditor({
    title: t('admin.editor.approve.title', { id: c.id }),
    values: start,
    submitText: t('admin.editor.approve'),
    onSubmit: (values) => {
      // A correction sends the fields that differ from the place's current values.
      const sent = c.kind === 'new' ? values : changedValues(current, values);
      return approve(c, sent);
    },
  });
}

// ---------- places ----------

async function loadActors() {
  const params = new URLSearchParams({ limit: '50' });
  const q = $('actors-q').value.trim();
  if (q) params.set('q', q);
  if ($('actors-status').value) params.set('status', $('actors-status').value);
  try {
    const data = await call('GET', `/api/v1/admin/actors?${params}`);
    $('actors-count').textContent = t('admin.actors.count', { n: data.total });
    $('actors-list').replaceChildren(
      ...data.actors.map((a) =>
        el(
          'li',
          { 'data-actor': String(a.id) },
          el('strong', { text: a.name }),
          ' — ',
          `${[a.values.postcode, a.commune_name].filter(Boolean).join(' ')} · ${t(`admin.status.${a.status}`)} · ${a.source}`,
          el('div', { class: 'actions' }, el('button', { type: 'button', class: 'button', text: t('admin.actors.edit', { name: a.name }), onclick: () => editActor(a.id) })),
        ),
      ),
    );
  } catch (e) {
    failed(e);
  }
}

async function editActor(id) {
  let actor;
  try {
    actor = await call('GET', `/api/v1/admin/actors/${id}`);
  } catch (e) {
    failed(e);
    return;
  }
  openEditor({
    title: t('admin.editor.title', { name: actor.name }),
    values: actor.values,
    submitText: t('admin.editor.save'),
    extra: [
      el('button', { type: 'button', class: 'button', text: t('admin.editor.history'), onclick: () => showHistory(actor) }),
      actor.status !== 'archived'
        ? el('button', {
            type: 'button',
            class: 'button danger',
            text: t('admin.editor.archive'),
            onclick: async () => {
              try {
                await call('POST', `/api/v1/admin/actors/${id}/archive`);
                announce(t('admin.editor.archived'));
                await editActor(id);
              } catch (e) {
                failed(e);
              }
            },
          })
        : null,
    ],
    onSubmit: async (values) => {
      try {
        const changes = changedValues(actor.values, values);
        await call('PATCH', `/api/v1/admin/actors/${id}`, changes);
        announce(t('admin.editor.saved'));
        await editActor(id);
      } catch (e) {
        if (e.status === 422) showFieldErrors(e.problem);
        else failed(e);
      }
    },
  });
}

function same(a, b) {
  const empty = (v) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
  if (empty(a) && empty(b)) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

function changedValues(before, after) {
  const out = {};
  for (const [k, v] of Object.entries(after)) if (!same(before[k], v)) out[k] = v;
  return out;
}

// ---------- editor ----------

function control(f, value) {
  const id = `edit-${f.key}`;
  const common = { id, name: f.key, 'aria-describedby': `${id}-error` };
  if (f.type === 'textarea') {
    const area = el('textarea', { ...common, rows: 3 });
    area.value = value ?? '';
    return area;
  }
  if (f.type === 'select' || f.type === 'multi') {
    const options = f.key === 'categories' ? categories.map((c) => [c.slug, `${c.parent ? '— ' : ''}${lang() === 'en' ? c.label_en : c.label_fr}`]) : f.options();
    const select = el('select', { ...common, multiple: f.type === 'multi' || null, size: f.type === 'multi' ? Math.min(6, options.length) : null });
    const chosen = new Set(Array.isArray(value) ? value : [value]);
    for (const [v, text] of options) select.append(el('option', { value: v, text, selected: chosen.has(v) || null }));
    if (f.type === 'select') select.value = value ?? '';
    return select;
  }
  const input = el('input', { ...common, type: f.type === 'number' ? 'text' : 'text', inputmode: f.type === 'number' ? 'decimal' : null, autocomplete: 'off' });
  input.value = value ?? '';
  return input;
}

function readForm(form) {
  const out = {};
  for (const f of FIELDS) {
    const node = form.elements[f.key];
    if (f.type === 'multi') out[f.key] = [...node.selectedOptions].map((o) => o.value);
    else if (f.type === 'number') {
      const raw = node.value.trim().replace(',', '.');
      out[f.key] = raw === '' ? null : Number(raw);
    } else out[f.key] = node.value.trim() === '' ? null : node.value.trim();
  }
  return out;
}

function showFieldErrors(problem) {
  const editor = $('editor');
  for (const n of editor.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
  for (const n of editor.querySelectorAll('.field-error')) n.textContent = '';
  const errors = problem.errors ?? [{ field: problem.field, rule: problem.rule ?? problem.detail }];
  const items = errors.map((e) => {
    const input = $(`edit-${e.field}`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      $(`edit-${e.field}-error`).textContent = e.rule;
    }
    return el('li', { text: `${input ? fieldLabel(e.field) : e.field} : ${e.rule}` });
  });
  const summary = $('editor-summary');
  summary.replaceChildren(el('p', { text: t('contrib.invalid') }), el('ul', {}, items));
  summary.hidden = false;
  summary.focus();
}

function openEditor({ title, values, submitText, onSubmit, extra = [] }) {
  const editor = $('editor');
  const form = el('form', { novalidate: true });
  const grid = el('div', { class: 'editor-grid' });
  for (const f of FIELDS) {
    const c = control(f, values[f.key]);
    grid.append(
      el(
        'div',
        { class: `contrib-row${f.wide ? ' wide' : ''}` },
        el('label', { for: c.id, text: fieldLabel(f.key) }),
        c,
        f.key === 'categories' ? el('p', { class: 'hint', text: t('admin.editor.categories.hint') }) : null,
        el('p', { id: `${c.id}-error`, class: 'field-error' }),
      ),
    );
  }
  form.append(
    el('div', { id: 'editor-summary', class: 'contrib-summary', role: 'alert', tabindex: '-1', hidden: true }),
    grid,
    el(
      'div',
      { class: 'actions' },
      el('button', { type: 'submit', class: 'button primary', text: submitText }),
      el('button', {
        type: 'button',
        class: 'button',
        text: t('admin.editor.cancel'),
        onclick: () => {
          editor.hidden = true;
          $(tab === 'queue' ? 'queue-title' : 'actors-title').focus();
        },
      }),
      extra,
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit(readForm(form));
  });
  editor.replaceChildren(el('h2', { id: 'editor-title', tabindex: '-1', text: title }), form);
  editor.hidden = false;
  $('history').hidden = true;
  $('editor-title').focus();
}

// ---------- history ----------

async function showHistory(actor) {
  let data;
  try {
    data = await call('GET', `/api/v1/admin/actors/${actor.id}/history`);
  } catch (e) {
    failed(e);
    return;
  }
  const section = $('history');
  const entries = data.entries.map((h) =>
    el(
      'li',
      {},
      el('p', { text: t('admin.history.entry', { date: formatDate(h.at), author: h.author, action: t(`admin.action.${h.action}`) }) }),
      el(
        'dl',
        {},
        Object.entries(h.changes).flatMap(([field, c]) => [
          el('dt', { text: fieldLabel(field) }),
          el('dd', { text: `${t('admin.history.before')} : ${display(c.before)} → ${t('admin.history.after')} : ${display(c.after)}` }),
        ]),
      ),
    ),
  );
  section.replaceChildren(
    el('h2', { id: 'history-title', tabindex: '-1', text: t('admin.history.title', { name: actor.name }) }),
    entries.length ? el('ol', { class: 'history-list' }, entries) : el('p', { text: t('admin.history.empty') }),
  );
  section.hidden = false;
  $('history-title').focus();
}

// ---------- start ----------

async function start() {
  const asked = new URLSearchParams(location.search).get('lang');
  let chosen = asked;
  if (!chosen) {
    try {
      chosen = localStorage.getItem('ancrage.lang');
    } catch {
      chosen = null;
    }
  }
  setLang(chosen === 'en' ? 'en' : 'fr');
  applyStrings();
  $('lang-switch').addEventListener('click', () => {
    toggleLang();
    applyStrings();
    if (!$('workspace').hidden) {
      $('who').textContent = t('admin.signed.in', { name: $('who').dataset.name ?? '' });
      loadQueue();
      if (tab === 'actors') loadActors();
    }
  });
  $('logout').addEventListener('click', () => signOut());
  $('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const secret = $('token').value.trim();
    if (secret && (await signIn(secret))) {
      await loadQueue();
      $('queue-title').focus();
    }
  });
  $('tab-queue').addEventListener('click', () => {
    showTab('queue');
    loadQueue();
  });
  $('tab-actors').addEventListener('click', () => {
    showTab('actors');
    loadActors();
  });
  $('actors-form').addEventListener('submit', (e) => {
    e.preventDefault();
    loadActors();
  });
  try {
    const res = await fetch('/api/v1/categories', { headers: { Accept: 'application/json' } });
    categories = (await res.json()).categories ?? [];
  } catch {
    categories = [];
  }
  const saved = token();
  if (saved && (await signIn(saved))) await loadQueue();
  document.body.dataset.ready = '1';
}

start();

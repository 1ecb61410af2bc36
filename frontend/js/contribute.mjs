// The public contribution dialog of the map: propose a new place, suggest a correction of a
// place, or report that it has closed. Nothing changes on the map until a moderator approves.
// Every value is shown with textContent or as a form value, never as HTML.
import { t } from './i18n.mjs';
import { el } from './dom.mjs';

const FAMILIES = ['association', 'cooperative', 'mutuelle', 'fondation', 'entreprise-ess', 'autre'];

/** Values the form edits, with the input that holds each (`city` stands for the commune). */
const FIELDS = [
  { key: 'name', type: 'text', required: true, autocomplete: 'organization' },
  { key: 'categories', type: 'category', required: true },
  { key: 'family', type: 'family', required: true },
  { key: 'street', type: 'text', autocomplete: 'street-address' },
  { key: 'postcode', type: 'text', required: true, autocomplete: 'postal-code', inputmode: 'numeric' },
  { key: 'city', type: 'text', required: true, autocomplete: 'address-level2' },
  { key: 'website', type: 'url' },
  { key: 'phone', type: 'tel' },
  { key: 'email', type: 'email' },
  { key: 'opening_hours', type: 'text' },
  { key: 'description', type: 'textarea' },
];


/** The current values of a place (a feature of `/api/v1/actors/{id}`) as the form shows them. */
function initialValues(actor) {
  if (!actor) return {};
  const p = actor.properties;
  return {
    name: p.name ?? '',
    categories: p.categories?.[0] ?? '',
    family: p.family ?? '',
    street: p.street ?? '',
    postcode: p.postcode ?? '',
    city: p.commune?.name ?? '',
    website: p.website ?? '',
    phone: p.phone ?? '',
    email: p.email ?? '',
    opening_hours: p.opening_hours ?? '',
    description: p.description ?? '',
  };
}

function fieldInput(f, value, categories, labelOf) {
  const id = `contrib-${f.key}`;
  const common = { id, name: f.key, required: f.required || null, 'aria-describedby': `${id}-error` };
  if (f.type === 'category') {
    const select = el('select', common, el('option', { value: '', text: t('contrib.choose') }));
    for (const c of categories) {
      select.append(el('option', { value: c.slug, text: c.parent ? `— ${labelOf(c)}` : labelOf(c) }));
    }
    select.value = value ?? '';
    return select;
  }
  if (f.type === 'family') {
    const select = el('select', common, el('option', { value: '', text: t('contrib.choose') }));
    for (const fam of FAMILIES) select.append(el('option', { value: fam, text: t(`family.${fam}`) }));
    select.value = value ?? '';
    return select;
  }
  if (f.type === 'textarea') {
    const area = el('textarea', { ...common, rows: 3 });
    area.value = value ?? '';
    return area;
  }
  const input = el('input', {
    ...common,
    type: f.type,
    autocomplete: f.autocomplete ?? 'off',
    inputmode: f.inputmode ?? null,
  });
  input.value = value ?? '';
  return input;
}

function row(key, control, required) {
  const id = control.id;
  return el(
    'div',
    { class: 'contrib-row' },
    el('label', { for: id }, t(`contrib.field.${key}`), required ? el('span', { class: 'required', text: ' *' }) : null),
    control,
    el('p', { id: `${id}-error`, class: 'field-error' }),
  );
}

/** What to send: every value for a new place, only the changed ones for a correction. */
function proposed(form, kind, initial) {
  const out = {};
  for (const f of FIELDS) {
    const raw = form.elements[f.key]?.value?.trim() ?? '';
    if (kind === 'correction' && raw === (initial[f.key] ?? '')) continue;
    if (f.key === 'categories') out.categories = raw ? [raw] : [];
    else out[f.key] = raw === '' ? null : raw;
  }
  if (kind === 'correction' && ('city' in out || 'postcode' in out)) {
    // A move: the commune is found again from the postcode and the city.
    out.postcode = form.elements.postcode.value.trim() || null;
    out.city = form.elements.city.value.trim() || null;
  }
  if (kind === 'new') delete out.commune;
  return out;
}

/** Shows the server's errors next to their fields and in a summary. */
function showErrors(dialog, problem) {
  const summary = dialog.querySelector('#contrib-summary');
  const errors = problem.errors ?? (problem.field ? [{ field: problem.field, rule: problem.rule }] : []);
  const items = [];
  for (const e of errors) {
    const key = e.field.replace(/^actor\./, '');
    const target = key === 'commune' || key === 'location' ? 'city' : key;
    const input = dialog.querySelector(`#contrib-${CSS.escape(target)}`);
    const text = `${t(`contrib.field.${target}`)} : ${e.rule}`;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      dialog.querySelector(`#contrib-${CSS.escape(target)}-error`).textContent = e.rule;
    }
    items.push(el('li', { text: input ? text : e.rule }));
  }
  summary.replaceChildren(el('p', { text: t('contrib.invalid') }), el('ul', {}, items.length ? items : [el('li', { text: problem.detail ?? '' })]));
  summary.hidden = false;
  summary.focus();
}

function clearErrors(dialog) {
  for (const n of dialog.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
  for (const n of dialog.querySelectorAll('.field-error')) n.textContent = '';
  const summary = dialog.querySelector('#contrib-summary');
  summary.hidden = true;
  summary.replaceChildren();
}

/**
 * Opens the dialog. `kind` is `new`, `correction` or `closure`; `actor` the place's feature for
 * the last two; `categories` the taxonomy of `/api/v1/categories` and `labelOf` its label in the
 * current language. Focus returns to the element that had it when the dialog closes.
 */
export function openContribution({ kind, actor = null, categories = [], labelOf = (c) => c.slug }) {
  document.getElementById('contrib-dialog')?.remove();
  const opener = document.activeElement;
  const initial = initialValues(actor);
  const name = actor?.properties?.name ?? '';
  const title = kind === 'new' ? t('contrib.title.new') : t(`contrib.title.${kind}`, { name });
  const form = el('form', { novalidate: true, class: 'contrib-form' });
  const dialog = el(
    'dialog',
    { id: 'contrib-dialog', class: 'contrib-dialog', 'aria-labelledby': 'contrib-title', 'data-kind': kind },
    el('h2', { id: 'contrib-title', text: title }),
    el('p', { class: 'hint', text: t('contrib.intro') }),
    form,
  );
  const summary = el('div', { id: 'contrib-summary', class: 'contrib-summary', role: 'alert', tabindex: '-1', hidden: true });
  form.append(summary);
  if (kind !== 'closure') {
    form.append(el('p', { class: 'hint', text: t('contrib.required') }));
    for (const f of FIELDS) form.append(row(f.key, fieldInput(f, initial[f.key], categories, labelOf), f.required && kind === 'new'));
  }
  const message = el('textarea', { id: 'contrib-message', name: 'message', rows: 3, required: kind === 'closure' || null, 'aria-describedby': 'contrib-message-error' });
  form.append(row(kind === 'closure' ? 'message.closure' : 'message', message, kind === 'closure'));
  const contact = el('input', { id: 'contrib-contributor_email', name: 'contributor_email', type: 'email', autocomplete: 'email', 'aria-describedby': 'contrib-contributor_email-hint contrib-contributor_email-error' });
  const contactRow = row('contributor_email', contact, false);
  contactRow.insertBefore(el('p', { id: 'contrib-contributor_email-hint', class: 'hint', text: t('contrib.contact.hint') }), contact.nextSibling);
  form.append(contactRow);
  // Honeypot: people never see it; robots that fill every field give themselves away.
  form.append(
    el(
      'div',
      { class: 'contrib-trap', 'aria-hidden': 'true' },
      el('label', { for: 'contrib-homepage', text: t('contrib.trap') }),
      el('input', { id: 'contrib-homepage', name: 'homepage', type: 'text', tabindex: '-1', autocomplete: 'off' }),
    ),
  );
  const status = el('p', { id: 'contrib-status', class: 'message', role: 'status', 'aria-live': 'polite' });
  const submit = el('button', { type: 'submit', class: 'button primary', text: t('contrib.send') });
  const cancel = el('button', { type: 'button', class: 'button', text: t('contrib.cancel'), onclick: () => dialog.close() });
  form.append(status, el('div', { class: 'actions' }, submit, cancel));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(dialog);
    const body = { kind, message: message.value.trim() || null, contributor_email: contact.value.trim() || null, homepage: form.elements.homepage.value };
    if (actor) body.actor_id = actor.id;
    if (kind !== 'closure') body.actor = proposed(form, kind, initial);
    submit.disabled = true;
    status.textContent = t('contrib.sending');
    try {
      const res = await fetch('/api/v1/contributions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status === 202) {
        const done = el('button', { type: 'button', class: 'button primary', text: t('contrib.close'), onclick: () => dialog.close() });
        form.replaceChildren(el('p', { id: 'contrib-done', class: 'message', role: 'status', text: t('contrib.thanks') }), el('div', { class: 'actions' }, done));
        done.focus();
        return;
      }
      const problem = await res.json().catch(() => ({}));
      status.textContent = '';
      if (res.status === 422) showErrors(dialog, problem);
      else if (res.status === 429) status.textContent = t('contrib.too.many');
      else status.textContent = t('contrib.failed');
    } catch {
      status.textContent = t('contrib.failed');
    } finally {
      submit.disabled = false;
    }
  });
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  (form.querySelector('input:not([type=hidden]), textarea') ?? submit).focus();
  return dialog;
}

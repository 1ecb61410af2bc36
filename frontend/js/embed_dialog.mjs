// The "Intégrer cette carte" dialog of the map page: options, a live preview and the snippets
// to copy. A modal <dialog>: the page behind is inert, Tab stays inside, Escape closes it and
// focus returns to the button that opened it.
import { t, DICTIONARIES } from './i18n.mjs';
import { el } from './dom.mjs';
import { CONTROLS } from './embed_config.mjs';
import * as snippet from './snippet.mjs';

let dialog = null;
let current = null;
let previewTimer = null;

const $ = (id) => document.getElementById(id);

function controlCheck(name) {
  return el(
    'label',
    { class: 'check' },
    el('input', { type: 'checkbox', name: 'embed-control', value: name, onchange: update }),
    el('span', { text: t(`embed.control.${name}`) }),
  );
}

function sizeRadio(name) {
  const s = snippet.SIZES[name];
  return el(
    'label',
    { class: 'check' },
    el('input', { type: 'radio', name: 'embed-size', value: name, onchange: update }),
    el('span', { text: name === 'custom' ? t('embed.size.custom') : t(`embed.size.${name}`, { w: s.width, h: s.height }) }),
  );
}

function build() {
  const node = el(
    'dialog',
    { id: 'embed-dialog', class: 'embed-dialog', 'aria-labelledby': 'embed-dialog-title', 'aria-describedby': 'embed-dialog-intro' },
    el(
      'div',
      { class: 'embed-dialog-head' },
      el('h2', { id: 'embed-dialog-title', text: t('embed.dialog.title') }),
      el('button', { type: 'button', id: 'embed-close', class: 'chip-close', 'aria-label': t('embed.dialog.close'), text: '×', onclick: () => node.close() }),
    ),
    el('p', { id: 'embed-dialog-intro', class: 'hint-text', text: t('embed.dialog.intro') }),
    el(
      'div',
      { class: 'embed-dialog-grid' },
      el(
        'form',
        { class: 'embed-options', onsubmit: (e) => e.preventDefault() },
        el(
          'div',
          { id: 'embed-keep-view-row' },
          el(
            'label',
            { class: 'check' },
            el('input', { type: 'checkbox', id: 'embed-keep-view', 'aria-describedby': 'embed-keep-view-hint', onchange: update }),
            el('span', { text: t('embed.keepview') }),
          ),
          el('p', { id: 'embed-keep-view-hint', class: 'hint', text: t('embed.keepview.hint') }),
        ),
        el('fieldset', {}, el('legend', { text: t('embed.controls') }), CONTROLS.map(controlCheck)),
        el('label', { class: 'check' }, el('input', { type: 'checkbox', id: 'embed-demo', onchange: update }), el('span', { text: t('embed.demo') })),
        el(
          'div',
          { class: 'row' },
          el('label', { for: 'embed-lang', text: t('embed.lang') }),
          el(
            'select',
            { id: 'embed-lang', onchange: update },
            el('option', { value: 'fr', lang: 'fr', text: 'Français' }),
            el('option', { value: 'en', lang: 'en', text: 'English' }),
          ),
        ),
        el(
          'div',
          { class: 'row' },
          el('label', { for: 'embed-theme', text: t('embed.theme') }),
          el('input', { type: 'color', id: 'embed-theme', value: snippet.DEFAULT_THEME, oninput: update }),
        ),
        el(
          'fieldset',
          {},
          el('legend', { text: t('embed.size') }),
          ['small', 'medium', 'large', 'full', 'custom'].map(sizeRadio),
          el(
            'div',
            { class: 'row' },
            el('label', { for: 'embed-width', text: t('embed.width') }),
            el('input', { id: 'embed-width', type: 'text', inputmode: 'numeric', size: '6', value: '640', oninput: update }),
            el('label', { for: 'embed-height', text: t('embed.height') }),
            el('input', { id: 'embed-height', type: 'number', min: '200', max: '2000', step: '10', value: '480', oninput: update }),
          ),
        ),
      ),
      el(
        'section',
        { class: 'embed-preview', 'aria-labelledby': 'embed-preview-title' },
        el('h3', { id: 'embed-preview-title', text: t('embed.preview') }),
        el('div', { class: 'embed-preview-box' }, el('iframe', { id: 'embed-preview', title: t('embed.preview.title'), allow: 'geolocation; fullscreen' })),
      ),
    ),
    el('label', { for: 'embed-code-iframe', class: 'code-label', text: t('embed.code.iframe') }),
    el('textarea', { id: 'embed-code-iframe', class: 'code', readonly: true, rows: '5', spellcheck: 'false' }),
    el('button', { type: 'button', id: 'embed-copy-iframe', class: 'button primary', text: t('embed.copy'), onclick: () => copy('embed-code-iframe') }),
    el('label', { for: 'embed-code-component', class: 'code-label', text: t('embed.code.component') }),
    el('textarea', { id: 'embed-code-component', class: 'code', readonly: true, rows: '3', spellcheck: 'false' }),
    el('button', { type: 'button', id: 'embed-copy-component', class: 'button', text: t('embed.copy.component'), onclick: () => copy('embed-code-component') }),
    el('p', { id: 'embed-copy-status', class: 'message', role: 'status', 'aria-live': 'polite' }),
  );
  node.addEventListener('keydown', trapTab);
  node.addEventListener('close', () => {
    clearTimeout(previewTimer);
    $('embed-preview').removeAttribute('src');
    current?.opener?.focus();
  });
  document.body.append(node);
  return node;
}

/** Keeps Tab and Shift+Tab inside the dialog. */
function trapTab(e) {
  if (e.key !== 'Tab') return;
  const focusable = [...dialog.querySelectorAll('button, input, select, textarea, iframe, [tabindex]:not([tabindex="-1"])')].filter(
    (n) => !n.disabled && n.offsetParent !== null,
  );
  if (!focusable.length) return;
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/** The options ticked in the dialog, over the map's state. */
function chosen() {
  const o = snippet.optionsFromState(current.state, { keepView: $('embed-keep-view').checked });
  o.controls = [...dialog.querySelectorAll('input[name="embed-control"]:checked')].map((n) => n.value);
  o.demo = $('embed-demo').checked;
  o.lang = $('embed-lang').value;
  o.theme = $('embed-theme').value;
  const preset = dialog.querySelector('input[name="embed-size"]:checked')?.value ?? 'medium';
  const custom = preset === 'custom';
  $('embed-width').disabled = !custom;
  $('embed-height').disabled = !custom;
  let size = snippet.SIZES[preset];
  if (custom) {
    const w = $('embed-width').value.trim();
    const h = Number($('embed-height').value);
    size = {
      width: /^\d{3,4}$/.test(w) || /^\d{1,3}%$/.test(w) ? w : 640,
      height: Number.isInteger(h) && h >= 200 && h <= 2000 ? h : 480,
    };
  } else {
    $('embed-width').value = String(size.width);
    $('embed-height').value = String(size.height);
  }
  return { o, size };
}

function update() {
  const { o, size } = chosen();
  const origin = location.origin;
  const src = `${origin}/embed?${snippet.embedQuery(o)}`;
  // The snippet speaks the embed's language.
  const words = DICTIONARIES[o.lang] ?? DICTIONARIES.fr;
  const name = current.territoryName;
  const title = name ? words['embed.title.named'].replace('{name}', name) : words['embed.title'];
  const full = { ...current.state, hideDemo: !o.demo, lang: o.lang, actor: null, near: null };
  $('embed-code-iframe').value = snippet.iframeSnippet({
    src,
    title,
    width: size.width,
    height: size.height,
    fullUrl: snippet.fullMapUrl(origin, full),
    fullLabel: words['embed.fullscreen.link'],
  });
  $('embed-code-component').value = snippet.componentSnippet(origin, o, { title, width: size.width, height: size.height });
  const frame = $('embed-preview');
  frame.style.width = String(size.width).endsWith('%') ? size.width : `${size.width}px`;
  frame.style.height = `${size.height}px`;
  // Typing a size or a colour reloads the preview once the typing pauses.
  clearTimeout(previewTimer);
  previewTimer = setTimeout(() => {
    if (frame.getAttribute('src') !== src) frame.setAttribute('src', src);
  }, 300);
  $('embed-copy-status').textContent = '';
}

async function copy(id) {
  const area = $(id);
  const status = $('embed-copy-status');
  status.textContent = '';
  try {
    await navigator.clipboard.writeText(area.value);
    status.textContent = t('embed.copied');
  } catch {
    // No clipboard access (an insecure origin, a refusal): select the code for Ctrl + C.
    area.focus();
    area.select();
    let done = false;
    try {
      done = document.execCommand('copy');
    } catch {
      done = false;
    }
    status.textContent = done ? t('embed.copied') : t('embed.copy.manual');
  }
}

/**
 * Opens the dialog for the map's current state.
 * @param {{ state: object, territoryName: string | null, opener: HTMLElement }} context
 */
export function openEmbedDialog(context) {
  current = { ...context, state: { ...context.state } };
  if (!dialog) dialog = build();
  for (const n of dialog.querySelectorAll('input[name="embed-control"]')) n.checked = snippet.optionsFromState(current.state).controls.includes(n.value);
  $('embed-demo').checked = false; // Real places only unless the author asks.
  // A locked territory is fitted whole by the embed; without one, the view is what it shows.
  $('embed-keep-view').checked = !current.state.territory;
  $('embed-keep-view-hint').hidden = !current.state.territory;
  $('embed-lang').value = current.state.lang;
  const medium = dialog.querySelector('input[name="embed-size"][value="medium"]');
  if (!dialog.querySelector('input[name="embed-size"]:checked')) medium.checked = true;
  update();
  dialog.showModal();
  $('embed-close').focus();
}

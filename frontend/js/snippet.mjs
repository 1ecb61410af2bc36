// The "Intégrer cette carte" snippets: the embed address for the map's current view and
// filters, the <iframe> to paste and its web-component variant. Pure functions, tested with node.
import { DEFAULT_CONTROLS, CONTROLS } from './embed_config.mjs';
import { formatState } from './state.mjs';

/** Size presets, CSS pixels; `full` takes the width of the host page's column. */
export const SIZES = {
  small: { width: 400, height: 300 },
  medium: { width: 640, height: 480 },
  large: { width: 960, height: 600 },
  full: { width: '100%', height: 500 },
};

/** The accent colour of the interface, left out of snippets that keep it. */
export const DEFAULT_THEME = '#0f766e';

/**
 * The embed options a map state proposes: its filters and outlined territory (which the embed
 * locks), the default controls, and no demonstration data (an embed shows real places unless
 * its author asks). The view is kept only when `keepView` asks for it, by default when no
 * territory is locked: a locked embed fits its whole territory at any frame size.
 * @param {ReturnType<import('./state.mjs').emptyState>} state
 * @param {{ keepView?: boolean }} [choice]
 */
export function optionsFromState(state, { keepView = !state.territory } = {}) {
  return {
    territory: state.territory,
    categories: [...state.categories],
    family: state.family,
    tiersLieux: state.tiersLieux,
    openNow: state.openNow,
    demo: false,
    view: keepView ? { lon: state.lon, lat: state.lat, zoom: state.zoom } : null,
    lang: state.lang,
    controls: [...DEFAULT_CONTROLS],
    theme: DEFAULT_THEME,
  };
}

/** The /embed query string (without `?`) of a set of options; defaults are left out. */
export function embedQuery(o) {
  const p = new URLSearchParams();
  if (o.territory) p.set('territory', o.territory);
  if (o.categories.length) p.set('cat', o.categories.join(','));
  if (o.family) p.set('fam', o.family);
  if (o.tiersLieux) p.set('tl', '1');
  if (o.openNow) p.set('open', '1');
  if (o.demo) p.set('demo', '1');
  if (o.view) {
    p.set('lon', o.view.lon.toFixed(5));
    p.set('lat', o.view.lat.toFixed(5));
    p.set('z', String(Math.round(o.view.zoom * 100) / 100));
  }
  if (o.lang && o.lang !== 'fr') p.set('lang', o.lang);
  const controls = CONTROLS.filter((c) => o.controls.includes(c));
  if (controls.join(',') !== DEFAULT_CONTROLS.join(',')) p.set('controls', controls.length ? controls.join(',') : 'none');
  if (o.theme && o.theme.toLowerCase() !== DEFAULT_THEME) p.set('theme', o.theme.replace(/^#/, '').toLowerCase());
  return p.toString().replaceAll('%2C', ',').replaceAll('%3A', ':');
}

/** The address of the full map showing what the options show. */
export function fullMapUrl(origin, state) {
  return `${origin}/${formatState(state)}`;
}

function escapeAttr(s) {
  return String(s).replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A width or height as an attribute (`640`) or, for `100%`, a style. */
function sizeAttrs(width, height) {
  const w = String(width).trim();
  const percent = w.endsWith('%');
  return {
    attrs: `${percent ? '' : ` width="${escapeAttr(w)}"`} height="${escapeAttr(height)}"`,
    style: `border:0;${percent ? `width:${w};` : ''}max-width:100%`,
  };
}

/**
 * The <iframe> snippet, followed by its « Voir en plein écran » link.
 * @param {{ src: string, title: string, width: number | string, height: number | string, fullUrl: string, fullLabel: string }} o
 */
export function iframeSnippet(o) {
  const size = sizeAttrs(o.width, o.height);
  return (
    `<iframe src="${escapeAttr(o.src)}" title="${escapeAttr(o.title)}"${size.attrs} loading="lazy" allow="geolocation; fullscreen" style="${size.style}"></iframe>\n` +
    `<p><a href="${escapeAttr(o.fullUrl)}" target="_blank" rel="noopener">${escapeAttr(o.fullLabel)}</a></p>`
  );
}

/**
 * The web-component snippet: the script, then the element with the options as attributes.
 * @param {string} origin
 * @param {ReturnType<typeof optionsFromState>} o
 * @param {{ title: string, width: number | string, height: number | string }} frame
 */
export function componentSnippet(origin, o, frame) {
  const attrs = [];
  const add = (name, value) => attrs.push(value === true ? name : `${name}="${escapeAttr(value)}"`);
  if (o.territory) add('territory', o.territory);
  if (o.categories.length) add('categories', o.categories.join(','));
  if (o.family) add('family', o.family);
  if (o.tiersLieux) add('tiers-lieux', true);
  if (o.openNow) add('open', true);
  if (o.demo) add('demo', 'true');
  if (o.view) {
    add('center', `${o.view.lon.toFixed(5)},${o.view.lat.toFixed(5)}`);
    add('zoom', String(Math.round(o.view.zoom * 100) / 100));
  }
  if (o.lang && o.lang !== 'fr') add('lang', o.lang);
  const controls = CONTROLS.filter((c) => o.controls.includes(c));
  if (controls.join(',') !== DEFAULT_CONTROLS.join(',')) add('controls', controls.length ? controls.join(',') : 'none');
  if (o.theme && o.theme.toLowerCase() !== DEFAULT_THEME) add('theme', o.theme.toLowerCase());
  if (!String(frame.width).endsWith('%')) add('width', String(frame.width));
  add('height', String(frame.height));
  add('title', frame.title);
  return `<script type="module" src="${escapeAttr(origin)}/widget.js"></script>\n<ancrage-map ${attrs.join(' ')}></ancrage-map>`;
}

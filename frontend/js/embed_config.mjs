// The embeddable map (/embed): its URL parameters read into a typed configuration, and the
// lock that keeps every query inside the territory and themes chosen by the host site.
// Pure functions: no DOM, tested with node.
import { FAMILIES, formatState, emptyState } from './state.mjs';

/** Every parameter /embed reads (src/routes/oembed.rs keeps the same ones; a test checks). */
export const EMBED_PARAMS = [
  'territory',
  'kind',
  'code',
  'cat',
  'fam',
  'tl',
  'open',
  'demo',
  'lon',
  'lat',
  'z',
  'bbox',
  'lang',
  'basemap',
  'controls',
  'theme',
];

/** Controls an embed may show, in display order. */
export const CONTROLS = ['search', 'filters', 'list', 'geolocation', 'fullscreen', 'zoom'];

/** Controls shown when `controls` is absent: the map alone, with zoom buttons and full screen. */
export const DEFAULT_CONTROLS = ['fullscreen', 'zoom'];

const KINDS = ['commune', 'epci', 'departement', 'region'];
const CODE = /^[0-9AB]{2,9}$/;
const SLUG = /^[a-z0-9-]{1,60}$/;
const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

function number(text, min, max) {
  if (text === null || text.trim() === '') return null;
  const v = Number(text);
  return Number.isFinite(v) && v >= min && v <= max ? v : null;
}

function flag(text) {
  if (['1', 'true', 'yes', 'oui', ''].includes(text)) return true;
  if (['0', 'false', 'no', 'non'].includes(text)) return false;
  return null;
}

/** `kind:code` as `{ kind, code }`, or null when malformed. */
export function parseTerritory(text) {
  const [kind, code, extra] = String(text ?? '').split(':');
  if (extra !== undefined || !KINDS.includes(kind) || !CODE.test(code ?? '')) return null;
  return { kind, code };
}

/** A colour `#rgb`/`#rrggbb` (the `#` optional) as lower-case `#rrggbb`, or null. */
export function parseColour(text) {
  const m = HEX.exec(String(text ?? '').trim());
  if (!m) return null;
  const h = m[1].toLowerCase();
  return `#${h.length === 3 ? [...h].map((c) => c + c).join('') : h}`;
}

/** The configuration of an embed that asks for nothing. */
export function defaultConfig() {
  return {
    territory: null,
    categories: [],
    family: '',
    tiersLieux: false,
    openNow: false,
    // An embed shows real places only unless its snippet asks for demonstration data.
    demo: false,
    view: null,
    bbox: null,
    lang: 'fr',
    basemap: 'default',
    controls: [...DEFAULT_CONTROLS],
    theme: null,
  };
}

/**
 * Reads the configuration of /embed from its query string. Unknown parameters and invalid
 * values are left out, each with a call to `warn`, so a damaged snippet still shows a map.
 * @param {string} search `location.search`
 * @param {(message: string) => void} warn
 */
export function parseEmbedConfig(search, warn = () => {}) {
  const p = new URLSearchParams(search);
  const c = defaultConfig();
  const bad = (name, why) => warn(`Ancrage embed: parameter "${name}" ignored: ${why}`);
  for (const name of new Set(p.keys())) {
    if (!EMBED_PARAMS.includes(name)) bad(name, 'unknown parameter');
  }
  const get = (name) => p.get(name);

  if (p.has('territory')) {
    c.territory = parseTerritory(get('territory'));
    if (!c.territory) bad('territory', `'${get('territory')}' is not kind:code (kind: ${KINDS.join(', ')})`);
    if (p.has('kind') || p.has('code')) bad('kind', '"territory" is given');
  } else if (p.has('kind') || p.has('code')) {
    c.territory = parseTerritory(`${get('kind') ?? ''}:${get('code') ?? ''}`);
    if (!c.territory) bad('kind', `'${get('kind')}' and '${get('code')}' do not name a territory (both are needed)`);
  }

  if (p.has('cat')) {
    const all = get('cat').split(',').map((s) => s.trim()).filter(Boolean);
    c.categories = [...new Set(all.filter((s) => SLUG.test(s)))];
    for (const s of all.filter((s) => !SLUG.test(s))) bad('cat', `'${s}' is not a category`);
  }
  if (p.has('fam')) {
    const fam = get('fam');
    if (FAMILIES.includes(fam)) c.family = fam;
    else bad('fam', `'${fam}' is not one of ${FAMILIES.join(', ')}`);
  }
  for (const [name, key] of [
    ['tl', 'tiersLieux'],
    ['open', 'openNow'],
    ['demo', 'demo'],
  ]) {
    if (!p.has(name)) continue;
    const v = flag(get(name));
    if (v === null) bad(name, `'${get(name)}' is not 1 or 0`);
    else c[key] = v;
  }

  if (p.has('bbox')) {
    const parts = get('bbox').split(',').map((s) => number(s, -180, 180));
    const [w, s, e, n] = parts;
    const ok = parts.length === 4 && parts.every((v) => v !== null) && w < e && s < n && s >= -85 && n <= 85;
    if (ok) c.bbox = [w, s, e, n];
    else bad('bbox', `'${get('bbox')}' is not west,south,east,north in degrees`);
  }
  const lon = p.has('lon') ? number(get('lon'), -180, 180) : null;
  const lat = p.has('lat') ? number(get('lat'), -85, 85) : null;
  const zoom = p.has('z') ? number(get('z'), 0, 22) : null;
  if (p.has('lon') && lon === null) bad('lon', `'${get('lon')}' is not a longitude`);
  if (p.has('lat') && lat === null) bad('lat', `'${get('lat')}' is not a latitude`);
  if (p.has('z') && zoom === null) bad('z', `'${get('z')}' is not a zoom from 0 to 22`);
  if (p.has('lon') !== p.has('lat')) bad(p.has('lon') ? 'lon' : 'lat', 'lon and lat go together');
  if (lon !== null && lat !== null) {
    if (c.bbox) bad('lon', '"bbox" is given');
    else c.view = { lon, lat, zoom: zoom ?? 12 };
  } else if (zoom !== null && !c.bbox) {
    c.view = { lon: null, lat: null, zoom };
  }

  if (p.has('lang')) {
    if (['fr', 'en'].includes(get('lang'))) c.lang = get('lang');
    else bad('lang', `'${get('lang')}' is not fr or en`);
  }
  if (p.has('basemap')) {
    if (['offline', 'default'].includes(get('basemap'))) c.basemap = get('basemap');
    else bad('basemap', `'${get('basemap')}' is not offline or default`);
  }
  if (p.has('controls')) {
    const asked = get('controls').split(',').map((s) => s.trim()).filter((s) => s && s !== 'none');
    for (const s of asked.filter((s) => !CONTROLS.includes(s))) bad('controls', `'${s}' is not one of ${CONTROLS.join(', ')}`);
    c.controls = CONTROLS.filter((s) => asked.includes(s));
  }
  if (p.has('theme')) {
    c.theme = parseColour(get('theme'));
    if (!c.theme) bad('theme', `'${get('theme')}' is not a colour #rrggbb`);
  }
  return c;
}

/**
 * The map state an embed starts from: its view (the default one when it asks for none), the
 * territory outlined, "open now" and the language; the locked filters are not choices of the
 * user and stay out of it.
 * @param {ReturnType<typeof defaultConfig>} config
 */
export function embedInitialState(config) {
  const s = emptyState();
  if (config.view) {
    if (config.view.lon !== null) {
      s.lon = config.view.lon;
      s.lat = config.view.lat;
    }
    s.zoom = config.view.zoom;
  }
  s.openNow = config.openNow;
  s.lang = config.lang;
  s.territory = config.territory ? `${config.territory.kind}:${config.territory.code}` : null;
  return s;
}

/**
 * The category slugs the lock allows: the locked ones and everything under them (all when
 * nothing is locked, `null`).
 * @param {{ categories: string[] }} config
 * @param {{ slug: string, parent: string | null }[]} catalog
 */
export function allowedCategories(config, catalog) {
  if (!config.categories.length) return null;
  const allowed = new Set(config.categories);
  let grew = true;
  while (grew) {
    grew = false;
    for (const c of catalog) {
      if (c.parent && allowed.has(c.parent) && !allowed.has(c.slug)) {
        allowed.add(c.slug);
        grew = true;
      }
    }
  }
  return allowed;
}

/**
 * Drops locked categories the catalog does not know (each with a warning), so that a typo
 * does not break every query.
 */
export function knownCategories(config, catalog, warn = () => {}) {
  const known = new Set(catalog.map((c) => c.slug));
  for (const s of config.categories.filter((s) => !known.has(s))) warn(`Ancrage embed: parameter "cat" ignored: '${s}' is not a category`);
  return { ...config, categories: config.categories.filter((s) => known.has(s)) };
}

/**
 * The API filter parameters of the user's choices (`params`, from `filterParams`) held inside
 * the lock: the territory is always sent; chosen categories outside the locked ones are
 * dropped and the locked ones apply when none remain; a locked status, tiers-lieux or hiding
 * of demonstration data cannot be undone.
 * @param {URLSearchParams} params
 * @param {ReturnType<typeof defaultConfig>} config
 * @param {Set<string> | null} allowed from `allowedCategories`
 */
export function applyLock(params, config, allowed) {
  const p = new URLSearchParams(params);
  if (allowed) {
    const chosen = (p.get('category') ?? '').split(',').filter((s) => s && allowed.has(s));
    p.set('category', (chosen.length ? chosen : config.categories).join(','));
  }
  if (config.family) p.set('family', config.family);
  if (config.tiersLieux) p.set('kind', 'tiers-lieu');
  if (!config.demo) p.set('demo', 'exclude');
  for (const k of KINDS) p.delete(k);
  if (config.territory) p.set(config.territory.kind, config.territory.code);
  return p;
}

/**
 * Whether a territory (search result properties: kind, code and parent references) lies in
 * the locked territory; everything does without a lock.
 */
export function insideTerritory(config, props) {
  const lock = config.territory;
  if (!lock) return true;
  if (props.kind === lock.kind && props.code === lock.code) return true;
  return props[lock.kind]?.code === lock.code;
}

/**
 * The bounds a territory-locked embed may pan within, `[[west, south], [east, north]]` in
 * degrees: the territory's box widened by half its size on each side, and never smaller than
 * the current view `[west, south, east, north]` (with a 2 % margin), so that setting them does
 * not zoom the fitted map in.
 */
export function territoryMaxBounds(bbox, view) {
  const [w, s, e, n] = bbox;
  const mx = (e - w) / 2;
  const my = (n - s) / 2;
  const vx = (view[2] - view[0]) * 0.02;
  const vy = (view[3] - view[1]) * 0.02;
  return [
    [Math.max(-180, Math.min(w - mx, view[0] - vx)), Math.max(-85, Math.min(s - my, view[1] - vy))],
    [Math.min(180, Math.max(e + mx, view[2] + vx)), Math.min(85, Math.max(n + my, view[3] + vy))],
  ];
}

/**
 * The map page's state that an embed's "Voir la carte complète" opens: the same view, the
 * filters in force (lock included) and the territory outlined.
 * @param {ReturnType<typeof defaultConfig>} config
 * @param {ReturnType<typeof emptyState>} state the embed's current state
 */
export function fullMapState(config, state) {
  const s = emptyState();
  return {
    ...s,
    lon: state.lon,
    lat: state.lat,
    zoom: state.zoom,
    categories: state.categories.length ? state.categories : config.categories,
    family: config.family || state.family,
    tiersLieux: config.tiersLieux || state.tiersLieux,
    openNow: state.openNow,
    hideDemo: !config.demo || state.hideDemo,
    territory: config.territory ? `${config.territory.kind}:${config.territory.code}` : null,
    actor: state.actor,
    near: state.near,
    radiusKm: state.radiusKm,
    lang: state.lang,
  };
}

/** The address of the full map for an embed's state (path and query). */
export function fullMapHref(config, state) {
  return `/${formatState(fullMapState(config, state))}`;
}

function luminance(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** White or the page's ink, whichever contrasts more with `hex` (WCAG relative luminance). */
export function readableInk(hex) {
  const l = luminance(parseColour(hex) ?? '#000000');
  const ink = '#1b1f24';
  return 1.05 / (l + 0.05) >= (l + 0.05) / (luminance(ink) + 0.05) ? '#ffffff' : ink;
}

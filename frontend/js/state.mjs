// The map's state as URL query parameters, so that a reload or a shared link restores the view.
// Pure functions: no DOM, tested with node.

/** Radii offered by "Autour de moi", kilometres. */
export const RADII_KM = [1, 2, 5, 10, 20, 50];

/** Legal families of actors (the API's `family` values). */
export const FAMILIES = ['association', 'cooperative', 'mutuelle', 'fondation', 'entreprise-ess', 'autre'];

/** The view of metropolitan France when nothing else is asked. */
export const DEFAULT_VIEW = { lon: 2.4, lat: 46.6, zoom: 5 };

const SLUG = /^[a-z0-9-]{1,60}$/;
const TERRITORY = /^(commune|epci|departement|region):[0-9AB]{2,9}$/;

/** A state with every field at its default. */
export function emptyState() {
  return {
    lon: DEFAULT_VIEW.lon,
    lat: DEFAULT_VIEW.lat,
    zoom: DEFAULT_VIEW.zoom,
    categories: [],
    family: '',
    tiersLieux: false,
    openNow: false,
    hideDemo: false,
    actor: null,
    territory: null,
    near: null,
    radiusKm: 5,
    lang: 'fr',
  };
}

function number(text, min, max) {
  if (text === null || text.trim() === '') return null;
  const v = Number(text);
  return Number.isFinite(v) && v >= min && v <= max ? v : null;
}

/**
 * Reads a state from a query string (`location.search`); unknown or malformed values are
 * ignored, so a damaged link still opens the map.
 * @param {string} search
 */
export function parseState(search) {
  const p = new URLSearchParams(search);
  const s = emptyState();
  const lon = number(p.get('lon'), -180, 180);
  const lat = number(p.get('lat'), -85, 85);
  const zoom = number(p.get('z'), 0, 22);
  if (lon !== null && lat !== null) {
    s.lon = lon;
    s.lat = lat;
  }
  if (zoom !== null) s.zoom = zoom;
  s.categories = (p.get('cat') ?? '').split(',').filter((c) => SLUG.test(c));
  const family = p.get('fam') ?? '';
  if (SLUG.test(family)) s.family = family;
  s.tiersLieux = p.get('tl') === '1';
  s.openNow = p.get('open') === '1';
  s.hideDemo = p.get('demo') === '0';
  const actor = number(p.get('actor'), 1, Number.MAX_SAFE_INTEGER);
  if (actor !== null && Number.isInteger(actor)) s.actor = actor;
  const territory = p.get('terr') ?? '';
  if (TERRITORY.test(territory)) s.territory = territory;
  const near = (p.get('near') ?? '').split(',');
  if (near.length === 2) {
    const nlon = number(near[0], -180, 180);
    const nlat = number(near[1], -90, 90);
    if (nlon !== null && nlat !== null) s.near = { lon: nlon, lat: nlat };
  }
  const r = number(p.get('r'), 0, 1000);
  if (r !== null && RADII_KM.includes(r)) s.radiusKm = r;
  if (p.get('lang') === 'en') s.lang = 'en';
  return s;
}

/**
 * Writes a state as a query string (with its `?`), leaving defaults out; coordinates keep 5
 * decimals (about 1 m) and the zoom 2.
 * @param {ReturnType<typeof emptyState>} s
 */
export function formatState(s) {
  const p = new URLSearchParams();
  p.set('lat', s.lat.toFixed(5));
  p.set('lon', s.lon.toFixed(5));
  p.set('z', String(Math.round(s.zoom * 100) / 100));
  if (s.categories.length) p.set('cat', s.categories.join(','));
  if (s.family) p.set('fam', s.family);
  if (s.tiersLieux) p.set('tl', '1');
  if (s.openNow) p.set('open', '1');
  if (s.hideDemo) p.set('demo', '0');
  if (s.actor !== null) p.set('actor', String(s.actor));
  if (s.territory) p.set('terr', s.territory);
  if (s.near) {
    p.set('near', `${s.near.lon.toFixed(5)},${s.near.lat.toFixed(5)}`);
    p.set('r', String(s.radiusKm));
  }
  if (s.lang !== 'fr') p.set('lang', s.lang);
  return `?${p.toString().replaceAll('%2C', ',').replaceAll('%3A', ':')}`;
}

/**
 * The API filter parameters of a state (those every actor query accepts).
 * @param {ReturnType<typeof emptyState>} s
 * @returns {URLSearchParams}
 */
export function filterParams(s) {
  const p = new URLSearchParams();
  if (s.categories.length) p.set('category', s.categories.join(','));
  if (s.family) p.set('family', s.family);
  if (s.tiersLieux) p.set('kind', 'tiers-lieu');
  if (s.hideDemo) p.set('demo', 'exclude');
  if (s.openNow) p.set('open', 'now');
  return p;
}

/** Whether a point `[lon, lat]` lies in a box `[west, south, east, north]`, degrees, edges included. */
export function insideBbox(bbox, [lon, lat]) {
  const [w, s, e, n] = bbox;
  return lon >= w && lon <= e && lat >= s && lat <= n;
}

// The territory page's state: which territory (from the path), its filters and display choices
// (from the query string, so that a reload or a shared link restores them), the API URLs they
// make, the children's indicators and order, and the geometry of the printed map (projection,
// frame, label points). Pure functions: no DOM, tested with node.

/** Kinds of territory a page can show (`france/FR` is the whole country). */
export const KINDS = ['commune', 'epci', 'departement', 'region', 'france'];

/** Distances offered for the zones blanches and the children's access figure, kilometres. */
export const DISTANCES_KM = [2, 5, 10, 15, 20, 30, 50];

/** Default distance, kilometres (the API's default too). */
export const DEFAULT_DISTANCE_KM = 10;

/** Indicators the choropleth can show; the first is the default. */
export const INDICATORS = [
  'actors_per_10000',
  'access_share',
  'population_covered_share',
  'communes_covered_share',
  'actors',
  'median_nearest_m',
];

/** Columns the children table can be sorted by (the API's `sort` values). */
export const SORT_KEYS = [
  'name',
  'population',
  'actors',
  'actors_per_10000',
  'communes_covered_share',
  'population_covered_share',
  'access_share',
  'median_nearest_m',
];

/** Every CSV table of the coverage export, and the GeoJSON ones. */
export const CSV_FILES = ['figures', 'categories', 'families', 'access', 'parents', 'similar', 'children', 'zones-blanches', 'structures'];
export const GEOJSON_FILES = ['children', 'zones-blanches', 'structures'];

const SLUG = /^[a-z0-9-]{1,60}$/;
const CODE = /^[0-9A-Za-z]{1,12}$/;

/**
 * The territory named by a page path `/territoire/{kind}/{code}`: `{ kind, code }`, or
 * `{ error: 'kind' | 'code' | 'path', kind, code }` when it cannot be one.
 * @param {string} pathname
 */
export function parsePath(pathname) {
  const parts = pathname.replace(/\/+$/, '').split('/').slice(1);
  if (parts.length !== 3 || parts[0] !== 'territoire') return { error: 'path', kind: '', code: '' };
  let kind;
  let code;
  try {
    kind = decodeURIComponent(parts[1]);
    code = decodeURIComponent(parts[2]);
  } catch {
    return { error: 'path', kind: parts[1], code: parts[2] };
  }
  if (!KINDS.includes(kind)) return { error: 'kind', kind, code };
  if (!CODE.test(code)) return { error: 'code', kind, code };
  return { kind, code: code.toUpperCase() };
}

/** The page path of a territory. */
export function pagePath(kind, code) {
  return `/territoire/${encodeURIComponent(kind)}/${encodeURIComponent(code)}`;
}

/** A state with every field at its default. */
export function emptyState() {
  return {
    category: '',
    family: '',
    hideDemo: true,
    distanceKm: DEFAULT_DISTANCE_KM,
    indicator: INDICATORS[0],
    method: 'quantile',
    sort: 'population',
    order: 'desc',
    lang: 'fr',
  };
}

/** The natural order of a sort key: names A to Z, figures largest first. */
export function defaultOrder(key) {
  return key === 'name' ? 'asc' : 'desc';
}

/**
 * Reads a state from a query string; unknown or malformed values are ignored, so a damaged
 * link still opens the page. `cat`, `fam` and `lang` mean what they mean on the map; `demo=1`
 * counts demonstration data, which figures otherwise leave out.
 * @param {string} search
 */
export function parseState(search) {
  const p = new URLSearchParams(search);
  const s = emptyState();
  const cat = p.get('cat') ?? '';
  if (SLUG.test(cat)) s.category = cat;
  const fam = p.get('fam') ?? '';
  if (SLUG.test(fam)) s.family = fam;
  // Figures leave demonstration data out unless the link asks for it (`demo=1`).
  s.hideDemo = p.get('demo') !== '1';
  const d = Number(p.get('dist'));
  if (DISTANCES_KM.includes(d)) s.distanceKm = d;
  const ind = p.get('ind') ?? '';
  if (INDICATORS.includes(ind)) s.indicator = ind;
  if (p.get('cls') === 'jenks') s.method = 'jenks';
  const sort = p.get('sort') ?? '';
  if (SORT_KEYS.includes(sort)) s.sort = sort;
  const order = p.get('order');
  s.order = order === 'asc' || order === 'desc' ? order : defaultOrder(s.sort);
  if (p.get('lang') === 'en') s.lang = 'en';
  return s;
}

/**
 * Writes a state as a query string (with its `?`, empty when everything is at its default).
 * @param {ReturnType<typeof emptyState>} s
 */
export function formatState(s) {
  const p = new URLSearchParams();
  if (s.category) p.set('cat', s.category);
  if (s.family) p.set('fam', s.family);
  if (!s.hideDemo) p.set('demo', '1');
  if (s.distanceKm !== DEFAULT_DISTANCE_KM) p.set('dist', String(s.distanceKm));
  if (s.indicator !== INDICATORS[0]) p.set('ind', s.indicator);
  if (s.method !== 'quantile') p.set('cls', s.method);
  if (s.sort !== 'population' || s.order !== defaultOrder(s.sort)) {
    p.set('sort', s.sort);
    p.set('order', s.order);
  }
  if (s.lang !== 'fr') p.set('lang', s.lang);
  const q = p.toString();
  return q ? `?${q}` : '';
}

/**
 * The query of the coverage API for a state: filters, distance (metres) and children order.
 * @param {ReturnType<typeof emptyState>} s
 * @returns {URLSearchParams}
 */
export function coverageParams(s) {
  const p = new URLSearchParams();
  if (s.category) p.set('category', s.category);
  if (s.family) p.set('family', s.family);
  p.set('demo', s.hideDemo ? 'exclude' : 'include');
  p.set('distance', String(s.distanceKm * 1000));
  p.set('sort', s.sort);
  p.set('order', s.order);
  return p;
}

/** The coverage API path of a territory. */
export function coveragePath(kind, code) {
  return `/api/v1/territories/${encodeURIComponent(kind)}/${encodeURIComponent(code)}/coverage`;
}

/**
 * The download URL of one export (`children.csv`, `zones-blanches.geojson`…) with the page's
 * filters. In English, CSV columns are named in English and separated by commas (what English
 * spreadsheet software expects); in French, `;` and decimal commas (the API's default).
 */
export function exportUrl(kind, code, file, s) {
  const p = coverageParams(s);
  if (file.endsWith('.csv')) {
    if (s.lang === 'en') {
      p.set('lang', 'en');
      p.set('sep', 'comma');
    }
    // A downloaded table says what it is: territory, date, filters and data vintages.
    p.set('meta', 'block');
  }
  return `${coveragePath(kind, code)}/${file}?${p}`;
}

/**
 * The value of an indicator (or sort key) for a child line of the coverage API; `null` when
 * missing. Shares are 0 to 1, distances metres.
 */
export function indicatorValue(child, key) {
  const v = key === 'access_share' ? child.access?.share : key === 'median_nearest_m' ? child.access?.median_nearest_m : child[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Children in a table order: by name (French collation) or by a figure, missing values last
 * whatever the direction, like the API.
 * @param {object[]} children
 * @param {string} key one of {@link SORT_KEYS}
 * @param {'asc'|'desc'} order
 */
export function sortChildren(children, key, order) {
  const collator = new Intl.Collator('fr', { sensitivity: 'base', numeric: true });
  const sign = order === 'desc' ? -1 : 1;
  return [...children].sort((a, b) => {
    if (key === 'name') return sign * collator.compare(a.name ?? '~', b.name ?? '~');
    const x = indicatorValue(a, key);
    const y = indicatorValue(b, key);
    if (x === null && y === null) return 0;
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * (x - y);
  });
}

/**
 * The query of `/api/v1/map/points` for the actors a report counts: the page's filters and
 * the territory (none for France).
 */
export function pointsParams(kind, code, s) {
  const p = new URLSearchParams();
  if (s.category) p.set('category', s.category);
  if (s.family) p.set('family', s.family);
  p.set('demo', s.hideDemo ? 'exclude' : 'include');
  if (kind !== 'france') p.set(kind, code);
  return p;
}

/**
 * `[west, south, east, north]` (degrees) of GeoJSON geometries, `null` when they have no
 * coordinate.
 * @param {Array<{type: string, coordinates: any}|null>} geometries
 */
export function bboxOf(geometries) {
  const b = [180, 90, -180, -90];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < b[0]) b[0] = c[0];
      if (c[1] < b[1]) b[1] = c[1];
      if (c[0] > b[2]) b[2] = c[0];
      if (c[1] > b[3]) b[3] = c[1];
    } else c.forEach(visit);
  };
  for (const g of geometries) if (g?.coordinates) visit(g.coordinates);
  return b[0] > b[2] ? null : b;
}

/** Web Mercator of a longitude and latitude (degrees), in units of the world's width (0 to 1). */
export function mercator(lon, lat) {
  const phi = (Math.max(-85, Math.min(85, lat)) * Math.PI) / 180;
  return [(lon + 180) / 360, (1 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / Math.PI) / 2];
}

/**
 * A map frame fitted to a box: the territory fills the frame, less `padding`, in at least one
 * dimension. The frame is `width` wide and as high as the box needs, between `minHeight` and
 * `maxHeight`; `project([lon, lat])` gives frame coordinates. All sizes in the same unit
 * (CSS pixels for the printed map).
 * @param {number[]} bbox `[west, south, east, north]`, degrees
 * @param {{width: number, minHeight: number, maxHeight: number, padding: number}} size
 */
export function fitFrame(bbox, { width, minHeight, maxHeight, padding }) {
  const [x0, y1] = mercator(bbox[0], bbox[1]);
  const [x1, y0] = mercator(bbox[2], bbox[3]);
  // A point (a commune without outline) still gets a frame of about 2 km.
  const w = Math.max(x1 - x0, 5e-5);
  const h = Math.max(y1 - y0, 5e-5);
  const scale = Math.min((width - 2 * padding) / w, (maxHeight - 2 * padding) / h);
  const height = Math.min(maxHeight, Math.max(minHeight, h * scale + 2 * padding));
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return {
    width,
    height,
    scale,
    project([lon, lat]) {
      const [x, y] = mercator(lon, lat);
      return [width / 2 + (x - cx) * scale, height / 2 + (y - cy) * scale];
    },
  };
}

/** Signed area of a ring of `[lon, lat]` (degrees², shoelace). */
function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return a / 2;
}

/**
 * Where to write a territory's name: inside its largest polygon, at the middle of the widest
 * horizontal chord among a few latitudes (near the middle preferred). `[lon, lat]`, or `null`
 * for a geometry without area.
 * @param {{type: string, coordinates: any}|null} geometry a Polygon or MultiPolygon
 */
export function labelPoint(geometry) {
  if (!geometry) return null;
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  let best = null;
  let bestArea = 0;
  for (const p of polygons) {
    const a = p[0]?.length ? Math.abs(ringArea(p[0])) - p.slice(1).reduce((s, r) => s + Math.abs(ringArea(r)), 0) : 0;
    if (a > bestArea) {
      bestArea = a;
      best = p;
    }
  }
  if (!best) return null;
  const box = bboxOf([{ coordinates: best[0] }]);
  let point = null;
  let score = -1;
  for (const f of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
    const y = box[1] + (box[3] - box[1]) * f;
    const xs = [];
    for (const ring of best)
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [ax, ay] = ring[j];
        const [bx, by] = ring[i];
        if (ay <= y !== by <= y) xs.push(ax + ((y - ay) / (by - ay)) * (bx - ax));
      }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const s = (xs[i + 1] - xs[i]) * (1 - Math.abs(f - 0.5));
      if (s > score) {
        score = s;
        point = [(xs[i] + xs[i + 1]) / 2, y];
      }
    }
  }
  return point;
}

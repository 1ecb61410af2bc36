// Map styles: the offline basemap built from the project's own territory outlines, and the
// layers that draw actors, clusters, the selected territory and "Autour de moi" on any basemap.
// Pure functions returning MapLibre style objects, tested with node.

/** Zoom from which commune outlines are drawn (their tiles start one zoom earlier). */
export const COMMUNES_MIN_ZOOM = 9;

const EMPTY = { type: 'FeatureCollection', features: [] };
const HOVER = ['boolean', ['feature-state', 'hover'], false];

/**
 * The offline basemap: département outlines at every zoom, commune outlines and names from
 * {@link COMMUNES_MIN_ZOOM}. Communes come from the server's vector tiles
 * (`/tiles/communes/{z}/{x}/{y}.mvt`, zooms 8 to 14, overzoomed beyond), so a move loads only
 * the tiles it brings into view: layer `communes` holds the outlines as lines, layer
 * `commune_labels` one point per commune. No glyphs URL: labels use the browser's local fonts.
 * @param {string} origin the server's origin, e.g. `http://localhost:8080`
 * @param {string} attribution credit shown for the outlines (on the département source only)
 */
export function offlineStyle(origin, attribution) {
  return {
    version: 8,
    name: 'Ancrage hors ligne',
    sources: {
      departements: {
        type: 'geojson',
        data: `${origin}/api/v1/map/outlines/departements`,
        attribution,
      },
      communes: {
        type: 'vector',
        tiles: [`${origin}/tiles/communes/{z}/{x}/{y}.mvt`],
        minzoom: 8,
        maxzoom: 14,
      },
      'departement-labels': { type: 'geojson', data: EMPTY },
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#dfe9ee' } },
      {
        id: 'departements-fill',
        type: 'fill',
        source: 'departements',
        paint: { 'fill-color': '#f7f5f0' },
      },
      {
        id: 'communes-line',
        type: 'line',
        source: 'communes',
        'source-layer': 'communes',
        minzoom: COMMUNES_MIN_ZOOM,
        paint: { 'line-color': '#b9b3a6', 'line-width': 0.6 },
      },
      {
        id: 'departements-line',
        type: 'line',
        source: 'departements',
        paint: { 'line-color': '#8d8677', 'line-width': ['interpolate', ['linear'], ['zoom'], 4, 0.6, 10, 1.6] },
      },
      {
        id: 'communes-label',
        type: 'symbol',
        source: 'communes',
        'source-layer': 'commune_labels',
        minzoom: 10,
        layout: {
          'text-field': ['get', 'name'],
          'text-font': ['sans-serif'],
          'text-size': 12,
        },
        paint: { 'text-color': '#4a463e', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
      },
      {
        id: 'departements-label',
        type: 'symbol',
        source: 'departement-labels',
        minzoom: 6,
        maxzoom: 9,
        layout: { 'text-field': ['get', 'name'], 'text-font': ['sans-serif'], 'text-size': 12 },
        paint: { 'text-color': '#4a463e', 'text-halo-color': '#ffffff', 'text-halo-width': 1.2 },
      },
    ],
  };
}

/**
 * A `match` expression giving each top-level category slug its colour.
 * @param {Array<{slug: string, parent: string|null, colour: string}>} categories
 */
export function colourExpression(categories) {
  const pairs = categories.filter((c) => !c.parent).flatMap((c) => [c.slug, c.colour]);
  return pairs.length ? ['match', ['get', 'category'], ...pairs, '#555555'] : '#555555';
}

/**
 * The top-level category colouring an actor, as the server chooses it for markers: the root of
 * its first category (in catalog order) among those the category filter asks for (one of
 * `wanted` or below one), else of its first category; `undefined` without a known category.
 * @param {string[]} slugs the actor's categories
 * @param {string[]} wanted the slugs of the category filter, empty without one
 * @param {Array<{slug: string, parent: string|null}>} categories the catalog, in its order
 */
export function markerRoot(slugs, wanted, categories) {
  const bySlug = new Map(categories.map((c) => [c.slug, c]));
  const lineage = (c) => {
    const chain = [];
    for (let x = c; x && !chain.includes(x); x = bySlug.get(x.parent)) chain.push(x);
    return chain;
  };
  const own = categories.filter((c) => slugs.includes(c.slug));
  const chosen = own.find((c) => lineage(c).some((x) => wanted.includes(x.slug))) ?? own[0];
  return chosen ? lineage(chosen).at(-1) : undefined;
}

/** The words Intl's compact notation writes around a number of its scale (« 1,2 k »: '' and ' k'). */
function compactAffixes(locale, example) {
  const parts = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 }).formatToParts(example);
  const numeric = (p) => ['integer', 'group', 'decimal', 'fraction'].includes(p.type);
  const first = parts.findIndex(numeric);
  const last = parts.findLastIndex(numeric);
  const text = (list) => list.map((p) => p.value).join('');
  return [text(parts.slice(0, first)), text(parts.slice(last + 1))];
}

/**
 * The label of a cluster as a MapLibre expression on its `point_count`: what
 * `Intl.NumberFormat(locale, {notation: 'compact', maximumFractionDigits: 1})` writes
 * (« 987 », « 1,7 k », « 1,3 M » in French; "1.7k" in British English). Expressions cannot call
 * Intl's compact notation, so the count is scaled and rounded half up to one decimal here, and
 * formatted in `locale` with the thousand and million words Intl uses (for French and English).
 * @param {string} locale a BCP 47 tag, e.g. `fr-FR`
 */
export function countLabel(locale) {
  const n = ['get', 'point_count'];
  const scaled = (unit, example) => {
    const [before, after] = compactAffixes(locale, example);
    const tenths = ['/', ['round', ['/', n, unit / 10]], 10];
    return ['concat', before, ['number-format', tenths, { locale, 'max-fraction-digits': 1 }], after];
  };
  // 999 950 rounds to 1 000 k, which Intl writes 1 M.
  return ['case', ['<', n, 1000], ['number-format', n, { locale }], ['<', n, 999_950], scaled(1e3, 1234), scaled(1e6, 1_234_567)];
}

/** Largest group of actors sharing one point fanned out around it; a larger one is listed. */
export const SPIDER_MAX = 8;

/**
 * Where the legs of `n` actors sharing one point end, as `[x, y]` offsets in CSS pixels from
 * the point (x to the right, y down), evenly round a circle from the upper right, clockwise;
 * the circle grows with `n` so neighbouring labels keep apart.
 */
export function spiderLegs(n) {
  const radius = Math.max(40, 8 * n);
  return Array.from({ length: n }, (_, i) => {
    const angle = -Math.PI / 2 + Math.PI / n + (2 * Math.PI * i) / n;
    return [Math.round(radius * Math.cos(angle)), Math.round(radius * Math.sin(angle))];
  });
}

/** Deepest zoom of the actor tiles: deeper, MapLibre scales the tiles of this zoom. */
export const ACTOR_TILES_MAX_ZOOM = 16;

/**
 * The sources and layers drawing actors and overlays, in drawing order. `actors` is `true` to
 * have MapLibre cluster every point itself (all points loaded in a GeoJSON source), or the URL
 * template (`…/{z}/{x}/{y}.mvt?filters`) of the server's actor tiles, whose clusters carry the
 * same `point_count`; the layers are the same. Counts are written in `locale` (see
 * {@link countLabel}); `font` draws them: keep the default (the browser's fonts) unless the
 * basemap has a glyph server.
 */
export function overlay(categories, actors, font = ['sans-serif'], locale = 'fr-FR') {
  const tiled = typeof actors === 'string';
  const source = tiled
    ? { type: 'vector', tiles: [actors], minzoom: 0, maxzoom: ACTOR_TILES_MAX_ZOOM }
    : { type: 'geojson', data: EMPTY, cluster: true, clusterRadius: 44, clusterMaxZoom: 14 };
  const fromActors = tiled ? { source: 'actors', 'source-layer': 'actors' } : { source: 'actors' };
  return {
    sources: {
      territory: { type: 'geojson', data: EMPTY },
      near: { type: 'geojson', data: EMPTY },
      actors: source,
      selected: { type: 'geojson', data: EMPTY },
      hover: { type: 'geojson', data: EMPTY },
    },
    layers: [
      {
        id: 'territory-fill',
        type: 'fill',
        source: 'territory',
        paint: { 'fill-color': '#1d4ed8', 'fill-opacity': 0.06 },
      },
      {
        id: 'territory-line',
        type: 'line',
        source: 'territory',
        paint: { 'line-color': '#1d4ed8', 'line-width': 2.5 },
      },
      {
        id: 'near-fill',
        type: 'fill',
        source: 'near',
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'fill-color': '#0f766e', 'fill-opacity': 0.08 },
      },
      {
        id: 'near-line',
        type: 'line',
        source: 'near',
        filter: ['==', ['geometry-type'], 'Polygon'],
        paint: { 'line-color': '#0f766e', 'line-width': 2, 'line-dasharray': [2, 1] },
      },
      {
        id: 'near-centre',
        type: 'circle',
        source: 'near',
        filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-radius': 6, 'circle-color': '#0f766e', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
      },
      {
        id: 'clusters',
        type: 'circle',
        ...fromActors,
        filter: ['has', 'point_count'],
        paint: {
          'circle-color': '#1f3a5f',
          'circle-opacity': 0.88,
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 2,
          'circle-radius': ['step', ['get', 'point_count'], 14, 10, 17, 100, 21, 1000, 26],
        },
      },
      {
        id: 'cluster-count',
        type: 'symbol',
        ...fromActors,
        filter: ['has', 'point_count'],
        layout: {
          'text-field': countLabel(locale),
          'text-font': font,
          'text-size': 13,
          'text-allow-overlap': true,
        },
        paint: { 'text-color': '#ffffff' },
      },
      {
        id: 'actors',
        type: 'circle',
        ...fromActors,
        filter: ['!', ['has', 'point_count']],
        paint: {
          'circle-color': colourExpression(categories),
          // Zoom must be the outer expression; the hovered marker grows at every zoom.
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, ['case', HOVER, 9, 5], 12, ['case', HOVER, 12, 8]],
          // Demonstration data are paler than real structures.
          'circle-opacity': ['case', ['boolean', ['get', 'demo'], false], 0.72, 1],
          'circle-stroke-color': ['case', HOVER, '#111111', '#ffffff'],
          'circle-stroke-width': ['case', HOVER, 3, 1.5],
        },
      },
      {
        id: 'selected-ring',
        type: 'circle',
        source: 'selected',
        paint: {
          'circle-radius': 13,
          'circle-color': 'rgba(0, 0, 0, 0)',
          'circle-stroke-color': '#111111',
          'circle-stroke-width': 3,
        },
      },
      {
        // The place hovered or focused in the list, visible even inside a cluster.
        id: 'hover-ring',
        type: 'circle',
        source: 'hover',
        paint: {
          'circle-radius': 16,
          'circle-color': 'rgba(180, 83, 9, 0.15)',
          'circle-stroke-color': '#b45309',
          'circle-stroke-width': 3,
        },
      },
    ],
  };
}

/**
 * Compact points (`[id, lon, lat, category position, flags]`) as GeoJSON features whose
 * `category` is the slug at that position.
 */
export function pointsToFeatures(points, categories) {
  return {
    type: 'FeatureCollection',
    features: points.map(([id, lon, lat, cat, flags]) => ({
      type: 'Feature',
      id,
      geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: {
        id,
        category: categories[cat]?.slug ?? '',
        demo: (flags & 1) === 1,
        tiers: (flags & 2) === 2,
      },
    })),
  };
}

/**
 * Label points of outline features (their `point` property), as a FeatureCollection of Points
 * carrying the name: one label per territory instead of one per tile of its polygon.
 */
export function labelPoints(outlines) {
  return {
    type: 'FeatureCollection',
    features: outlines.features
      .filter((f) => Array.isArray(f.properties.point))
      .map((f) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: f.properties.point }, properties: { name: f.properties.name } })),
  };
}

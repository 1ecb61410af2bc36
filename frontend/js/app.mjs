// The citizen map: MapLibre map, search, "Autour de moi", filters with counts for the view,
// a list synchronised with the map, a detail sheet, and the whole state in the URL.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { t, setLang, lang, toggleLang } from './i18n.mjs';
import * as hours from './opening_hours.mjs';
import { parseState, formatState, filterParams, insideBbox, RADII_KM, FAMILIES } from './state.mjs';
import * as embed from './embed_config.mjs';
import { el, api } from './dom.mjs';
import {
  formatDistance,
  distanceM,
  circlePolygon,
  osmDirectionsUrl,
  geoUri,
  reportMailto,
  safeHttpUrl,
} from './format.mjs';
import { openContribution } from './contribute.mjs';
import {
  offlineStyle,
  overlay,
  pointsToFeatures,
  labelPoints,
  countLabel,
  markerRoot,
  spiderLegs,
  SPIDER_MAX,
} from './style.mjs';

const $ = (id) => document.getElementById(id);
const LIST_LIMIT = 100;
const FRANCE = [
  [-5.2, 41.3],
  [9.6, 51.1],
];
const EMPTY = { type: 'FeatureCollection', features: [] };
// Whether the page was opened on a view of its own (a shared link) rather than a default one.
const OPENED_ON_VIEW = new URLSearchParams(location.search).has('lat');

// The embeddable map (/embed) is this page in a lighter mode, locked to a territory and themes.
let embedded = document.documentElement.dataset.page === 'embed' ? embed.parseEmbedConfig(location.search, (m) => console.warn(m)) : null;
let allowedCats = null;

let state = embedded ? embed.embedInitialState(embedded) : parseState(location.search);
let config = { basemap_style: null, report_email: null, points_limit: 8000 };
let categories = [];
let catBySlug = new Map();
let map = null;
let offline = true;
// 'points': every matching point loaded and clustered by MapLibre; 'tiles': the server's actor
// tiles, clustered from its quadtree, when more match than `config.points_limit`.
let mode = 'points';
let listItems = [];
let listMeta = { kind: 'view', total: 0 };
const hoursCache = new Map();
let hovered = null;
let picking = false;
let territoryFeature = null;
let detailRecord = null;
let lastFocus = null;
let viewTimer = null;
let viewSeq = 0;
let pointsSeq = 0;
// Set by « Me localiser » and a picked point: the next list of places around is brought into view.
let revealNear = false;
// Actors sharing one marker position (5 decimals) in the loaded points: id → place key, and
// key → { lngLat, ids }. Empty while the view is read from the actor tiles.
let placeOf = new Map();
let actorsAt = new Map();
// The actors of one point fanned out on the map: { lngLat, features, total, opener, chosen },
// `chosen` being the one whose sheet was opened from it.
let spread = null;
let spreadMarker = null;
let spreadSeq = 0;
// How many actors matching the filters share the point of the open sheet: { id, n }.
let detailShared = null;

// ---------- helpers ----------


function label(cat) {
  return lang() === 'en' ? cat.label_en : cat.label_fr;
}

/** The locale numbers are written in. */
function numberLocale() {
  return lang() === 'en' ? 'en-GB' : 'fr-FR';
}

function rootOf(slug) {
  let c = catBySlug.get(slug);
  while (c && c.parent) c = catBySlug.get(c.parent);
  return c;
}

function hoursWords() {
  return {
    days: t('hours.days'),
    closed: t('hours.closed'),
    always: t('hours.always'),
    holidaysOff: t('hours.holidays'),
    to: t('hours.to'),
    colon: t('hours.colon'),
  };
}

function announce(id, text, isError = false) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle('error', isError);
}

function writeUrl(push) {
  if (embedded) {
    // An embed never writes the host page's history: its state lives in the full-map link.
    $('full-map').href = embed.fullMapHref(embedded, state);
    return;
  }
  updateCoverageLink();
  const url = `${location.pathname}${formatState(state)}`;
  if (url === `${location.pathname}${location.search}`) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function viewBox() {
  if (!map) {
    const span = 360 / 2 ** state.zoom;
    return [state.lon - span, state.lat - span / 2, state.lon + span, state.lat + span / 2].map((v, i) =>
      i % 2 === 0 ? Math.max(-180, Math.min(180, v)) : Math.max(-85, Math.min(85, v)),
    );
  }
  const b = map.getBounds();
  return [
    Math.max(-180, b.getWest()),
    Math.max(-85, b.getSouth()),
    Math.min(180, b.getEast()),
    Math.min(85, b.getNorth()),
  ];
}

const fixed = (v) => v.toFixed(5);

/** The API filter parameters of the state, held inside the embed's lock. */
function queryParams() {
  const p = filterParams(state);
  return embedded ? embed.applyLock(p, embedded, allowedCats) : p;
}

// ---------- static strings ----------

function applyStrings() {
  document.documentElement.lang = lang();
  document.title = t('page.title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]'))
    node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  for (const node of document.querySelectorAll('[data-i18n-aria-label]'))
    node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
  $('lang-switch')?.setAttribute('lang', lang() === 'fr' ? 'en' : 'fr');
  updatePanelToggle();
}

// ---------- filters ----------

function buildFilters() {
  const tree = $('category-tree');
  tree.replaceChildren();
  // An embed locked to some categories offers those and their subcategories only.
  const isRoot = allowedCats ? (c) => allowedCats.has(c.slug) && !allowedCats.has(c.parent) : (c) => !c.parent;
  for (const root of categories.filter(isRoot)) {
    const children = categories.filter((c) => c.parent === root.slug);
    const subId = `sub-${root.slug}`;
    const expanded = children.some((c) => state.categories.includes(c.slug));
    const node = el(
      'li',
      {},
      el(
        'div',
        { class: 'node' },
        children.length
          ? el('button', {
              type: 'button',
              class: 'expand',
              'aria-expanded': String(expanded),
              'aria-controls': subId,
              'aria-label': t('filters.show.sub', { name: label(root) }),
              onclick: (e) => {
                const b = e.currentTarget;
                const open = b.getAttribute('aria-expanded') !== 'true';
                b.setAttribute('aria-expanded', String(open));
                $(subId).hidden = !open;
              },
            })
          : null,
        categoryCheck(root),
      ),
      children.length
        ? el('ul', { id: subId, hidden: !expanded }, children.map((c) => el('li', {}, categoryCheck(c))))
        : null,
    );
    tree.append(node);
  }
  const family = $('family');
  family.replaceChildren(
    el('option', { value: '', text: t('filters.family.all') }),
    ...FAMILIES.map((f) => el('option', { value: f, 'data-family': f, text: t(`family.${f}`) })),
  );
  family.value = state.family;
  $('tiers-only').checked = state.tiersLieux;
  $('open-now').checked = state.openNow;
  $('hide-demo').checked = state.hideDemo;
  const radius = $('near-radius');
  if (radius) {
    radius.replaceChildren(...RADII_KM.map((r) => el('option', { value: String(r), text: `${r} km` })));
    radius.value = String(state.radiusKm);
  }
  const legend = $('legend-list');
  legend.replaceChildren(
    ...categories
      .filter((c) => !c.parent)
      .map((c) => el('li', {}, el('span', { class: 'swatch', style: `background:${c.colour}` }), label(c))),
    el('li', {}, el('span', { class: 'cluster-dot' }), t('map.legend.cluster')),
    el('li', {}, el('span', { class: 'swatch demo-swatch' }), t('map.legend.demo')),
  );
  updateFilterPill();
}

function categoryCheck(cat) {
  return el(
    'label',
    { class: 'check' },
    el('input', {
      type: 'checkbox',
      value: cat.slug,
      'data-category': cat.slug,
      checked: state.categories.includes(cat.slug),
      onchange: (e) => {
        const set = new Set(state.categories);
        if (e.currentTarget.checked) set.add(cat.slug);
        else set.delete(cat.slug);
        state.categories = categories.map((c) => c.slug).filter((s) => set.has(s));
        filtersChanged();
      },
    }),
    el('span', { class: 'swatch', style: `background:${(rootOf(cat.slug) ?? cat).colour}`, 'aria-hidden': 'true' }),
    el('span', { text: label(cat) }),
    el('span', { class: 'count', 'data-count-for': cat.slug }),
  );
}

function updateFilterPill() {
  const n =
    state.categories.length + (state.family ? 1 : 0) + (state.tiersLieux ? 1 : 0) + (state.openNow ? 1 : 0) + (state.hideDemo ? 1 : 0);
  const pill = $('filters-active');
  pill.hidden = n === 0;
  pill.textContent = String(n);
  updateDemoBanner();
}

/**
 * While demonstration data is shown, says plainly how many of the store's places are real and
 * how many fictitious, with a button that hides the fictitious ones.
 */
function updateDemoBanner() {
  const banner = $('demo-banner');
  if (!banner) return;
  const demo = config.demo_actors ?? 0;
  banner.hidden = demo === 0 || state.hideDemo;
  if (banner.hidden) return;
  const nf = new Intl.NumberFormat(lang() === 'en' ? 'en-GB' : 'fr-FR');
  const real = Math.max(0, (config.total_actors ?? 0) - demo);
  $('demo-banner-text').textContent = t('demo.banner', {
    real: t(real === 1 ? 'demo.banner.real.one' : 'demo.banner.real', { n: nf.format(real) }),
    demo: t(demo === 1 ? 'demo.banner.demo.one' : 'demo.banner.demo', { n: nf.format(demo) }),
  });
}

function updateCounts(f) {
  const nf = new Intl.NumberFormat(lang() === 'en' ? 'en-GB' : 'fr-FR');
  for (const node of document.querySelectorAll('[data-count-for]')) {
    const n = f.categories[node.dataset.countFor] ?? 0;
    node.textContent = `(${nf.format(n)})`;
  }
  for (const option of $('family').options) {
    const fam = option.dataset.family;
    if (fam) option.textContent = `${t(`family.${fam}`)} (${nf.format(f.families[fam] ?? 0)})`;
  }
  $('tiers-count').textContent = `(${nf.format(f.kinds['tiers-lieu'] ?? 0)})`;
  $('demo-count').textContent = `(${nf.format(f.demo)})`;
}

function filtersChanged() {
  updateFilterPill();
  writeUrl(true);
  loadActors();
}

function bindFilters() {
  $('family').addEventListener('change', (e) => {
    state.family = e.currentTarget.value;
    filtersChanged();
  });
  $('tiers-only').addEventListener('change', (e) => {
    state.tiersLieux = e.currentTarget.checked;
    filtersChanged();
  });
  $('open-now').addEventListener('change', (e) => {
    state.openNow = e.currentTarget.checked;
    filtersChanged();
  });
  $('hide-demo').addEventListener('change', (e) => {
    state.hideDemo = e.currentTarget.checked;
    filtersChanged();
  });
  $('demo-banner-hide')?.addEventListener('click', () => {
    state.hideDemo = true;
    $('hide-demo').checked = true;
    filtersChanged();
    $('list-heading').focus();
  });
  $('filters-reset').addEventListener('click', () => {
    Object.assign(state, { categories: [], family: '', tiersLieux: false, openNow: false, hideDemo: false });
    buildFilters();
    filtersChanged();
  });
}

// ---------- map ----------

/** Credits of the project's own data; the offline basemap's outlines credit IGN themselves. */
function attributions() {
  const credits = [t('attribution.actors'), t('attribution.cog')];
  // Territory outlines drawn over a remote basemap come from IGN too.
  if (!offline) credits.push(t('attribution.outlines'));
  return credits;
}

async function chooseStyle() {
  const origin = location.origin;
  const fallback = offlineStyle(origin, t('attribution.outlines'));
  if (!config.basemap_style || embedded?.basemap === 'offline') return fallback;
  try {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 6000);
    const res = await fetch(config.basemap_style, { signal: ctrl.signal });
    clearTimeout(timer);
    if (!res.ok) throw new Error(String(res.status));
    const style = await res.json();
    if (!style || style.version !== 8) throw new Error('not a style');
    offline = false;
    return style;
  } catch {
    showMapMessage(t('map.fallback'));
    return fallback;
  }
}

function showMapMessage(text) {
  $('map-message-text').textContent = text;
  $('map-message').hidden = !text;
}

let attributionControl = null;
let creditsObserver = null;
function setAttribution() {
  if (!map) return;
  if (attributionControl) map.removeControl(attributionControl);
  attributionControl = new maplibregl.AttributionControl({ compact: false, customAttribution: attributions() });
  map.addControl(attributionControl, 'bottom-right');
  watchCredits();
}

/**
 * Tells the CSS how high the credits stand (`--credits-height`): they wrap on several lines in
 * narrow frames or under a basemap's long credits, and the legend stays above them.
 */
function watchCredits() {
  const credits = map.getContainer().querySelector('.maplibregl-ctrl-attrib');
  if (!credits || typeof ResizeObserver === 'undefined') return;
  creditsObserver?.disconnect();
  creditsObserver = new ResizeObserver(() => {
    const top = credits.getBoundingClientRect().top;
    const bottom = map.getContainer().getBoundingClientRect().bottom;
    map.getContainer().parentElement.style.setProperty('--credits-height', `${Math.max(0, Math.ceil(bottom - top))}px`);
  });
  creditsObserver.observe(credits);
}

/**
 * The font of the cluster counts: the browser's own for the offline basemap; a font the remote
 * style already uses when it has a glyph server (which would not know "sans-serif").
 */
function countFont() {
  const style = map.getStyle();
  if (!style.glyphs) return ['sans-serif'];
  for (const layer of style.layers) {
    const font = layer.type === 'symbol' ? layer.layout?.['text-font'] : null;
    if (Array.isArray(font) && font.every((f) => typeof f === 'string')) return font;
  }
  return ['sans-serif'];
}

/** The URL template of the actor tiles of the current filters. */
function tilesUrl() {
  return `${location.origin}/tiles/actors/{z}/{x}/{y}.mvt?${queryParams()}`;
}

/** Where the actors' features are, for `setFeatureState`. */
function actorsFeature(id) {
  return mode === 'tiles' ? { source: 'actors', sourceLayer: 'actors', id } : { source: 'actors', id };
}

function addOverlay() {
  const o = overlay(categories, mode === 'tiles' ? tilesUrl() : true, countFont(), numberLocale());
  for (const [id, source] of Object.entries(o.sources)) {
    if (!map.getSource(id)) map.addSource(id, source);
  }
  for (const layer of o.layers) if (!map.getLayer(layer.id)) map.addLayer(layer);
  map.getSource('territory').setData(territoryFeature ?? EMPTY);
  if (embedded?.theme) map.setPaintProperty('territory-line', 'line-color', embedded.theme);
  drawNear();
  drawSelected();
}

/** Rings the actor whose sheet is open, even when its marker sits in a cluster. */
function drawSelected() {
  if (!map || !map.getSource('selected')) return;
  map.getSource('selected').setData(
    detailRecord && state.actor !== null
      ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: detailRecord.geometry, properties: {} }] }
      : EMPTY,
  );
}

function setActorsMode(next) {
  if (!map || next === mode) {
    mode = next;
    // New filters: new tiles (the old ones stay drawn until the new ones arrive).
    const source = map?.getSource('actors');
    if (mode === 'tiles' && source?.setTiles && source.tiles?.[0] !== tilesUrl()) source.setTiles([tilesUrl()]);
    return;
  }
  mode = next;
  for (const id of ['clusters', 'cluster-count', 'actors', 'selected-ring', 'hover-ring'])
    if (map.getLayer(id)) map.removeLayer(id);
  if (map.getSource('actors')) map.removeSource('actors');
  addOverlay();
}

function setActorsData(data) {
  if (map && map.getSource('actors')) map.getSource('actors').setData(data);
}

async function createMap() {
  const style = await chooseStyle();
  try {
    map = new maplibregl.Map({
      container: 'map',
      style,
      center: [state.lon, state.lat],
      zoom: state.zoom,
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      maxZoom: 19,
      // In another site's page, the wheel scrolls that page; Ctrl + wheel or two fingers move the map.
      cooperativeGestures: Boolean(embedded),
      locale: {
        'CooperativeGesturesHandler.WindowsHelpText': t('embed.gestures.windows'),
        'CooperativeGesturesHandler.MacHelpText': t('embed.gestures.mac'),
        'CooperativeGesturesHandler.MobileHelpText': t('embed.gestures.mobile'),
        'FullscreenControl.Enter': t('embed.fullscreen.enter'),
        'FullscreenControl.Exit': t('embed.fullscreen.exit'),
        'Map.Title': t('map.label'),
        'NavigationControl.ZoomIn': t('map.zoomin'),
        'NavigationControl.ZoomOut': t('map.zoomout'),
        'AttributionControl.ToggleAttribution': t('map.attribution.toggle'),
      },
    });
  } catch {
    map = null;
    showMapMessage(t('map.nowebgl'));
    return;
  }
  // A handle for the browser tests and for debugging from the console.
  window.ancrage = { map };
  map.touchZoomRotate.disableRotation();
  syncPadding();
  window.addEventListener('resize', syncPadding);
  const viewAsked = embedded ? embedded.view || embedded.bbox || embedded.territory : OPENED_ON_VIEW;
  if (embedded?.bbox) {
    const [w, s, e, n] = embedded.bbox;
    map.fitBounds([[w, s], [e, n]], { padding: 10, animate: false });
  } else if (!viewAsked) {
    // No view asked for: show the whole of metropolitan France whatever the screen size.
    map.fitBounds(FRANCE, { padding: 10, animate: false });
  }
  const control = (name) => !embedded || embedded.controls.includes(name);
  if (control('zoom')) map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  if (embedded && control('fullscreen')) map.addControl(new maplibregl.FullscreenControl(), 'top-right');
  if (embedded && control('geolocation')) map.addControl(locateControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  setAttribution();
  map.on('error', (e) => {
    // A failing remote tile leaves the actors usable; the message is for operators.
    console.error('map error:', e && e.error ? e.error.message : e);
  });
  await new Promise((resolve) => map.once('load', resolve));
  addOverlay();
  const centre = map.getCenter();
  Object.assign(state, { lon: centre.lng, lat: centre.lat, zoom: map.getZoom() });
  if (offline) {
    // Same URL as the style's source: answered from the browser's cache.
    api('/api/v1/map/outlines/departements')
      .then((data) => map.getSource('departement-labels')?.setData(labelPoints(data)))
      .catch(() => {});
  }
  map.on('moveend', () => {
    const c = map.getCenter();
    state.lon = c.lng;
    state.lat = c.lat;
    state.zoom = map.getZoom();
    if (!embedded) dropTerritoryLeft();
    writeUrl(false);
    scheduleView();
  });
  // A click elsewhere on the map folds the actors of a point back.
  map.on('click', (e) => {
    if (spread && !map.queryRenderedFeatures(e.point, { layers: ['actors', 'clusters'] }).length) closeSpread();
  });
  map.on('zoomstart', () => closeSpread());
  map.on('click', 'clusters', async (e) => {
    const f = e.features[0];
    if (!f || picking) return;
    if (mode === 'tiles') {
      const { west, south, east, north } = f.properties;
      const box = [west, south, east, north];
      // Actors sharing one point never separate: zooming in would not help.
      if (box[0] === box[2] && box[1] === box[3]) openSpread([box[0], box[1]]);
      else map.fitBounds(box, { padding: 60, maxZoom: 17 });
    } else {
      const source = map.getSource('actors');
      const [leaf] = await source.getClusterLeaves(f.properties.cluster_id, 1, 0);
      const place = leaf ? actorsAt.get(placeOf.get(Number(leaf.properties.id))) : null;
      if (place && place.ids.length === f.properties.point_count) {
        openSpread(place.lngLat);
        return;
      }
      const zoom = await source.getClusterExpansionZoom(f.properties.cluster_id);
      map.easeTo({ center: f.geometry.coordinates, zoom: Math.min(zoom, 18) });
    }
  });
  map.on('click', 'actors', (e) => {
    const f = e.features[0];
    if (!f || picking) return;
    const id = Number(f.properties.id);
    const place = actorsAt.get(placeOf.get(id));
    if (place && place.ids.length > 1) openSpread(place.lngLat);
    else openDetail(id, { push: true, focus: true });
  });
  map.on('click', (e) => {
    if (!picking) return;
    setPicking(false);
    setNear({ lon: e.lngLat.lng, lat: e.lngLat.lat }, true);
  });
  for (const layer of ['actors', 'clusters']) {
    map.on('mouseenter', layer, () => {
      map.getCanvas().style.cursor = 'pointer';
    });
    map.on('mouseleave', layer, () => {
      map.getCanvas().style.cursor = picking ? 'crosshair' : '';
    });
  }
  map.on('mousemove', 'actors', (e) => {
    const f = e.features[0];
    if (f) setHover(Number(f.properties.id), 'map');
  });
  map.on('mouseleave', 'actors', () => setHover(null, 'map'));
}

function setHover(id, from) {
  if (hovered === id) return;
  if (map && hovered !== null && map.getSource('actors')) map.setFeatureState(actorsFeature(hovered), { hover: false });
  hovered = id;
  if (map && id !== null && map.getSource('actors')) map.setFeatureState(actorsFeature(id), { hover: true });
  if (map && map.getSource('hover')) {
    const item = from === 'list' && id !== null ? listItems.find((f) => f.id === id) : null;
    map.getSource('hover').setData(
      item ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: item.geometry, properties: {} }] } : EMPTY,
    );
  }
  for (const node of document.querySelectorAll('.item.highlight')) node.classList.remove('highlight');
  if (id !== null) {
    const item = document.querySelector(`.item[data-id="${id}"]`);
    if (item) {
      item.classList.add('highlight');
      if (from === 'map') item.scrollIntoView({ block: 'nearest' });
    }
  }
}

// ---------- loading actors ----------

async function loadActors() {
  const seq = ++pointsSeq;
  try {
    const data = await api('/api/v1/map/points', queryParams());
    if (seq !== pointsSeq) return;
    closeSpread();
    indexPlaces(data.truncated ? [] : data.points);
    if (data.truncated) {
      setActorsMode('tiles');
    } else {
      setActorsMode('points');
      setActorsData(pointsToFeatures(data.points, categories));
    }
  } catch {
    announce('list-status', t('list.error'), true);
  }
  scheduleView(0);
}

/**
 * Requests of the view made again within this many milliseconds share the first answer: a
 * wheel zoom ends with two `moveend` at the same view, and a mode switch redraws the view it
 * just asked for; the server is asked once.
 */
const VIEW_REUSE_MS = 10_000;
const viewAnswers = new Map();

/** `api()` for the view's facets and list, sharing identical recent requests. */
function viewApi(path, params) {
  const key = `${path}?${params}`;
  const now = Date.now();
  for (const [k, v] of viewAnswers) if (now - v.at > VIEW_REUSE_MS) viewAnswers.delete(k);
  let hit = viewAnswers.get(key);
  if (!hit) {
    hit = { at: now, answer: api(path, params) };
    // A failed request is not remembered: the next move asks again.
    hit.answer.catch(() => viewAnswers.delete(key));
    viewAnswers.set(key, hit);
  }
  return hit.answer;
}

function scheduleView(delay = 200) {
  clearTimeout(viewTimer);
  viewTimer = setTimeout(refreshView, delay);
}

async function refreshView() {
  const seq = ++viewSeq;
  const box = viewBox();
  const bbox = box.map(fixed).join(',');
  const filters = queryParams();
  const withBox = new URLSearchParams(filters);
  withBox.set('bbox', bbox);
  const jobs = [
    viewApi('/api/v1/map/facets', withBox)
      .then((f) => {
        if (seq === viewSeq) updateCounts(f);
      })
      .catch(() => {}),
  ];
  if (!state.near) jobs.push(loadViewList(seq, withBox));
  else jobs.push(loadNearList(seq));
  await Promise.all(jobs);
}

async function withHours(items) {
  const missing = items.map((f) => f.id).filter((id) => !hoursCache.has(id));
  for (let i = 0; i < missing.length; i += 200) {
    const ids = missing.slice(i, i + 200);
    try {
      const data = await api('/api/v1/map/hours', new URLSearchParams({ ids: ids.join(',') }));
      for (const id of ids) hoursCache.set(id, data.hours[String(id)] ?? null);
    } catch {
      // Without hours, places show no open/closed badge.
    }
  }
  return items;
}

/** Whether a listed actor is open now, in the time zone of its commune. */
function openState(f, now = new Date()) {
  const text = hoursCache.get(f.id);
  if (text === undefined || text === null) return { known: false };
  const schedule = hours.parse(text);
  if (!schedule) return { known: false };
  const local = hours.wallClock(now, hours.timeZoneOf(f.properties.commune?.code));
  return { known: true, open: hours.isOpen(schedule, local) };
}

async function loadViewList(seq, withBox) {
  const p = new URLSearchParams(withBox);
  p.set('limit', String(LIST_LIMIT));
  try {
    const data = await viewApi('/api/v1/actors', p);
    if (seq !== viewSeq) return;
    const centre = map ? map.getCenter().toArray() : [state.lon, state.lat];
    let items = data.features
      .map((f) => ({ ...f, centreDistance: distanceM(centre, f.geometry.coordinates) }))
      .sort((a, b) => a.centreDistance - b.centreDistance);
    await withHours(items);
    if (seq !== viewSeq) return;
    listMeta = { kind: 'view', total: data.numberMatched, fetched: data.features.length };
    listItems = items;
    renderList();
  } catch {
    if (seq === viewSeq) announce('list-status', t('list.error'), true);
  }
}

// ---------- list ----------

function renderList() {
  const list = $('list');
  const nf = new Intl.NumberFormat(lang() === 'en' ? 'en-GB' : 'fr-FR');
  let status;
  if (listMeta.kind === 'near') {
    const r = state.radiusKm;
    status =
      listMeta.total === 0
        ? t('near.heading.none', { r })
        : listMeta.total === 1
          ? t('near.heading.one', { r })
          : t('near.heading', { n: nf.format(listMeta.total), r });
    if (listMeta.total > listMeta.fetched) status += ` (${t('near.more', { n: listMeta.fetched, total: nf.format(listMeta.total) })})`;
  } else {
    status =
      listMeta.total === 0
        ? t('list.view.none')
        : listMeta.total === 1
          ? t('list.view.one')
          : t('list.view', { n: nf.format(listMeta.total) });
    if (listMeta.total > listMeta.fetched) status += `. ${t('list.first', { shown: listMeta.fetched })}`;
  }
  announce('list-status', status);
  $('near-clear').hidden = !state.near;
  // Keep keyboard focus on the same place when the list is redrawn under it.
  const focused = document.activeElement?.closest?.('.item')?.dataset.id;
  list.replaceChildren(...listItems.map(listItem));
  if (focused) document.querySelector(`.item[data-id="${focused}"]`)?.focus({ preventScroll: true });
  if (revealNear && listMeta.kind === 'near') {
    revealNear = false;
    revealListCount();
  }
  document.body.dataset.listVersion = String(Number(document.body.dataset.listVersion ?? 0) + 1);
}

function listItem(f) {
  const p = f.properties;
  // The swatch matches the marker: the category of the filter that shows the place.
  const wanted = (queryParams().get('category') ?? '').split(',').filter(Boolean);
  const first = catBySlug.get(p.categories[0]);
  const colour = (markerRoot(p.categories, wanted, categories) ?? rootOf(p.categories[0]) ?? first)?.colour ?? '#555';
  const where = p.commune?.name ?? '';
  const open = openState(f);
  const badges = [];
  if (open.known) badges.push(el('span', { class: `badge ${open.open ? 'open' : 'closed'}`, text: t(open.open ? 'open.now' : 'open.closed') }));
  if (p.demo) badges.push(el('span', { class: 'badge', text: t('demo.badge') }));
  const button = el(
    'button',
    {
      type: 'button',
      class: 'item',
      'data-id': String(f.id),
      style: `--item-colour:${colour}`,
      onclick: () => openDetail(f.id, { push: true, focus: true, fly: true }),
      onmouseenter: () => setHover(f.id, 'list'),
      onmouseleave: () => setHover(null, 'list'),
      onfocus: () => setHover(f.id, 'list'),
      onblur: () => setHover(null, 'list'),
    },
    p.distance_m !== undefined ? el('span', { class: 'item-distance', text: formatDistance(p.distance_m, lang()) }) : null,
    el('span', { class: 'item-name', text: p.name }),
    el('span', { class: 'item-meta', text: [first ? label(first) : '', where].filter(Boolean).join(' · ') }),
    badges,
  );
  return el('li', {}, button);
}

// ---------- "Autour de moi" ----------

function setPicking(on) {
  picking = on;
  $('near-pick')?.setAttribute('aria-pressed', String(on));
  document.body.classList.toggle('picking', on);
  announce('near-message', on ? t('near.pick.hint') : '');
  if (map) map.getCanvas().style.cursor = on ? 'crosshair' : '';
}

function drawNear() {
  if (!map || !map.getSource('near')) return;
  if (!state.near) {
    map.getSource('near').setData(EMPTY);
    return;
  }
  const c = [state.near.lon, state.near.lat];
  map.getSource('near').setData({
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', geometry: circlePolygon(c, state.radiusKm * 1000), properties: {} },
      { type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: {} },
    ],
  });
}

function fitNear() {
  if (!map || !state.near) return;
  const ring = circlePolygon([state.near.lon, state.near.lat], state.radiusKm * 1000).coordinates[0];
  const lons = ring.map((p) => p[0]);
  const lats = ring.map((p) => p[1]);
  map.fitBounds(
    [
      [Math.min(...lons), Math.min(...lats)],
      [Math.max(...lons), Math.max(...lats)],
    ],
    { padding: 30, duration: 600 },
  );
}

function setNear(point, push) {
  state.near = point;
  revealNear = true;
  closeDetail(null);
  writeUrl(push);
  drawNear();
  fitNear();
  scheduleView(0);
}

async function loadNearList(seq) {
  const p = queryParams();
  p.set('lon', fixed(state.near.lon));
  p.set('lat', fixed(state.near.lat));
  p.set('radius', String(state.radiusKm * 1000));
  p.set('limit', String(LIST_LIMIT));
  try {
    const data = await api('/api/v1/actors/nearby', p);
    if (seq !== viewSeq) return;
    let items = data.features;
    await withHours(items);
    if (seq !== viewSeq) return;
    listMeta = { kind: 'near', total: data.numberMatched ?? items.length, fetched: data.features.length };
    listItems = items;
    renderList();
  } catch {
    if (seq === viewSeq) announce('list-status', t('list.error'), true);
  }
}

function locate() {
  setPicking(false);
  if (!('geolocation' in navigator)) {
    announce('near-message', t('near.unsupported'), true);
    return;
  }
  announce('near-message', t('near.locating'));
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      announce('near-message', '');
      setNear({ lon: pos.coords.longitude, lat: pos.coords.latitude }, true);
    },
    (err) => {
      const key = err.code === 1 ? 'near.denied' : err.code === 3 ? 'near.timeout' : 'near.unavailable';
      announce('near-message', t(key), true);
    },
    { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 },
  );
}

function bindNear() {
  $('near-locate')?.addEventListener('click', locate);
  $('near-pick')?.addEventListener('click', () => setPicking(!picking));
  $('near-radius')?.addEventListener('change', (e) => {
    state.radiusKm = Number(e.currentTarget.value);
    if (state.near) {
      writeUrl(true);
      drawNear();
      fitNear();
      scheduleView(0);
    } else {
      writeUrl(false);
    }
  });
  $('near-clear').addEventListener('click', () => {
    state.near = null;
    writeUrl(true);
    drawNear();
    announce('near-message', '');
    scheduleView(0);
    $('list-heading').focus();
  });
}

// ---------- detail sheet ----------

async function openDetail(id, { push = false, focus = false, fly = false } = {}) {
  if (document.activeElement && document.activeElement.closest && document.activeElement.closest('#results'))
    lastFocus = id;
  state.actor = id;
  if (detailShared?.id !== id) detailShared = null;
  markSpreadCurrent();
  writeUrl(push);
  const sheet = $('detail');
  if (embedded) $('panel').hidden = false;
  sheet.hidden = false;
  $('results').hidden = true;
  $('panel').classList.add('detail-open');
  sheet.replaceChildren(el('p', { class: 'message', text: t('list.loading') }));
  if (panelState() === 'peek') setPanel('half');
  try {
    detailRecord = await api(`/api/v1/actors/${id}`);
  } catch {
    detailRecord = null;
  }
  if (state.actor !== id) return;
  renderDetail();
  drawSelected();
  if (detailRecord) countSharedPlace(id, detailRecord.geometry.coordinates);
  if (detailRecord && map && fly) {
    const [lon, lat] = detailRecord.geometry.coordinates;
    if (!map.getBounds().contains([lon, lat]) || map.getZoom() < 12)
      map.easeTo({ center: [lon, lat], zoom: Math.max(map.getZoom(), 13) });
  }
  if (focus) $('detail-name')?.focus();
}

function closeDetail(push) {
  if (state.actor === null && $('detail').hidden) return;
  state.actor = null;
  detailRecord = null;
  markSpreadCurrent();
  $('detail').hidden = true;
  $('results').hidden = Boolean(embedded) && !embedded.controls.includes('list');
  if (embedded) $('panel').hidden = !embedPanelWanted();
  $('panel').classList.remove('detail-open');
  drawSelected();
  if (push !== null) writeUrl(push);
}

function renderDetail() {
  const sheet = $('detail');
  const back = el('button', {
    type: 'button',
    class: 'button',
    text: `← ${t('detail.back')}`,
    onclick: () => {
      const id = lastFocus;
      // Opened from the actors of a point still spread on the map: back to its leg.
      const leg = spread && spread.chosen === state.actor ? spreadMarker?.getElement().querySelector(`.spider-item[data-id="${state.actor}"]`) : null;
      closeDetail(true);
      const item = id !== null ? document.querySelector(`.item[data-id="${id}"]`) : null;
      (leg ?? item ?? $('list-heading')).focus();
    },
  });
  if (!detailRecord) {
    sheet.replaceChildren(back, el('h2', { id: 'detail-name', tabindex: '-1', text: t('detail.missing') }));
    return;
  }
  const f = detailRecord;
  const p = f.properties;
  const [lon, lat] = f.geometry.coordinates;
  const rows = [];
  const row = (key, value) => {
    if (value === null || value === undefined || value === '') return;
    rows.push(el('dt', { text: t(key) }), el('dd', {}, value));
  };
  row(
    'detail.categories',
    p.categories
      .map((s) => catBySlug.get(s))
      .filter(Boolean)
      .map(label)
      .join(', '),
  );
  row('detail.family', t(`family.${p.family}`));
  if (p.kinds.length) row('detail.kinds', p.kinds.map((k) => t(`kinds.${k}`)).join(', '));
  const address = [p.street, [p.postcode, p.commune?.name].filter(Boolean).join(' ')].filter(Boolean).join(', ');
  row('detail.address', address || t('detail.unknown'));
  row('detail.precision', t(`precision.${p.precision}`));
  if (p.opening_hours) {
    const schedule = hours.parse(p.opening_hours);
    if (schedule) {
      const open = hours.isOpen(schedule, hours.wallClock(new Date(), hours.timeZoneOf(p.commune?.code)));
      row(
        'detail.hours',
        el(
          'div',
          {},
          el('span', { class: `badge ${open ? 'open' : 'closed'}`, text: t(open ? 'open.now' : 'open.closed') }),
          el('ul', { class: 'hours' }, hours.describe(schedule, hoursWords()).map((line) => el('li', { text: line }))),
        ),
      );
    } else {
      row('detail.hours', el('div', {}, el('span', { class: 'badge closed', text: t('open.unknown') }), el('p', { text: p.opening_hours })));
    }
  }
  if (p.phone) row('detail.phone', el('a', { href: `tel:${p.phone.replace(/[^+\d]/g, '')}`, text: p.phone }));
  if (p.email) row('detail.email', el('a', { href: `mailto:${p.email}`, text: p.email }));
  const site = p.website ? safeHttpUrl(p.website) : null;
  if (p.website) row('detail.website', site ? el('a', { href: site, rel: 'noopener', target: '_blank', text: p.website }) : p.website);
  if (p.siret) row('detail.siret', p.siret);
  row('detail.source', p.source);
  if (p.updated_at) {
    const d = new Date(p.updated_at);
    row(
      'detail.updated',
      Number.isNaN(d.getTime()) ? p.updated_at : new Intl.DateTimeFormat(lang() === 'en' ? 'en-GB' : 'fr-FR', { dateStyle: 'long' }).format(d),
    );
  }
  const shareUrl = embedded
    ? new URL(embed.fullMapHref(embedded, state), location.origin).href
    : `${location.origin}${location.pathname}${formatState(state)}`;
  const actions = el(
    'div',
    { class: 'actions' },
    el('a', { class: 'button primary', href: osmDirectionsUrl(lon, lat), rel: 'noopener', target: '_blank', text: t('detail.directions') }),
    matchMedia('(pointer: coarse)').matches ? el('a', { class: 'button', href: geoUri(lon, lat, p.name), text: t('detail.directions.app') }) : null,
    el('button', { type: 'button', class: 'button', id: 'share', text: t('detail.share'), onclick: () => share(shareUrl, p.name) }),
    config.report_email
      ? el('a', {
          class: 'button',
          id: 'report',
          href: reportMailto(
            config.report_email,
            t('detail.report.subject', { name: p.name, id: f.id }),
            t('detail.report.body', { name: p.name, url: shareUrl }),
          ),
          text: t('detail.report'),
        })
      : null,
    el('button', { type: 'button', class: 'button', id: 'suggest', text: t('contrib.suggest'), onclick: () => contribute('correction', f) }),
    el('button', { type: 'button', class: 'button', id: 'report-closed', text: t('contrib.closed'), onclick: () => contribute('closure', f) }),
  );
  const distance = state.near ? distanceM([state.near.lon, state.near.lat], [lon, lat]) : null;
  sheet.replaceChildren(
    ...[
    back,
    el('h2', { id: 'detail-name', tabindex: '-1', text: p.name }),
    distance !== null ? el('p', { class: 'item-meta', text: t('detail.distance', { d: formatDistance(distance, lang()) }) }) : null,
    p.demo ? el('p', { class: 'demo-note' }, el('strong', { text: t('demo.badge') }), ' — ', t('demo.note')) : null,
    p.precision === 'commune'
      ? el('p', { class: 'position-note', id: 'detail-position' }, el('strong', { text: t('place.position.commune') }), ' — ', t('place.position.commune.detail'))
      : null,
    el('div', { id: 'detail-shared' }, sharedPlaceButton()),
    p.description ? el('p', { class: 'description', text: p.description }) : null,
    el('dl', {}, rows),
    actions,
    el('p', { id: 'share-message', class: 'message', role: 'status', 'aria-live': 'polite' }),
    ].filter(Boolean),
  );
}

function contribute(kind, actor = null) {
  openContribution({ kind, actor, categories, labelOf: label });
}

async function share(url, title) {
  if (navigator.share && matchMedia('(pointer: coarse)').matches) {
    try {
      await navigator.share({ url, title });
      return;
    } catch {
      // Fall back to copying.
    }
  }
  try {
    await navigator.clipboard.writeText(url);
    announce('share-message', t('detail.share.copied'));
  } catch {
    const msg = $('share-message');
    msg.replaceChildren(
      el('label', { for: 'share-url', text: t('detail.share.manual') }),
      el('input', { id: 'share-url', class: 'share-url', readonly: true, value: url }),
    );
    $('share-url').select();
  }
}

// ---------- actors sharing one point ----------

/** Most actors of one point the spread lists. */
const SPREAD_LIMIT = 100;

/** The key of a marker's position: its coordinates to 5 decimals, as the points are sent. */
function placeKey(lon, lat) {
  return `${lon.toFixed(5)},${lat.toFixed(5)}`;
}

/** Indexes the loaded points by position, to know which markers stand on one point. */
function indexPlaces(points) {
  placeOf = new Map();
  actorsAt = new Map();
  for (const [id, lon, lat] of points) {
    const key = placeKey(lon, lat);
    placeOf.set(id, key);
    const place = actorsAt.get(key);
    if (place) place.ids.push(id);
    else actorsAt.set(key, { lngLat: [lon, lat], ids: [id] });
  }
}

/** The API box of the actors drawn on one marker: its point, give or take the rounding. */
function pointBox([lon, lat]) {
  const d = 6e-6;
  return [lon - d, lat - d, lon + d, lat + d].map((v) => v.toFixed(7)).join(',');
}

/** Counts the actors matching the filters at the open sheet's point, and offers to spread them. */
async function countSharedPlace(id, lngLat) {
  const p = queryParams();
  p.set('bbox', pointBox(lngLat));
  p.set('limit', '1');
  try {
    const data = await api('/api/v1/actors', p);
    if (state.actor !== id || !detailRecord) return;
    detailShared = { id, n: data.numberMatched ?? 0 };
    $('detail-shared')?.replaceChildren(...[sharedPlaceButton()].filter(Boolean));
  } catch {
    // The sheet stays without the button.
  }
}

/** « Voir les 3 lieux à ce point »: the keyboard's way to the actors of a point. */
function sharedPlaceButton() {
  if (!detailRecord || detailShared?.id !== detailRecord.id || detailShared.n < 2) return null;
  const lngLat = detailRecord.geometry.coordinates;
  return el('button', {
    type: 'button',
    class: 'button',
    id: 'detail-spread',
    text: t('spider.open', { n: new Intl.NumberFormat(numberLocale()).format(detailShared.n) }),
    onclick: (e) => {
      if (map && !map.getBounds().contains(lngLat)) map.jumpTo({ center: lngLat });
      openSpread(lngLat, { opener: e.currentTarget });
    },
  });
}

/**
 * Fans out the actors matching the filters at a point (a list beyond {@link SPIDER_MAX}), each
 * a button opening its sheet; one actor opens at once. Focus goes to the first; Escape folds
 * them back and returns focus to `opener` (the map when clicked).
 */
async function openSpread(lngLat, { opener = null } = {}) {
  closeSpread();
  const seq = spreadSeq;
  const p = queryParams();
  p.set('bbox', pointBox(lngLat));
  p.set('limit', String(SPREAD_LIMIT));
  let data;
  try {
    data = await api('/api/v1/actors', p);
  } catch {
    announce('list-status', t('list.error'), true);
    return;
  }
  if (seq !== spreadSeq || !map || !data.features.length) return;
  if (data.features.length === 1) {
    openDetail(data.features[0].id, { push: true, focus: true });
    return;
  }
  spread = { lngLat, features: data.features, total: data.numberMatched ?? data.features.length, opener: opener ?? map.getCanvas(), chosen: null };
  renderSpread();
  spreadMarker.getElement().querySelector('.spider-item')?.focus({ preventScroll: true });
}

function closeSpread({ restoreFocus = false } = {}) {
  spreadSeq++;
  if (!spread) return;
  const { opener } = spread;
  spread = null;
  spreadMarker?.remove();
  spreadMarker = null;
  if (restoreFocus && opener?.isConnected) opener.focus({ preventScroll: true });
}

function renderSpread() {
  spreadMarker?.remove();
  spreadMarker = null;
  if (!spread || !map) return;
  const { features, total, lngLat } = spread;
  const legs = features.length <= SPIDER_MAX ? spiderLegs(features.length) : null;
  const wanted = (queryParams().get('category') ?? '').split(',').filter(Boolean);
  const nf = new Intl.NumberFormat(numberLocale());
  const allCommune = features.every((f) => f.properties.precision === 'commune');
  const items = features.map((f, i) => {
    const p = f.properties;
    const [x, y] = legs ? legs[i] : [0, 0];
    const colour = markerRoot(p.categories, wanted, categories)?.colour ?? '#555555';
    return el(
      'li',
      {
        class: `spider-leg${x < 0 ? ' left' : ''}`,
        style: legs ? `--x:${x}px;--y:${y}px;--len:${Math.hypot(x, y).toFixed(1)}px;--angle:${Math.atan2(y, x).toFixed(4)}rad` : null,
      },
      el(
        'button',
        {
          type: 'button',
          class: 'spider-item',
          'data-id': String(f.id),
          'aria-current': state.actor === f.id ? 'true' : null,
          onclick: () => {
            if (spread) spread.chosen = f.id;
            openDetail(f.id, { push: true, focus: true });
          },
        },
        el('span', { class: 'spider-dot', style: `background:${colour}`, 'aria-hidden': 'true' }),
        el('span', { class: 'spider-name', text: p.name }),
        !allCommune && p.precision === 'commune' ? el('span', { class: 'spider-precision', text: t('spider.commune.one') }) : null,
      ),
    );
  });
  const radius = legs ? Math.max(...legs.map(([x, y]) => Math.hypot(x, y))) : 0;
  const node = el(
    'div',
    { class: `spider ${legs ? 'fan' : 'listed'}`, role: 'group', 'aria-labelledby': 'spider-title', style: `--spread-radius:${radius}px`, onkeydown: spreadKeys },
    el(
      'div',
      { class: 'spider-panel' },
      el('ul', { class: 'spider-legs' }, items),
      el(
        'div',
        { class: 'spider-caption' },
        el('p', { id: 'spider-title', class: 'spider-title', text: t('spider.title', { n: nf.format(total) }) }),
        allCommune
          ? el('p', { class: 'spider-position' }, el('strong', { text: t('place.position.commune') }), ' — ', t('spider.commune.all'))
          : null,
        total > features.length ? el('p', { class: 'spider-more', text: t('spider.more', { shown: nf.format(features.length) }) }) : null,
        el('button', { type: 'button', class: 'spider-close', 'aria-label': t('spider.close'), text: '×', onclick: () => closeSpread({ restoreFocus: true }) }),
      ),
    ),
  );
  // Clicks and presses in the spread are not the map's: they would fold it or pan.
  for (const type of ['mousedown', 'touchstart', 'click', 'dblclick', 'contextmenu']) node.addEventListener(type, (e) => e.stopPropagation());
  spreadMarker = new maplibregl.Marker({ element: node, anchor: 'center' }).setLngLat(lngLat).addTo(map);
}

/** Arrows, Home and End move between the actors of the spread; Escape folds it. */
function spreadKeys(e) {
  // The map would pan or zoom on these keys.
  e.stopPropagation();
  const items = [...e.currentTarget.querySelectorAll('.spider-item')];
  // Inside the embed's web component, focus is known to its shadow root.
  const i = items.indexOf(e.currentTarget.getRootNode().activeElement);
  const step = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1 }[e.key];
  if (e.key === 'Escape') {
    e.preventDefault();
    closeSpread({ restoreFocus: true });
  } else if (step) {
    e.preventDefault();
    items[(Math.max(i, step > 0 ? -1 : 0) + step + items.length) % items.length]?.focus();
  } else if (e.key === 'Home' || e.key === 'End') {
    e.preventDefault();
    items.at(e.key === 'Home' ? 0 : -1)?.focus();
  }
}

/** Marks the spread actor whose sheet is open. */
function markSpreadCurrent() {
  for (const b of spreadMarker?.getElement().querySelectorAll('.spider-item') ?? []) {
    if (Number(b.dataset.id) === state.actor) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
}

// ---------- territories ----------

/**
 * Outlines a territory and names it; `fit` shows the whole of it, flying there unless `animate`
 * is false (when the page opens on it).
 */
async function selectTerritory(ref, { push = false, fit = false, animate = true } = {}) {
  const [kind, code] = ref.split(':');
  try {
    const f = await api(`/api/v1/map/outlines/${kind}/${encodeURIComponent(code)}`);
    // A move still under way ends (and is checked against the previous territory) before this one.
    map?.stop();
    territoryFeature = f;
    state.territory = ref;
    writeUrl(push);
    if (map && map.getSource('territory')) map.getSource('territory').setData(f);
    if (map && fit && f.bbox) {
      const box = [[f.bbox[0], f.bbox[1]], [f.bbox[2], f.bbox[3]]];
      map.fitBounds(box, animate ? { padding: 40, duration: 800 } : { padding: embedded ? 20 : 40, animate: false });
    }
    $('territory-name').textContent = t('map.territory', { name: `${f.properties.name} (${t(`kind.${kind}`)})` });
    $('territory-chip').hidden = false;
    updateCoverageLink();
  } catch (e) {
    // Only a territory that does not exist lifts the lock; a failed request keeps it.
    if (embedded?.territory && e.status === 404) {
      console.warn(`Ancrage embed: parameter "territory" ignored: no territory ${ref}`);
      embedded = { ...embedded, territory: null };
    }
    clearTerritory(null);
  }
}

/**
 * The selected territory names where the map is: once the view's centre leaves the territory's
 * box (the user went to another city), the selection and its outline go.
 */
function dropTerritoryLeft() {
  const f = territoryFeature;
  if (!f?.bbox || `${f.properties.kind}:${f.properties.code}` !== state.territory) return;
  if (!insideBbox(f.bbox, [state.lon, state.lat])) clearTerritory(null);
}

function clearTerritory(push) {
  territoryFeature = null;
  state.territory = null;
  if (map && map.getSource('territory')) map.getSource('territory').setData(EMPTY);
  $('territory-chip').hidden = true;
  updateCoverageLink();
  if (push !== null) writeUrl(push);
}

/**
 * The link from the chosen territory to its coverage page, with the map's category (when one
 * is chosen: the page reports on one) and family, in the page's language. Demonstration data
 * is not carried: the page leaves it out of its figures unless asked there.
 */
function updateCoverageLink() {
  const link = $('territory-coverage');
  if (!link) return; // The embed page has no coverage link.
  link.hidden = !state.territory;
  if (!state.territory) return;
  const [kind, code] = state.territory.split(':');
  const q = new URLSearchParams();
  if (state.categories.length === 1) q.set('cat', state.categories[0]);
  if (state.family) q.set('fam', state.family);
  if (lang() === 'en') q.set('lang', 'en');
  const query = q.toString();
  link.href = `/territoire/${kind}/${encodeURIComponent(code)}${query ? `?${query}` : ''}`;
}

// ---------- search (ARIA combobox) ----------

// Suggestions come in groups, in this order: territories, categories, places, then addresses,
// which a BAN-compatible geocoder (`geocoder_url` of the map configuration) answers last: the
// other groups are shown first and keep their positions when the addresses come in.
let searchTimer = null;
let searchSeq = 0;
let options = [];
let active = -1;
const TERRITORY_LIMIT = 6;
const CATEGORY_LIMIT = 4;
const ADDRESS_LIMIT = 5;
// Longest wait for the geocoder, milliseconds: past it the address group says it did not answer.
const GEOCODER_TIMEOUT_MS = 5000;
// From this zoom the geocoder is asked for addresses near the centre of the view first.
const GEOCODER_NEAR_ZOOM = 9;

function closeSuggestions() {
  // A suggestion still on its way (the geocoder's) must not reopen the list.
  searchSeq++;
  $('search-list').hidden = true;
  $('search-input').setAttribute('aria-expanded', 'false');
  $('search-input').removeAttribute('aria-activedescendant');
  active = -1;
}

function setActive(i) {
  const nodes = [...document.querySelectorAll('#search-list [role="option"]:not([aria-disabled="true"])')];
  active = nodes.length ? (i + nodes.length) % nodes.length : -1;
  nodes.forEach((n, k) => n.setAttribute('aria-selected', String(k === active)));
  if (active >= 0) {
    $('search-input').setAttribute('aria-activedescendant', nodes[active].id);
    nodes[active].scrollIntoView({ block: 'nearest' });
  }
}

/** Text for loose matching: lower case, no accents, ligatures spelt out, one space between words. */
function foldText(text) {
  return String(text ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/œ/g, 'oe')
    .replace(/æ/g, 'ae')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Whether the text reads like a street address: a number, then words (« 12 rue de la Paix », « 3 bis av. Foch »). */
function looksLikeAddress(q) {
  return /^\d{1,4}\s*(?:bis|ter|quater|[a-z])?[\s,]+\p{L}{2,}/iu.test(q.trim());
}

/**
 * The categories whose French or English label matches the text (« épicerie » → Épicerie
 * solidaire): whole label first, then label prefix, then a word prefix (from three letters).
 */
function matchingCategories(q) {
  const query = foldText(q);
  if (query.length < 2) return [];
  const rank = (text) => {
    const name = foldText(text);
    if (name === query) return 3;
    if (name.startsWith(query)) return 2;
    return query.length >= 3 && ` ${name}`.includes(` ${query}`) ? 1 : 0;
  };
  return categories
    .filter((c) => !allowedCats || allowedCats.has(c.slug))
    .map((c, order) => ({ c, order, score: Math.max(rank(c.label_fr), rank(c.label_en)) }))
    .filter((m) => m.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, CATEGORY_LIMIT)
    .map((m) => m.c);
}

/** One feature of a BAN answer as a suggestion, or null when it has no usable point or label. */
function addressOf(f) {
  const c = f?.geometry?.type === 'Point' && Array.isArray(f.geometry.coordinates) ? f.geometry.coordinates : [];
  const [lon, lat] = [Number(c[0]), Number(c[1])];
  if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) return null;
  const p = f.properties ?? {};
  const label = String(p.label ?? p.name ?? '').trim();
  if (!label) return null;
  const place = [p.postcode, p.city].filter((v) => typeof v === 'string' && v).join(' ');
  return { lon, lat, label, name: String(p.name ?? label), place };
}

/**
 * Asks the geocoder for addresses (the api-adresse.data.gouv.fr `/search/` API): resolves to
 * `{ items }`, or `{ error: 'timeout' | 'failed' }`; never rejects.
 */
async function geocode(q) {
  const p = new URLSearchParams({ q, limit: String(ADDRESS_LIMIT) });
  if (map && map.getZoom() >= GEOCODER_NEAR_ZOOM) {
    const c = map.getCenter();
    p.set('lat', fixed(c.lat));
    p.set('lon', fixed(c.lng));
  }
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), GEOCODER_TIMEOUT_MS);
  try {
    const res = await fetch(`${config.geocoder_url}/search/?${p}`, { signal: ctrl.signal, headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`geocoder: HTTP ${res.status}`);
    const data = await res.json();
    const features = Array.isArray(data?.features) ? data.features : [];
    return { items: features.map(addressOf).filter(Boolean).slice(0, ADDRESS_LIMIT) };
  } catch (err) {
    console.warn('address search:', err);
    return { error: ctrl.signal.aborted ? 'timeout' : 'failed' };
  } finally {
    clearTimeout(timer);
  }
}

/** What the address group says instead of addresses (loading, unavailable, failed), or null. */
function addressNote(addresses) {
  if (!addresses || addresses.items?.length) return null;
  if (addresses.loading) return t('search.addresses.loading');
  if (addresses.unavailable) return t('search.addresses.unavailable');
  if (addresses.error === 'timeout') return t('search.addresses.timeout');
  if (addresses.error) return t('search.addresses.failed');
  return t('search.addresses.none');
}

/** The second line of a territory: its kind, département, and the postcode or code it was found by. */
function territoryDetail(p, q) {
  const parts = [t(`kind.${p.kind}`)];
  if (p.kind === 'commune' && p.departement) parts.push(p.departement.code);
  const postcodes = Array.isArray(p.postcodes) ? p.postcodes : [];
  if (p.matched === 'postcode') {
    const typed = q.replace(/\s+/g, '');
    parts.push(t('search.match.postcode', { code: postcodes.find((c) => c === typed) ?? typed }));
  } else if (p.matched === 'code') {
    const key = p.kind === 'commune' ? 'search.match.insee' : p.kind === 'epci' ? 'search.match.siren' : 'search.match.code';
    parts.push(t(key, { code: p.code }));
  } else if (p.kind === 'commune' && postcodes.length) {
    parts.push(postcodes.length > 1 ? t('search.postcodes.more', { code: postcodes[0], n: postcodes.length - 1 }) : postcodes[0]);
  }
  return parts.join(' · ');
}

function categoryDetail(c) {
  const parent = c.parent ? catBySlug.get(c.parent) : null;
  const where = parent ? label(parent) : t('search.category.root');
  return state.categories.includes(c.slug) ? `${where} · ${t('search.category.active')}` : where;
}

/**
 * Draws the suggestions `s` (`{ q, territories, categories, actors, addresses }`); with
 * `keepActive`, the highlighted option stays (the groups before the addresses do not move).
 */
function renderSuggestions(s, keepActive = false) {
  options = [
    ...s.territories.map((f) => ({ type: 'territory', f })),
    ...s.categories.map((c) => ({ type: 'category', c })),
    ...s.actors.map((f) => ({ type: 'actor', f })),
    ...(s.addresses?.items ?? []).map((a) => ({ type: 'address', a })),
  ];
  const text = (o) => {
    if (o.type === 'territory') return [o.f.properties.name, territoryDetail(o.f.properties, s.q)];
    if (o.type === 'category') return [label(o.c), categoryDetail(o.c)];
    if (o.type === 'address') return [o.a.name, o.a.place];
    return [o.f.properties.name, o.f.properties.commune?.name ?? ''];
  };
  const option = (o) => {
    const index = options.indexOf(o);
    const [name, detail] = text(o);
    return el(
      'li',
      {
        role: 'option',
        id: `search-option-${index}`,
        'aria-selected': 'false',
        'data-index': String(index),
        'data-kind': o.type,
        onmousedown: (e) => e.preventDefault(),
        onclick: () => choose(options[index]),
      },
      el('span', { text: name }),
      el('small', { text: detail }),
    );
  };
  const nodes = [];
  const group = (type, key) => {
    const members = options.filter((o) => o.type === type);
    if (members.length) nodes.push(el('li', { role: 'presentation', class: 'group', text: t(key) }), ...members.map(option));
  };
  group('territory', 'search.territories');
  group('category', 'search.categories');
  group('actor', 'search.actors');
  // Messages are disabled options: a listbox holds options only, and the arrows skip them.
  const message = (id, cls, text) => el('li', { role: 'option', id, 'aria-disabled': 'true', 'aria-selected': 'false', class: cls, text });
  const note = addressNote(s.addresses);
  if (!options.length && !s.addresses?.loading) nodes.push(message('search-none', 'empty', t('search.none')));
  group('address', 'search.addresses');
  if (note) {
    nodes.push(
      el('li', { role: 'presentation', class: 'group', text: t('search.addresses') }),
      message('search-address-note', s.addresses.error ? 'empty address-note error' : 'empty address-note', note),
    );
  }
  const list = $('search-list');
  list.replaceChildren(...nodes);
  list.hidden = false;
  $('search-input').setAttribute('aria-expanded', 'true');
  if (keepActive && active >= 0 && active < options.length) setActive(active);
  else {
    active = -1;
    $('search-input').removeAttribute('aria-activedescendant');
  }
  const count = options.length ? t('search.count', { n: options.length }) : t('search.none');
  announce('search-status', note && !s.addresses.loading ? `${count}. ${note}` : count);
}

async function suggest(q) {
  const seq = ++searchSeq;
  const geocoder = config.geocoder_url ?? null;
  // An address-like text is sent to the geocoder at once, the others only if nothing else matched.
  const addressLike = looksLikeAddress(q);
  let pending = addressLike && geocoder ? geocode(q) : null;
  const [terr, actors] = await Promise.all([
    api('/api/v1/territories/search', new URLSearchParams({ q, limit: embedded?.territory ? '50' : String(TERRITORY_LIMIT) })).catch(() => ({ features: [] })),
    api('/api/v1/actors', embedded ? embed.applyLock(new URLSearchParams({ q, limit: '5' }), embedded, allowedCats) : new URLSearchParams({ q, limit: '5' })).catch(() => ({
      features: [],
    })),
  ]);
  if (seq !== searchSeq) return;
  const s = {
    q,
    territories: terr.features.filter((f) => !embedded || embed.insideTerritory(embedded, f.properties)).slice(0, TERRITORY_LIMIT),
    categories: matchingCategories(q),
    actors: actors.features,
    addresses: null,
  };
  const wanted = addressLike || (!s.territories.length && !s.categories.length);
  if (wanted && !geocoder) s.addresses = { unavailable: true };
  else if (wanted) {
    pending ??= geocode(q);
    s.addresses = { loading: true };
  }
  renderSuggestions(s);
  if (!pending || !wanted) return;
  s.addresses = await pending;
  if (seq !== searchSeq || $('search-list').hidden) return;
  renderSuggestions(s, true);
}

/** A category chosen in the search box is checked in the filters, as the filter panel does. */
function chooseCategory(c) {
  $('search-input').value = '';
  if (!state.categories.includes(c.slug)) {
    const set = new Set(state.categories).add(c.slug);
    state.categories = categories.map((x) => x.slug).filter((slug) => set.has(slug));
    buildFilters();
    filtersChanged();
  }
  announce('search-status', t('search.category.applied', { name: label(c) }));
}

/** An address chosen in the search box becomes the centre of « Autour de moi ». */
function chooseAddress(a) {
  $('search-input').value = a.label;
  setPicking(false);
  setNear({ lon: a.lon, lat: a.lat }, true);
  announce('near-message', t('search.address.near', { label: a.label }));
}

function choose(o) {
  if (!o) return;
  closeSuggestions();
  if (o.type === 'category') {
    chooseCategory(o.c);
    return;
  }
  if (o.type === 'address') {
    chooseAddress(o.a);
    return;
  }
  const p = o.f.properties;
  $('search-input').value = p.name;
  if (o.type === 'territory' && embedded) {
    // The embed keeps its own territory outlined: a place inside it is only shown.
    if (map && o.f.bbox) map.fitBounds([[o.f.bbox[0], o.f.bbox[1]], [o.f.bbox[2], o.f.bbox[3]]], { padding: 30, duration: 600 });
  } else if (o.type === 'territory') {
    selectTerritory(`${p.kind}:${p.code}`, { push: true, fit: true });
  } else {
    openDetail(o.f.id, { push: true, focus: true, fly: true });
  }
}

function bindSearch() {
  const input = $('search-input');
  input.addEventListener('input', () => {
    clearTimeout(searchTimer);
    const q = input.value.trim();
    if (q.length < 2) {
      closeSuggestions();
      return;
    }
    searchTimer = setTimeout(() => suggest(q), 180);
  });
  input.addEventListener('keydown', (e) => {
    const open = !$('search-list').hidden;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open && input.value.trim().length >= 2) suggest(input.value.trim());
      else setActive(active + 1);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      if (open) setActive(active - 1);
    } else if (e.key === 'Enter') {
      if (open && options.length) {
        e.preventDefault();
        choose(options[active >= 0 ? active : 0]);
      }
    } else if (e.key === 'Escape') {
      if (open) closeSuggestions();
      else input.value = '';
    }
  });
  input.addEventListener('blur', () => setTimeout(closeSuggestions, 150));
}

// ---------- panel (bottom sheet on phones) ----------

// The sheet's heights on phones, smallest first: the count line only, half the map, nearly all.
const SHEET_STATES = ['peek', 'half', 'full'];
// The handle's action in each state: tapping it goes round the three.
const SHEET_NEXT = { peek: 'half', half: 'full', full: 'peek' };
const SHEET_LABEL = { peek: 'panel.show', half: 'panel.expand', full: 'panel.hide' };
let sheetDragged = false;

function panelState() {
  return $('panel').dataset.state;
}

function setPanel(s) {
  $('panel').dataset.state = s;
  updatePanelToggle();
  syncPadding();
}

function phoneLayout() {
  return matchMedia('(max-width: 720px)').matches;
}

/** The sheet's height in each state, CSS pixels, measured without the transition. */
function sheetHeights() {
  const panel = $('panel');
  const current = panel.dataset.state;
  const inline = panel.style.height;
  panel.style.height = '';
  const heights = SHEET_STATES.map((s) => {
    panel.dataset.state = s;
    return panel.getBoundingClientRect().height;
  });
  panel.dataset.state = current;
  panel.style.height = inline;
  return heights;
}

/**
 * The handle of the sheet: a tap goes to the next height, Up and Down arrows step through them,
 * and a drag ends on the nearest one.
 */
function bindSheet() {
  const panel = $('panel');
  const handle = $('panel-toggle');
  handle.addEventListener('click', () => {
    if (sheetDragged) return;
    setPanel(SHEET_NEXT[panelState()] ?? 'half');
  });
  handle.addEventListener('keydown', (e) => {
    const step = { ArrowUp: 1, ArrowDown: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    const i = SHEET_STATES.indexOf(panelState());
    setPanel(SHEET_STATES[Math.max(0, Math.min(SHEET_STATES.length - 1, i + step))]);
  });
  let drag = null;
  handle.addEventListener('pointerdown', (e) => {
    if (!phoneLayout() || e.button !== 0) return;
    drag = { y: e.clientY, height: panel.getBoundingClientRect().height, moved: false };
    handle.setPointerCapture(e.pointerId);
  });
  handle.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.abs(dy) < 8) return;
    if (!drag.moved) {
      drag.moved = true;
      panel.classList.add('dragging');
      drag.heights = sheetHeights();
    }
    const [min, , max] = drag.heights;
    panel.style.height = `${Math.max(min, Math.min(max, drag.height - dy))}px`;
  });
  const end = () => {
    if (!drag) return;
    const { moved, heights } = drag;
    drag = null;
    if (!moved) return;
    const h = panel.getBoundingClientRect().height;
    const nearest = heights.reduce((best, v, i) => (Math.abs(v - h) < Math.abs(heights[best] - h) ? i : best), 0);
    panel.style.height = '';
    panel.classList.remove('dragging');
    setPanel(SHEET_STATES[nearest]);
    // The click that ends a drag is not a tap.
    sheetDragged = true;
    setTimeout(() => {
      sheetDragged = false;
    }, 0);
  };
  handle.addEventListener('pointerup', end);
  handle.addEventListener('pointercancel', end);
  panel.addEventListener('transitionend', syncPadding);
  // The skip link leads to the list, which the smallest sheet hides.
  document.querySelector('.skip-link')?.addEventListener('click', () => {
    if (panelState() === 'peek') setPanel('half');
  });
}

/**
 * Brings the count line of the list into view in the panel (after « Me localiser », the places
 * around sit below the location box): the panel scrolls to the list's heading.
 */
function revealListCount() {
  const body = $('panel-body');
  const status = $('list-status').getBoundingClientRect();
  const box = body.getBoundingClientRect();
  if (status.top >= box.top && status.bottom <= box.bottom) return;
  body.scrollTop += $('list-heading').getBoundingClientRect().top - box.top;
}

/** On phones the sheet covers the bottom of the map: keep the map's centre above it. */
function syncPadding() {
  if (!map) return;
  const bottom = phoneLayout() && !$('panel').hidden ? $('panel').getBoundingClientRect().height : 0;
  map.setPadding({ top: 0, left: 0, right: 0, bottom });
}

function updatePanelToggle() {
  $('panel-toggle').setAttribute('aria-expanded', String(panelState() !== 'peek'));
  $('panel-toggle-text').textContent = t(SHEET_LABEL[panelState()] ?? 'panel.hide');
}

// ---------- header menu (phones) ----------

function setMenu(open, { focus = false } = {}) {
  const toggle = $('menu-toggle');
  if (!toggle) return;
  toggle.closest('.topbar').classList.toggle('menu-open', open);
  toggle.setAttribute('aria-expanded', String(open));
  if (open && focus) $('top-links').querySelector('a, button')?.focus();
  if (!open && focus) toggle.focus();
}

/** The ☰ Menu button of phones: it shows the secondary links; Escape or a click elsewhere closes it. */
function bindMenu() {
  const toggle = $('menu-toggle');
  if (!toggle) return;
  const links = $('top-links');
  const isOpen = () => toggle.getAttribute('aria-expanded') === 'true';
  toggle.addEventListener('click', () => setMenu(!isOpen()));
  toggle.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && !isOpen()) {
      e.preventDefault();
      setMenu(true, { focus: true });
    }
  });
  toggle.closest('.topbar').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && isOpen()) {
      e.preventDefault();
      setMenu(false, { focus: true });
    }
  });
  // Choosing a link does its work and folds the menu; so do a click or a focus outside.
  links.addEventListener('click', () => {
    if (isOpen()) setMenu(false, { focus: links.contains(document.activeElement) });
  });
  document.addEventListener('pointerdown', (e) => {
    if (isOpen() && !toggle.contains(e.target) && !links.contains(e.target)) setMenu(false);
  });
  links.addEventListener('focusout', (e) => {
    if (isOpen() && e.relatedTarget && !links.contains(e.relatedTarget) && e.relatedTarget !== toggle) setMenu(false);
  });
}

// ---------- language, history ----------

/** Writes the cluster counts and the spread actors of a point in the page's language. */
function relabelMap() {
  if (map?.getLayer('cluster-count')) map.setLayoutProperty('cluster-count', 'text-field', countLabel(numberLocale()));
  if (spread) renderSpread();
}

function switchLanguage() {
  state.lang = toggleLang();
  applyStrings();
  buildFilters();
  setAttribution();
  relabelMap();
  writeUrl(true);
  renderList();
  if (detailRecord) renderDetail();
  if (territoryFeature) {
    const [kind] = state.territory.split(':');
    $('territory-name').textContent = t('map.territory', { name: `${territoryFeature.properties.name} (${t(`kind.${kind}`)})` });
  }
  updateCoverageLink();
  scheduleView(0);
}

async function applyState(previous) {
  setLang(state.lang);
  if (previous.lang !== state.lang) {
    applyStrings();
    setAttribution();
    relabelMap();
  }
  buildFilters();
  if (map) map.jumpTo({ center: [state.lon, state.lat], zoom: state.zoom });
  if (state.territory !== previous.territory) {
    if (state.territory) await selectTerritory(state.territory);
    else clearTerritory(null);
  }
  drawNear();
  if (state.actor !== null) openDetail(state.actor);
  else closeDetail(null);
  const filtersSame = formatState({ ...previous, lon: 0, lat: 0, zoom: 0, actor: null, territory: null, near: null, lang: 'fr' }) ===
    formatState({ ...state, lon: 0, lat: 0, zoom: 0, actor: null, territory: null, near: null, lang: 'fr' });
  if (!filtersSame) loadActors();
  else scheduleView(0);
}

// ---------- embed mode ----------

function embedPanelWanted() {
  return ['search', 'filters', 'list'].some((c) => embedded.controls.includes(c));
}

/** Shows the controls the embed asks for and hides the filters its lock fixes. */
function applyEmbedChrome() {
  const has = (c) => embedded.controls.includes(c);
  $('panel').hidden = !embedPanelWanted();
  $('search').hidden = !has('search');
  $('filters').hidden = !has('filters');
  $('results').hidden = !has('list');
  $('family-row').hidden = Boolean(embedded.family);
  $('tiers-row').hidden = embedded.tiersLieux;
  $('demo-row').hidden = !embedded.demo;
  if (embedded.theme) {
    document.documentElement.style.setProperty('--accent', embedded.theme);
    document.documentElement.style.setProperty('--accent-ink', embed.readableInk(embedded.theme));
  }
}

/** The « Autour de moi » button of an embed, among the map's controls. */
function locateControl() {
  return {
    onAdd() {
      const button = el('button', { type: 'button', class: 'ancrage-locate-button', title: t('near.title'), 'aria-label': t('near.title'), onclick: locate });
      // A fixed icon (a target), not data: safe as markup.
      button.innerHTML =
        '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="7" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="12" cy="12" r="2.5" fill="currentColor"/><path d="M12 1v4M12 19v4M1 12h4M19 12h4" stroke="currentColor" stroke-width="2"/></svg>';
      return el('div', { class: 'maplibregl-ctrl maplibregl-ctrl-group ancrage-locate' }, button);
    },
    onRemove() {},
  };
}

async function openEmbedDialog(e) {
  // Opened from the phone menu, which folds: focus comes back to the menu button.
  const opener = $('menu-toggle')?.getAttribute('aria-expanded') === 'true' ? $('menu-toggle') : e.currentTarget;
  const { openEmbedDialog: open } = await import('./embed_dialog.mjs');
  open({ state, territoryName: territoryFeature?.properties.name ?? null, opener });
}

// ---------- start ----------

async function start() {
  if (!embedded && !new URLSearchParams(location.search).has('lang')) {
    try {
      if (localStorage.getItem('ancrage.lang') === 'en') state.lang = 'en';
    } catch {
      // No storage: French.
    }
  }
  setLang(state.lang);
  applyStrings();
  bindSearch();
  bindFilters();
  bindNear();
  $('lang-switch')?.addEventListener('click', switchLanguage);
  $('embed-open')?.addEventListener('click', openEmbedDialog);
  $('propose')?.addEventListener('click', () => {
    // The form gives focus back to what had it: the menu button when the phone menu folds.
    if ($('menu-toggle')?.getAttribute('aria-expanded') === 'true') $('menu-toggle').focus();
    contribute('new');
  });
  $('map-message-close').addEventListener('click', () => showMapMessage(''));
  $('detail').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') $('detail').querySelector('button')?.click();
  });
  bindSheet();
  bindMenu();
  $('territory-clear')?.addEventListener('click', () => {
    clearTerritory(true);
    $('search-input').focus();
  });
  if (!embedded)
    window.addEventListener('popstate', () => {
      const previous = state;
      state = parseState(location.search);
      applyState(previous);
    });
  try {
    const [cfg, cats] = await Promise.all([api('/api/v1/map/config'), api('/api/v1/categories')]);
    config = cfg;
    categories = cats.categories;
    catBySlug = new Map(categories.map((c) => [c.slug, c]));
  } catch {
    announce('list-status', t('list.error'), true);
  }
  if (embedded) {
    // Without the catalogue no category can be checked, and the lock stays as asked.
    if (categories.length) embedded = embed.knownCategories(embedded, categories, (m) => console.warn(m));
    allowedCats = embed.allowedCategories(embedded, categories);
    applyEmbedChrome();
  }
  buildFilters();
  await createMap();
  writeUrl(false);
  if (embedded && state.territory) {
    // The lock is checked before any query uses it; the view fits it unless one was asked.
    await selectTerritory(state.territory, { fit: !embedded.view && !embedded.bbox, animate: false });
    if (!embedded.territory && !embedded.view && !embedded.bbox) map?.fitBounds(FRANCE, { padding: 10, animate: false });
    // Panning stops a little beyond the territory, so the map cannot get lost elsewhere.
    if (map && embedded.territory && territoryFeature?.bbox) map.setMaxBounds(embed.territoryMaxBounds(territoryFeature.bbox, viewBox()));
  } else if (state.territory) {
    // A link to a territory without a view (from its coverage page) opens on the territory.
    selectTerritory(state.territory, { fit: !OPENED_ON_VIEW, animate: false });
  }
  if (state.near) drawNear();
  if (state.actor !== null) openDetail(state.actor);
  await loadActors();
  document.body.dataset.ready = '1';
}

start();

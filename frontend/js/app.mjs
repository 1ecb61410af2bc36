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
import { offlineStyle, overlay, pointsToFeatures, labelPoints, COMMUNES_MIN_ZOOM } from './style.mjs';

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
let config = { basemap_style: null, report_email: null, points_limit: 20000 };
let categories = [];
let catBySlug = new Map();
let map = null;
let offline = true;
let mode = 'points'; // 'points': all points loaded and clustered by MapLibre; 'clusters': by the server
let listItems = [];
let listMeta = { kind: 'view', total: 0 };
const hoursCache = new Map();
let hovered = null;
let picking = false;
let territoryFeature = null;
let communesBox = null;
let detailRecord = null;
let lastFocus = null;
let viewTimer = null;
let viewSeq = 0;
let pointsSeq = 0;
// Set by « Me localiser » and a picked point: the next list of places around is brought into view.
let revealNear = false;

// ---------- helpers ----------


function label(cat) {
  return lang() === 'en' ? cat.label_en : cat.label_fr;
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
  if (embedded) watchCredits();
}

/**
 * Tells the embed's CSS how high the credits stand (`--credits-height`): they wrap on several
 * lines in narrow frames, and the legend stops above them.
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

function addOverlay() {
  const clustered = mode !== 'clusters';
  const o = overlay(categories, clustered, countFont());
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
  map.on('click', 'clusters', async (e) => {
    const f = e.features[0];
    if (!f || picking) return;
    if (mode === 'clusters') {
      const b = f.properties.bbox;
      const box = typeof b === 'string' ? JSON.parse(b) : b;
      map.fitBounds(box, { padding: 60, maxZoom: 17 });
    } else {
      const zoom = await map.getSource('actors').getClusterExpansionZoom(f.properties.cluster_id);
      map.easeTo({ center: f.geometry.coordinates, zoom: Math.min(zoom, 18) });
    }
  });
  map.on('click', 'actors', (e) => {
    const f = e.features[0];
    if (f && !picking) openDetail(Number(f.properties.id), { push: true, focus: true });
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
  if (map && hovered !== null && map.getSource('actors'))
    map.setFeatureState({ source: 'actors', id: hovered }, { hover: false });
  hovered = id;
  if (map && id !== null && map.getSource('actors')) map.setFeatureState({ source: 'actors', id }, { hover: true });
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
    if (data.truncated) {
      setActorsMode('clusters');
    } else {
      setActorsMode('points');
      setActorsData(pointsToFeatures(data.points, categories));
    }
  } catch {
    announce('list-status', t('list.error'), true);
  }
  scheduleView(0);
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
    api('/api/v1/map/facets', withBox)
      .then((f) => {
        if (seq === viewSeq) updateCounts(f);
      })
      .catch(() => {}),
  ];
  if (mode === 'clusters' && map) {
    const p = new URLSearchParams(withBox);
    p.set('zoom', String(Math.floor(map.getZoom())));
    jobs.push(
      api('/api/v1/map/clusters', p)
        .then((data) => {
          if (seq === viewSeq) setActorsData(data);
        })
        .catch(() => {}),
    );
  }
  if (offline && map && map.getZoom() >= COMMUNES_MIN_ZOOM - 0.5) jobs.push(loadCommunes(box));
  if (!state.near) jobs.push(loadViewList(seq, withBox));
  else jobs.push(loadNearList(seq));
  await Promise.all(jobs);
}

async function loadCommunes(box) {
  const inside =
    communesBox && box[0] >= communesBox[0] && box[1] >= communesBox[1] && box[2] <= communesBox[2] && box[3] <= communesBox[3];
  if (inside) return;
  const w = (box[2] - box[0]) / 2;
  const h = (box[3] - box[1]) / 2;
  const wide = [box[0] - w, box[1] - h, box[2] + w, box[3] + h].map((v, i) =>
    i % 2 === 0 ? Math.max(-180, Math.min(180, v)) : Math.max(-85, Math.min(85, v)),
  );
  try {
    // A margin around the view saves requests while panning; dense areas get the view only.
    for (const b of [wide, box]) {
      const data = await api('/api/v1/map/outlines/communes', new URLSearchParams({ bbox: b.map(fixed).join(',') }));
      if (!data.truncated && map.getSource('communes')) {
        map.getSource('communes').setData(data);
        map.getSource('commune-labels').setData(labelPoints(data));
        communesBox = b;
        break;
      }
    }
  } catch {
    // The basemap keeps its département outlines.
  }
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
    const data = await api('/api/v1/actors', p);
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
  const first = catBySlug.get(p.categories[0]);
  const colour = (rootOf(p.categories[0]) ?? first)?.colour ?? '#555';
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
      closeDetail(true);
      const item = id !== null ? document.querySelector(`.item[data-id="${id}"]`) : null;
      (item ?? $('list-heading')).focus();
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

let searchTimer = null;
let searchSeq = 0;
let options = [];
let active = -1;

function closeSuggestions() {
  $('search-list').hidden = true;
  $('search-input').setAttribute('aria-expanded', 'false');
  $('search-input').removeAttribute('aria-activedescendant');
  active = -1;
}

function setActive(i) {
  const nodes = [...document.querySelectorAll('#search-list [role="option"]')];
  active = nodes.length ? (i + nodes.length) % nodes.length : -1;
  nodes.forEach((n, k) => n.setAttribute('aria-selected', String(k === active)));
  if (active >= 0) {
    $('search-input').setAttribute('aria-activedescendant', nodes[active].id);
    nodes[active].scrollIntoView({ block: 'nearest' });
  }
}

async function suggest(q) {
  const seq = ++searchSeq;
  const [terr, actors] = await Promise.all([
    api('/api/v1/territories/search', new URLSearchParams({ q, limit: embedded?.territory ? '50' : '6' })).catch(() => ({ features: [] })),
    api('/api/v1/actors', embedded ? embed.applyLock(new URLSearchParams({ q, limit: '5' }), embedded, allowedCats) : new URLSearchParams({ q, limit: '5' })).catch(() => ({
      features: [],
    })),
  ]);
  if (seq !== searchSeq) return;
  options = [
    ...terr.features
      .filter((f) => !embedded || embed.insideTerritory(embedded, f.properties))
      .slice(0, 6)
      .map((f) => ({ type: 'territory', f })),
    ...actors.features.map((f) => ({ type: 'actor', f })),
  ];
  const list = $('search-list');
  const nodes = [];
  let i = 0;
  const option = (o) => {
    const p = o.f.properties;
    const id = `search-option-${i++}`;
    const detail =
      o.type === 'territory'
        ? `${t(`kind.${p.kind}`)}${p.kind === 'commune' && p.departement ? ` · ${p.departement.code}` : ''}`
        : (p.commune?.name ?? '');
    return el(
      'li',
      {
        role: 'option',
        id,
        'aria-selected': 'false',
        'data-index': String(i - 1),
        onmousedown: (e) => e.preventDefault(),
        onclick: () => choose(options[Number(id.split('-').pop())]),
      },
      el('span', { text: p.name }),
      el('small', { text: detail }),
    );
  };
  const terrOptions = options.filter((o) => o.type === 'territory');
  const actorOptions = options.filter((o) => o.type === 'actor');
  if (terrOptions.length)
    nodes.push(el('li', { role: 'presentation', class: 'group', text: t('search.territories') }), ...terrOptions.map(option));
  if (actorOptions.length)
    nodes.push(el('li', { role: 'presentation', class: 'group', text: t('search.actors') }), ...actorOptions.map(option));
  if (!options.length) nodes.push(el('li', { role: 'presentation', class: 'empty', text: t('search.none') }));
  list.replaceChildren(...nodes);
  list.hidden = false;
  $('search-input').setAttribute('aria-expanded', 'true');
  active = -1;
  announce('search-status', options.length ? t('search.count', { n: options.length }) : t('search.none'));
}

function choose(o) {
  if (!o) return;
  closeSuggestions();
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

function switchLanguage() {
  state.lang = toggleLang();
  applyStrings();
  buildFilters();
  setAttribution();
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

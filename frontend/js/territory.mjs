// The territory page: how well the actors cover a commune, EPCI, département, région or France.
// Key figures, a choropleth of the child territories with the zones blanches, charts and tables
// (the text alternative to the map), downloads, and a printable report. The coverage API does
// the arithmetic; this module lays it out. Filters and display choices live in the URL.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { t, setLang, lang, toggleLang } from './i18n.mjs';
import { el, api } from './dom.mjs';
import { offlineStyle, labelPoints } from './style.mjs';
import { formatDistance, formatDistanceVs } from './format.mjs';
import { legend as makeLegend, colourOf, NO_DATA } from './classify.mjs';
import * as ts from './territory_state.mjs';

const $ = (id) => document.getElementById(id);
const EMPTY = { type: 'FeatureCollection', features: [] };
const FAMILIES = ['association', 'cooperative', 'mutuelle', 'fondation', 'entreprise-ess', 'autre'];
/** Zones blanches drawn on the map at most (the table lists them all). */
const ZONES_ON_MAP_MAX = 2000;
/** Rows of the zones blanches table shown at once; the CSV has them all. */
const ZONES_ROWS = 200;
const ZONE_COLOUR = '#c2410c';
const OUTLINE_COLOUR = '#111827';

const where = ts.parsePath(location.pathname);
let state = ts.parseState(location.search);
let config = { basemap_style: null };
let categories = [];
let catBySlug = new Map();
let report = null;
/** Outlines of the child territories (fetched once: they do not depend on the filters). */
let childrenShapes = null;
let zonesGeo = EMPTY;
let structures = null;
let zonesOnMap = true;
let outline = null;
/** Département outlines, the land drawn around the territory on the printed map. */
let departements = null;
/** Points of the structures counted, `[lon, lat]`, for the printed map; `null` when too many. */
let dots = null;
/** Children's outlines coloured by the chosen indicator (as drawn on the map). */
let choropleth = EMPTY;
/** The printed map is drawn once the territory's outline is known, then after each change. */
let printMapOn = false;
let printMapSeq = 0;
/** Settles once the printed map's image holds the latest drawing. */
let printMapDone = Promise.resolve();
let map = null;
/** What tests read: the map, what the printed map drew, and when its image is ready. */
window.ancrage = { map: null, printMap: null, printReady: () => printMapDone };
let offline = true;
let remoteCredits = [];
let seq = 0;
let version = 0;

// ---------- helpers ----------



const locale = () => (lang() === 'en' ? 'en-GB' : 'fr-FR');
const nf = (options) => new Intl.NumberFormat(locale(), options);
const missing = () => t('terr.na');

/** A whole number: « 1 234 567 ». */
function int(n) {
  return typeof n === 'number' && Number.isFinite(n) ? nf({ maximumFractionDigits: 0 }).format(n) : missing();
}

/** A number with `digits` decimals: « 12,3 ». */
function dec(n, digits = 1) {
  return typeof n === 'number' && Number.isFinite(n)
    ? nf({ minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n)
    : missing();
}

/** A share (0 to 1) as a percentage with one decimal: « 79,4 % ». */
function pct(share) {
  return typeof share === 'number' && Number.isFinite(share) ? nf({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(share) : missing();
}

/** An area in square kilometres. */
function km2(m2) {
  const v = m2 / 1e6;
  return `${v >= 100 ? int(v) : dec(v, 1)} km²`;
}

/** A label that may wrap, but never inside a number: « 10 000 » stays on one line. */
function keepNumbers(text) {
  return text.replace(/(\d) (?=\d{3}\b)/g, '$1\u00a0');
}

function distance(m) {
  return typeof m === 'number' && Number.isFinite(m) ? formatDistance(m, lang()) : missing();
}

/** A distance said to be beyond (or within) the zones blanches' distance, on its side of it. */
function distanceVsZone(m) {
  return typeof m === 'number' && Number.isFinite(m) ? formatDistanceVs(m, state.distanceKm * 1000, lang()) : missing();
}

function label(cat) {
  return lang() === 'en' ? cat.label_en : cat.label_fr;
}

function categoryLabel(slug) {
  if (!slug) return t('terr.any');
  const c = catBySlug.get(slug);
  return c ? label(c) : slug;
}

function kindLabel(kind) {
  return kind === 'france' ? t('terr.kind.france') : t(`kind.${kind}`);
}

function territoryName(n) {
  return n.name ?? t('terr.outside.epci');
}

/** Indicator values are shares, counts, ratios or distances: each its own format. */
function formatIndicator(key, v) {
  switch (key) {
    case 'actors':
    case 'population':
      return int(v);
    case 'actors_per_10000':
      return dec(v, 2);
    case 'median_nearest_m':
      return distance(v);
    default:
      return pct(v);
  }
}

function indicatorLabel(key) {
  return t(`terr.ind.${key}`, { d: state.distanceKm, category: categoryLabel(state.category) });
}

// ---------- URL and strings ----------

function writeUrl(push) {
  const url = `${location.pathname}${ts.formatState(state)}`;
  if (url === `${location.pathname}${location.search}`) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

function applyStrings() {
  document.documentElement.lang = lang();
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-aria-label]'))
    node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
  $('lang-switch').setAttribute('lang', lang() === 'fr' ? 'en' : 'fr');
  const back = new URLSearchParams();
  if (where.kind && where.kind !== 'france' && !where.error) back.set('terr', `${where.kind}:${where.code}`);
  if (lang() === 'en') back.set('lang', 'en');
  $('terr-back').href = `/${String(back) ? `?${String(back).replaceAll('%3A', ':')}` : ''}`;
}

function showError(message) {
  $('terr-report').hidden = true;
  $('terr-status').textContent = '';
  const box = $('terr-error');
  box.hidden = false;
  box.replaceChildren(
    el('p', { text: message }),
    el('p', {}, el('a', { href: $('terr-back').href, text: t('terr.error.map') })),
  );
  $('terr-title').textContent = t('terr.error.title');
  document.title = `${t('terr.error.title')} — Ancrage`;
}

// ---------- filters ----------

function buildControls() {
  const category = $('terr-category');
  category.replaceChildren(
    el('option', { value: '', text: t('terr.any') }),
    ...categories.map((c) =>
      el('option', { value: c.slug, text: c.parent ? `\u00a0\u00a0— ${label(c)}` : label(c) }),
    ),
  );
  category.value = state.category;
  const family = $('terr-family');
  family.replaceChildren(
    el('option', { value: '', text: t('filters.family.all') }),
    ...FAMILIES.map((f) => el('option', { value: f, text: t(`family.${f}`) })),
  );
  family.value = state.family;
  const dist = $('terr-distance');
  dist.replaceChildren(...ts.DISTANCES_KM.map((d) => el('option', { value: String(d), text: `${d} km` })));
  dist.value = String(state.distanceKm);
  $('terr-demo').checked = !state.hideDemo;
  const indicator = $('terr-indicator');
  indicator.replaceChildren(...ts.INDICATORS.map((k) => el('option', { value: k, text: indicatorLabel(k) })));
  indicator.value = state.indicator;
  const method = $('terr-method');
  method.replaceChildren(
    el('option', { value: 'quantile', text: t('terr.method.quantile') }),
    el('option', { value: 'jenks', text: t('terr.method.jenks') }),
  );
  method.value = state.method;
}

function bindControls() {
  const filter = (apply) => (e) => {
    apply(e.currentTarget);
    writeUrl(true);
    load();
  };
  $('terr-category').addEventListener('change', filter((n) => (state.category = n.value)));
  $('terr-family').addEventListener('change', filter((n) => (state.family = n.value)));
  $('terr-distance').addEventListener('change', filter((n) => (state.distanceKm = Number(n.value))));
  $('terr-demo').addEventListener('change', filter((n) => (state.hideDemo = !n.checked)));
  $('terr-indicator').addEventListener('change', (e) => {
    state.indicator = e.currentTarget.value;
    writeUrl(true);
    drawChoropleth();
  });
  $('terr-method').addEventListener('change', (e) => {
    state.method = e.currentTarget.value;
    writeUrl(true);
    drawChoropleth();
  });
  $('terr-filters').addEventListener('submit', (e) => e.preventDefault());
  // The printed map is drawn ahead, after each change: printing waits at most for its image.
  $('terr-print').addEventListener('click', async () => {
    await printMapDone;
    window.print();
  });
}

/** Drops filters the catalogue does not know, so a damaged link still shows a report. */
function sanitiseState() {
  if (state.category && !catBySlug.has(state.category)) state.category = '';
  if (state.family && !FAMILIES.includes(state.family)) state.family = '';
}

function activeFilters() {
  const colon = t('terr.colon');
  return [
    `${t('terr.filter.category')}${colon}${categoryLabel(state.category)}`,
    `${t('filters.family')}${colon}${state.family ? t(`family.${state.family}`) : t('filters.family.all')}`,
    t(state.hideDemo ? 'terr.meta.demo.off' : 'terr.meta.demo.on'),
    t('terr.meta.distance', { d: state.distanceKm }),
  ].join(' ; ');
}

// ---------- rendering: figures, charts, tables ----------

function renderHead() {
  const n = report.territory;
  const name = territoryName(n);
  $('terr-kind').textContent = n.kind === 'france' ? kindLabel(n.kind) : `${kindLabel(n.kind)} · ${n.code}`;
  $('terr-title').textContent = name;
  document.title = t('terr.page.title', { name });
  const date = new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeStyle: 'short' }).format(new Date());
  $('terr-meta').replaceChildren(
    el('span', { class: 'terr-date', text: t('terr.meta.date', { date }) }),
    el('span', { class: 'terr-active-filters', text: `${t('terr.meta.filters')}${t('terr.colon')}${activeFilters()}` }),
  );
}

/** What the population figure is: a commune's own population légale, or the sum of the
 * communes'; an EPCI's published figure (DGCL, another vintage) beside it. */
function populationDetail(f) {
  if (report.territory.kind === 'commune') return t('terr.fig.population.commune');
  const sum = t('terr.fig.population.sum');
  return f.population_published == null ? sum : `${sum} · ${t('terr.fig.population.published', { n: int(f.population_published) })}`;
}

function renderFigures() {
  const f = report.figures;
  const item = (key, value, detail) =>
    el('div', { class: 'figure', 'data-figure': key }, el('dt', { text: keepNumbers(t(`terr.fig.${key}`)) }), el('dd', {}, el('span', { class: 'figure-value', text: value }), detail ? el('span', { class: 'figure-detail', text: detail }) : null));
  $('terr-figures').replaceChildren(
    item('population', int(f.population), populationDetail(f)),
    item('area', km2(f.area_m2)),
    item('communes', int(f.communes)),
    item('actors', int(f.actors)),
    item('actors_per_10000', dec(f.actors_per_10000, 2)),
    item('communes_covered_share', pct(f.communes_covered_share), t('terr.fig.communes_covered.detail', { n: int(f.communes_covered), total: int(f.communes) })),
    item('population_covered_share', pct(f.population_covered_share), t('terr.fig.population_covered.detail', { n: int(f.population_covered) })),
  );
  $('terr-summary').textContent =
    report.territory.kind === 'commune'
      ? t(f.actors > 0 ? 'terr.summary.commune' : 'terr.summary.commune.none', { n: int(f.actors) })
      : t('terr.summary', { communes: pct(f.communes_covered_share), population: pct(f.population_covered_share) });
}

function bars(id, caption, lines) {
  const max = Math.max(0, ...lines.map((l) => l.value ?? 0));
  return el(
    'figure',
    { class: 'chart' },
    el('figcaption', { id, text: caption }),
    el(
      'ul',
      { class: 'bars', 'aria-labelledby': id },
      lines.map((l) =>
        el(
          'li',
          { 'data-slug': l.slug },
          el('span', { class: 'bar-label', text: l.label }),
          el(
            'span',
            { class: 'bar-track', 'aria-hidden': 'true' },
            el('span', { class: 'bar', style: `width:${max > 0 ? ((l.value ?? 0) / max) * 100 : 0}%;background:${l.colour}` }),
          ),
          el('span', { class: 'bar-value', text: l.text }),
        ),
      ),
    ),
  );
}

function renderCharts() {
  const top = report.by_category.filter((l) => !l.parent);
  const colour = (slug) => catBySlug.get(slug)?.colour ?? '#4b5563';
  $('terr-charts').replaceChildren(
    bars(
      'terr-chart-actors',
      t('terr.chart.actors'),
      top.map((l) => ({
        slug: l.slug,
        label: categoryLabel(l.slug),
        value: l.actors,
        colour: colour(l.slug),
        text: t('terr.chart.actors.value', { n: int(l.actors), per: dec(l.actors_per_10000, 2) }),
      })),
    ),
    bars(
      'terr-chart-covered',
      t('terr.chart.covered'),
      top.map((l) => ({
        slug: l.slug,
        label: categoryLabel(l.slug),
        value: l.population_covered_share,
        colour: colour(l.slug),
        text: pct(l.population_covered_share),
      })),
    ),
  );
}

/**
 * A table in a focusable scrolling region (keyboard users can scroll it on small screens).
 * `columns`: `{ label, num, sort }`; `rows`: arrays of cells (text or nodes), with an optional
 * `attrs` property for the row.
 */
function table(id, caption, columns, rows, sortable = null) {
  const captionId = `${id}-caption`;
  const head = columns.map((column) => {
    const c = { ...column, label: keepNumbers(column.label) };
    const attrs = { scope: 'col', class: c.num ? 'num' : null };
    if (!sortable || !c.sort) return el('th', { ...attrs, text: c.label });
    const active = sortable.key === c.sort;
    const arrow = active ? (sortable.order === 'asc' ? '▲' : '▼') : '↕';
    return el(
      'th',
      { ...attrs, 'aria-sort': active ? (sortable.order === 'asc' ? 'ascending' : 'descending') : null },
      el(
        'button',
        { type: 'button', class: 'sort', 'data-sort': c.sort, onclick: () => sortable.onSort(c.sort) },
        c.label,
        el('span', { class: 'sort-arrow', 'aria-hidden': 'true', text: ` ${arrow}` }),
      ),
    );
  });
  const body = rows.map((r) =>
    el(
      'tr',
      r.attrs ?? {},
      r.map((cell, i) => (i === 0 ? el('th', { scope: 'row' }, cell) : el('td', { class: columns[i].num ? 'num' : null }, cell))),
    ),
  );
  return el(
    'div',
    { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': captionId },
    el('table', { id }, el('caption', { id: captionId, text: caption }), el('thead', {}, el('tr', {}, head)), el('tbody', {}, body)),
  );
}

function territoryLink(n) {
  if (!n.code || n.kind === 'france') return territoryName(n);
  const href = `${ts.pagePath(n.kind, n.code)}${ts.formatState({ ...ts.emptyState(), category: state.category, family: state.family, hideDemo: state.hideDemo, distanceKm: state.distanceKm, lang: state.lang })}`;
  return el('a', { href, text: territoryName(n) });
}

function figureColumns() {
  return [
    { label: t('terr.col.population'), num: true, sort: 'population' },
    { label: t('terr.col.actors'), num: true, sort: 'actors' },
    { label: t('terr.col.per10000'), num: true, sort: 'actors_per_10000' },
    { label: t('terr.col.communes_covered'), num: true, sort: 'communes_covered_share' },
    { label: t('terr.col.population_covered'), num: true, sort: 'population_covered_share' },
  ];
}

function figureCells(f) {
  return [int(f.population), int(f.actors), dec(f.actors_per_10000, 2), pct(f.communes_covered_share), pct(f.population_covered_share)];
}

function renderChildren() {
  const section = $('terr-children-section');
  if (!report.children_kind) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const columns = [
    { label: t(`terr.children.col.${report.children_kind}`), sort: 'name' },
    ...figureColumns(),
    { label: t('terr.col.access', { d: state.distanceKm }), num: true, sort: 'access_share' },
    { label: t('terr.col.median'), num: true, sort: 'median_nearest_m' },
  ];
  const rows = ts.sortChildren(report.children, state.sort, state.order).map((c) => {
    const r = [territoryLink(c), ...figureCells(c), pct(c.access?.share), distance(c.access?.median_nearest_m)];
    r.attrs = { 'data-code': c.code ?? '' };
    return r;
  });
  $('terr-children').replaceChildren(
    table('terr-children-table', t('terr.children.caption', { kind: t(`terr.children.col.${report.children_kind}`), name: territoryName(report.territory) }), columns, rows, {
      key: state.sort,
      order: state.order,
      onSort: (key) => {
        state.order = state.sort === key ? (state.order === 'asc' ? 'desc' : 'asc') : ts.defaultOrder(key);
        state.sort = key;
        writeUrl(false);
        renderChildren();
        renderDownloads();
        document.querySelector(`#terr-children-table button[data-sort="${key}"]`)?.focus();
      },
    }),
  );
}

function renderParents() {
  const columns = [{ label: t('terr.col.territory') }, ...figureColumns()];
  const self = [el('span', {}, el('strong', { text: territoryName(report.territory) }), ` (${kindLabel(report.territory.kind)})`), ...figureCells(report.figures)];
  self.attrs = { class: 'self' };
  const rows = [self, ...report.parents.map((p) => [el('span', {}, territoryLink(p), ` (${kindLabel(p.kind)})`), ...figureCells(p)])];
  $('terr-parents').replaceChildren(table('terr-parents-table', t('terr.parents.caption'), columns, rows));
}

function renderSimilar() {
  const section = $('terr-similar-section');
  const similar = report.similar ?? [];
  section.hidden = similar.length === 0;
  if (!similar.length) return;
  const columns = [{ label: t('terr.col.territory') }, { label: t('terr.similar.relation') }, ...figureColumns()];
  const self = [el('strong', { text: territoryName(report.territory) }), t('terr.similar.self'), ...figureCells(report.figures)];
  self.attrs = { class: 'self' };
  const rows = [self, ...similar.map((s) => {
    const r = [territoryLink(s), t(`terr.similar.${s.relation}`), ...figureCells(s)];
    r.attrs = { 'data-code': s.code ?? '', 'data-relation': s.relation };
    return r;
  })];
  $('terr-similar').replaceChildren(table('terr-similar-table', t('terr.similar.caption'), columns, rows));
}

/** Most structures listed on the page (the download has them all). */
const STRUCTURES_SHOWN = 200;

function renderStructures() {
  const list = structures?.structures ?? [];
  const total = structures?.total ?? 0;
  $('terr-structures-summary').textContent = !structures
    ? ''
    : total === 0
      ? t('terr.structures.none')
      : total > list.length
        ? t('terr.structures.summary.partial', { n: int(total), shown: int(list.length) })
        : t('terr.structures.summary', { n: int(total) });
  if (!list.length) {
    $('terr-structures').replaceChildren();
    return;
  }
  const columns = [
    { label: t('terr.structures.col.name') },
    { label: t('terr.structures.col.commune') },
    { label: t('terr.structures.col.category') },
    { label: t('terr.structures.col.family') },
  ];
  const rows = list.map((s) => {
    const name = el('span', {}, el('a', { href: `/?actor=${encodeURIComponent(s.id)}`, text: s.name }), s.demo ? t('terr.structures.demo') : '');
    const commune = `${s.commune.name}${s.precision === 'commune' ? t('terr.structures.commune_point') : ''}`;
    const r = [name, commune, s.categories.map(categoryLabel).join(', '), t(`family.${s.family}`)];
    r.attrs = { 'data-id': String(s.id) };
    return r;
  });
  $('terr-structures').replaceChildren(table('terr-structures-table', t('terr.structures.caption'), columns, rows));
}

function renderCategoryTables() {
  const columns = [{ label: t('terr.col.category') }, ...figureColumns().slice(1)];
  const rows = report.by_category.map((l) => {
    const r = [el('span', { class: l.parent ? 'sub' : null, text: categoryLabel(l.slug) }), int(l.actors), dec(l.actors_per_10000, 2), pct(l.communes_covered_share), pct(l.population_covered_share)];
    r.attrs = { 'data-slug': l.slug };
    return r;
  });
  const families = report.by_family.map((l) => [t(`family.${l.slug}`), int(l.actors), dec(l.actors_per_10000, 2), pct(l.communes_covered_share), pct(l.population_covered_share)]);
  const access = report.access.map((a) => {
    const r = [categoryLabel(a.category), ...a.within.map((w) => pct(w.share)), distance(a.median_nearest_m)];
    r.attrs = { 'data-slug': a.category ?? '' };
    return r;
  });
  const steps = report.access[0]?.within.map((w) => w.distance_m / 1000) ?? [1, 5, 10, 20];
  $('terr-categories').replaceChildren(table('terr-categories-table', t('terr.categories.caption'), columns, rows));
  $('terr-access').replaceChildren(
    table(
      'terr-access-table',
      t('terr.access.caption'),
      [{ label: t('terr.col.category') }, ...steps.map((d) => ({ label: t('terr.col.within', { d }), num: true })), { label: t('terr.col.median'), num: true }],
      access,
    ),
  );
  $('terr-families').replaceChildren(
    table('terr-families-table', t('terr.families.caption'), [{ label: t('filters.family') }, ...figureColumns().slice(1)], families),
  );
}

function renderZones() {
  const zones = report.zones_blanches;
  const d = state.distanceKm;
  const category = state.category ? t('terr.zones.of', { category: categoryLabel(state.category) }) : '';
  const summary = $('terr-zones-summary');
  if (report.territory.kind === 'commune') {
    const nearest = report.access[0]?.median_nearest_m;
    summary.textContent = zones.length
      ? t('terr.zones.commune.yes', { d, category, nearest: distanceVsZone(zones[0].nearest_m) })
      : t('terr.zones.commune.no', { d, category, nearest: distanceVsZone(nearest) });
    summary.className = zones.length ? 'zone-status is-zone' : 'zone-status';
    $('terr-zones').replaceChildren();
    return;
  }
  summary.className = '';
  if (!zones.length) {
    summary.textContent = t('terr.zones.none', { d, category });
    $('terr-zones').replaceChildren();
    return;
  }
  const population = zones.reduce((s, z) => s + z.population, 0);
  summary.textContent = t('terr.zones.summary', { n: int(zones.length), population: int(population), d, category });
  const shown = zones.slice(0, ZONES_ROWS);
  const rows = shown.map((z) => {
    const r = [el('a', { href: `${ts.pagePath('commune', z.code)}${ts.formatState({ ...ts.emptyState(), lang: state.lang })}`, text: z.name }), z.code, int(z.population), distanceVsZone(z.nearest_m)];
    r.attrs = { 'data-code': z.code };
    return r;
  });
  $('terr-zones').replaceChildren(
    table(
      'terr-zones-table',
      t('terr.zones.caption', { d }),
      [{ label: t('terr.col.commune') }, { label: t('terr.col.code') }, { label: t('terr.col.population'), num: true }, { label: t('terr.col.nearest'), num: true }],
      rows,
    ),
    ...(zones.length > shown.length ? [el('p', { class: 'hint', text: t('terr.zones.more', { shown: int(shown.length), n: int(zones.length) }) })] : []),
  );
}

function renderDownloads() {
  const { kind, code } = report.territory;
  const links = [
    ...ts.CSV_FILES.map((f) => [`${f}.csv`, t(`terr.file.${f}`), 'CSV']),
    ...ts.GEOJSON_FILES.map((f) => [`${f}.geojson`, t(`terr.file.${f}`), 'GeoJSON']),
  ].filter(([file]) => report.children_kind || !file.startsWith('children'));
  $('terr-downloads').replaceChildren(
    ...links.map(([file, name, format]) =>
      el('li', {}, el('a', { class: 'button', href: ts.exportUrl(kind, code, file, state), download: true, 'data-export': file, text: `${name} (${format})` })),
    ),
  );
  $('terr-downloads-hint').textContent = t(lang() === 'en' ? 'terr.downloads.hint.en' : 'terr.downloads.hint');
}

function renderSources() {
  const items = [t('attribution.cog'), t('attribution.outlines'), t('attribution.actors')];
  const v = report.vintages;
  if (v) {
    const day = (iso) => new Intl.DateTimeFormat(locale(), { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(iso));
    items.push(
      t('terr.source.vintages', { pop: v.populations_legales, force: day(v.populations_in_force_from), cog: v.cog, epci: v.epci, outlines: v.outlines }),
      v.actors_changed_at ? t('terr.source.changed', { date: day(v.actors_changed_at) }) : t('terr.source.changed.none'),
    );
  }
  if (!state.hideDemo) items.push(t('terr.source.demo'));
  items.push(...remoteCredits);
  items.push(t('terr.source.method'));
  $('terr-sources').replaceChildren(...items.map((s) => el('li', { text: s })));
}

function renderAll() {
  renderHead();
  renderFigures();
  renderCharts();
  renderZones();
  renderChildren();
  renderParents();
  renderSimilar();
  renderStructures();
  renderCategoryTables();
  renderDownloads();
  renderSources();
  drawChoropleth();
}

// ---------- map ----------

async function chooseStyle() {
  const fallback = offlineStyle(location.origin, t('attribution.outlines'));
  if (!config.basemap_style) return fallback;
  try {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), 6000);
    const res = await fetch(config.basemap_style, { signal: ctrl.signal });
    clearTimeout(timer);
    if (!res.ok) throw new Error(String(res.status));
    const style = await res.json();
    if (!style || style.version !== 8) throw new Error('not a style');
    offline = false;
    // The printed report names the basemap's sources as the map shows them (e.g. OpenStreetMap).
    remoteCredits = [
      ...new Set(
        Object.values(style.sources ?? {})
          .map((s) => (typeof s.attribution === 'string' ? new DOMParser().parseFromString(s.attribution, 'text/html').body.textContent.trim() : ''))
          .filter(Boolean),
      ),
    ];
    return style;
  } catch {
    $('terr-status').textContent = t('map.fallback');
    return fallback;
  }
}

/**
 * A tile of diagonal hatch for the zones blanches, `size` pixels square with lines `width`
 * thick, drawn in a canvas (no sprite to fetch).
 */
function hatchTile(size, width) {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.strokeStyle = ZONE_COLOUR;
  ctx.lineWidth = width;
  ctx.beginPath();
  for (const o of [-size, 0, size]) {
    ctx.moveTo(o, size);
    ctx.lineTo(o + size, 0);
  }
  ctx.stroke();
  return canvas;
}

/** The hatch of the screen map, as the ImageData MapLibre takes. */
function hatchImage() {
  return hatchTile(12, 2).getContext('2d').getImageData(0, 0, 12, 12);
}

/** The box both maps fit: the territory's outline, else its children's; `null` when unknown. */
function territoryBox() {
  if (outline?.bbox) return outline.bbox;
  // France with its overseas regions would be a world map: keep to the metropole.
  if (report?.territory.kind === 'france') return [-5.2, 41.3, 9.6, 51.1];
  return ts.bboxOf([outline?.geometry, ...(childrenShapes?.features ?? []).map((f) => f.geometry)]);
}

function fitBounds() {
  if (!map) return;
  const box = territoryBox();
  if (!box) return;
  map.fitBounds(
    [
      [box[0], box[1]],
      [box[2], box[3]],
    ],
    { padding: 24, animate: false },
  );
}

async function createMap() {
  const style = await chooseStyle();
  try {
    map = new maplibregl.Map({
      container: 'terr-map',
      style,
      center: [2.4, 46.6],
      zoom: 5,
      attributionControl: false,
      dragRotate: false,
      pitchWithRotate: false,
      cooperativeGestures: true,
      maxZoom: 16,
      locale: {
        'Map.Title': t('terr.map.label'),
        'NavigationControl.ZoomIn': t('map.zoomin'),
        'NavigationControl.ZoomOut': t('map.zoomout'),
        'AttributionControl.ToggleAttribution': t('map.attribution.toggle'),
        'CooperativeGesturesHandler.WindowsHelpText': t('terr.map.gesture.windows'),
        'CooperativeGesturesHandler.MacHelpText': t('terr.map.gesture.mac'),
        'CooperativeGesturesHandler.MobileHelpText': t('terr.map.gesture.mobile'),
      },
    });
  } catch {
    map = null;
    $('terr-status').textContent = t('map.nowebgl');
    return;
  }
  window.ancrage.map = map;
  map.touchZoomRotate.disableRotation();
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.addControl(
    new maplibregl.AttributionControl({ compact: false, customAttribution: [t('attribution.actors'), t('attribution.cog'), ...(offline ? [] : [t('attribution.outlines')])] }),
    'bottom-right',
  );
  map.on('error', (e) => console.error('map error:', e && e.error ? e.error.message : e));
  await new Promise((resolve) => map.once('load', resolve));
  map.addImage('zone-hatch', hatchImage());
  map.addSource('children', { type: 'geojson', data: EMPTY });
  map.addSource('zones', { type: 'geojson', data: EMPTY });
  map.addSource('outline', { type: 'geojson', data: outline ?? EMPTY });
  map.addLayer({ id: 'children-fill', type: 'fill', source: 'children', paint: { 'fill-color': ['coalesce', ['get', 'fill'], NO_DATA], 'fill-opacity': 0.85 } });
  map.addLayer({ id: 'children-line', type: 'line', source: 'children', paint: { 'line-color': '#ffffff', 'line-width': 1 } });
  map.addLayer({ id: 'zones-hatch', type: 'fill', source: 'zones', paint: { 'fill-pattern': 'zone-hatch' } });
  map.addLayer({ id: 'zones-line', type: 'line', source: 'zones', paint: { 'line-color': ZONE_COLOUR, 'line-width': 1.5 } });
  map.addLayer({ id: 'outline-line', type: 'line', source: 'outline', paint: { 'line-color': OUTLINE_COLOUR, 'line-width': 2.5 } });
  if (offline && departements) map.getSource('departement-labels')?.setData(labelPoints(departements));
  map.getSource('children').setData(choropleth);
  drawZones();
  fitBounds();
}

// ---------- the printed map ----------
// Printed, the map is not a copy of the screen's canvas (a crop of whatever the window showed)
// but its own drawing, in a 2D canvas at print resolution, fitted to the territory: the land,
// the children coloured like the legend, the zones blanches, the outline, a dot per structure
// counted and the children's names. No WebGL and no wait for tiles: it is drawn after each
// change, so that printing (or a headless browser's PDF) always finds it finished.

/** Frame of the printed map, CSS pixels (96 per inch): the A4 portrait text width (186 mm),
 * 60 to 112 mm high (so that it fits on the first page with the key figures and its legend). */
const PRINT_FRAME = { width: 703, minHeight: 227, maxHeight: 423, padding: 18 };
/** Device pixels per CSS pixel of the printed map (about 240 dots per inch on paper). */
const PRINT_SCALE = 2.5;
const PRINT_SEA = '#dfe9ee';
const PRINT_LAND = '#f7f5f0';
const PRINT_BORDER = '#a8a294';
const DOT_COLOUR = '#1f3a5f';
/** A shade lighter than the outline, so that the two can be told apart in the image. */
const LABEL_COLOUR = '#1f2937';
/** Font of the children's names on the printed map, CSS pixels (9 px is 6.75 pt). */
const LABEL_FONT = '600 9px sans-serif';
const LABEL_LINE = 10.5;
const LABEL_MAX_WIDTH = 96;

function tracePolygons(ctx, geometry, project) {
  const polygons = geometry?.type === 'Polygon' ? [geometry.coordinates] : geometry?.type === 'MultiPolygon' ? geometry.coordinates : [];
  for (const polygon of polygons)
    for (const ring of polygon) {
      ring.forEach((c, i) => {
        const [x, y] = project(c);
        if (i === 0) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
      });
      ctx.closePath();
    }
}

/** Draws features' polygons: filled (`fill` a colour, a pattern, or a function of the
 * feature), then stroked. */
function drawAreas(ctx, features, project, { fill, stroke, width }) {
  for (const f of features) {
    ctx.beginPath();
    tracePolygons(ctx, f.geometry, project);
    if (fill) {
      ctx.fillStyle = typeof fill === 'function' ? fill(f) : fill;
      ctx.fill('evenodd');
    }
    if (stroke) {
      ctx.strokeStyle = stroke;
      ctx.lineWidth = width;
      ctx.stroke();
    }
  }
}

/** A name cut into lines at most `max` pixels wide (at most three lines). */
function wrapLabel(ctx, text, max) {
  const lines = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && ctx.measureText(`${last} ${word}`).width <= max) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines.length > 3 ? [...lines.slice(0, 2), lines.slice(2).join(' ')] : lines;
}

/**
 * Writes the children's names inside their areas, the most populous first; a name that would
 * overlap one already written, or leave the frame, is left out. Returns the names written.
 */
function drawLabels(ctx, frame) {
  const shapes = new Map((childrenShapes?.features ?? []).map((f) => [f.properties.code ?? '', f.geometry]));
  const children = [...report.children].sort((a, b) => (b.population ?? 0) - (a.population ?? 0));
  ctx.font = LABEL_FONT;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  const placed = [];
  const written = [];
  for (const c of children) {
    const at = ts.labelPoint(shapes.get(c.code ?? ''));
    if (!at) continue;
    const [x, y] = frame.project(at);
    const lines = wrapLabel(ctx, territoryName(c), LABEL_MAX_WIDTH);
    const w = Math.max(...lines.map((l) => ctx.measureText(l).width)) + 4;
    const h = lines.length * LABEL_LINE + 2;
    const box = [x - w / 2, y - h / 2, x + w / 2, y + h / 2];
    const inset = PRINT_FRAME.padding / 2;
    if (box[0] < inset || box[1] < inset || box[2] > frame.width - inset || box[3] > frame.height - inset) continue;
    if (placed.some((p) => box[0] < p[2] && p[0] < box[2] && box[1] < p[3] && p[1] < box[3])) continue;
    placed.push(box);
    written.push(territoryName(c));
    lines.forEach((line, i) => {
      const ly = y + (i - (lines.length - 1) / 2) * LABEL_LINE;
      ctx.strokeStyle = 'rgba(255, 255, 255, 0.9)';
      ctx.lineWidth = 3;
      ctx.strokeText(line, x, ly);
      ctx.fillStyle = LABEL_COLOUR;
      ctx.fillText(line, x, ly);
    });
  }
  return written;
}

/**
 * Draws the printed map into its image, fitted to the territory (see the section's comment).
 * Leaves the image hidden when there is nothing to fit or no 2D canvas.
 */
function drawPrintMap() {
  const img = $('terr-map-image');
  const box = printMapOn && report ? territoryBox() : null;
  if (!box) return;
  const frame = ts.fitFrame(box, PRINT_FRAME);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(frame.width * PRINT_SCALE);
  canvas.height = Math.round(frame.height * PRINT_SCALE);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(PRINT_SCALE, PRINT_SCALE);
  const project = frame.project;
  ctx.fillStyle = PRINT_SEA;
  ctx.fillRect(0, 0, frame.width, frame.height);
  ctx.lineJoin = 'round';
  drawAreas(ctx, departements?.features ?? [], project, { fill: PRINT_LAND, stroke: PRINT_BORDER, width: 0.6 });
  ctx.globalAlpha = 0.85;
  drawAreas(ctx, choropleth.features, project, { fill: (f) => f.properties.fill });
  ctx.globalAlpha = 1;
  drawAreas(ctx, choropleth.features, project, { stroke: '#ffffff', width: 0.8 });
  if (zonesOnMap && zonesGeo.features.length) {
    // The hatch tile at print resolution, scaled back to CSS pixels.
    const pattern = ctx.createPattern(hatchTile(8 * PRINT_SCALE, 1.4 * PRINT_SCALE), 'repeat');
    pattern.setTransform(new DOMMatrix().scale(1 / PRINT_SCALE));
    drawAreas(ctx, zonesGeo.features, project, { fill: pattern, stroke: ZONE_COLOUR, width: 1 });
  }
  if (outline?.geometry) drawAreas(ctx, [outline], project, { stroke: OUTLINE_COLOUR, width: 2 });
  const points = dots ?? [];
  // Smaller dots, without their white ring, when there are many.
  const r = points.length > 2000 ? 1.3 : points.length > 300 ? 2 : 2.6;
  ctx.fillStyle = DOT_COLOUR;
  ctx.strokeStyle = '#ffffff';
  ctx.lineWidth = 0.7;
  for (const p of points) {
    const [x, y] = project(p);
    if (x < -r || y < -r || x > frame.width + r || y > frame.height + r) continue;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    if (r > 2) ctx.stroke();
  }
  const labels = report.children_kind ? drawLabels(ctx, frame) : [];
  const info = { width: frame.width, height: frame.height, scale: PRINT_SCALE, box, labels, dots: points.length };
  // PNG encoding is the slow part (up to a few hundred ms): off the main thread, and only the
  // latest drawing reaches the image.
  const mine = ++printMapSeq;
  printMapDone = new Promise((resolve) => {
    canvas.toBlob(async (blob) => {
      if (blob && mine === printMapSeq) {
        const previous = img.src;
        img.src = URL.createObjectURL(blob);
        if (previous.startsWith('blob:')) URL.revokeObjectURL(previous);
        img.hidden = false;
        await img.decode().catch(() => {});
        window.ancrage.printMap = info;
      }
      resolve();
    }, 'image/png');
  });
}

/** The children's outlines with the fill colour of the chosen indicator. */
function drawChoropleth() {
  if (!report) return;
  const l = makeLegend(
    report.children.map((c) => ts.indicatorValue(c, state.indicator)),
    state.method,
    5,
  );
  const byCode = new Map(report.children.map((c) => [c.code ?? '', c]));
  const features = (childrenShapes?.features ?? []).map((f) => {
    const child = byCode.get(f.properties.code ?? '');
    return {
      type: 'Feature',
      geometry: f.geometry,
      properties: { code: f.properties.code, fill: child ? colourOf(ts.indicatorValue(child, state.indicator), l) : NO_DATA },
    };
  });
  choropleth = { type: 'FeatureCollection', features };
  if (map && map.getSource('children')) map.getSource('children').setData(choropleth);
  renderLegend(l);
  $('terr-map-image').alt = t('terr.map.image', { name: territoryName(report.territory), indicator: indicatorLabel(state.indicator) });
  drawPrintMap();
}

function drawZones() {
  if (map && map.getSource('zones')) map.getSource('zones').setData(zonesOnMap ? zonesGeo : EMPTY);
}

function swatch(style, cls = 'legend-swatch') {
  return el('span', { class: cls, style, 'aria-hidden': 'true' });
}

/** « 12 communes », « 1 EPCI », « 3 départements »: the count of a legend line, named by the children's kind. */
function legendCount(n) {
  const kind = report.children_kind ?? 'commune';
  return t(n === 1 ? `terr.legend.count.${kind}.one` : `terr.legend.count.${kind}`, { n: int(n) });
}

function renderLegend(l) {
  const items = [];
  const hasChildren = Boolean(report.children_kind);
  $('terr-legend-caption').textContent = hasChildren ? indicatorLabel(state.indicator) : '';
  $('terr-indicator').closest('.terr-indicator').hidden = !hasChildren;
  if (hasChildren) {
    for (const c of l.classes) {
      const range = c.from === c.to ? formatIndicator(state.indicator, c.to) : t('terr.legend.range', { from: formatIndicator(state.indicator, c.from), to: formatIndicator(state.indicator, c.to) });
      items.push(el('li', { class: 'legend-class' }, swatch(`background:${c.colour}`), el('span', { text: `${range} (${legendCount(c.count)})` })));
    }
    if (l.missing) items.push(el('li', {}, swatch(`background:${NO_DATA}`), el('span', { text: t('terr.legend.missing', { n: legendCount(l.missing) }) })));
  }
  items.push(
    el(
      'li',
      { class: 'legend-zones' },
      swatch(`border-color:${ZONE_COLOUR}`, 'legend-swatch hatch'),
      el('span', { text: zonesOnMap ? t('terr.legend.zones', { d: state.distanceKm }) : t('terr.legend.zones.toomany', { d: state.distanceKm }) }),
    ),
  );
  if (outline) items.push(el('li', {}, swatch(`border-color:${OUTLINE_COLOUR}`, 'legend-swatch outline'), el('span', { text: t('terr.legend.outline') })));
  // Only the printed map has the structures as dots.
  const actors = report.figures.actors;
  if (actors > 0)
    items.push(
      el(
        'li',
        { class: 'legend-dots print-only' },
        swatch(`background:${DOT_COLOUR}`, 'legend-swatch dot'),
        el('span', { text: dots ? t(actors === 1 ? 'terr.print.legend.dots.one' : 'terr.print.legend.dots', { n: int(actors) }) : t('terr.print.legend.dots.none', { n: int(actors) }) }),
      ),
    );
  $('terr-legend-list').replaceChildren(...items);
}

// ---------- loading ----------

async function load() {
  const mine = ++seq;
  const { kind, code } = where;
  const params = ts.coverageParams(state);
  const base = ts.coveragePath(kind, code);
  $('terr-status').textContent = t('terr.loading');
  document.body.dataset.loading = '1';
  let data;
  try {
    data = await api(base, params);
  } catch (e) {
    if (mine !== seq) return false;
    delete document.body.dataset.loading;
    if (report) {
      // A failed refresh keeps the last report on screen and says so.
      $('terr-status').textContent = t('terr.error.refresh');
      return false;
    }
    if (e.status === 404) showError(t('terr.error.notfound', { kind: kindLabel(kind).toLowerCase(), code }));
    else if (e.status === 400) showError(t('terr.error.code', { kind: kindLabel(kind).toLowerCase(), code }));
    else showError(t('terr.error.network'));
    return false;
  }
  const shapes =
    data.children_kind && !childrenShapes
      ? api(`${base}/children.geojson`, params)
          .then((fc) => ({ type: 'FeatureCollection', features: fc.features.map((f) => ({ type: 'Feature', geometry: f.geometry, properties: { code: f.properties.code } })) }))
          .catch(() => null)
      : Promise.resolve(childrenShapes);
  const zonesOnMapNow = data.zones_blanches.length <= ZONES_ON_MAP_MAX;
  const listParams = new URLSearchParams(params);
  for (const k of ['distance', 'sort', 'order']) listParams.delete(k);
  listParams.set('limit', String(STRUCTURES_SHOWN));
  // The printed map's dots: the structures listed when the list has them all, else the lean
  // points of the map API.
  const listedAll = data.figures.actors <= STRUCTURES_SHOWN;
  const [children, zones, listed, points] = await Promise.all([
    shapes,
    data.zones_blanches.length && zonesOnMapNow ? api(`${base}/zones-blanches.geojson`, params).catch(() => EMPTY) : EMPTY,
    api(`${base}/structures`, listParams).catch(() => null),
    listedAll ? null : api('/api/v1/map/points', ts.pointsParams(kind, code, state)).catch(() => null),
  ]);
  if (mine !== seq) return false;
  report = data;
  childrenShapes = children;
  zonesGeo = zones;
  structures = listed;
  zonesOnMap = zonesOnMapNow;
  dots = listedAll ? (listed?.structures.map((s) => s.location) ?? null) : points && !points.truncated ? points.points.map((p) => [p[1], p[2]]) : null;
  $('terr-status').textContent = '';
  $('terr-report').hidden = false;
  renderAll();
  drawZones();
  await printMapDone;
  if (mine !== seq) return false;
  delete document.body.dataset.loading;
  document.body.dataset.version = String(++version);
  return true;
}

async function switchLanguage() {
  state.lang = toggleLang();
  applyStrings();
  buildControls();
  writeUrl(true);
  if (report) {
    renderAll();
    await printMapDone;
    document.body.dataset.version = String(++version);
  }
}

// ---------- start ----------

async function start() {
  if (!new URLSearchParams(location.search).has('lang')) {
    try {
      if (localStorage.getItem('ancrage.lang') === 'en') state.lang = 'en';
    } catch {
      // No storage: French.
    }
  }
  setLang(state.lang);
  applyStrings();
  $('lang-switch').addEventListener('click', switchLanguage);
  if (where.error) {
    const kinds = ts.KINDS.join(', ');
    showError(
      where.error === 'kind'
        ? t('terr.error.kind', { kind: where.kind, kinds })
        : where.error === 'code'
          ? t('terr.error.code', { kind: kindLabel(where.kind).toLowerCase(), code: where.code })
          : t('terr.error.path'),
    );
    document.body.dataset.ready = '1';
    return;
  }
  try {
    const [cfg, cats] = await Promise.all([api('/api/v1/map/config'), api('/api/v1/categories')]);
    config = cfg;
    categories = cats.categories;
    catBySlug = new Map(categories.map((c) => [c.slug, c]));
  } catch {
    showError(t('terr.error.network'));
    document.body.dataset.ready = '1';
    return;
  }
  sanitiseState();
  buildControls();
  bindControls();
  writeUrl(false);
  window.addEventListener('popstate', () => {
    const previous = state;
    state = ts.parseState(location.search);
    sanitiseState();
    if (previous.lang !== state.lang) {
      setLang(state.lang);
      applyStrings();
    }
    buildControls();
    load();
  });
  const outlineReq = where.kind === 'france' ? Promise.resolve(null) : api(`/api/v1/map/outlines/${where.kind}/${encodeURIComponent(where.code)}`).catch(() => null);
  const departementsReq = api('/api/v1/map/outlines/departements').catch(() => null);
  const ok = await load();
  if (!ok) {
    document.body.dataset.ready = '1';
    return;
  }
  [outline, departements] = await Promise.all([outlineReq, departementsReq]);
  printMapOn = true;
  // The legend names the outline, and the printed map is drawn, now that both are known.
  drawChoropleth();
  await createMap();
  // A remote basemap's own credits are known once its style is loaded.
  renderSources();
  if (map) await new Promise((resolve) => (map.loaded() && !map.isMoving() ? resolve() : map.once('idle', resolve)));
  await printMapDone;
  document.body.dataset.ready = '1';
}

start();

// The embed's configuration, its lock, the snippets and the web component's attributes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  EMBED_PARAMS,
  parseEmbedConfig,
  defaultConfig,
  applyLock,
  allowedCategories,
  knownCategories,
  insideTerritory,
  embedInitialState,
  fullMapHref,
  readableInk,
  parseColour,
  territoryMaxBounds,
} from '../../../frontend/js/embed_config.mjs';
import { optionsFromState, embedQuery, iframeSnippet, componentSnippet } from '../../../frontend/js/snippet.mjs';
import { embedParams, cssLength, ATTRIBUTES } from '../../../frontend/widget.js';
import { emptyState, parseState } from '../../../frontend/js/state.mjs';
import fr from '../../../frontend/js/i18n/fr.mjs';
import en from '../../../frontend/js/i18n/en.mjs';

const CATALOG = [
  { slug: 'alimentation', parent: null },
  { slug: 'epicerie-solidaire', parent: 'alimentation' },
  { slug: 'amap', parent: 'alimentation' },
  { slug: 'tiers-lieux', parent: null },
  { slug: 'fablab', parent: 'tiers-lieux' },
];

function parse(search) {
  const warnings = [];
  const config = parseEmbedConfig(search, (m) => warnings.push(m));
  return { config, warnings };
}

test('a full embed address is read into a typed configuration without warnings', () => {
  const { config, warnings } = parse(
    '?territory=epci:244400404&cat=alimentation,amap&fam=association&tl=1&open=1&demo=0&lon=-1.55&lat=47.2&z=10.5&lang=en&basemap=offline&controls=list,zoom,search&theme=%23ABC',
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, {
    territory: { kind: 'epci', code: '244400404' },
    categories: ['alimentation', 'amap'],
    family: 'association',
    tiersLieux: true,
    openNow: true,
    demo: false,
    view: { lon: -1.55, lat: 47.2, zoom: 10.5 },
    bbox: null,
    lang: 'en',
    basemap: 'offline',
    controls: ['search', 'list', 'zoom'],
    theme: '#aabbcc',
  });
});

test('kind and code name a territory too; bbox is a view; nothing asked is the default', () => {
  assert.deepEqual(parse('?kind=departement&code=2A').config.territory, { kind: 'departement', code: '2A' });
  assert.deepEqual(parse('?bbox=-1.8,47.1,-1.4,47.3').config.bbox, [-1.8, 47.1, -1.4, 47.3]);
  assert.deepEqual(parse('').config, defaultConfig());
  assert.deepEqual(parse('?controls=').config.controls, []);
  assert.deepEqual(parse('?controls=none').config.controls, []);
  assert.equal(parse('?theme=0f766e').config.theme, '#0f766e');
});

test('unknown and invalid parameters are ignored, each with a warning naming it', () => {
  const { config, warnings } = parse(
    '?territory=ville:44109&cat=Alimentation!,amap&fam=sarl&tl=peut-etre&lon=200&lat=47&z=99&bbox=1,2,3&lang=de&basemap=satellite&controls=zoom,minimap&theme=red&utm_source=x',
  );
  for (const name of ['territory', 'cat', 'fam', 'tl', 'lon', 'z', 'bbox', 'lang', 'basemap', 'controls', 'theme', 'utm_source'])
    assert.ok(
      warnings.some((w) => w.includes(`"${name}"`)),
      `a warning names ${name}: ${warnings.join(' | ')}`,
    );
  assert.equal(config.territory, null);
  assert.deepEqual(config.categories, ['amap'], 'the valid category is kept');
  assert.equal(config.family, '');
  assert.equal(config.tiersLieux, false);
  assert.equal(config.view, null, 'a view needs a valid lon and lat');
  assert.equal(config.bbox, null);
  assert.equal(config.lang, 'fr');
  assert.equal(config.basemap, 'default');
  assert.deepEqual(config.controls, ['zoom']);
  assert.equal(config.theme, null);
  assert.ok(parse('?lon=2').warnings.some((w) => w.includes('together')));
  assert.ok(parse('?kind=epci').warnings.some((w) => w.includes('"kind"')));
});

test('categories the catalogue does not know are dropped with a warning', () => {
  const warnings = [];
  const c = knownCategories(parse('?cat=amap,licornes').config, CATALOG, (m) => warnings.push(m));
  assert.deepEqual(c.categories, ['amap']);
  assert.match(warnings[0], /licornes/);
});

test('the lock keeps every query inside the territory and the locked categories', () => {
  const config = parse('?territory=epci:244400404&cat=alimentation&demo=0&fam=cooperative').config;
  const allowed = allowedCategories(config, CATALOG);
  assert.deepEqual([...allowed].sort(), ['alimentation', 'amap', 'epicerie-solidaire']);
  // Nothing chosen: the locked categories apply.
  let p = applyLock(new URLSearchParams(), config, allowed);
  assert.equal(p.get('epci'), '244400404');
  assert.equal(p.get('category'), 'alimentation');
  assert.equal(p.get('demo'), 'exclude');
  assert.equal(p.get('family'), 'cooperative');
  // Narrowing inside the lock is allowed; a category outside it cannot widen the query.
  p = applyLock(new URLSearchParams({ category: 'amap,fablab', family: 'association', demo: 'include' }), config, allowed);
  assert.equal(p.get('category'), 'amap');
  assert.equal(p.get('family'), 'cooperative');
  assert.equal(p.get('demo'), 'exclude');
  p = applyLock(new URLSearchParams({ category: 'fablab', region: '52' }), config, allowed);
  assert.equal(p.get('category'), 'alimentation');
  assert.equal(p.get('region'), null, 'no other territory can replace the lock');
  // Without a lock, the user's filters go through unchanged (demonstration data stays out
  // unless the embed asks for it).
  const free = { ...defaultConfig(), demo: true };
  p = applyLock(new URLSearchParams({ category: 'fablab' }), free, allowedCategories(free, CATALOG));
  assert.equal(p.toString(), 'category=fablab');
});

test('search results are kept only inside the locked territory', () => {
  const config = parse('?territory=epci:244400404').config;
  assert.ok(insideTerritory(config, { kind: 'epci', code: '244400404' }));
  assert.ok(insideTerritory(config, { kind: 'commune', code: '44109', epci: { code: '244400404' } }));
  assert.ok(!insideTerritory(config, { kind: 'commune', code: '35238', epci: { code: '243500139' } }));
  assert.ok(!insideTerritory(config, { kind: 'departement', code: '44', epci: null }));
  assert.ok(insideTerritory(defaultConfig(), { kind: 'region', code: '52' }));
});

test('the full-map link opens the same view with the lock as filters and the territory outlined', () => {
  const config = parse('?territory=epci:244400404&cat=alimentation&demo=0&lang=en').config;
  const state = { ...embedInitialState(config), lon: -1.5, lat: 47.2, zoom: 11 };
  assert.equal(state.territory, 'epci:244400404');
  const back = parseState(fullMapHref(config, state).slice(1));
  assert.equal(back.territory, 'epci:244400404');
  assert.deepEqual(back.categories, ['alimentation']);
  assert.equal(back.hideDemo, true);
  assert.equal(back.lang, 'en');
  assert.deepEqual([back.lon, back.lat, back.zoom], [-1.5, 47.2, 11]);
});

test('theme colours get a readable ink', () => {
  assert.equal(readableInk('#0f766e'), '#ffffff');
  assert.equal(readableInk('#ffeb3b'), '#1b1f24');
  assert.equal(parseColour('#12345'), null);
});

test('the snippet of a map state opens an embed showing the same thing', () => {
  const state = { ...emptyState(), lon: -1.55, lat: 47.21, zoom: 10, categories: ['alimentation'], territory: 'epci:244400404', hideDemo: true, lang: 'en' };
  const o = { ...optionsFromState(state, { keepView: true }), controls: ['list', 'geolocation'], theme: '#aa0000' };
  const query = embedQuery(o);
  const { config, warnings } = parse(`?${query}`);
  assert.deepEqual(warnings, []);
  assert.deepEqual(config.territory, { kind: 'epci', code: '244400404' });
  assert.deepEqual(config.categories, ['alimentation']);
  assert.equal(config.demo, false);
  assert.equal(config.lang, 'en');
  assert.deepEqual(config.controls, ['list', 'geolocation']);
  assert.equal(config.theme, '#aa0000');
  assert.deepEqual(config.view, { lon: -1.55, lat: 47.21, zoom: 10 });
  assert.equal(embedQuery(optionsFromState(emptyState())).includes('controls'), false, 'default controls are left out');
  // Demonstration data stays out of an embed, whatever the map showed, unless asked.
  assert.equal(optionsFromState({ ...emptyState(), hideDemo: false }).demo, false);
  assert.equal(parse('').config.demo, false);
  assert.equal(applyLock(new URLSearchParams(), parse('').config, null).get('demo'), 'exclude');
  const withDemo = parse(`?${embedQuery({ ...optionsFromState(emptyState()), demo: true })}`).config;
  assert.equal(withDemo.demo, true);

  const html = iframeSnippet({ src: `https://a.example/embed?${query}`, title: 'Carte des acteurs de l’ESS – Nantes "M"', width: 640, height: 480, fullUrl: 'https://a.example/?x=1&y=2', fullLabel: 'Voir en plein écran' });
  assert.match(html, /^<iframe src="https:\/\/a\.example\/embed\?territory=epci:244400404&amp;cat=alimentation/);
  for (const part of ['title="Carte des acteurs de l’ESS – Nantes &quot;M&quot;"', 'width="640"', 'height="480"', 'loading="lazy"', 'allow="geolocation; fullscreen"', '<a href="https://a.example/?x=1&amp;y=2" target="_blank" rel="noopener">Voir en plein écran</a>'])
    assert.ok(html.includes(part), `${part} in ${html}`);
  // `allow` already grants full screen; a second `allowfullscreen` only makes Chromium warn.
  assert.doesNotMatch(html, /allowfullscreen/i);
  assert.equal(html.match(/ allow="/g).length, 1);
  const wide = iframeSnippet({ src: 'x', title: 't', width: '100%', height: 500, fullUrl: 'y', fullLabel: 'z' });
  assert.ok(!wide.includes('width="') && wide.includes('width:100%'), wide);
});

test('a territory-locked snippet fits its territory: it carries a view only when asked to keep it', () => {
  const state = { ...emptyState(), lon: -1.55, lat: 47.21, zoom: 13, territory: 'departement:44' };
  const fitted = optionsFromState(state);
  assert.equal(fitted.view, null);
  const query = embedQuery(fitted);
  for (const name of ['lon', 'lat', 'z']) assert.equal(new URLSearchParams(query).has(name), false, `${name} in ${query}`);
  assert.equal(parse(`?${query}`).config.view, null);
  assert.equal(embedInitialState(parse(`?${query}`).config).territory, 'departement:44');
  assert.doesNotMatch(componentSnippet('https://a.example', fitted, { title: 'Carte', width: 640, height: 480 }), /center=|zoom=/);
  // Kept on request.
  assert.deepEqual(parse(`?${embedQuery(optionsFromState(state, { keepView: true }))}`).config.view, { lon: -1.55, lat: 47.21, zoom: 13 });
  // Without a territory, the view is what the embed shows, unless the author lets it go.
  const free = { ...state, territory: null };
  assert.deepEqual(optionsFromState(free).view, { lon: -1.55, lat: 47.21, zoom: 13 });
  assert.equal(optionsFromState(free, { keepView: false }).view, null);
});

test('a locked embed pans within its territory widened by half its size, never less than its view', () => {
  const bbox = [-2.6257, 46.86006, -0.94664, 47.83591];
  const w = bbox[2] - bbox[0];
  const h = bbox[3] - bbox[1];
  // A view inside the widened box leaves it as it is.
  const [[west, south], [east, north]] = territoryMaxBounds(bbox, [-2.7, 46.8, -0.9, 47.9]);
  assert.ok(Math.abs(west - (bbox[0] - w / 2)) < 1e-9 && Math.abs(east - (bbox[2] + w / 2)) < 1e-9);
  assert.ok(Math.abs(south - (bbox[1] - h / 2)) < 1e-9 && Math.abs(north - (bbox[3] + h / 2)) < 1e-9);
  // A wide frame sees more than that: the bounds grow to hold the view, with a margin.
  const view = [-5, 46.9, 1.5, 47.8];
  const wide = territoryMaxBounds(bbox, view);
  assert.ok(wide[0][0] < view[0] && wide[1][0] > view[2], JSON.stringify(wide));
  assert.ok(Math.abs(wide[0][1] - (bbox[1] - h / 2)) < 1e-9, 'the other side keeps the territory margin');
  // Never beyond the world the map can show.
  const world = territoryMaxBounds([-179, -80, 179, 80], [-179, -80, 179, 80]);
  assert.deepEqual(world, [[-180, -85], [180, 85]]);
});

test('the web component maps its attributes to the same embed as the iframe snippet', () => {
  const state = { ...emptyState(), lon: 2.35, lat: 48.85, zoom: 12, categories: ['alimentation', 'amap'], family: 'association', tiersLieux: true, territory: 'departement:75', hideDemo: true };
  const o = { ...optionsFromState(state), controls: ['search', 'zoom'], theme: '#123456', lang: 'en' };
  const snippetHtml = componentSnippet('https://a.example', o, { title: 'Carte', width: 640, height: 480 });
  assert.match(snippetHtml, /^<script type="module" src="https:\/\/a\.example\/widget\.js"><\/script>\n<ancrage-map /);
  // Read the element's attributes back as a browser would.
  const attrs = new Map();
  for (const m of snippetHtml.matchAll(/ ([a-z-]+)(?:="([^"]*)")?/g)) attrs.set(m[1], m[2] ?? '');
  for (const name of attrs.keys()) if (!['type', 'src'].includes(name)) assert.ok(ATTRIBUTES.includes(name), name);
  const viaComponent = parse(`?${embedParams((n) => (attrs.has(n) ? attrs.get(n) : null))}`);
  const viaIframe = parse(`?${embedQuery(o)}`);
  assert.deepEqual(viaComponent.warnings, []);
  assert.deepEqual(viaComponent.config, viaIframe.config);
  assert.equal(attrs.get('height'), '480');
  assert.equal(cssLength('480', 'x'), '480px');
  assert.equal(cssLength('60vh', 'x'), '60vh');
  assert.equal(cssLength('100px;background:red', 'x'), 'x');
  // Short forms of the attributes.
  const p = embedParams((n) => ({ territory: 'epci:200000172', categories: 'tiers-lieux', 'tiers-lieux': '', demo: 'false', center: '5.7, 45.18', controls: '' })[n] ?? null);
  assert.equal(p.toString(), 'territory=epci%3A200000172&cat=tiers-lieux&tl=1&demo=0&lon=5.7&lat=45.18&controls=none');
});

test('the embed page and oEmbed agree on the parameters an embed keeps', () => {
  const rust = readFileSync(new URL('../../../src/routes/oembed.rs', import.meta.url), 'utf8');
  const block = /pub const EMBED_PARAMS: \[&str; \d+\] = \[([^\]]*)\]/.exec(rust);
  assert.ok(block, 'EMBED_PARAMS in oembed.rs');
  const names = [...block[1].matchAll(/"([a-z]+)"/g)].map((m) => m[1]);
  assert.deepEqual(names, EMBED_PARAMS);
});

test('every string the embed page and the snippet dialog use exists in both languages', () => {
  const used = new Set();
  for (const file of ['../../../frontend/embed.html', '../../../frontend/js/embed_dialog.mjs', '../../../frontend/js/app.mjs']) {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8');
    for (const m of text.matchAll(/\bt\('([a-z0-9.-]+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/data-i18n(?:-[a-z-]+)?="([a-z0-9.-]+)"/g)) used.add(m[1]);
    for (const m of text.matchAll(/words\['([a-z0-9.-]+)'\]/g)) used.add(m[1]);
    for (const m of text.matchAll(/t\(`embed\.(control|size)\.\$\{/g)) used.add(`embed.${m[1]}.*`);
  }
  for (const key of used) {
    if (key.endsWith('.*')) continue;
    assert.ok(key in fr && key in en, key);
  }
  for (const c of ['search', 'filters', 'list', 'geolocation', 'fullscreen', 'zoom']) assert.ok(`embed.control.${c}` in fr);
});

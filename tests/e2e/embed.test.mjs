// The embeddable map on another site: a host page served from a second origin (another port)
// frames /embed by <iframe> and by the <ancrage-map> web component; the map renders, its lock
// holds, the host page scrolls over it, geolocation is delegated, bad parameters only warn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { launchBrowser, screenshot, startServer } from './lib/harness.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const NANTES = { latitude: 47.2184, longitude: -1.5536 };
const LOCK = { territory: 'epci:244400404', param: 'epci', code: '244400404', category: 'alimentation' };

let server;
let browser;
let host;
const hostPages = new Map();

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const srv = http.createServer((req, res) => {
    const page = hostPages.get(new URL(req.url, 'http://x').pathname);
    res.writeHead(page ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not found');
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  host = { srv, url: `http://127.0.0.1:${srv.address().port}` };
  assert.notEqual(new URL(host.url).origin, new URL(server.url).origin);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => host?.srv.close(resolve));
});

/** Styles of a careless host site: they would crush any iframe they reach. */
const HOSTILE_CSS = 'iframe{border:12px solid red !important;height:10px !important;width:50px !important}';

/** A plain host page of another site around `body`. */
function hostPage(name, body, css = '') {
  hostPages.set(`/${name}.html`, `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Mairie de test</title>
<style>body{font-family:serif;margin:0 1rem} ${css}</style></head>
<body><h1>Mairie de test</h1><p style="height:300px">Actualités de la commune.</p>${body}<div style="height:2000px">Pied de page</div></body></html>`);
  return `${host.url}/${name}.html`;
}

/** A page in a context that reaches the two test origins only, with its requests, warnings and errors. */
async function open(url, options = {}) {
  const context = await browser.newContext({ locale: 'fr-FR', timezoneId: 'Europe/Paris', viewport: { width: 1100, height: 800 }, ...options });
  const allowed = new Set([new URL(server.url).origin, host.url]);
  const page = await context.newPage();
  page.requests = [];
  page.foreign = [];
  page.errors = [];
  page.warnings = [];
  page.console = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (allowed.has(u.origin) || u.protocol === 'data:' || u.protocol === 'blob:') {
      page.requests.push(u);
      return route.continue();
    }
    page.foreign.push(u.href);
    return route.abort('internetdisconnected');
  });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    page.console.push(`${m.type()}: ${m.text()}`);
    if (m.type() === 'error') page.errors.push(m.text());
    if (m.type() === 'warning' && m.text().startsWith('Ancrage embed')) page.warnings.push(m.text());
  });
  await page.goto(url);
  return page;
}

/** The embed frame of a page, once its map has started and its list has been drawn. */
async function embedFrame(page, nth = 0) {
  let frame;
  await page.waitForFunction(() => true);
  for (let i = 0; i < 200 && !frame; i++) {
    frame = page.frames().filter((f) => f.url().startsWith(`${server.url}/embed`))[nth];
    if (!frame) await page.waitForTimeout(100);
  }
  assert.ok(frame, 'an embed frame');
  await frame.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await frame.waitForFunction(() => Number(document.body.dataset.listVersion ?? 0) > 0, null, { timeout: 60_000 });
  await idle(frame);
  return frame;
}

async function idle(frame) {
  await frame.evaluate(
    () =>
      new Promise((resolve) => {
        const { map } = window.ancrage;
        if (map.loaded() && !map.isMoving()) resolve();
        else map.once('idle', resolve);
      }),
  );
}

/** Ids of the actors the API gives for the lock (the oracle). */
async function lockedIds(extra = '') {
  const res = await fetch(`${server.url}/api/v1/actors?${LOCK.param}=${LOCK.code}&category=${LOCK.category}&limit=1000${extra}`);
  const body = await res.json();
  return new Set(body.features.map((f) => f.id));
}

/** Every actor query the page made carries the lock. */
function assertLockedQueries(page, { category = LOCK.category } = {}) {
  const queries = page.requests.filter((u) => /^\/api\/v1\/(map\/(points|clusters|facets)|actors(\/nearby)?)$/.test(u.pathname));
  assert.ok(queries.length >= 3, `actor queries made: ${queries.length}`);
  for (const u of queries) {
    assert.equal(u.searchParams.get(LOCK.param), LOCK.code, u.href);
    if (category) assert.ok((u.searchParams.get('category') ?? '').length > 0, u.href);
  }
}

async function listIds(frame) {
  return frame.$$eval('#list .item', (nodes) => nodes.map((n) => Number(n.dataset.id)));
}

test('an embed shows real places only unless its snippet asks for demonstration data', async () => {
  // The seeded store is mostly demonstration data: an embed that counted it would mislead.
  const real = await fetch(`${server.url}/api/v1/actors?${LOCK.param}=${LOCK.code}&demo=exclude&limit=1000`).then((r) => r.json());
  const realIds = new Set(real.features.map((f) => f.id));
  for (const [query, demo] of [['', false], ['&demo=1', true]]) {
    const page = await open(hostPage(`demo${demo}`, `<iframe src="${server.url}/embed?territory=${LOCK.territory}&controls=list,filters,zoom${query}" title="Carte" width="640" height="480"></iframe>`));
    const frame = await embedFrame(page);
    await frame.waitForFunction(() => Number(document.body.dataset.listVersion) > 0);
    const queries = page.requests.filter((u) => /^\/api\/v1\/(map\/(points|clusters|facets)|actors)$/.test(u.pathname));
    assert.ok(queries.length >= 2, `actor queries made: ${queries.length}`);
    for (const u of queries) assert.equal(u.searchParams.get('demo'), demo ? null : 'exclude', u.href);
    const ids = await listIds(frame);
    if (demo) assert.ok(ids.some((id) => !realIds.has(id)), 'demonstration places are shown when asked for');
    else for (const id of ids) assert.ok(realIds.has(id), `listed actor ${id} is a real place`);
    assert.equal(await frame.locator('#demo-row').evaluate((n) => n.hidden), !demo, 'the demonstration filter is offered only when shown');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

test('an iframe on another site shows the map locked to its territory and category', async () => {
  const url = hostPage('iframe', `<iframe src="${server.url}/embed?territory=${LOCK.territory}&cat=${LOCK.category}&controls=list,filters,zoom&demo=1" title="Carte des acteurs de l’ESS – Nantes Métropole" width="640" height="480" loading="lazy" allow="geolocation; fullscreen"></iframe>`);
  const page = await open(url);
  const frame = await embedFrame(page);
  await frame.waitForFunction(() => window.ancrage.map.queryRenderedFeatures({ layers: ['actors', 'clusters'] }).length > 0, null, { timeout: 10_000 });
  const drawn = await frame.evaluate(() => {
    const { map } = window.ancrage;
    return {
      markers: map.queryRenderedFeatures({ layers: ['actors', 'clusters'] }).length,
      outline: map.querySourceFeatures('territory').length,
      coop: map.cooperativeGestures.isEnabled(),
      bounds: map.getBounds().toArray(),
    };
  });
  assert.ok(drawn.markers > 0, 'markers drawn');
  assert.ok(drawn.outline > 0, 'the territory is outlined');
  assert.ok(drawn.coop, 'cooperative gestures');
  // The view fits Nantes Métropole.
  assert.ok(drawn.bounds[0][0] < -1.55 && drawn.bounds[1][0] > -1.55 && drawn.bounds[0][1] < 47.22 && drawn.bounds[1][1] > 47.22, JSON.stringify(drawn.bounds));
  const oracle = await lockedIds();
  const ids = await listIds(frame);
  assert.ok(ids.length > 0, 'places listed');
  for (const id of ids) assert.ok(oracle.has(id), `listed actor ${id} is inside the lock`);
  assert.match(await frame.locator('#territory-name').textContent(), /Nantes Métropole/);
  // The filters offer only the locked category and its subcategories.
  const offered = await frame.$$eval('#category-tree input', (nodes) => nodes.map((n) => n.value));
  assert.ok(offered.includes(LOCK.category) && !offered.includes('tiers-lieux'), offered.join(','));
  // The map stays around its territory: a jump to Paris is held back near Nantes.
  await frame.evaluate(() => window.ancrage.map.jumpTo({ center: [2.35, 48.86], zoom: 11 }));
  const held = await frame.evaluate(() => window.ancrage.map.getCenter().toArray());
  assert.ok(held[0] < -0.5 && held[1] < 47.8, `held at ${held}`);
  await frame.waitForTimeout(800);
  // Even with the bounds lifted, moving far away does not widen the lock: nothing in Paris.
  const before = await frame.evaluate(() => Number(document.body.dataset.listVersion));
  await frame.evaluate(() => {
    window.ancrage.map.setMaxBounds(null);
    window.ancrage.map.jumpTo({ center: [2.35, 48.86], zoom: 11 });
  });
  await frame.waitForFunction((v) => Number(document.body.dataset.listVersion) > v, before);
  await frame.waitForTimeout(500);
  assert.equal(await frame.locator('#list .item').count(), 0);
  assertLockedQueries(page);
  assert.deepEqual(page.foreign, [], 'nothing loaded from a third party');
  assert.deepEqual((await page.context().cookies()).length, 0, 'no cookies');
  assert.equal(await frame.evaluate(() => localStorage.length), 0, 'nothing stored');
  // The link back to the full map keeps the view and the lock.
  const link = frame.getByRole('link', { name: 'Voir la carte complète' });
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.match(await link.getAttribute('rel'), /noopener/);
  const full = new URL(await link.getAttribute('href'), server.url);
  assert.equal(full.pathname, '/');
  assert.equal(full.searchParams.get('terr'), LOCK.territory);
  assert.equal(full.searchParams.get('cat'), LOCK.category);
  assert.equal(Number(full.searchParams.get('lon')).toFixed(2), '2.35');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('scrolling the host page over the map scrolls the page and leaves the map zoom alone', async () => {
  const url = hostPage('scroll', `<iframe src="${server.url}/embed?territory=${LOCK.territory}" title="Carte" width="640" height="480" allow="geolocation"></iframe>`);
  const page = await open(url, { viewport: { width: 1000, height: 700 } });
  const frame = await embedFrame(page);
  const el = await frame.frameElement();
  const box = await el.boundingBox();
  const zoom = await frame.evaluate(() => window.ancrage.map.getZoom());
  const y0 = await page.evaluate(() => scrollY);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 4; i++) {
    await page.mouse.wheel(0, 120);
    await page.waitForTimeout(80);
  }
  await page.waitForTimeout(600);
  assert.ok((await page.evaluate(() => scrollY)) > y0 + 100, 'the host page scrolled');
  assert.equal(await frame.evaluate(() => window.ancrage.map.getZoom()), zoom, 'the map did not zoom');
  // MapLibre tells how to zoom instead.
  assert.ok(await frame.locator('.maplibregl-cooperative-gesture-screen').count());
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the web component renders the locked map in its own shadow root, sized, and follows its attributes', async () => {
  const url = hostPage(
    'component',
    `<script type="module" src="${server.url}/widget.js"></script>
<ancrage-map territory="${LOCK.territory}" categories="${LOCK.category}" height="420" controls="list,geolocation" title="Carte des acteurs de l’ESS – Nantes"></ancrage-map>`,
    HOSTILE_CSS,
  );
  const page = await open(url, { permissions: ['geolocation'], geolocation: NANTES });
  const frame = await embedFrame(page);
  const el = await frame.frameElement();
  assert.equal(await el.getAttribute('allow'), 'geolocation; fullscreen');
  assert.equal(await el.getAttribute('title'), 'Carte des acteurs de l’ESS – Nantes');
  const size = await el.boundingBox();
  const hostWidth = await page.evaluate(() => document.querySelector('ancrage-map').getBoundingClientRect().width);
  assert.equal(Math.round(size.height), 420, 'the host CSS did not reach the frame');
  assert.equal(Math.round(size.width), Math.round(hostWidth), 'the full width of the host column');
  assert.equal(await el.evaluate((n) => getComputedStyle(n).borderTopWidth), '0px');
  const oracle = await lockedIds();
  for (const id of await listIds(frame)) assert.ok(oracle.has(id), `listed actor ${id} is inside the lock`);
  assertLockedQueries(page);
  // « Autour de moi » works inside the frame: the permission is delegated by allow="geolocation".
  const before = await frame.evaluate(() => Number(document.body.dataset.listVersion));
  await frame.getByRole('button', { name: 'Autour de moi' }).click();
  await frame.waitForFunction((v) => Number(document.body.dataset.listVersion) > v && /à moins de/.test(document.querySelector('#list-status').textContent), before, { timeout: 20_000 });
  const nearby = page.requests.filter((u) => u.pathname === '/api/v1/actors/nearby');
  assert.ok(nearby.length > 0, 'a nearby query');
  assert.equal(nearby.at(-1).searchParams.get(LOCK.param), LOCK.code, 'the nearby query keeps the lock');
  assert.equal(Number(nearby.at(-1).searchParams.get('lat')).toFixed(3), NANTES.latitude.toFixed(3));
  // Attribute changes: a new size at once, a new lock in a new embed.
  await page.evaluate(() => document.querySelector('ancrage-map').setAttribute('height', '300'));
  assert.equal(Math.round((await el.boundingBox()).height), 300);
  await page.evaluate(() => document.querySelector('ancrage-map').setAttribute('territory', 'departement:44'));
  await page.waitForFunction(
    () => document.querySelector('ancrage-map').shadowRoot.querySelector('iframe').src.includes('territory=departement%3A44'),
  );
  await screenshot(page, 'embed-component');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('without allow="geolocation" the embed cannot locate and says so', async () => {
  const url = hostPage('nogeo', `<iframe src="${server.url}/embed?territory=${LOCK.territory}&controls=geolocation" title="Carte" width="500" height="400"></iframe>`);
  const page = await open(url, { permissions: ['geolocation'], geolocation: NANTES });
  const frame = await embedFrame(page);
  await frame.getByRole('button', { name: 'Autour de moi' }).click();
  await frame.waitForFunction(() => document.querySelector('#near-message').classList.contains('error'), null, { timeout: 20_000 });
  assert.match(await frame.locator('#near-message').textContent(), /refus|autoris/i);
  await page.context().close();
});

test('invalid parameters only warn and the embed still works', async () => {
  const page = await open(
    `${server.url}/embed?territory=epci:999999999&cat=licornes,${LOCK.category}&controls=list,minimap&theme=rouge&z=99&fam=sarl&utm_source=journal`,
  );
  const frame = page.mainFrame();
  await embedFrame(page);
  for (const name of ['territory', 'cat', 'controls', 'theme', 'z', 'fam', 'utm_source'])
    assert.ok(page.warnings.some((w) => w.includes(`"${name}"`)), `warning about ${name}: ${page.warnings.join(' | ')}`);
  assert.ok((await frame.locator('#list .item').count()) > 0, 'the list works');
  // The valid category still holds; the unknown territory is dropped rather than breaking queries.
  const points = page.requests.filter((u) => u.pathname === '/api/v1/map/points').at(-1);
  assert.equal(points.searchParams.get('category'), LOCK.category);
  assert.equal(points.searchParams.get('epci'), null);
  assert.deepEqual(page.errors.filter((e) => !/404/.test(e)), [], 'only the unknown territory outline is missing');
  await page.context().close();
});

/** Whether bounds `[[w, s], [e, n]]` hold a box `[w, s, e, n]`. */
function containsBox(bounds, box) {
  return bounds[0][0] <= box[0] && bounds[0][1] <= box[1] && bounds[1][0] >= box[2] && bounds[1][1] >= box[3];
}

function intersects(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

test('the snippet generator gives a snippet that renders the locked map on another site', async () => {
  const nantesMetropole = await fetch(`${server.url}/api/v1/territories/epci/${LOCK.code}`).then((r) => r.json());
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/?lat=47.21&lon=-1.55&z=10&cat=${LOCK.category}&terr=${LOCK.territory}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await page.waitForFunction(() => !document.querySelector('#territory-chip').hidden);
  const opener = page.getByRole('button', { name: 'Intégrer cette carte' });
  await opener.click();
  const dialog = page.getByRole('dialog', { name: 'Intégrer cette carte sur un autre site' });
  await dialog.waitFor();
  // Focus stays in the dialog.
  for (let i = 0; i < 30; i++) await page.keyboard.press('Tab');
  assert.ok(await page.evaluate(() => document.getElementById('embed-dialog').contains(document.activeElement)), 'Tab stays inside');
  // A locked territory is fitted whole by the embed: no view in the snippet unless it is kept.
  const keepView = dialog.getByLabel('Garder la vue actuelle');
  assert.equal(await keepView.isChecked(), false);
  const noView = new URL(/src="([^"]+)"/.exec(await page.locator('#embed-code-iframe').inputValue())[1].replaceAll('&amp;', '&'));
  for (const name of ['lon', 'lat', 'z']) assert.equal(noView.searchParams.has(name), false, `${name} in ${noView}`);
  assert.doesNotMatch(await page.locator('#embed-code-component').inputValue(), / center=| zoom=/);
  await keepView.check();
  const kept = new URL(/src="([^"]+)"/.exec(await page.locator('#embed-code-iframe').inputValue())[1].replaceAll('&amp;', '&'));
  assert.deepEqual([kept.searchParams.get('lon'), kept.searchParams.get('lat'), kept.searchParams.get('z')], ['-1.55000', '47.21000', '10']);
  await keepView.uncheck();
  await dialog.getByLabel('Liste des lieux').check();
  await dialog.getByLabel('Autour de moi (géolocalisation)').check();
  // Demonstration data is left out until the author asks for it.
  const demoBox = dialog.getByLabel('Afficher les données de démonstration');
  assert.equal(await demoBox.isChecked(), false);
  assert.doesNotMatch(await page.locator('#embed-code-iframe').inputValue(), /\/embed\?[^"]*demo=/);
  await demoBox.check();
  const code = await page.locator('#embed-code-iframe').inputValue();
  for (const part of ['demo=1', 'title="Carte des acteurs de l’ESS – Nantes Métropole"', 'loading="lazy"', 'allow="geolocation; fullscreen"', 'width="640"', 'height="480"', `territory=${LOCK.territory}`, `cat=${LOCK.category}`, 'controls=list,geolocation,fullscreen,zoom', '>Voir en plein écran</a>'])
    assert.ok(code.includes(part), `${part} in ${code}`);
  await dialog.getByLabel('Petite (400 × 300)').check();
  assert.match(await page.locator('#embed-code-iframe').inputValue(), /width="400" height="300"/);
  // The live preview shows the embed.
  await page.waitForFunction(() => document.getElementById('embed-preview').src.includes('/embed?'));
  // One click copies, with a spoken confirmation.
  await dialog.getByRole('button', { name: 'Copier le code' }).click();
  await page.waitForFunction(() => document.getElementById('embed-copy-status').textContent === 'Copié');
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, await page.locator('#embed-code-iframe').inputValue());
  const component = await page.locator('#embed-code-component').inputValue();
  assert.match(component, new RegExp(`<script type="module" src="${server.url}/widget.js"></script>`));
  // Escape closes and gives focus back.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'embed-open');
  assert.deepEqual(errors, []);
  await context.close();

  // A newcomer pastes both snippets into a plain page of another site.
  for (const [name, snippet] of [
    ['pasted-iframe', copied],
    ['pasted-component', component],
  ]) {
    const host = await open(hostPage(name, snippet));
    // The pasted iframe keeps the size chosen in the dialog.
    if (name === 'pasted-iframe') {
      const frameBox = await host.locator('iframe').boundingBox();
      assert.deepEqual([Math.round(frameBox.width), Math.round(frameBox.height)], [400, 300]);
    }
    const frame = await embedFrame(host);
    // The whole territory is in the frame, at the size chosen.
    const shown = await frame.evaluate(() => window.ancrage.map.getBounds().toArray());
    assert.ok(containsBox(shown, nantesMetropole.bbox), `${name}: ${JSON.stringify(shown)} holds ${nantesMetropole.bbox}`);
    const oracle = await lockedIds();
    const ids = await listIds(frame);
    assert.ok(ids.length > 0, `${name}: places listed`);
    for (const id of ids) assert.ok(oracle.has(id), `${name}: actor ${id} inside the lock`);
    assertLockedQueries(host);
    assert.equal(await frame.getByRole('button', { name: 'Autour de moi' }).count(), 1, `${name}: geolocation control`);
    if (name === 'pasted-iframe') {
      assert.equal(await host.getByRole('link', { name: 'Voir en plein écran' }).count(), 1);
      // One permission attribute, so Chromium has nothing to warn about.
      assert.deepEqual(host.console.filter((m) => /allowfullscreen|Allow attribute/i.test(m)), []);
    }
    assert.deepEqual(host.errors, [], name);
    await host.context().close();
  }
});

test('a territory-locked embed shows its whole territory and keeps the map around it', async () => {
  const { bbox } = await fetch(`${server.url}/api/v1/territories/departement/44`).then((r) => r.json());
  const [w, s, e, n] = bbox;
  for (const viewport of [{ width: 640, height: 480 }, { width: 360, height: 740 }]) {
    const page = await open(`${server.url}/embed?territory=departement:44`, { viewport });
    const frame = await embedFrame(page);
    const view = await frame.evaluate(() => {
      const { map } = window.ancrage;
      return { bounds: map.getBounds().toArray(), max: map.getMaxBounds()?.toArray() ?? null, zoom: map.getZoom() };
    });
    const size = `${viewport.width}×${viewport.height}`;
    assert.ok(containsBox(view.bounds, bbox), `${size}: ${JSON.stringify(view.bounds)} holds ${bbox}`);
    // Fitted, not merely somewhere around: the territory fills most of one side of the frame.
    const share = Math.max((e - w) / (view.bounds[1][0] - view.bounds[0][0]), (n - s) / (view.bounds[1][1] - view.bounds[0][1]));
    assert.ok(share > 0.7, `${size}: the territory spans ${share} of the view`);
    assert.ok(view.max, `${size}: panning is bounded`);
    assert.ok(containsBox(view.max, bbox) && containsBox(view.max, [view.bounds[0][0], view.bounds[0][1], view.bounds[1][0], view.bounds[1][1]]), JSON.stringify(view.max));
    assert.ok(view.max[0][0] <= w - (e - w) / 2 + 1e-6 && view.max[1][1] >= n + (n - s) / 2 - 1e-6, `a margin of half the territory: ${JSON.stringify(view.max)}`);
    assert.ok(view.max[1][0] - view.max[0][0] < 4 * (e - w), `${size}: not much wider than the territory: ${JSON.stringify(view.max)}`);
    // Panning towards Paris stops at the bounds.
    const held = await frame.evaluate(() => {
      const { map } = window.ancrage;
      map.jumpTo({ center: [2.35, 48.86] });
      return map.getBounds().toArray();
    });
    assert.ok(held[1][0] <= view.max[1][0] + 1e-6 && held[1][1] <= view.max[1][1] + 1e-6, `${size}: ${JSON.stringify(held)} within ${JSON.stringify(view.max)}`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
  // A view asked for is kept, the bounds widened to hold it.
  const page = await open(`${server.url}/embed?territory=departement:44&lon=-1.55&lat=47.21&z=12`, { viewport: { width: 640, height: 480 } });
  const frame = await embedFrame(page);
  const kept = await frame.evaluate(() => {
    const { map } = window.ancrage;
    return { centre: map.getCenter().toArray(), zoom: map.getZoom() };
  });
  assert.ok(Math.abs(kept.centre[0] + 1.55) < 1e-3 && Math.abs(kept.centre[1] - 47.21) < 1e-3 && Math.abs(kept.zoom - 12) < 1e-3, JSON.stringify(kept));
  await page.context().close();
});

test('the legend button never covers the map credits', async () => {
  for (const viewport of [{ width: 640, height: 480 }, { width: 360, height: 740 }]) {
    const page = await open(`${server.url}/embed?territory=${LOCK.territory}`, { viewport });
    const frame = await embedFrame(page);
    const size = `${viewport.width}×${viewport.height}`;
    const credits = await frame.locator('.maplibregl-ctrl-attrib').boundingBox();
    const legend = frame.locator('#legend summary');
    assert.ok(credits && credits.width > 100, `${size}: credits drawn`);
    assert.ok(await legend.isVisible(), `${size}: legend shown`);
    assert.equal(intersects(await legend.boundingBox(), credits), false, `${size}: ${JSON.stringify(await legend.boundingBox())} over ${JSON.stringify(credits)}`);
    // Opened, the legend still leaves the credits and the link to the full map readable.
    await legend.click();
    const opened = await frame.locator('#legend').boundingBox();
    assert.equal(intersects(opened, credits), false, `${size}: open legend ${JSON.stringify(opened)} over ${JSON.stringify(credits)}`);
    assert.equal(intersects(opened, await frame.locator('#full-map').boundingBox()), false, `${size}: legend over the link`);
    for (const control of await frame.locator('.maplibregl-ctrl-top-right .maplibregl-ctrl').all())
      assert.equal(intersects(opened, await control.boundingBox()), false, `${size}: legend over a map control`);
    await screenshot(page, `embed-legend-${viewport.width}`);
    await page.context().close();
  }
});

test('the embed page has no serious accessibility violation, even with a light theme colour', async () => {
  const page = await open(`${server.url}/embed?territory=${LOCK.territory}&controls=search,filters,list,geolocation,fullscreen,zoom&theme=ffeb3b`);
  await embedFrame(page);
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  assert.deepEqual(serious, []);
  await page.context().close();
});

test('at 320 px wide the embed fits, with its controls and the link back to the full map', async () => {
  const url = hostPage('narrow', `<iframe src="${server.url}/embed?territory=${LOCK.territory}&cat=${LOCK.category}&controls=list,geolocation,zoom&demo=1" title="Carte" width="320" height="480" allow="geolocation" style="display:block"></iframe>`);
  const page = await open(url, { viewport: { width: 360, height: 740 } });
  const frame = await embedFrame(page);
  const layout = await frame.evaluate(() => {
    const inView = (sel) => {
      const r = document.querySelector(sel).getBoundingClientRect();
      return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight;
    };
    return {
      width: innerWidth,
      overflow: document.documentElement.scrollWidth > innerWidth,
      canvas: window.ancrage.map.getCanvas().getBoundingClientRect().width,
      full: inView('#full-map'),
      zoom: inView('.maplibregl-ctrl-zoom-in'),
      locate: inView('.ancrage-locate button'),
      list: inView('#panel-toggle'),
    };
  });
  assert.deepEqual(layout, { width: 320, overflow: false, canvas: 320, full: true, zoom: true, locate: true, list: true });
  assert.ok((await frame.locator('#list .item').count()) > 0);
  await screenshot(page, 'embed-320');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The self-hosted street basemap in a real browser: the test writes a small PMTiles archive with
// the server binary itself (`ancrage basemap-sample`: the project's outlines and synthetic
// streets), serves it with `ANCRAGE_BASEMAP_PMTILES`, and checks that the map and the territory
// page draw streets from it, credit OpenStreetMap and never leave the server's origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launchBrowser, newPage, ready, screenshot, serverBinary, startServer } from './lib/harness.mjs';

let server;
let browser;
let archive;

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ancrage-basemap-'));
  archive = path.join(dir, 'sample.pmtiles');
  execFileSync(serverBinary(), ['basemap-sample', '--database-url', `sqlite://${path.join(dir, 'sample.db')}`, '--out', archive], {
    env: { ...process.env, ANCRAGE_DEMO_ACTORS: '0', RUST_LOG: 'warn', NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  assert.ok(statSync(archive).size > 10_000, 'the archive is written');
  server = await startServer({ ANCRAGE_BASEMAP_PMTILES: archive });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function idle(page) {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const { map } = window.ancrage;
        if (map.loaded() && !map.isMoving() && map.areTilesLoaded()) resolve();
        else map.once('idle', resolve);
      }),
  );
}

/** Opens a page and records what it asked the server for. */
async function open(url, options = {}) {
  const page = await newPage(browser, server, { viewport: { width: 1280, height: 800 }, ...options });
  page.tiles = [];
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/basemap/')) page.tiles.push({ path: u.pathname, status: r.status(), encoding: r.headers()['content-encoding'] });
  });
  await page.goto(`${server.url}${url}`);
  return page;
}

test('the map draws streets and place names from the self-hosted archive, credited to OpenStreetMap', async () => {
  const page = await open('/?lon=-1.5536&lat=47.2173&z=15.5');
  await ready(page);
  await idle(page);
  const style = page.tiles.find((t) => t.path === '/basemap/style.json');
  assert.equal(style?.status, 200, 'the style comes from the server');
  const tiles = page.tiles.filter((t) => t.path.startsWith('/basemap/tiles/'));
  assert.ok(tiles.length > 0 && tiles.every((t) => t.status === 200 || t.status === 204), JSON.stringify(tiles));
  assert.ok(tiles.some((t) => t.encoding === 'gzip'), 'tiles travel gzip-compressed');
  const drawn = await page.evaluate(() => {
    const { map } = window.ancrage;
    const names = (layers) => [...new Set(map.queryRenderedFeatures({ layers }).map((f) => f.properties.name).filter(Boolean))];
    return {
      streets: names(['roads_minor', 'roads_major']),
      labels: names(['roads_labels_minor', 'roads_labels_major']),
      earth: map.queryRenderedFeatures({ layers: ['earth'] }).length,
    };
  });
  assert.ok(drawn.streets.some((n) => n.startsWith('Rue d’essai')), JSON.stringify(drawn));
  assert.ok(drawn.labels.length > 0, `street names are written: ${JSON.stringify(drawn)}`);
  assert.ok(drawn.earth > 0);
  const credits = await page.locator('.maplibregl-ctrl-attrib').innerText();
  assert.match(credits, /OpenStreetMap/);
  assert.match(credits, /IGN/, 'the outlines drawn over the basemap stay credited');
  assert.equal(await page.locator('#map-message').isVisible(), false, 'no fallback message');
  // The basemap's credits wrap on two lines: the legend button stays above them.
  const legend = await page.locator('#legend').boundingBox();
  const attrib = await page.locator('.maplibregl-ctrl-attrib').boundingBox();
  const overlap = legend.x < attrib.x + attrib.width && attrib.x < legend.x + legend.width && legend.y < attrib.y + attrib.height && attrib.y < legend.y + legend.height;
  assert.ok(!overlap, `legend ${JSON.stringify(legend)} clear of the credits ${JSON.stringify(attrib)}`);
  assert.deepEqual(page.errors, []);
  await screenshot(page, 'basemap-streets');
  // Zoomed out, the same archive gives the place names.
  await page.evaluate(() => window.ancrage.map.jumpTo({ center: [-1.55, 47.22], zoom: 9 }));
  await idle(page);
  const places = await page.evaluate(() => window.ancrage.map.queryRenderedFeatures({ layers: ['places_locality'] }).map((f) => f.properties.name));
  // Communes of the store, named by the archive (collisions with the clusters hide some).
  assert.ok(places.length >= 5 && places.some((n) => ['Rezé', 'Orvault', 'Vertou', 'Saint-Herblain', 'Nantes'].includes(n)), JSON.stringify(places));
  await page.context().close();
});

test('the territory page draws its map over the same basemap', async () => {
  const page = await open('/territoire/commune/44109');
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await page.waitForFunction(() => document.querySelector('.maplibregl-ctrl-attrib')?.textContent.includes('OpenStreetMap'), null, { timeout: 30_000 });
  assert.ok(page.tiles.some((t) => t.path.startsWith('/basemap/tiles/') && t.status === 200), JSON.stringify(page.tiles));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The national map at 200 000 actors: from the France view down to a city, the map draws the
// server's actor tiles (clusters, then the actors themselves), asks for nothing twice, and the
// list and its count follow the view. Each step's time to settle is printed for the record
// (speed targets live in the benchmarks, not here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { firstNumber, launchBrowser, newPage, ready, screenshot, startServer } from './lib/harness.mjs';

const ACTORS = 200_000;
const DESKTOP = { width: 1280, height: 800 };
const NANTES = [-1.5536, 47.2184];

let server;
let browser;

before(async () => {
  server = await startServer({ ANCRAGE_DEMO_ACTORS: String(ACTORS) });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Resolves when the map has drawn everything it asked for. */
async function mapIdle(page) {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const { map } = window.ancrage;
        if (map.loaded() && !map.isMoving() && map.areTilesLoaded()) resolve();
        else map.once('idle', resolve);
      }),
  );
}

/** What the map draws: clusters and single actors (rendered features of the view). */
async function drawn(page) {
  return page.evaluate(() => {
    const { map } = window.ancrage;
    const clusters = map.queryRenderedFeatures({ layers: ['clusters'] });
    const actors = map.queryRenderedFeatures({ layers: ['actors'] });
    const b = map.getBounds();
    return {
      zoom: map.getZoom(),
      clusters: clusters.length,
      inClusters: clusters.reduce((n, f) => n + f.properties.point_count, 0),
      actors: actors.length,
      bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
    };
  });
}

test(`from France to a city at ${ACTORS.toLocaleString('en')} actors the map reads tiles, asks nothing twice, and the list follows`, async () => {
  const page = await newPage(browser, server, { viewport: DESKTOP });
  const asked = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (/^\/api\/v1\/(map\/(clusters|facets|points|outlines\/communes)|actors)$|^\/tiles\//.test(u.pathname)) asked.push(u.pathname + u.search);
  });
  await page.goto(`${server.url}/`);
  await ready(page);
  await mapIdle(page);
  const france = await drawn(page);
  assert.ok(france.zoom < 6, `France view at zoom ${france.zoom}`);
  assert.ok(france.clusters > 10 && france.actors < 50, JSON.stringify(france));
  assert.ok(asked.some((u) => u.startsWith('/tiles/actors/')), 'actor tiles asked for');
  assert.ok(!asked.some((u) => u.startsWith('/api/v1/map/clusters')), 'no JSON clusters');
  const total = firstNumber(await page.locator('#list-status').textContent());
  assert.ok(total > 0.9 * ACTORS, `${total} actors in the France view`);
  await screenshot(page, 'national-france');

  // Step in towards Nantes as a user would, one zoom level at a time.
  const settled = [];
  let previous = total;
  for (const zoom of [6.5, 8, 9.5, 11, 12.5, 14, 15.5, 17]) {
    const version = await page.evaluate(() => Number(document.body.dataset.listVersion ?? 0));
    const started = Date.now();
    await page.evaluate(([centre, z]) => window.ancrage.map.jumpTo({ center: centre, zoom: z }), [NANTES, zoom]);
    await page.evaluate(() => performance.clearResourceTimings());
    await page.waitForFunction((v) => Number(document.body.dataset.listVersion ?? 0) > v, version, { timeout: 30_000 });
    const listed = Date.now() - started;
    await mapIdle(page);
    const slowest = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => /\/(api|tiles)\//.test(e.name))
        .map((e) => ({ path: new URL(e.name).pathname.replace(/^\/api\/v1\//, '').slice(0, 24), ms: Math.round(e.duration), queued: Math.round(e.requestStart - e.startTime), server: Math.round(e.responseStart - e.requestStart), at: Math.round(e.startTime) }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 3),
    );
    settled.push({ zoom, list: listed, idle: Date.now() - started, slowest });
    const now = await drawn(page);
    const count = firstNumber(await page.locator('#list-status').textContent());
    // The list follows the view: fewer actors as the view narrows, each listed one inside it.
    assert.ok(count <= previous, `zoom ${zoom}: ${count} after ${previous}`);
    previous = count;
    const items = await page.evaluate(() => document.querySelectorAll('#list .item').length);
    assert.ok(items > 0, `zoom ${zoom}: a list`);
    if (zoom >= 15.5) {
      assert.ok(now.actors > 0, `zoom ${zoom}: single actors drawn ${JSON.stringify(now)}`);
    }
  }
  const city = await drawn(page);
  assert.ok(city.actors > city.clusters, `the city shows actors rather than clusters: ${JSON.stringify(city)}`);
  await screenshot(page, 'national-nantes');
  // Each listed actor of the city view lies in it.
  const ids = await page.evaluate(() => [...document.querySelectorAll('#list .item')].slice(0, 10).map((n) => Number(n.dataset.id)));
  for (const id of ids) {
    const a = await (await fetch(`${server.url}/api/v1/actors/${id}`)).json();
    const [lon, lat] = a.geometry.coordinates;
    const [w, s, e, n] = city.bounds;
    assert.ok(lon >= w - 0.01 && lon <= e + 0.01 && lat >= s - 0.01 && lat <= n + 0.01, `${id} at ${lon},${lat} outside ${city.bounds}`);
  }
  // MapLibre reads a tile of its source's deepest zoom once more for each zoom it scales it
  // to, from the browser's cache (the tiles are cacheable): those are the only repeats allowed.
  const scaled = (u) => /^\/tiles\/communes\/14\/|^\/tiles\/actors\/16\//.test(u);
  const repeated = asked.filter((u, i) => asked.indexOf(u) !== i && !scaled(u));
  assert.deepEqual(repeated, [], `requests sent twice: ${JSON.stringify(repeated)}`);
  console.log(`settle times from France to Nantes (${ACTORS} actors, debug build): ${JSON.stringify(settled)}; ${asked.length} requests`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

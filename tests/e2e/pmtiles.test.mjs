// The static export: `ancrage export --format pmtiles` writes an archive that the example page
// (docs/pmtiles-example.html) reads from a plain static server through the pmtiles protocol,
// with MapLibre, as a site hosting it would. The CDN addresses of the page are answered from
// the vendored MapLibre and the npm pmtiles package.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT, launchBrowser, newPage, screenshot, serverBinary, startServer } from './lib/harness.mjs';

// The package's browser bundle (its exports map names only the modules).
const PMTILES_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('pmtiles/package.json')), 'dist', 'pmtiles.js');
const MAPLIBRE = path.join(ROOT, 'frontend', 'vendor', 'maplibre-gl');

let server;
let browser;
let files;
let site;

/** A static server answering range requests, like nginx or a CDN. */
function staticServer(dir) {
  const http = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(dir, path.basename(name));
    let size;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream';
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const body = readFileSync(file);
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.writeHead(206, { 'Content-Type': type, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1 });
      res.end(body.subarray(start, end + 1));
    } else {
      res.writeHead(200, { 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Content-Length': size });
      res.end(body);
    }
  });
  return new Promise((resolve) => {
    http.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${http.address().port}`, close: () => http.close() }));
  });
}

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  files = mkdtempSync(path.join(tmpdir(), 'ancrage-pmtiles-'));
  // With the demonstration data, so that France is clustered.
  execFileSync(serverBinary(), ['export', '--format', 'pmtiles', '--demo', '-o', path.join(files, 'acteurs.pmtiles'), '--database-url', server.databaseUrl], {
    env: { ...process.env, RUST_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  copyFileSync(path.join(ROOT, 'docs', 'pmtiles-example.html'), path.join(files, 'index.html'));
  site = await staticServer(files);
});

after(async () => {
  site?.close();
  await browser?.close();
  await server?.stop();
  if (files) rmSync(files, { recursive: true, force: true });
});

test('the example page draws the exported archive from a static server through the pmtiles protocol', async () => {
  const page = await newPage(browser, site, { viewport: { width: 1024, height: 700 } });
  // The page's CDN addresses, answered locally (the tests never reach the internet).
  await page.context().route('https://unpkg.com/**', (route) => {
    const u = new URL(route.request().url());
    const maplibre = /^\/maplibre-gl@[^/]+\/dist\/(.+)$/.exec(u.pathname);
    if (maplibre) {
      const type = maplibre[1].endsWith('.css') ? 'text/css' : 'text/javascript';
      return route.fulfill({ path: path.join(MAPLIBRE, path.basename(maplibre[1])), contentType: type, headers: { 'Access-Control-Allow-Origin': '*' } });
    }
    if (/^\/pmtiles@[^/]+\/dist\/pmtiles\.js$/.test(u.pathname)) return route.fulfill({ path: PMTILES_JS, contentType: 'text/javascript' });
    return route.abort('internetdisconnected');
  });
  const ranges = [];
  page.on('request', (r) => {
    if (r.url().endsWith('acteurs.pmtiles')) ranges.push(r.headers().range);
  });
  const failed = [];
  page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
  await page.goto(`${site.url}/`);
  await page
    .waitForFunction(() => window.example?.map?.loaded() && window.example.map.areTilesLoaded(), null, { timeout: 60_000 })
    .catch((e) => {
      throw new Error(`${e.message}; errors: ${JSON.stringify(page.errors)}; failed: ${JSON.stringify(failed)}`);
    });
  const france = await page.evaluate(() => {
    const { map } = window.example;
    return {
      clusters: map.queryRenderedFeatures({ layers: ['clusters'] }).map((f) => f.properties.point_count),
      actors: map.queryRenderedFeatures({ layers: ['actors'] }).length,
    };
  });
  assert.ok(france.clusters.length > 5, JSON.stringify(france));
  assert.ok(france.clusters.reduce((a, b) => a + b, 0) > 4_000, 'most of the 5 031 actors are in the view');
  assert.ok(ranges.length >= 2 && ranges.every((r) => /^bytes=\d+-\d+$/.test(r ?? '')), `range requests: ${JSON.stringify(ranges)}`);
  await screenshot(page, 'pmtiles-example-france');
  // A click on a cluster zooms to its actors' box.
  const zoom = await page.evaluate(() => window.example.map.getZoom());
  const at = await page.evaluate(() => {
    const { map } = window.example;
    const f = map.queryRenderedFeatures({ layers: ['clusters'] }).sort((a, b) => b.properties.point_count - a.properties.point_count)[0];
    const p = map.project(f.geometry.coordinates);
    const r = map.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  });
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction((z) => window.example.map.getZoom() > z + 1, zoom, { timeout: 15_000 });
  // Deep in, every actor is itself, with its name.
  await page.evaluate(() => window.example.map.jumpTo({ center: [-1.5536, 47.2184], zoom: 16.5 }));
  await page.waitForFunction(() => window.example.map.areTilesLoaded() && window.example.map.queryRenderedFeatures({ layers: ['actors'] }).length > 0, null, { timeout: 30_000 });
  const names = await page.evaluate(() => window.example.map.queryRenderedFeatures({ layers: ['actors'] }).map((f) => f.properties.name));
  assert.ok(names.every((n) => typeof n === 'string' && n.length > 0), JSON.stringify(names));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The side-by-side of the actor tiles with `supercluster` (npm, the clustering MapLibre's
// GeoJSON sources use), on the same points and the same tiles:
//
//   cargo bench --bench tiles -- --points /tmp/actors.f64
//   node benches/supercluster.mjs /tmp/actors.f64
//
// The points file holds little-endian f64 longitude, latitude pairs; `FILE.tiles.json` the
// [z, x, y] tiles the Rust bench timed. Reports the index build time and memory, and the
// `getTile` time per zoom (p50, p99) and features. `getTile` returns JavaScript objects: the
// Rust figures include encoding the tile as MVT and compressing it, these do not.
import { readFileSync } from 'node:fs';

const { default: Supercluster } = await import(new URL('../tests/e2e/node_modules/supercluster/index.js', import.meta.url));

const file = process.argv[2];
if (!file) {
  console.error('usage: node benches/supercluster.mjs POINTS_FILE');
  process.exit(2);
}
const buf = readFileSync(file);
const coords = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
const tiles = JSON.parse(readFileSync(`${file}.tiles.json`, 'utf8'));

const before = process.memoryUsage().rss;
const features = new Array(coords.length / 2);
for (let i = 0; i < features.length; i++) {
  features[i] = { type: 'Feature', geometry: { type: 'Point', coordinates: [coords[2 * i], coords[2 * i + 1]] }, properties: { i } };
}
const afterFeatures = process.memoryUsage().rss;
// Clusters up to zoom 15 and the points at 16, 512-pixel tiles, as the actor tiles.
const index = new Supercluster({ radius: 40, extent: 512, maxZoom: 15, minPoints: 2 });
let t = performance.now();
index.load(features);
const build = performance.now() - t;
const afterIndex = process.memoryUsage().rss;

const mib = (b) => (b / 1048576).toFixed(0);
console.log(`\n## supercluster ${JSON.parse(readFileSync(new URL('../tests/e2e/node_modules/supercluster/package.json', import.meta.url))).version} on ${features.length} points (Node ${process.version})\n`);
console.log(`- build (load): ${(build / 1000).toFixed(2)} s; index ${mib(afterIndex - afterFeatures)} MiB besides the ${mib(afterFeatures - before)} MiB of GeoJSON input`);
console.log('\n| zoom | tiles | getTile p50 | getTile p99 | features |');
console.log('|---:|---:|---:|---:|---:|');
const byZoom = new Map();
for (const [z, x, y] of tiles) {
  if (!byZoom.has(z)) byZoom.set(z, []);
  byZoom.get(z).push([x, y]);
}
for (const [z, list] of [...byZoom].sort((a, b) => a[0] - b[0])) {
  for (const [x, y] of list.slice(0, 20)) index.getTile(z, x, y); // warm-up
  const times = [];
  let n = 0;
  for (const [x, y] of list) {
    t = performance.now();
    const tile = index.getTile(z, x, y);
    times.push(performance.now() - t);
    n += tile ? tile.features.length : 0;
  }
  times.sort((a, b) => a - b);
  const at = (p) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
  console.log(`| ${z} | ${list.length} | ${at(0.5).toFixed(3)} ms | ${at(0.99).toFixed(3)} ms | ${Math.round(n / list.length)} |`);
}

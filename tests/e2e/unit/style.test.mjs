import { test } from 'node:test';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import assert from 'node:assert/strict';
import { offlineStyle, overlay, colourExpression, pointsToFeatures, labelPoints, ACTOR_TILES_MAX_ZOOM } from '../../../frontend/js/style.mjs';

const categories = [
  { slug: 'alimentation', parent: null, colour: '#2e7d32' },
  { slug: 'epicerie-solidaire', parent: 'alimentation', colour: '#2e7d32' },
  { slug: 'reemploi', parent: null, colour: '#795548' },
];

test('the offline style reads only the server, and no glyphs or sprites', () => {
  const style = offlineStyle('http://127.0.0.1:9', 'IGN');
  assert.equal(style.version, 8);
  assert.equal(style.glyphs, undefined);
  assert.equal(style.sprite, undefined);
  assert.equal(style.sources.departements.data, 'http://127.0.0.1:9/api/v1/map/outlines/departements');
  assert.equal(style.sources.departements.attribution, 'IGN');
  const ids = style.layers.map((l) => l.id);
  assert.equal(new Set(ids).size, ids.length, 'unique layer ids');
  for (const l of style.layers) if (l.source) assert.ok(style.sources[l.source], l.id);
});

test('the offline style draws communes from the server\'s vector tiles, not from GeoJSON', () => {
  const style = offlineStyle('http://127.0.0.1:9', 'IGN');
  assert.deepEqual(style.sources.communes, {
    type: 'vector',
    tiles: ['http://127.0.0.1:9/tiles/communes/{z}/{x}/{y}.mvt'],
    minzoom: 8,
    maxzoom: 14,
  });
  assert.equal(style.sources['commune-labels'], undefined, 'no GeoJSON labels to fill');
  const layer = (id) => style.layers.find((l) => l.id === id);
  assert.equal(layer('communes-line').source, 'communes');
  assert.equal(layer('communes-line')['source-layer'], 'communes');
  assert.equal(layer('communes-label').source, 'communes');
  assert.equal(layer('communes-label')['source-layer'], 'commune_labels');
  for (const l of style.layers) {
    if (style.sources[l.source]?.type === 'vector') assert.ok(l['source-layer'], `${l.id} names its tile layer`);
  }
});

test('markers are coloured by top-level category', () => {
  assert.deepEqual(colourExpression(categories), ['match', ['get', 'category'], 'alimentation', '#2e7d32', 'reemploi', '#795548', '#555555']);
});

test('the overlay clusters client-side or reads the actor tiles with the same layers', () => {
  const url = 'http://127.0.0.1:9/tiles/actors/{z}/{x}/{y}.mvt?category=alimentation';
  const local = overlay(categories, true);
  const tiled = overlay(categories, url);
  assert.equal(local.sources.actors.cluster, true);
  assert.deepEqual(tiled.sources.actors, { type: 'vector', tiles: [url], minzoom: 0, maxzoom: ACTOR_TILES_MAX_ZOOM });
  assert.equal(ACTOR_TILES_MAX_ZOOM, 16);
  assert.deepEqual(
    local.layers.map((l) => l.id),
    tiled.layers.map((l) => l.id),
  );
  for (const l of local.layers) assert.ok(local.sources[l.source], l.id);
  // Layers of the tiles read their one layer; the others have none.
  for (const l of tiled.layers) assert.equal(l['source-layer'], l.source === 'actors' ? 'actors' : undefined, l.id);
});

test('compact points become GeoJSON features', () => {
  const fc = pointsToFeatures([[7, -1.5, 47.2, 2, 3]], categories);
  assert.deepEqual(fc.features[0], {
    type: 'Feature',
    id: 7,
    geometry: { type: 'Point', coordinates: [-1.5, 47.2] },
    properties: { id: 7, category: 'reemploi', demo: true, tiers: true },
  });
});

test('outline features give one label point each', () => {
  const fc = labelPoints({
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', geometry: null, properties: { name: 'Nantes', point: [-1.55, 47.21] } },
      { type: 'Feature', geometry: null, properties: { name: 'Sans point' } },
    ],
  });
  assert.deepEqual(fc.features, [
    { type: 'Feature', geometry: { type: 'Point', coordinates: [-1.55, 47.21] }, properties: { name: 'Nantes' } },
  ]);
});

test('the offline style with the overlay is a valid MapLibre style', () => {
  for (const actors of [true, 'http://127.0.0.1:9/tiles/actors/{z}/{x}/{y}.mvt?']) {
    const style = offlineStyle('http://127.0.0.1:9', 'IGN');
    const o = overlay(categories, actors);
    const merged = { ...style, sources: { ...style.sources, ...o.sources }, layers: [...style.layers, ...o.layers] };
    assert.deepEqual(validateStyleMin(merged).map((e) => e.message), []);
  }
});

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { basemapLayers, SOURCE } from '../lib/basemap_style.mjs';

const vendored = JSON.parse(readFileSync(new URL('../../../frontend/vendor/protomaps-basemaps/layers-light-fr.json', import.meta.url), 'utf8'));

test('the vendored basemap layers are what @protomaps/basemaps gives, adapted', () => {
  assert.deepEqual(vendored, basemapLayers(), 'run scripts/vendor-basemap-style');
});

test('the basemap layers form a valid style without glyph server nor sprite', () => {
  const style = {
    version: 8,
    sources: { [SOURCE]: { type: 'vector', tiles: ['http://localhost/basemap/tiles/{z}/{x}/{y}.mvt'], maxzoom: 15 } },
    layers: vendored,
  };
  assert.deepEqual(validateStyleMin(style), []);
  const json = JSON.stringify(vendored);
  assert.ok(!json.includes('Noto Sans'), 'labels use the browser fonts');
  assert.ok(!json.includes('icon-image'), 'no sprite icons');
  // Streets, places and water are all drawn, with their names.
  for (const id of ['roads_minor', 'roads_major', 'places_locality', 'water', 'roads_labels_minor']) {
    assert.ok(vendored.some((l) => l.id === id), id);
  }
});

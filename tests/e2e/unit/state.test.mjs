import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseState, formatState, filterParams, emptyState, insideBbox } from '../../../frontend/js/state.mjs';

test('a full state survives a round trip through the URL', () => {
  const s = {
    ...emptyState(),
    lon: -1.55377,
    lat: 47.21863,
    zoom: 12.5,
    categories: ['alimentation', 'repair-cafe'],
    family: 'association',
    tiersLieux: true,
    openNow: true,
    hideDemo: true,
    actor: 42,
    territory: 'commune:44109',
    near: { lon: -1.5, lat: 47.2 },
    radiusKm: 10,
    lang: 'en',
  };
  const search = formatState(s);
  assert.match(search, /cat=alimentation,repair-cafe/);
  assert.match(search, /terr=commune:44109/);
  assert.deepEqual(parseState(search), s);
});

test('defaults are left out of the URL', () => {
  const search = formatState(emptyState());
  for (const key of ['cat', 'fam', 'tl', 'open', 'demo', 'actor', 'terr', 'near', 'r', 'lang']) {
    assert.ok(!new URLSearchParams(search).has(key), key);
  }
});

test('malformed values are ignored, not fatal', () => {
  const s = parseState('?lat=abc&lon=200&z=99&cat=<script>,ok-slug&fam=a%20b&actor=-3&terr=canton:12&near=1&r=3&lang=de');
  const d = emptyState();
  assert.equal(s.lat, d.lat);
  assert.equal(s.lon, d.lon);
  assert.equal(s.zoom, d.zoom);
  assert.deepEqual(s.categories, ['ok-slug']);
  assert.equal(s.family, '');
  assert.equal(s.actor, null);
  assert.equal(s.territory, null);
  assert.equal(s.near, null);
  assert.equal(s.radiusKm, 5, 'only offered radii');
  assert.equal(s.lang, 'fr');
});

test('filters become the API parameters', () => {
  const p = filterParams({ ...emptyState(), categories: ['alimentation'], family: 'cooperative', tiersLieux: true, hideDemo: true });
  assert.equal(p.get('category'), 'alimentation');
  assert.equal(p.get('family'), 'cooperative');
  assert.equal(p.get('kind'), 'tiers-lieu');
  assert.equal(p.get('demo'), 'exclude');
  assert.equal(String(filterParams(emptyState())), '');
  assert.equal(filterParams({ ...emptyState(), openNow: true }).get('open'), 'now', 'open now is filtered by the server');
});

test('a point is inside a box, edges included, and outside beyond any side', () => {
  const box = [-2.6257, 46.86006, -0.94664, 47.83591];
  assert.equal(insideBbox(box, [-1.5536, 47.2184]), true, 'Nantes');
  assert.equal(insideBbox(box, [-2.6257, 46.86006]), true, 'a corner');
  assert.equal(insideBbox(box, [2.35, 48.86]), false, 'Paris');
  assert.equal(insideBbox(box, [-1.5, 47.9]), false, 'north');
  assert.equal(insideBbox(box, [-1.5, 46.8]), false, 'south');
  assert.equal(insideBbox(box, [-2.7, 47.2]), false, 'west');
  assert.equal(insideBbox(box, [-0.9, 47.2]), false, 'east');
});

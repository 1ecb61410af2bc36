// Cluster labels in the page's language, the colour of a marker under a category filter and the
// legs of the actors sharing one point: the pure parts of frontend/js/style.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expression, latest } from '@maplibre/maplibre-gl-style-spec';
import { countLabel, markerRoot, overlay, spiderLegs, SPIDER_MAX } from '../../../frontend/js/style.mjs';

const categories = [
  { slug: 'alimentation', parent: null, colour: '#2e7d32' },
  { slug: 'epicerie-solidaire', parent: 'alimentation', colour: '#2e7d32' },
  { slug: 'reemploi', parent: null, colour: '#795548' },
  { slug: 'ressourcerie', parent: 'reemploi', colour: '#795548' },
  { slug: 'tiers-lieux', parent: null, colour: '#6a1b9a' },
];

/** The label MapLibre draws for a cluster of `n` actors, from the layer's own expression. */
function drawn(locale) {
  const compiled = expression.createExpression(countLabel(locale), latest.layout_symbol['text-field']);
  assert.equal(compiled.result, 'success', JSON.stringify(compiled.value));
  return (n) => String(compiled.value.evaluate({ zoom: 5 }, { properties: { point_count: n } }));
}

test('cluster counts are written as Intl writes compact numbers, in French and in English', () => {
  const fr = drawn('fr-FR');
  const en = drawn('en-GB');
  assert.equal(fr(987), '987');
  assert.equal(fr(1700), '1,7\u00a0k');
  assert.equal(fr(1_300_000), '1,3\u00a0M');
  assert.equal(en(1700), '1.7k');
  assert.equal(en(15_678), '15.7k');
  // Every count up to 20 000, then a sample: halves, and the steps to the next word.
  const counts = [];
  for (let n = 0; n <= 20_000; n++) counts.push(n);
  for (let n = 20_000; n < 3_000_000; n += 977) counts.push(n);
  counts.push(1150, 1250, 9949, 9950, 99_949, 99_950, 999_949, 999_950, 1_000_000, 1_050_000, 1_150_000);
  for (const locale of ['fr-FR', 'en-GB']) {
    const label = drawn(locale);
    const intl = new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 });
    const wrong = counts.filter((n) => label(n) !== intl.format(n)).map((n) => `${n}: ${label(n)} ≠ ${intl.format(n)}`);
    assert.deepEqual(wrong.slice(0, 5), [], locale);
  }
});

test('the cluster layer labels counts in the locale it is given', () => {
  const layer = (locale) => overlay(categories, true, ['sans-serif'], locale).layers.find((l) => l.id === 'cluster-count');
  assert.deepEqual(layer('en-GB').layout['text-field'], countLabel('en-GB'));
  assert.deepEqual(layer().layout['text-field'], countLabel('fr-FR'), 'French by default');
  assert.notDeepEqual(countLabel('en-GB'), countLabel('fr-FR'));
});

test('a marker takes the colour of the category filter that shows it, else of its first category', () => {
  const root = (slugs, wanted) => markerRoot(slugs, wanted, categories)?.slug;
  // Catalog order, not the order the actor lists them in.
  assert.equal(root(['ressourcerie', 'epicerie-solidaire'], []), 'alimentation');
  assert.equal(root(['epicerie-solidaire', 'ressourcerie'], ['reemploi']), 'reemploi');
  assert.equal(root(['epicerie-solidaire', 'ressourcerie'], ['ressourcerie']), 'reemploi');
  assert.equal(root(['tiers-lieux', 'epicerie-solidaire'], ['epicerie-solidaire']), 'alimentation');
  // A filter the actor does not match (a shared link) leaves the first category's colour.
  assert.equal(root(['tiers-lieux'], ['alimentation']), 'tiers-lieux');
  assert.equal(root(['inconnue'], []), undefined);
});

test('the legs of actors sharing a point keep apart, round the point', () => {
  for (let n = 2; n <= SPIDER_MAX; n++) {
    const legs = spiderLegs(n);
    assert.equal(legs.length, n);
    const radii = legs.map(([x, y]) => Math.hypot(x, y));
    assert.ok(Math.max(...radii) - Math.min(...radii) <= 1.5, `${n}: one circle ${radii}`);
    assert.ok(Math.min(...radii) >= 39, `${n}: clear of the marker`);
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const d = Math.hypot(legs[i][0] - legs[j][0], legs[i][1] - legs[j][1]);
        assert.ok(d >= 30, `${n}: legs ${i} and ${j} are ${d} px apart`);
      }
  }
  // Two actors: one on each side of the point.
  assert.deepEqual(spiderLegs(2).map(([x, y]) => [Math.sign(x), Math.abs(y) <= 1]), [[1, true], [-1, true]]);
});

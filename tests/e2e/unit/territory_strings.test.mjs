import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fr from '../../../frontend/js/i18n/fr.mjs';
import en from '../../../frontend/js/i18n/en.mjs';
import { INDICATORS, CSV_FILES, GEOJSON_FILES } from '../../../frontend/js/territory_state.mjs';

test('every key the territory page uses exists in both languages', () => {
  const js = readFileSync(new URL('../../../frontend/js/territory.mjs', import.meta.url), 'utf8');
  const html = readFileSync(new URL('../../../frontend/territoire.html', import.meta.url), 'utf8');
  const used = new Set();
  for (const m of js.matchAll(/\bt\('([a-z0-9._-]+)'/g)) used.add(m[1]);
  for (const m of js.matchAll(/'(terr\.[a-z0-9._-]+[a-z0-9])'/g)) used.add(m[1]);
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([a-z0-9._-]+)"/g)) used.add(m[1]);
  // Keys built from a value.
  for (const k of INDICATORS) used.add(`terr.ind.${k}`);
  for (const f of [...CSV_FILES, ...GEOJSON_FILES]) used.add(`terr.file.${f}`);
  for (const k of ['commune', 'epci', 'departement', 'region']) used.add(`terr.children.col.${k}`);
  for (const k of ['population', 'area', 'communes', 'actors', 'actors_per_10000', 'communes_covered_share', 'population_covered_share'])
    used.add(`terr.fig.${k}`);
  assert.ok(used.size > 80, `${used.size} keys`);
  for (const key of used) {
    assert.ok(key in fr, `${key} in French`);
    assert.ok(key in en, `${key} in English`);
  }
});

test('the territory strings are in one block with the terr. prefix, same placeholders in both languages', () => {
  const keys = Object.keys(fr).filter((k) => k.startsWith('terr.'));
  assert.ok(keys.length > 80);
  const first = Object.keys(fr).indexOf(keys[0]);
  assert.deepEqual(Object.keys(fr).slice(first, first + keys.length), keys, 'one contiguous block');
  const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const k of keys) assert.deepEqual(placeholders(en[k]), placeholders(fr[k]), k);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fr from '../../../frontend/js/i18n/fr.mjs';
import en from '../../../frontend/js/i18n/en.mjs';
import { t, setLang, deName } from '../../../frontend/js/i18n.mjs';

test('both dictionaries have the same keys and no empty string', () => {
  assert.deepEqual(Object.keys(en).sort(), Object.keys(fr).sort());
  for (const [k, v] of [...Object.entries(fr), ...Object.entries(en)]) assert.ok(v.length > 0, k);
});

test('placeholders are replaced and the language can be switched', () => {
  setLang('fr');
  assert.equal(t('list.view', { n: 3 }), '3 lieux dans la vue');
  setLang('en');
  assert.equal(t('list.view', { n: 3 }), '3 places in view');
  setLang('fr');
});

test('French « de » is elided before a vowel or a mute h, with a typographic apostrophe', () => {
  assert.equal(deName('Alimentation'), 'd’Alimentation');
  assert.equal(deName('Éducation et formation'), 'd’Éducation et formation');
  assert.equal(deName('Habitat'), 'd’Habitat');
  assert.equal(deName('Yvelines'), 'd’Yvelines');
  assert.equal(deName('Mobilité'), 'de Mobilité');
  assert.equal(deName('Numérique'), 'de Numérique');
  assert.equal(deName('Hauts-de-France'), 'de Hauts-de-France', 'an aspirated h keeps « de »');
  assert.equal(deName('Yonne'), 'de Yonne', 'a y before a vowel is a consonant');
  setLang('fr');
  assert.equal(t('filters.show.sub', { name: 'Alimentation' }), 'Sous-catégories d’Alimentation');
  assert.equal(t('filters.show.sub', { name: 'Mobilité' }), 'Sous-catégories de Mobilité');
  // A `{de:…}` placeholder without its value stays visible, like any other.
  assert.equal(t('filters.show.sub'), 'Sous-catégories {de:name}');
  setLang('en');
  assert.equal(t('filters.show.sub', { name: 'Food' }), 'Subcategories of Food');
  setLang('fr');
});

test('every key used by the page exists', () => {
  const app = readFileSync(new URL('../../../frontend/js/app.mjs', import.meta.url), 'utf8');
  const html = readFileSync(new URL('../../../frontend/index.html', import.meta.url), 'utf8');
  const used = new Set();
  for (const m of app.matchAll(/\bt\('([a-z0-9.-]+)'/g)) used.add(m[1]);
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([a-z0-9.-]+)"/g)) used.add(m[1]);
  assert.ok(used.size > 40);
  for (const key of used) assert.ok(key in fr, key);
});

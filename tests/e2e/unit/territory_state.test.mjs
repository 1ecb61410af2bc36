import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parsePath,
  pagePath,
  parseState,
  formatState,
  emptyState,
  coverageParams,
  exportUrl,
  indicatorValue,
  sortChildren,
} from '../../../frontend/js/territory_state.mjs';

test('the page path names a territory, or says what is wrong with it', () => {
  assert.deepEqual(parsePath('/territoire/departement/44'), { kind: 'departement', code: '44' });
  assert.deepEqual(parsePath('/territoire/commune/2a004/'), { kind: 'commune', code: '2A004' });
  assert.deepEqual(parsePath('/territoire/france/fr'), { kind: 'france', code: 'FR' });
  assert.equal(parsePath('/territoire/canton/44').error, 'kind');
  assert.equal(parsePath('/territoire/canton/44').kind, 'canton');
  assert.equal(parsePath('/territoire/departement/4%3C4').error, 'code');
  assert.equal(parsePath('/territoire/departement').error, 'path');
  assert.equal(parsePath('/territoire/departement/%E0').error, 'path');
  assert.equal(pagePath('epci', '244400404'), '/territoire/epci/244400404');
});

test('a state survives a round trip through the query string', () => {
  const s = {
    ...emptyState(),
    category: 'alimentation',
    family: 'association',
    hideDemo: false,
    distanceKm: 5,
    indicator: 'access_share',
    method: 'jenks',
    sort: 'name',
    order: 'desc',
    lang: 'en',
  };
  const q = formatState(s);
  assert.equal(q, '?cat=alimentation&fam=association&demo=1&dist=5&ind=access_share&cls=jenks&sort=name&order=desc&lang=en');
  assert.deepEqual(parseState(q), s);
  assert.equal(formatState(emptyState()), '', 'defaults leave the URL clean');
  assert.deepEqual(parseState(''), emptyState());
});

test('figures leave demonstration data out unless the link asks for it', () => {
  assert.equal(emptyState().hideDemo, true);
  assert.equal(parseState('').hideDemo, true);
  assert.equal(parseState('?demo=0').hideDemo, true, 'older links that hid it still do');
  assert.equal(parseState('?demo=1').hideDemo, false);
  assert.match(String(coverageParams(emptyState())), /(^|&)demo=exclude(&|$)/);
  assert.match(String(coverageParams({ ...emptyState(), hideDemo: false })), /(^|&)demo=include(&|$)/);
  assert.match(exportUrl('epci', '244400404', 'children.csv', emptyState()), /demo=exclude/);
});

test('malformed values are ignored and the order follows the sort key', () => {
  const s = parseState('?cat=<b>&dist=7&ind=evil&sort=name&order=up&lang=de&cls=x');
  assert.equal(s.category, '');
  assert.equal(s.distanceKm, 10);
  assert.equal(s.indicator, 'actors_per_10000');
  assert.equal(s.sort, 'name');
  assert.equal(s.order, 'asc', 'names sort A to Z by default');
  assert.equal(s.lang, 'fr');
  assert.equal(s.method, 'quantile');
  assert.equal(parseState('?sort=actors').order, 'desc');
});

test('the API query carries the filters, the distance in metres and the order', () => {
  const s = { ...emptyState(), category: 'reemploi', hideDemo: true, distanceKm: 20 };
  assert.equal(String(coverageParams(s)), 'category=reemploi&demo=exclude&distance=20000&sort=population&order=desc');
  assert.equal(
    exportUrl('departement', '44', 'children.csv', s),
    '/api/v1/territories/departement/44/coverage/children.csv?category=reemploi&demo=exclude&distance=20000&sort=population&order=desc&meta=block',
  );
  const en = { ...s, lang: 'en' };
  assert.match(exportUrl('departement', '44', 'access.csv', en), /&lang=en&sep=comma&meta=block$/);
  assert.doesNotMatch(exportUrl('departement', '44', 'children.geojson', en), /sep=|meta=/, 'GeoJSON has no separator and carries its metadata inside');
});

test('children sort by figure with missing values last, or by name', () => {
  const children = [
    { name: 'Égletons', population: 10, actors_per_10000: 2, access: { share: 0.5, median_nearest_m: 900 } },
    { name: 'albi', population: 30, actors_per_10000: null, access: { share: null, median_nearest_m: null } },
    { name: 'Brest', population: 20, actors_per_10000: 5, access: { share: 1, median_nearest_m: 100 } },
  ];
  const names = (rows) => rows.map((r) => r.name);
  assert.deepEqual(names(sortChildren(children, 'population', 'desc')), ['albi', 'Brest', 'Égletons']);
  assert.deepEqual(names(sortChildren(children, 'population', 'asc')), ['Égletons', 'Brest', 'albi']);
  assert.deepEqual(names(sortChildren(children, 'actors_per_10000', 'desc')), ['Brest', 'Égletons', 'albi']);
  assert.deepEqual(names(sortChildren(children, 'actors_per_10000', 'asc')), ['Égletons', 'Brest', 'albi']);
  assert.deepEqual(names(sortChildren(children, 'name', 'asc')), ['albi', 'Brest', 'Égletons'], 'accents and case do not change the order');
  assert.deepEqual(names(sortChildren(children, 'median_nearest_m', 'asc')), ['Brest', 'Égletons', 'albi']);
  assert.equal(indicatorValue(children[0], 'access_share'), 0.5);
  assert.equal(indicatorValue(children[1], 'access_share'), null);
  assert.equal(indicatorValue({}, 'actors'), null);
  assert.equal(children[0].name, 'Égletons', 'the input is left as it was');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDistance,
  formatDistanceVs,
  distanceM,
  circlePolygon,
  osmDirectionsUrl,
  geoUri,
  reportMailto,
  safeHttpUrl,
} from '../../../frontend/js/format.mjs';

const nbsp = (s) => s.replace(/[\u202f\u00a0]/g, ' ');

test('distances read naturally in French and English', () => {
  assert.equal(formatDistance(4, 'fr'), '10 m');
  assert.equal(formatDistance(234, 'fr'), '230 m');
  assert.equal(formatDistance(1530, 'fr'), '1,5 km');
  assert.equal(formatDistance(1530, 'en'), '1.5 km');
  assert.equal(nbsp(formatDistance(12345, 'fr')), '12 km');
});

test('great-circle distance matches a known value', () => {
  // Paris (Notre-Dame) to Nantes town hall: about 342 km.
  const d = distanceM([2.3499, 48.853], [-1.5536, 47.2184]);
  assert.ok(Math.abs(d - 342_000) < 3_000, String(d));
  assert.equal(distanceM([1, 1], [1, 1]), 0);
});

test('a circle polygon is closed and its vertices are at the radius', () => {
  const c = [-1.5536, 47.2184];
  const poly = circlePolygon(c, 5000, 32);
  const ring = poly.coordinates[0];
  assert.equal(ring.length, 33);
  assert.deepEqual(ring[0], ring[32]);
  for (const p of ring) assert.ok(Math.abs(distanceM(c, p) - 5000) < 1, String(distanceM(c, p)));
});

test('links: directions, geo URI, report e-mail, and only http(s) websites', () => {
  assert.match(osmDirectionsUrl(-1.5, 47.2), /^https:\/\/www\.openstreetmap\.org\/directions\?route=%3B47\.200000%2C-1\.500000/);
  assert.equal(geoUri(-1.5, 47.2, 'Le Solilab'), 'geo:47.200000,-1.500000?q=47.200000,-1.500000(Le%20Solilab)');
  const mail = reportMailto('carte@example.org', 'Erreur « x »', 'a&b');
  assert.ok(mail.startsWith('mailto:carte@example.org?subject='));
  assert.ok(mail.includes('body=a%26b'));
  assert.equal(safeHttpUrl('https://example.org/a'), 'https://example.org/a');
  assert.equal(safeHttpUrl('javascript:alert(1)'), null);
  assert.equal(safeHttpUrl('pas une url'), null);
});

test('a distance compared with a threshold reads on its side of it', () => {
  // Beyond 10 km, never « 10 km ».
  assert.equal(formatDistanceVs(10_040, 10_000, 'fr'), '10,1 km');
  assert.equal(formatDistanceVs(10_400, 10_000, 'fr'), '10,4 km');
  assert.equal(formatDistanceVs(10_600, 10_000, 'fr'), '11 km');
  assert.equal(formatDistanceVs(5_020, 5_000, 'en'), '5.1 km');
  // Within, never the threshold or more.
  assert.equal(formatDistanceVs(9_960, 10_000, 'fr'), '9,9 km');
  assert.equal(formatDistanceVs(10_000, 10_000, 'fr'), '10 km');
  assert.equal(formatDistanceVs(996, 1_000, 'fr'), '996 m');
  assert.equal(formatDistanceVs(1_004, 1_000, 'fr'), '1,1 km');
  // Far from the threshold, the usual format.
  assert.equal(formatDistanceVs(23_400, 10_000, 'fr'), formatDistance(23_400, 'fr'));
});

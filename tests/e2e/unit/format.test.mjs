import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatDistance,
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  quantileBreaks,
  jenksBreaks,
  classIndex,
  legend,
  colourOf,
  rampColours,
  RAMP,
  NO_DATA,
} from '../../../frontend/js/classify.mjs';

/** Sum of squared deviations from the class means: what Jenks minimises. */
function cost(values, uppers) {
  const groups = uppers.map(() => []);
  for (const v of values) groups[classIndex(v, uppers)].push(v);
  return groups.reduce((sum, g) => {
    const mean = g.reduce((a, b) => a + b, 0) / g.length;
    return sum + g.reduce((a, v) => a + (v - mean) ** 2, 0);
  }, 0);
}

/** Every way of cutting sorted distinct values into k runs: the oracle of Jenks. */
function bestCutByBruteForce(values, k) {
  const x = [...values].sort((a, b) => a - b);
  let best = Infinity;
  const cut = (start, left, uppers) => {
    if (left === 1) {
      const u = [...uppers, x.at(-1)];
      best = Math.min(best, cost(x, u));
      return;
    }
    for (let end = start; end <= x.length - left; end++) cut(end + 1, left - 1, [...uppers, x[end]]);
  };
  cut(0, k, []);
  return best;
}

test('quantile classes hold the same number of values', () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(quantileBreaks(values, 5), [2, 4, 6, 8, 10]);
  assert.deepEqual(quantileBreaks(values, 2), [5, 10]);
  // Order and missing values do not matter.
  assert.deepEqual(quantileBreaks([10, null, 3, 1, NaN, 2, 9, 8, 7, 6, 5, 4], 5), [2, 4, 6, 8, 10]);
});

test('ties never straddle two quantile classes', () => {
  const shares = [0, 0, 0, 1, 1, 1];
  const uppers = quantileBreaks(shares, 5);
  assert.deepEqual(uppers, [0, 1]);
  assert.equal(classIndex(0, uppers), 0);
  assert.equal(classIndex(1, uppers), 1);
  assert.deepEqual(quantileBreaks([3, 3, 3], 5), [3]);
  assert.deepEqual(quantileBreaks([], 5), []);
});

test('Jenks separates obvious groups', () => {
  const values = [1, 2, 1.5, 10, 11, 10.5, 30, 31];
  assert.deepEqual(jenksBreaks(values, 3), [2, 11, 31]);
  // Fewer distinct values than classes: one class per value.
  assert.deepEqual(jenksBreaks([4, 4, 2, 9], 5), [2, 4, 9]);
});

test('Jenks breaks are optimal: no other cut has a smaller within-class deviation', () => {
  // A seeded generator, so the test is the same on every run.
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let round = 0; round < 25; round++) {
    const n = 6 + Math.floor(random() * 7);
    const values = Array.from({ length: n }, () => Math.round(random() * 1000) / 10);
    const k = 2 + Math.floor(random() * 3);
    if (new Set(values).size <= k) continue;
    const uppers = jenksBreaks(values, k);
    assert.equal(uppers.length, k, `${values} in ${k}`);
    assert.ok(Math.abs(cost(values, uppers) - bestCutByBruteForce(values, k)) < 1e-6, `${values} → ${uppers}`);
    // Jenks beats (or equals) quantiles on its own criterion.
    assert.ok(cost(values, uppers) <= cost(values, quantileBreaks(values, k)) + 1e-9);
  }
});

test('a value falls in the first class whose upper bound it does not exceed', () => {
  const uppers = [2, 4, 8];
  assert.equal(classIndex(0, uppers), 0);
  assert.equal(classIndex(2, uppers), 0);
  assert.equal(classIndex(2.01, uppers), 1);
  assert.equal(classIndex(8, uppers), 2);
  assert.equal(classIndex(99, uppers), 2);
  assert.equal(classIndex(null, uppers), -1);
  assert.equal(classIndex(undefined, uppers), -1);
  assert.equal(classIndex(Number.NaN, uppers), -1);
});

test('the legend gives each class its range, count and colour, and counts missing values', () => {
  const l = legend([5, 1, 3, null, 9, 7, 2, 8, 4, 6, 10], 'quantile', 5);
  assert.equal(l.missing, 1);
  assert.deepEqual(
    l.classes.map((c) => [c.from, c.to, c.count]),
    [
      [1, 2, 2],
      [3, 4, 2],
      [5, 6, 2],
      [7, 8, 2],
      [9, 10, 2],
    ],
  );
  assert.deepEqual(
    l.classes.map((c) => c.colour),
    RAMP,
  );
  assert.equal(colourOf(1, l), RAMP[0]);
  assert.equal(colourOf(10, l), RAMP[4]);
  assert.equal(colourOf(null, l), NO_DATA);
  const two = legend([0, 0, 1], 'jenks', 5);
  assert.deepEqual(two.classes.map((c) => [c.from, c.to, c.count]), [
    [0, 0, 2],
    [1, 1, 1],
  ]);
  assert.deepEqual(two.classes.map((c) => c.colour), [RAMP[0], RAMP[4]], 'two classes use both ends of the ramp');
});

test('colours spread over the ramp from light to dark', () => {
  assert.deepEqual(rampColours(5), RAMP);
  assert.deepEqual(rampColours(3), [RAMP[0], RAMP[2], RAMP[4]]);
  assert.equal(rampColours(1).length, 1);
  assert.deepEqual(rampColours(0), []);
});

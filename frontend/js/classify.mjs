// Class breaks of a choropleth: quantiles (classes of equal size) and Jenks natural breaks
// (classes as homogeneous as possible), and the legend they make. Pure functions, tested with
// node.

/** Sequential colours from light to dark (ColorBrewer BuPu, readable by colour-blind people). */
export const RAMP = ['#edf8fb', '#b3cde3', '#8c96c6', '#8856a7', '#810f7c'];

/** Most values classified exactly by {@link jenksBreaks}. */
export const JENKS_MAX = 3000;

/** Colour of an area without a value. */
export const NO_DATA = '#d1d5db';

function finiteSorted(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

function distinctCount(sorted) {
  let n = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) n++;
  return n;
}

function dedupe(uppers) {
  return uppers.filter((u, i) => i === 0 || u !== uppers[i - 1]);
}

/**
 * Upper bounds of `k` quantile classes: class `i` holds the values above `uppers[i - 1]` and
 * at most `uppers[i]`; the last bound is the largest value. Ties never straddle two classes,
 * so there may be fewer than `k` classes. Missing and non-finite values are ignored.
 * @param {Array<number|null>} values
 * @param {number} k
 * @returns {number[]}
 */
export function quantileBreaks(values, k) {
  const sorted = finiteSorted(values);
  const n = sorted.length;
  if (n === 0 || k < 1) return [];
  const uppers = [];
  for (let i = 1; i <= k; i++) uppers.push(sorted[Math.max(0, Math.ceil((i * n) / k) - 1)]);
  return dedupe(uppers);
}

/**
 * Upper bounds of `k` Jenks natural-breaks classes (Fisher's exact optimisation: the sum of
 * squared deviations from the class means is the smallest possible). Same conventions as
 * {@link quantileBreaks}; with fewer than `k` distinct values, one class per value.
 * @param {Array<number|null>} values
 * @param {number} k
 * @returns {number[]}
 */
export function jenksBreaks(values, k) {
  const x = finiteSorted(values);
  const n = x.length;
  if (n === 0 || k < 1) return [];
  if (distinctCount(x) <= k) return dedupe(x);
  // The optimisation is quadratic: beyond a few thousand areas, quantiles are a fair stand-in.
  if (n > JENKS_MAX) return quantileBreaks(x, k);
  // Prefix sums give the squared deviation of any run x[a..b] in constant time.
  const s1 = [0];
  const s2 = [0];
  for (const v of x) {
    s1.push(s1.at(-1) + v);
    s2.push(s2.at(-1) + v * v);
  }
  const ssd = (a, b) => {
    const m = b - a + 1;
    const sum = s1[b + 1] - s1[a];
    return s2[b + 1] - s2[a] - (sum * sum) / m;
  };
  // cost[c][j]: best cost of x[0..j] in c + 1 classes; from[c][j]: where the last class starts.
  const cost = [x.map((_, j) => ssd(0, j))];
  const from = [x.map(() => 0)];
  for (let c = 1; c < k; c++) {
    const row = new Array(n).fill(Infinity);
    const start = new Array(n).fill(0);
    for (let j = c; j < n; j++) {
      for (let a = c; a <= j; a++) {
        const v = cost[c - 1][a - 1] + ssd(a, j);
        if (v < row[j]) {
          row[j] = v;
          start[j] = a;
        }
      }
    }
    cost.push(row);
    from.push(start);
  }
  const uppers = [];
  let j = n - 1;
  for (let c = k - 1; c >= 0; c--) {
    uppers.unshift(x[j]);
    j = from[c][j] - 1;
  }
  // Bounds are compared with `<=`, so equal values always share a class; equal bounds merge.
  return dedupe(uppers);
}

/**
 * The class of a value: the first class whose upper bound is at least the value, the last
 * class above every bound, `-1` for a missing value.
 * @param {number|null} value
 * @param {number[]} uppers
 */
export function classIndex(value, uppers) {
  if (typeof value !== 'number' || !Number.isFinite(value) || uppers.length === 0) return -1;
  for (let i = 0; i < uppers.length; i++) if (value <= uppers[i]) return i;
  return uppers.length - 1;
}

/**
 * `k` colours spread over {@link RAMP} from light to dark.
 * @param {number} k
 */
export function rampColours(k) {
  if (k <= 0) return [];
  if (k === 1) return [RAMP[2]];
  return Array.from({ length: k }, (_, i) => RAMP[Math.round((i * (RAMP.length - 1)) / (k - 1))]);
}

/**
 * The legend of a choropleth: one entry per class with the smallest and largest value it
 * holds, how many areas, and its colour; plus the number of areas without a value.
 * @param {Array<number|null>} values
 * @param {'quantile'|'jenks'} method
 * @param {number} k
 */
export function legend(values, method = 'quantile', k = 5) {
  const uppers = method === 'jenks' ? jenksBreaks(values, k) : quantileBreaks(values, k);
  const colours = rampColours(uppers.length);
  const classes = uppers.map((to, i) => ({ from: Infinity, to, count: 0, colour: colours[i] }));
  let missing = 0;
  for (const v of values) {
    const i = classIndex(v, uppers);
    if (i < 0) {
      missing++;
      continue;
    }
    classes[i].count++;
    classes[i].from = Math.min(classes[i].from, v);
  }
  return { uppers, classes: classes.filter((c) => c.count > 0), missing };
}

/**
 * The colour of a value in a legend, {@link NO_DATA} when it is missing.
 * @param {number|null} value
 * @param {ReturnType<typeof legend>} l
 */
export function colourOf(value, l) {
  const i = classIndex(value, l.uppers);
  if (i < 0) return NO_DATA;
  return rampColours(l.uppers.length)[i];
}

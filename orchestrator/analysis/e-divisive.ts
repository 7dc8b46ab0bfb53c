// Change points in one metric's history: E-Divisive with means (Matteson & James 2014, the
// energy statistic with alpha = 1 on 1-D values), windowed the way Hunter / Apache Otava do it,
// with a permutation significance test, and three rules that make a change worth a page: a
// minimum magnitude over whole regimes, a minimum size against the metric's own noise, and
// persistence.
//
// The procedure, for a series x[0..n):
//
// 1. Candidates. The series is cut into overlapping windows of `window` points (a step of half a
//    window; the last window always ends at the newest point). In each window, E-Divisive
//    splits recursively: the split tau maximizing Q(tau) = m*k/(m+k) * E(tau), where E is the
//    energy distance between x[lo..tau) and x[tau..hi) (sizes m and k), is a candidate when its
//    window means differ by at least half of minRelativeChange and of noiseFactor * noise (the
//    final rules are judged on whole regimes, below) and a permutation test of the maximal Q
//    gives p <= pValue; then both sides are split again. Windows keep each search
//    O(window^2) per permutation, so long histories cost O(n * window^2), and an old regime far
//    back cannot hide a new change.
// 2. Refinement and validation. Candidates found in several windows are merged: each one is moved
//    to the best split of the segment between its neighbours (at most `window` points each side),
//    duplicates collapse, and each is judged:
//      - significance: the permutation test again, on that segment (p <= pValue);
//      - magnitude: the means of the whole regimes on either side (from the previous change
//        point to this one, and from this one to the next or the end) differ by at least
//        minRelativeChange;
//      - noise: they differ by at least noiseFactor times the series' noise (noise.ts: a robust
//        standard deviation of one point), so a noisy metric needs a bigger step;
//      - persistence: the new regime spans at least `persistence` runs (nights: the repeated
//        samples of one job are one run), and it holds: its first persistence - 1 runs (the
//        head) are nearer the regime's level than the old one, and the rest of it is nearer the
//        head's level than the old one. A bump of one or two nights that has come back is not a
//        regime, nor are two ordinary nights followed by a spike.
//    The weakest failing change point (largest p, then smallest magnitude) is dropped and the rest
//    re-examined, until every remaining one passes (Otava's "merge" step): dropping the start
//    of a bump merges it back into its surroundings.
//
// Everything is deterministic, and each permutation test is a function of what it tests alone:
// its shuffles come from a mulberry32 generator seeded with a digest of the tested segment's
// values (mixed with the `seed` option), not from one stream shared by every test of a history.
// So a segment's p-value does not depend on what was tested before it (how many numbers earlier
// tests drew, which moves whenever a point arrives or the noise estimate moves a magnitude rule),
// and the p-value of a window that holds the same values as last night's is last night's: a
// PermutationMemo (permutation-memo.ts) answers it without shuffling again. Only the tests are
// memoised, by (segment values, split, permutations, alpha, seed); the magnitude, noise and
// persistence rules, which move with the whole series, are judged afresh every time.
import { estimateNoise } from './noise.js';
import { permutationScope, processPermutationMemo, type PermutationMemo } from './permutation-memo.js';
import { mulberry32, shuffleInPlace } from './random.js';
import { segmentHash } from './segment-hash.js';

export interface ChangePointOptions {
  /** Points per analysis window; default 30. */
  window?: number;
  /** Largest permutation p-value accepted; default 0.05. */
  pValue?: number;
  /** Permutations per test; default max(200, 2 / pValue) so that pValue is reachable. */
  permutations?: number;
  /** Smallest |after - before| / |before| of the whole regimes' means reported; default 0.05. */
  minRelativeChange?: number;
  /** Smallest |after - before| in units of the series' noise (a point's robust sd); default 2. 0 turns the rule off. */
  noiseFactor?: number;
  /**
   * Runs (nights) a new regime must span, and hold, to count; default 3. 1 turns the rule off
   * (a regime still needs MIN_SEGMENT points).
   */
  persistence?: number;
  /**
   * The run of each point (one sweep's job can give several samples): non-decreasing numbers,
   * equal for points of one run. Default: every point is its own run.
   */
  runs?: readonly number[];
  /** Mixed into each permutation test's seed (a digest of the tested values); default fixed, so results are deterministic. */
  seed?: number;
  /**
   * Where permutation p-values already computed are kept and looked up; default one memo per
   * process (processPermutationMemo). null: every test is run. Either way the results are the same.
   */
  memo?: PermutationMemo | null;
  /**
   * The series the values are (a history's key id): the memo answers a test only with tests of
   * the same series (permutationScope). The p-values do not depend on it.
   */
  series?: string;
}

export interface ChangePoint {
  /** First index of the new regime. */
  index: number;
  beforeMean: number;
  afterMean: number;
  /** (after - before) / |before|; +-1 when before is 0 and after is not. */
  relativeChange: number;
  pValue: number;
  /** Points of the new regime (to the next change point or the end). */
  regimePoints: number;
  /** Runs (nights) of the new regime. */
  regimeRuns: number;
  /** |after - before| / the series' noise sd; Infinity when the series has no noise. */
  noiseRatio: number;
}

export const DEFAULT_WINDOW = 30;
export const DEFAULT_P_VALUE = 0.05;
export const DEFAULT_MIN_RELATIVE_CHANGE = 0.05;
export const DEFAULT_NOISE_FACTOR = 2;
export const DEFAULT_PERSISTENCE = 3;
/** Stage 1 proposes candidates at this fraction of the magnitude and noise rules. */
const CANDIDATE_FRACTION = 0.5;
/** Persistence: the rest of a regime must be at least this far (of head - before) from the old level. */
const HOLD_FRACTION = 0.5;
const DEFAULT_SEED = 0x5eed1e55;
/** A regime needs at least this many points on each side of a split. */
export const MIN_SEGMENT = 2;
const MIN_WINDOW = 2 * MIN_SEGMENT + 2;

export function relativeChange(before: number, after: number): number {
  if (before === 0) return after === 0 ? 0 : Math.sign(after);
  return (after - before) / Math.abs(before);
}

interface Split {
  tau: number;
  q: number;
}

interface Evaluation extends ChangePoint {
  valid: boolean;
}

interface Rules {
  window: number;
  alpha: number;
  permutations: number;
  minRelativeChange: number;
  /** noiseFactor * noise sd: the smallest |after - before|. */
  minDifference: number;
  persistence: number;
  noiseSd: number;
}

/**
 * Q of a split into m points left and k right, from the summed pairwise distances: `total` over
 * all pairs, `within` the left side's, `right` the right side's (the rest are the cross pairs).
 */
function splitQ(m: number, k: number, total: number, within: number, right: number): number {
  const cross = total - within - right;
  const energy = (2 * cross) / (m * k) - (m > 1 ? within / ((m * (m - 1)) / 2) : 0) - (k > 1 ? right / ((k * (k - 1)) / 2) : 0);
  return ((m * k) / (m + k)) * energy;
}

class Detector {
  private readonly rowLeft: Float64Array;
  private readonly rowRight: Float64Array;
  private readonly scratch: Float64Array;
  /** Per value of a permuted segment, its summed distance to every value of the segment. */
  private readonly distances: Float64Array;
  /** The values' bits, two words per value, for the digest of a tested segment. */
  private readonly words: Uint32Array;
  private readonly scope: string;
  /** prefix[i] = x[0] + ... + x[i - 1]. */
  private readonly prefix: Float64Array;
  private readonly window: number;
  private readonly alpha: number;
  private readonly permutations: number;

  constructor(
    private readonly x: Float64Array,
    /** Dense run numbers (0, 1, 2, ...), non-decreasing. */
    private readonly runs: Int32Array,
    private readonly rules: Rules,
    private readonly seed: number,
    private readonly memo: PermutationMemo | null,
    series: string | undefined,
  ) {
    this.window = rules.window;
    this.alpha = rules.alpha;
    this.permutations = rules.permutations;
    const size = Math.min(x.length, 2 * this.window + 2);
    this.rowLeft = new Float64Array(size);
    this.rowRight = new Float64Array(size);
    this.scratch = new Float64Array(size);
    this.distances = new Float64Array(size);
    this.words = new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
    this.scope = permutationScope(this.permutations, this.alpha, seed, series);
    this.prefix = new Float64Array(x.length + 1);
    for (let i = 0; i < x.length; i++) this.prefix[i + 1] = this.prefix[i]! + x[i]!;
  }

  /**
   * Best split of values[from..from+length) (indices relative to `from`), or, when `at` is given,
   * Q at that split. O(length^2).
   */
  private split(values: Float64Array, from: number, length: number, at?: number): Split {
    const { rowLeft, rowRight } = this;
    rowLeft.fill(0, 0, length);
    rowRight.fill(0, 0, length);
    let total = 0;
    for (let t = 1; t < length; t++) {
      const xt = values[from + t]!;
      let sum = 0;
      for (let i = 0; i < t; i++) {
        const d = Math.abs(values[from + i]! - xt);
        sum += d;
        rowRight[i]! += d;
      }
      rowLeft[t] = sum;
      total += sum;
    }
    // within(left of tau) grows by rowLeft[tau - 1]; within(right of tau) loses rowRight[tau - 1].
    let within = 0;
    let right = total;
    let best: Split = { tau: -1, q: -Infinity };
    for (let tau = 1; tau < length; tau++) {
      within += rowLeft[tau - 1]!;
      right -= rowRight[tau - 1]!;
      if (tau < MIN_SEGMENT || length - tau < MIN_SEGMENT) continue;
      if (at !== undefined && tau !== at) continue;
      const q = splitQ(tau, length - tau, total, within, right);
      if (q > best.q) best = { tau, q };
    }
    return best;
  }

  /**
   * The largest Q over the splits of values[0..length), for a permutation test: what split() finds,
   * with each value's summed distance to the others (`distances`, the same whatever the order)
   * standing in for the distances to the values after it, D - (those before), so each pair is
   * visited once with nothing stored per pair.
   */
  private maxQ(values: Float64Array, distances: Float64Array, length: number): number {
    const rowLeft = this.rowLeft;
    rowLeft[0] = 0;
    let total = 0;
    for (let t = 1; t < length; t++) {
      const xt = values[t]!;
      // four running sums: one would make every addition wait for the one before it
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < t; i += 4) {
        s0 += Math.abs(values[i]! - xt);
        s1 += Math.abs(values[i + 1]! - xt);
        s2 += Math.abs(values[i + 2]! - xt);
        s3 += Math.abs(values[i + 3]! - xt);
      }
      for (; i < t; i++) s0 += Math.abs(values[i]! - xt);
      const sum = s0 + s1 + (s2 + s3);
      rowLeft[t] = sum;
      total += sum;
    }
    let within = 0;
    let right = total;
    let best = -Infinity;
    for (let tau = 1; tau < length; tau++) {
      within += rowLeft[tau - 1]!;
      right -= distances[tau - 1]! - rowLeft[tau - 1]!;
      if (tau < MIN_SEGMENT || length - tau < MIN_SEGMENT) continue;
      const q = splitQ(tau, length - tau, total, within, right);
      if (q > best) best = q;
    }
    return best;
  }

  /**
   * Permutation p-value of the split at `split` (relative to lo; `observed` gives its Q) of
   * x[lo..hi): from the memo, or tested with shuffles seeded by the segment's own values.
   */
  private pValue(lo: number, hi: number, split: number, observed: () => number): number {
    const [high, low] = segmentHash(this.words, lo, hi, this.seed);
    const known = this.memo?.lookup(this.scope, high, low, split);
    if (known !== undefined) return known;
    const outcome = this.permutationTest(lo, hi, observed(), mulberry32(high ^ Math.imul(low, 0x9e3779b1)));
    this.memo?.remember(this.scope, high, low, split, outcome);
    return outcome.hits / outcome.of;
  }

  /**
   * The maximal Q of shuffled copies of x[lo..hi) against `observed`: how many of the
   * permutations reached it, plus one, of how many were done, plus one. Stops early once the
   * p-value can no longer reach alpha.
   */
  private permutationTest(lo: number, hi: number, observed: number, random: () => number): { hits: number; of: number } {
    const length = hi - lo;
    const view = this.scratch.subarray(0, length);
    view.set(this.x.subarray(lo, hi));
    const distances = this.distances.subarray(0, length);
    for (let i = 0; i < length; i++) {
      const xi = view[i]!;
      let sum = 0;
      for (let j = 0; j < length; j++) sum += Math.abs(view[j]! - xi);
      distances[i] = sum;
    }
    const giveUp = Math.floor(this.alpha * (this.permutations + 1)); // count > giveUp - 1 => p > alpha
    let atLeast = 0;
    let done = 0;
    const tolerance = 1e-9 * Math.max(1, Math.abs(observed));
    while (done < this.permutations) {
      shuffleInPlace(view, random, distances);
      done++;
      if (this.maxQ(view, distances, length) >= observed - tolerance) {
        atLeast++;
        if (atLeast >= giveUp) break;
      }
    }
    return { hits: atLeast + 1, of: done + 1 };
  }

  private mean(lo: number, hi: number): number {
    return (this.prefix[hi]! - this.prefix[lo]!) / (hi - lo);
  }

  /** Stage 1: recursive E-Divisive inside x[lo..hi). */
  divide(lo: number, hi: number, found: Set<number>): void {
    if (hi - lo < 2 * MIN_SEGMENT) return;
    const best = this.split(this.x, lo, hi - lo);
    if (best.tau < 0) return;
    const tau = lo + best.tau;
    const before = this.mean(lo, tau);
    const after = this.mean(tau, hi);
    if (Math.abs(relativeChange(before, after)) < CANDIDATE_FRACTION * this.rules.minRelativeChange) return;
    if (Math.abs(after - before) < CANDIDATE_FRACTION * this.rules.minDifference) return;
    if (this.pValue(lo, hi, best.tau, () => best.q) > this.alpha) return;
    found.add(tau);
    this.divide(lo, tau, found);
    this.divide(tau, hi, found);
  }

  /** The segment a change point is judged on: up to its neighbours, at most `window` each side. */
  segment(points: readonly number[], k: number): [number, number] {
    const at = points[k]!;
    const lo = Math.max(k > 0 ? points[k - 1]! : 0, at - this.window);
    const hi = Math.min(k + 1 < points.length ? points[k + 1]! : this.x.length, at + this.window);
    return [lo, hi];
  }

  /** Moves each change point to the best split between its neighbours; drops duplicates. */
  refine(points: number[]): number[] {
    const result = [...points];
    for (let k = 0; k < result.length; k++) {
      const [lo, hi] = this.segment(result, k);
      if (hi - lo < 2 * MIN_SEGMENT) continue;
      const best = this.split(this.x, lo, hi - lo);
      if (best.tau >= 0) result[k] = lo + best.tau;
    }
    return [...new Set(result)].sort((a, b) => a - b);
  }

  /** Permutation p of the split at `at` of the segment x[lo..hi). */
  private significance(lo: number, at: number, hi: number): number {
    return this.pValue(lo, hi, at - lo, () => this.split(this.x, lo, hi - lo, at - lo).q);
  }

  /**
   * Persistence: the regime x[at..end) spans at least `persistence` runs and holds: its first
   * persistence - 1 runs (the head) and the rest (the tail) both moved the way the regime did,
   * the head by at least HOLD_FRACTION of the regime's change (a spike on the newest night does
   * not make a regime of the nights before it), the tail by at least HOLD_FRACTION of the head's
   * (a bump that has come back is not a regime).
   */
  private holds(beforeMean: number, afterMean: number, at: number, end: number): boolean {
    const persistence = this.rules.persistence;
    if (persistence <= 1) return true;
    const runs = this.runs;
    if (runs[end - 1]! - runs[at]! + 1 < persistence) return false;
    let tail = at;
    while (tail < end && runs[tail]! < runs[at]! + persistence - 1) tail++;
    const direction = Math.sign(afterMean - beforeMean);
    const change = Math.abs(afterMean - beforeMean);
    const head = (this.mean(at, tail) - beforeMean) * direction;
    return head >= HOLD_FRACTION * change && (this.mean(tail, end) - beforeMean) * direction >= HOLD_FRACTION * head;
  }

  /** Judges points[k] against its neighbours (see the file comment, stage 2). */
  judge(points: readonly number[], k: number): Evaluation {
    const at = points[k]!;
    const start = k > 0 ? points[k - 1]! : 0;
    const end = k + 1 < points.length ? points[k + 1]! : this.x.length;
    const beforeMean = this.mean(start, at);
    const afterMean = this.mean(at, end);
    const change = relativeChange(beforeMean, afterMean);
    const difference = Math.abs(afterMean - beforeMean);
    const { minRelativeChange, minDifference, noiseSd } = this.rules;
    const sized = at - start >= MIN_SEGMENT && end - at >= MIN_SEGMENT && Math.abs(change) >= minRelativeChange && difference >= minDifference;
    const [lo, hi] = this.segment(points, k);
    const pValue = sized ? this.significance(lo, at, hi) : 1;
    const persistent = sized && this.holds(beforeMean, afterMean, at, end);
    return {
      index: at,
      beforeMean,
      afterMean,
      relativeChange: change,
      pValue,
      regimePoints: end - at,
      regimeRuns: this.runs[end - 1]! - this.runs[at]! + 1,
      noiseRatio: noiseSd > 0 ? difference / noiseSd : difference > 0 ? Infinity : 0,
      valid: sized && persistent && pValue <= this.alpha,
    };
  }
}

/** The windows of stage 1: a step of half a window, the last one ending at the newest point. */
function windowsOf(n: number, window: number): [number, number][] {
  if (n <= window) return [[0, n]];
  const step = Math.max(1, Math.floor(window / 2));
  const windows: [number, number][] = [];
  for (let start = 0; start + window < n; start += step) windows.push([start, start + window]);
  windows.push([n - window, n]);
  return windows;
}

/** Dense run numbers 0, 1, 2, ... from non-decreasing run labels (or one run per point). */
function denseRuns(n: number, runs: readonly number[] | undefined): Int32Array {
  const dense = new Int32Array(n);
  if (!runs) {
    for (let i = 0; i < n; i++) dense[i] = i;
    return dense;
  }
  if (runs.length !== n) throw new RangeError(`detectChangePoints: ${runs.length} runs for ${n} values`);
  for (let i = 1; i < n; i++) {
    if (!(runs[i]! >= runs[i - 1]!)) throw new RangeError(`detectChangePoints: runs must not decrease (${runs[i - 1]} then ${runs[i]} at ${i})`);
    dense[i] = dense[i - 1]! + (runs[i] === runs[i - 1] ? 0 : 1);
  }
  return dense;
}

/**
 * Change points of `values` (in order, oldest first), each the first index of a new regime.
 * Values must be finite numbers.
 */
export function detectChangePoints(values: readonly number[], options: ChangePointOptions = {}): ChangePoint[] {
  const n = values.length;
  if (n < 2 * MIN_SEGMENT) return [];
  const window = Math.max(MIN_WINDOW, Math.floor(options.window ?? DEFAULT_WINDOW));
  const alpha = options.pValue ?? DEFAULT_P_VALUE;
  const permutations = Math.max(1, Math.floor(options.permutations ?? Math.max(200, Math.ceil(2 / alpha))));
  const x = Float64Array.from(values);
  for (const value of x) if (!Number.isFinite(value)) throw new RangeError(`detectChangePoints: ${value} is not a finite number`);
  const runs = denseRuns(n, options.runs);
  const noiseSd = estimateNoise(x).sd;
  const rules: Rules = {
    window,
    alpha,
    permutations,
    minRelativeChange: options.minRelativeChange ?? DEFAULT_MIN_RELATIVE_CHANGE,
    minDifference: Math.max(0, options.noiseFactor ?? DEFAULT_NOISE_FACTOR) * noiseSd,
    persistence: Math.max(1, Math.floor(options.persistence ?? DEFAULT_PERSISTENCE)),
    noiseSd,
  };

  const memo = options.memo === undefined ? processPermutationMemo : options.memo;
  const detector = new Detector(x, runs, rules, (options.seed ?? DEFAULT_SEED) >>> 0, memo, options.series);
  const found = new Set<number>();
  for (const [lo, hi] of windowsOf(n, window)) detector.divide(lo, hi, found);

  let points = [...found].sort((a, b) => a - b);
  for (let round = 0; round <= found.size; round++) {
    points = detector.refine(points);
    const evaluations = points.map((_, k) => detector.judge(points, k));
    let weakest = -1;
    evaluations.forEach((evaluation, k) => {
      if (evaluation.valid) return;
      const current = weakest < 0 ? undefined : evaluations[weakest]!;
      if (
        !current ||
        evaluation.pValue > current.pValue ||
        (evaluation.pValue === current.pValue && Math.abs(evaluation.relativeChange) < Math.abs(current.relativeChange))
      ) {
        weakest = k;
      }
    });
    if (weakest < 0) return evaluations.map(({ valid: _valid, ...change }) => change);
    points.splice(weakest, 1);
  }
  return [];
}

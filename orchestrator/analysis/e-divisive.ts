// Change points in one metric's history: E-Divisive with means (Matteson & James 2014, the
// energy statistic with alpha = 1 on 1-D values), windowed the way Hunter / Apache Otava do it,
// with a permutation significance test and a minimum magnitude.
//
// The procedure, for a series x[0..n):
//
// 1. Candidates. The series is cut into overlapping windows of `window` points (a step of half a
//    window; the last window always ends at the newest point). In each window, E-Divisive
//    splits recursively: the split tau maximizing Q(tau) = m*k/(m+k) * E(tau), where E is the
//    energy distance between x[lo..tau) and x[tau..hi) (sizes m and k), is accepted when its
//    means differ by at least minRelativeChange and a permutation test of the maximal Q gives
//    p <= pValue; then both sides are split again. Windows keep each search O(window^2) per
//    permutation, so long histories cost O(n * window^2), and an old regime far back cannot
//    hide a new change.
// 2. Refinement and validation. Candidates found in several windows are merged: each one is moved
//    to the best split of the segment between its neighbours (at most `window` points each side),
//    duplicates collapse, and each is tested again on that segment (same test, same magnitude
//    rule). The weakest failing change point is dropped and the rest re-examined, until every
//    remaining one passes (Otava's "merge" step).
//
// Everything is deterministic: the permutations come from a seeded mulberry32 generator.
import { mulberry32, shuffleInPlace } from './random.js';

export interface ChangePointOptions {
  /** Points per analysis window; default 30. */
  window?: number;
  /** Largest permutation p-value accepted; default 0.05. */
  pValue?: number;
  /** Permutations per test; default max(200, 2 / pValue) so that pValue is reachable. */
  permutations?: number;
  /** Smallest |after - before| / |before| reported; default 0.05. */
  minRelativeChange?: number;
  /** Permutation RNG seed; default fixed, so results are deterministic. */
  seed?: number;
}

export interface ChangePoint {
  /** First index of the new regime. */
  index: number;
  beforeMean: number;
  afterMean: number;
  /** (after - before) / |before|; +-1 when before is 0 and after is not. */
  relativeChange: number;
  pValue: number;
}

export const DEFAULT_WINDOW = 30;
export const DEFAULT_P_VALUE = 0.05;
export const DEFAULT_MIN_RELATIVE_CHANGE = 0.05;
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

interface Evaluation {
  index: number;
  beforeMean: number;
  afterMean: number;
  relativeChange: number;
  pValue: number;
  valid: boolean;
}

class Detector {
  private readonly rowLeft: Float64Array;
  private readonly rowRight: Float64Array;
  private readonly scratch: Float64Array;
  private readonly random: () => number;
  private readonly cache = new Map<string, Evaluation>();

  constructor(
    private readonly x: Float64Array,
    private readonly window: number,
    private readonly alpha: number,
    private readonly permutations: number,
    private readonly minRelativeChange: number,
    seed: number,
  ) {
    const size = Math.min(x.length, 2 * window + 2);
    this.rowLeft = new Float64Array(size);
    this.rowRight = new Float64Array(size);
    this.scratch = new Float64Array(size);
    this.random = mulberry32(seed);
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
      const m = tau;
      const k = length - tau;
      const cross = total - within - right;
      const energy =
        (2 * cross) / (m * k) - (m > 1 ? within / ((m * (m - 1)) / 2) : 0) - (k > 1 ? right / ((k * (k - 1)) / 2) : 0);
      const q = ((m * k) / (m + k)) * energy;
      if (q > best.q) best = { tau, q };
    }
    return best;
  }

  /**
   * Permutation p-value of `observed` against the maximal Q of shuffled copies of x[lo..hi).
   * Stops early once the p-value can no longer reach alpha.
   */
  private pValue(lo: number, hi: number, observed: number): number {
    const length = hi - lo;
    const buffer = this.scratch;
    buffer.set(this.x.subarray(lo, hi));
    const view = buffer.subarray(0, length);
    const giveUp = Math.floor(this.alpha * (this.permutations + 1)); // count > giveUp - 1 => p > alpha
    let atLeast = 0;
    let done = 0;
    const tolerance = 1e-9 * Math.max(1, Math.abs(observed));
    while (done < this.permutations) {
      shuffleInPlace(view, this.random);
      done++;
      if (this.split(view, 0, length).q >= observed - tolerance) {
        atLeast++;
        if (atLeast >= giveUp) break;
      }
    }
    return (atLeast + 1) / (done + 1);
  }

  private mean(lo: number, hi: number): number {
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += this.x[i]!;
    return sum / (hi - lo);
  }

  /** Stage 1: recursive E-Divisive inside x[lo..hi). */
  divide(lo: number, hi: number, found: Set<number>): void {
    if (hi - lo < 2 * MIN_SEGMENT) return;
    const best = this.split(this.x, lo, hi - lo);
    if (best.tau < 0) return;
    const tau = lo + best.tau;
    const change = relativeChange(this.mean(lo, tau), this.mean(tau, hi));
    if (Math.abs(change) < this.minRelativeChange) return;
    if (this.pValue(lo, hi, best.q) > this.alpha) return;
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

  evaluate(lo: number, at: number, hi: number): Evaluation {
    const key = `${lo}:${at}:${hi}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const beforeMean = this.mean(lo, at);
    const afterMean = this.mean(at, hi);
    const change = relativeChange(beforeMean, afterMean);
    let pValue = 1;
    if (at - lo >= MIN_SEGMENT && hi - at >= MIN_SEGMENT && Math.abs(change) >= this.minRelativeChange) {
      pValue = this.pValue(lo, hi, this.split(this.x, lo, hi - lo, at - lo).q);
    }
    const evaluation: Evaluation = {
      index: at,
      beforeMean,
      afterMean,
      relativeChange: change,
      pValue,
      valid: pValue <= this.alpha && Math.abs(change) >= this.minRelativeChange,
    };
    this.cache.set(key, evaluation);
    return evaluation;
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
  const minRelativeChange = options.minRelativeChange ?? DEFAULT_MIN_RELATIVE_CHANGE;
  const x = Float64Array.from(values);
  for (const value of x) if (!Number.isFinite(value)) throw new RangeError(`detectChangePoints: ${value} is not a finite number`);

  const detector = new Detector(x, window, alpha, permutations, minRelativeChange, options.seed ?? DEFAULT_SEED);
  const found = new Set<number>();
  for (const [lo, hi] of windowsOf(n, window)) detector.divide(lo, hi, found);

  let points = [...found].sort((a, b) => a - b);
  for (let round = 0; round <= found.size; round++) {
    points = detector.refine(points);
    const evaluations = points.map((_, k) => {
      const [lo, hi] = detector.segment(points, k);
      return detector.evaluate(lo, points[k]!, hi);
    });
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
    if (weakest < 0) {
      return evaluations.map(({ index, beforeMean, afterMean, relativeChange: change, pValue }) => ({
        index,
        beforeMean,
        afterMean,
        relativeChange: change,
        pValue,
      }));
    }
    points.splice(weakest, 1);
  }
  return [];
}

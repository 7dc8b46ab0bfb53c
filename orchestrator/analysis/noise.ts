// How noisy one metric is: the spread of its points around their level, estimated robustly so
// that the changes being looked for, spikes and the odd failed run do not inflate it.
//
// The estimate is the median absolute successive difference: for independent points of standard
// deviation sd, x[i+1] - x[i] has sd sqrt(2) sd, and the median of its absolute value is
// 0.6745 * sqrt(2) sd, so sd = median |x[i+1] - x[i]| / 0.9539. A step between regimes spoils one
// difference, a spike two, so up to about a quarter of the differences can be anything without
// moving the median much; a slow drift adds its (small) slope to each difference.

/** median |d| of N(0, 2 sd^2) is this times sd. */
const MEDIAN_ABS_DIFF_PER_SD = 0.6744897501960817 * Math.SQRT2;

export interface Noise {
  /** Robust standard deviation of a point around its level (the metric's unit). */
  sd: number;
  /** The median of the values: the level `relative` is measured against. */
  level: number;
  /** sd / |level|; Infinity when the level is 0 and sd is not, 0 when both are. */
  relative: number;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The noise of a series (oldest first). Fewer than 3 values give sd 0: nothing to go by. */
export function estimateNoise(values: ArrayLike<number>): Noise {
  const n = values.length;
  const sortedValues = Float64Array.from(values).sort();
  const level = n === 0 ? 0 : median(sortedValues);
  if (n < 3) return { sd: 0, level, relative: 0 };
  const differences = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) differences[i - 1] = Math.abs(values[i]! - values[i - 1]!);
  differences.sort();
  const sd = median(differences) / MEDIAN_ABS_DIFF_PER_SD;
  const relative = level === 0 ? (sd === 0 ? 0 : Infinity) : sd / Math.abs(level);
  return { sd, level, relative };
}

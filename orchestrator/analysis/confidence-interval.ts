// The 95% confidence interval of a mean (Student's t) and the stopping rule of adaptive
// repetitions (as Phoronix Test Suite does: repeat a measurement until the interval is narrow
// enough relative to the mean, or a maximum count is reached). The hosts decide with the same
// arithmetic in awk (remote-scripts/lib/repeat.sh); test/analysis/confidence-interval.test.ts
// holds the two side by side.

/**
 * Two-sided 95% quantiles of Student's t, t(0.975, df), for df 1..30; beyond 30 the normal
 * quantile (1.959964) is used: it is within 4% of t at df 31 and the gap shrinks from there.
 */
export const T_975: readonly number[] = [
  12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
  2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
  2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
];
export const Z_975 = 1.959964;

/** t(0.975, df): the table for df 1..30, the normal quantile beyond. */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a whole number >= 1, got ${df}`);
  return df <= T_975.length ? T_975[df - 1]! : Z_975;
}

export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 for one value. */
  sd: number;
  /** Half-width of the 95% interval of the mean: t(0.975, n-1) * sd / sqrt(n); Infinity below two values. */
  halfWidth: number;
  /**
   * halfWidth / |mean|: the figure a target is compared with. 0 when every value is equal (a
   * zero mean included); Infinity when the mean is 0 and the values differ, or below two values.
   */
  relative: number;
}

/** The mean of VALUES and its 95% confidence interval (Student's t). */
export function meanInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  if (n === 0) throw new RangeError('no values');
  if (!values.every(Number.isFinite)) throw new RangeError('values must be finite numbers');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: 0, halfWidth: Infinity, relative: Infinity };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const halfWidth = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  const relative = halfWidth === 0 ? 0 : mean === 0 ? Infinity : halfWidth / Math.abs(mean);
  return { n, mean, sd, halfWidth, relative };
}

/** Why a repetition loop ended (or `continue`: it goes on). */
export type RepeatVerdict = 'continue' | 'target' | 'max' | 'deadline';

export interface RepeatRule {
  /** Repetitions that always run (unless the deadline comes first). */
  min: number;
  /** Repetitions at most. */
  max: number;
  /** The relative half-width (halfWidth / |mean|) at or below which the loop stops. */
  targetCi: number;
}

/**
 * After N repetitions whose interval's relative half-width is RELATIVE: stop at the target once
 * at least `min` ran, at `max`, or when one more repetition (NEXT_SECONDS long, as the last one
 * was) would end after the deadline (seconds left, may be negative); else continue. The target
 * wins over max when both hold. The deadline stops even below `min`: the phase's time limit is
 * the limit.
 */
export function repeatVerdict(rule: RepeatRule, n: number, relative: number, secondsLeft: number, nextSeconds: number): RepeatVerdict {
  if (n >= rule.min && relative <= rule.targetCi) return 'target';
  if (n >= rule.max) return 'max';
  if (nextSeconds > secondsLeft) return 'deadline';
  return 'continue';
}

/** What a repetition loop records for one step or point. */
export interface RepeatOutcome extends MeanInterval {
  values: number[];
  stop: Exclude<RepeatVerdict, 'continue'>;
}

/**
 * The loop itself (what the hosts do, for the tests and for callers in TypeScript): MEASURE runs
 * one repetition and gives its value and seconds; NOW_SECONDS is the clock; DEADLINE the second
 * after which no repetition may end.
 */
export async function repeatUntil(
  rule: RepeatRule,
  deadline: number,
  nowSeconds: () => number,
  measure: (repetition: number) => Promise<{ value: number; seconds: number }>,
): Promise<RepeatOutcome> {
  const values: number[] = [];
  for (;;) {
    const { value, seconds } = await measure(values.length + 1);
    values.push(value);
    const ci = meanInterval(values);
    const verdict = repeatVerdict(rule, values.length, ci.relative, deadline - nowSeconds(), seconds);
    if (verdict !== 'continue') return { ...ci, values, stop: verdict };
  }
}

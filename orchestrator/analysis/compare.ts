// Comparison of two jobs' summary samples, metric by metric (a is the baseline, b the candidate).
import type { MetricSample, MetricsFile } from '../results/metrics.js';
import { canonicalKey } from './history.js';
import { mannWhitneyU } from './mann-whitney.js';
import { DEFAULT_THRESHOLDS } from './regressions.js';
import type { Thresholds } from './regressions.js';

export interface MetricComparison {
  metric: string;
  labels: Record<string, string>;
  unit: string;
  better: 'higher' | 'lower' | 'none';
  a: { n: number; mean: number | null };
  b: { n: number; mean: number | null };
  /** 100 * (mean b - mean a) / |mean a|; null when a side is missing or mean a is 0 (unless both are 0). */
  deltaPercent: number | null;
  /** Mann-Whitney U, two-sided (exact for small samples, ties included), when both sides have samples; else null. */
  pValue: number | null;
  /** The smallest p-value these sample counts (and ties) could give; null when a side has no sample. */
  minPValue: number | null;
  /** pValue <= thresholds.pValue; null without a p-value. */
  significant: boolean | null;
  /** The test's verdict (see Verdict): 'inconclusive' where these sample counts cannot be tested. */
  verdict: Verdict;
  /** What a reader is told (see readChange): the test's call where it could decide, else the size and direction, marked untested. */
  reading: Reading;
}

/**
 * What the comparison tells a reader. call: worse / better by the metric's direction, changed
 * for a metric without one, same, or missing. tested: a significance test decided the call
 * (false where no split of this few samples could reach the threshold: the call then rests on
 * the size of the change and its direction alone). text: the call as the pages print it.
 */
export interface Reading {
  call: 'worse' | 'better' | 'changed' | 'same' | 'missing';
  tested: boolean;
  text: string;
}

/** What readChange needs of a comparison. */
export type ChangeFacts = Pick<MetricComparison, 'better' | 'a' | 'b' | 'deltaPercent' | 'pValue' | 'minPValue'>;

/** "1 sample each", "2 vs 3 samples". */
export function sampleCountText(nA: number, nB: number): string {
  return nA === nB ? `${nA} sample${nA === 1 ? '' : 's'} each` : `${nA} vs ${nB} samples`;
}

/** Whether these sample counts could reach the threshold at all (null when a side has no sample). */
export function testable(c: Pick<ChangeFacts, 'minPValue'>, thresholds: Pick<Thresholds, 'pValue'>): boolean | null {
  return c.minPValue === null ? null : c.minPValue <= thresholds.pValue;
}

/**
 * The one rule for what a comparison reads as (the pair pages, their JSON and CSV; the browser
 * picker, assets/compare.js, follows it line for line and a browser test holds them together):
 * - missing: a side has no sample;
 * - same: the means are equal or differ by less than minRelativeChange (a change from 0 is never
 *   less), or the test could have been significant and was not;
 * - worse / better (changed without a better direction): the change is big enough and either
 *   significant (tested) or these sample counts cannot be tested (untested: "worse, untested
 *   (1 sample each)"): a 58 % rise of CPU on one run each is worth reading as worse, marked as
 *   resting on one sample, and is not "the same" for want of a test that cannot be run.
 */
export function readChange(c: ChangeFacts, thresholds: Pick<Thresholds, 'pValue' | 'minRelativeChange'>): Reading {
  const { mean: meanA } = c.a;
  const { mean: meanB } = c.b;
  if (meanA === null || meanB === null) return { call: 'missing', tested: false, text: 'missing' };
  const canTest = testable(c, thresholds) === true;
  const same: Reading = { call: 'same', tested: canTest, text: 'same' };
  if (meanA === meanB) return same;
  if (c.deltaPercent !== null && Math.abs(c.deltaPercent) < thresholds.minRelativeChange * 100) return same;
  if (canTest && !(c.pValue !== null && c.pValue <= thresholds.pValue)) return same;
  const call = c.better === 'none' ? 'changed' : meanB > meanA === (c.better === 'higher') ? 'better' : 'worse';
  return canTest ? { call, tested: true, text: call } : { call, tested: false, text: `${call}, untested (${sampleCountText(c.a.n, c.b.n)})` };
}

/**
 * better / worse: a change of at least minRelativeChange, significant, the metric's way;
 * same: smaller than minRelativeChange, no better direction, or a test that could have been
 * significant and was not; inconclusive: a change of at least minRelativeChange that these
 * sample counts cannot tell from noise (the smallest p they could give is above the threshold:
 * 1 or 2 samples a side, 3 vs 3, 3 vs 4 at p 0.05); missing: a side has no sample.
 */
export type Verdict = 'better' | 'worse' | 'same' | 'inconclusive' | 'missing';

interface Group {
  metric: string;
  labels: Record<string, string>;
  unit: string;
  better: 'higher' | 'lower' | 'none';
  values: number[];
}

function group(samples: readonly MetricSample[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const sample of samples) {
    if (!Number.isFinite(sample.value)) continue;
    const id = canonicalKey({ host: '', scenario: '', metric: sample.metric, labels: sample.labels });
    let entry = groups.get(id);
    if (!entry) {
      const labels = Object.fromEntries(Object.keys(sample.labels).sort().map((name) => [name, sample.labels[name]!]));
      entry = { metric: sample.metric, labels, unit: sample.unit, better: sample.better, values: [] };
      groups.set(id, entry);
    }
    entry.values.push(sample.value);
  }
  return groups;
}

const mean = (values: readonly number[]): number | null =>
  values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * One comparison per (metric, labels) present in a or b, sorted by metric then labels.
 * verdict: 'missing' when a side has no sample; 'same' when the metric has no better direction
 * or |delta| < minRelativeChange; 'inconclusive' when the change is big enough but no split of
 * samples this few could reach thresholds.pValue (the magnitude alone never decides); 'same' when
 * the test could have been significant and was not; otherwise 'better' or 'worse' by the
 * metric's direction.
 */
export function compareMetrics(a: MetricsFile, b: MetricsFile, thresholds: Thresholds = DEFAULT_THRESHOLDS): MetricComparison[] {
  const left = group(a.samples);
  const right = group(b.samples);
  const ids = [...new Set([...left.keys(), ...right.keys()])].sort();
  return ids.map((id) => {
    const ga = left.get(id);
    const gb = right.get(id);
    const info = (gb ?? ga)!;
    const va = ga?.values ?? [];
    const vb = gb?.values ?? [];
    const meanA = mean(va);
    const meanB = mean(vb);
    let deltaPercent: number | null = null;
    if (meanA !== null && meanB !== null) {
      if (meanA !== 0) deltaPercent = (100 * (meanB - meanA)) / Math.abs(meanA);
      else if (meanB === 0) deltaPercent = 0;
    }
    const test = va.length > 0 && vb.length > 0 ? mannWhitneyU(va, vb) : null;
    const pValue = test?.pValue ?? null;
    const minPValue = test?.minPValue ?? null;
    const significant = pValue === null ? null : pValue <= thresholds.pValue;
    let verdict: Verdict;
    if (meanA === null || meanB === null) verdict = 'missing';
    else if (info.better === 'none' || meanA === meanB) verdict = 'same';
    else if (deltaPercent !== null && Math.abs(deltaPercent) < thresholds.minRelativeChange * 100) verdict = 'same';
    else if (minPValue! > thresholds.pValue) verdict = 'inconclusive';
    else if (!significant) verdict = 'same';
    else verdict = meanB > meanA === (info.better === 'higher') ? 'better' : 'worse';
    const facts = { better: info.better, a: { n: va.length, mean: meanA }, b: { n: vb.length, mean: meanB }, deltaPercent, pValue, minPValue };
    return {
      metric: info.metric,
      labels: info.labels,
      unit: info.unit,
      ...facts,
      significant,
      verdict,
      reading: readChange(facts, thresholds),
    };
  });
}

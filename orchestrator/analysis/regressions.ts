// Regressions and improvements: change points of every metric's history, classified by the
// direction the metric says is better.
import { DEFAULT_MIN_RELATIVE_CHANGE, DEFAULT_P_VALUE, DEFAULT_WINDOW, MIN_SEGMENT, detectChangePoints } from './e-divisive.js';
import type { HistoryPoint, MetricHistory, SeriesKey } from './history.js';

export interface Thresholds {
  /** Smallest |after - before| / |before| that counts (0.05 = 5%). */
  minRelativeChange: number;
  /** Largest p-value that counts as significant. */
  pValue: number;
  /** Points per change-point analysis window. */
  window: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  minRelativeChange: DEFAULT_MIN_RELATIVE_CHANGE,
  pValue: DEFAULT_P_VALUE,
  window: DEFAULT_WINDOW,
});

export type ChangeKind = 'regression' | 'improvement' | 'change';

export interface DetectedChange {
  keyId: string;
  key: SeriesKey;
  unit: string;
  better: 'higher' | 'lower' | 'none';
  /** 'change' when the metric has no better direction. */
  kind: ChangeKind;
  /** First sweep of the new regime. */
  sweepId: string;
  /** Start of the first job of the new regime. */
  at: string;
  beforeMean: number;
  afterMean: number;
  relativeChange: number;
  pValue: number;
}

export function kindOf(better: 'higher' | 'lower' | 'none', beforeMean: number, afterMean: number): ChangeKind {
  if (better === 'none' || afterMean === beforeMean) return 'change';
  const rose = afterMean > beforeMean;
  return rose === (better === 'higher') ? 'improvement' : 'regression';
}

function changesOf(history: MetricHistory, points: readonly HistoryPoint[], thresholds: Thresholds): { index: number; change: DetectedChange }[] {
  if (points.length < 2 * MIN_SEGMENT) return [];
  const found = detectChangePoints(
    points.map((point) => point.value),
    { window: thresholds.window, pValue: thresholds.pValue, minRelativeChange: thresholds.minRelativeChange },
  );
  return found.map((change) => {
    const first = points[change.index]!;
    return {
      index: change.index,
      change: {
        keyId: history.keyId,
        key: history.key,
        unit: history.unit,
        better: history.better,
        kind: kindOf(history.better, change.beforeMean, change.afterMean),
        sweepId: first.sweepId,
        at: first.at,
        beforeMean: change.beforeMean,
        afterMean: change.afterMean,
        relativeChange: change.relativeChange,
        pValue: change.pValue,
      },
    };
  });
}

const finitePoints = (history: MetricHistory) => history.points.filter((point) => Number.isFinite(point.value));

/**
 * Change points of every history, oldest first within a history; histories in the order given.
 * A change point inside a job's repeated samples is reported at that job's sweep.
 */
export function detectChanges(histories: readonly MetricHistory[], thresholdsFor: (key: SeriesKey) => Thresholds): DetectedChange[] {
  return histories.flatMap((history) => changesOf(history, finitePoints(history), thresholdsFor(history.key)).map(({ change }) => change));
}

/**
 * Regressions that the histories up to and including `sweepId` show and the histories up to the
 * sweep before do not (no regression within MIN_SEGMENT points of it there): what this sweep
 * newly reveals. Unlike newRegressions, this also catches a regression that began a sweep or
 * two earlier but needed this sweep's points to become significant, which is the usual case for
 * metrics with one sample per job (a regime needs MIN_SEGMENT = 2 points). Only histories with
 * a point in `sweepId` are considered; later sweeps are ignored, so the answer for a sweep does
 * not change as more sweeps are stored. Runs the detection twice per history.
 */
export function regressionsFirstSeen(
  histories: readonly MetricHistory[],
  thresholdsFor: (key: SeriesKey) => Thresholds,
  sweepId: string,
): DetectedChange[] {
  const result: DetectedChange[] = [];
  for (const history of histories) {
    const upTo = finitePoints(history).filter((point) => point.sweepId <= sweepId);
    if (!upTo.some((point) => point.sweepId === sweepId)) continue;
    const thresholds = thresholdsFor(history.key);
    const now = changesOf(history, upTo, thresholds).filter(({ change }) => change.kind === 'regression');
    if (now.length === 0) continue;
    const before = changesOf(history, upTo.filter((point) => point.sweepId < sweepId), thresholds).filter(
      ({ change }) => change.kind === 'regression',
    );
    for (const { index, change } of now) {
      if (!before.some((known) => Math.abs(known.index - index) <= MIN_SEGMENT)) result.push(change);
    }
  }
  return result;
}

/**
 * Regressions whose sweepId is this sweep: what makes a sweep's exit status say "new regression".
 * A new regime needs 2 points, so with one sample per job a regression starting in the newest
 * sweep is not visible yet; see regressionsFirstSeen for the check that alerts on it next sweep.
 */
export function newRegressions(changes: readonly DetectedChange[], sweepId: string): DetectedChange[] {
  return changes.filter((change) => change.kind === 'regression' && change.sweepId === sweepId);
}

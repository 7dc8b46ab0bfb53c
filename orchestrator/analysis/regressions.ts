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
  /** The build of the last job before the change (its history point's build), when known. */
  buildBefore?: string;
  /** The build of the first job of the new regime, when known. */
  buildAfter?: string;
}

/**
 * Which builds a change lies between, as people read it: "between build A and build B", "with
 * build A before and after" (the build did not change: look elsewhere), or "" when the jobs
 * named no build (older manifests, scenarios that test no build).
 */
export function buildsText(change: Pick<DetectedChange, 'buildBefore' | 'buildAfter'>): string {
  const { buildBefore: before, buildAfter: after } = change;
  if (before !== undefined && after !== undefined) return before === after ? `with build ${after} before and after` : `between build ${before} and build ${after}`;
  if (after !== undefined) return `first seen with build ${after}`;
  if (before !== undefined) return `after build ${before}`;
  return '';
}

/** The CLI's line for a regression a sweep newly reveals (exit status 3), naming the builds when known. */
export function newRegressionLine(change: DetectedChange): string {
  const builds = buildsText(change);
  return `NEW REGRESSION: ${change.key.host} ${change.key.scenario} ${change.key.metric} ${(change.relativeChange * 100).toFixed(1)}% (${change.beforeMean.toPrecision(4)} -> ${change.afterMean.toPrecision(4)} ${change.unit}, p=${change.pValue.toFixed(3)})${builds ? ` ${builds}` : ''}`;
}

/** The last point of an earlier job than points[index]'s (repeated samples of one job share its sweep). */
function pointBefore(points: readonly HistoryPoint[], index: number): HistoryPoint | undefined {
  const first = points[index]!;
  for (let i = index - 1; i >= 0; i--) if (points[i]!.sweepId !== first.sweepId || points[i]!.jobId !== first.jobId) return points[i];
  return undefined;
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
    const before = pointBefore(points, change.index);
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
        ...(before?.build !== undefined ? { buildBefore: before.build } : {}),
        ...(first.build !== undefined ? { buildAfter: first.build } : {}),
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

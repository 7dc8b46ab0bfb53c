// Regressions and improvements: change points of every metric's history, classified by the
// direction the metric says is better; and which of them a sweep newly reveals (what pages).
//
// The defaults were chosen with `npm run bench -- analysis` (test/bench/analysis.ts; the README's
// "Regression detection" benchmark): a change must be significant (p <= 0.05), at least 5% over
// whole regimes and at least 2 noise sds, and its new regime must hold for 3 nights.
import {
  DEFAULT_MIN_RELATIVE_CHANGE,
  DEFAULT_NOISE_FACTOR,
  DEFAULT_P_VALUE,
  DEFAULT_PERSISTENCE,
  DEFAULT_WINDOW,
  detectChangePoints,
} from './e-divisive.js';
import { changeText } from './change-text.js';
import type { ChangePoint, ChangePointOptions } from './e-divisive.js';
import type { HistoryPoint, MetricHistory, SeriesKey } from './history.js';
import { estimateNoise } from './noise.js';
import { processPermutationMemo, type PermutationMemo } from './permutation-memo.js';
import { readPermutationMemo, writePermutationMemo } from './permutation-memo-file.js';

export interface Thresholds {
  /** Smallest |after - before| / |before| of the whole regimes' means that counts (0.05 = 5%). */
  minRelativeChange: number;
  /** Largest p-value that counts as significant. */
  pValue: number;
  /** Points per change-point analysis window. */
  window: number;
  /** Nights (sweeps) a new regime must span and hold before it counts. */
  persistence: number;
  /** Smallest |after - before| in units of the metric's noise (the robust sd of one point); 0: off. */
  noiseFactor: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  minRelativeChange: DEFAULT_MIN_RELATIVE_CHANGE,
  pValue: DEFAULT_P_VALUE,
  window: DEFAULT_WINDOW,
  persistence: DEFAULT_PERSISTENCE,
  noiseFactor: DEFAULT_NOISE_FACTOR,
});

export type ChangeKind = 'regression' | 'improvement' | 'change';

/** The kinds strongest first: where rows or flags of several kinds meet, a regression leads. */
export const KIND_ORDER: Readonly<Record<ChangeKind, number>> = { regression: 0, improvement: 1, change: 2 };

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
  /** Nights (sweeps) the new regime spans so far (to the next change or the newest sweep); set by detection. */
  nights?: number;
  /** The metric's noise: the robust sd of one point relative to its median (0.02 = 2%); set by detection. */
  noise?: number;
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
  return `NEW REGRESSION: ${change.key.host} ${change.key.scenario} ${change.key.metric} ${changeText(change, '')} (${change.beforeMean.toPrecision(4)} -> ${change.afterMean.toPrecision(4)} ${change.unit}, p=${change.pValue.toFixed(3)})${builds ? ` ${builds}` : ''}`;
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

/** The options detectChangePoints gets from thresholds: the one place both the sweep and `orchestrate changes` take them from. */
export function changePointOptions(thresholds: Thresholds, runs?: readonly number[]): ChangePointOptions {
  return {
    window: thresholds.window,
    pValue: thresholds.pValue,
    minRelativeChange: thresholds.minRelativeChange,
    persistence: thresholds.persistence,
    noiseFactor: thresholds.noiseFactor,
    ...(runs ? { runs } : {}),
  };
}

/**
 * Change points of plain values (what `orchestrate changes` reads from a CSV), with the same rules
 * as a metric's history: `runs` says which values are one night's (default: each its own).
 */
export function detectSeriesChanges(values: readonly number[], thresholds: Thresholds, runs?: readonly number[]): ChangePoint[] {
  return detectChangePoints(values, changePointOptions(thresholds, runs));
}

/** The sweep ids of a history's points, distinct, in order. */
export function sweepsOf(history: Pick<MetricHistory, 'points'>): string[] {
  const sweeps: string[] = [];
  for (const point of history.points) if (sweeps[sweeps.length - 1] !== point.sweepId) sweeps.push(point.sweepId);
  return sweeps;
}

/** Ordinal of each point's sweep (points are in sweep order): the runs persistence counts. */
function runsOf(points: readonly HistoryPoint[]): number[] {
  const runs: number[] = [];
  let run = -1;
  for (let i = 0; i < points.length; i++) {
    if (i === 0 || points[i]!.sweepId !== points[i - 1]!.sweepId) run++;
    runs.push(run);
  }
  return runs;
}

interface Found {
  index: number;
  /** Ordinal of the sweep of the first point of the new regime among the history's sweeps. */
  sweep: number;
  change: DetectedChange;
}

function changesOf(history: MetricHistory, points: readonly HistoryPoint[], thresholds: Thresholds, memo?: PermutationMemo): Found[] {
  if (points.length < 4) return [];
  const values = points.map((point) => point.value);
  const runs = runsOf(points);
  // the memo answers this history's tests only with its own (permutationScope)
  const found = detectChangePoints(values, { ...changePointOptions(thresholds, runs), ...(memo ? { memo } : {}), series: history.keyId });
  if (found.length === 0) return [];
  const noise = estimateNoise(values).relative;
  return found.map((change) => {
    const first = points[change.index]!;
    const before = pointBefore(points, change.index);
    return {
      index: change.index,
      sweep: runs[change.index]!,
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
        nights: change.regimeRuns,
        noise,
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
  return histories.flatMap((history) => changesOfHistory(history, thresholdsFor));
}

function changesOfHistory(history: MetricHistory, thresholdsFor: (key: SeriesKey) => Thresholds, memo?: PermutationMemo): DetectedChange[] {
  return changesOf(history, finitePoints(history), thresholdsFor(history.key), memo).map(({ change }) => change);
}

export interface SlicedDetectionOptions {
  /** Detection runs at most this long before the event loop gets a turn; default 10 ms. */
  sliceMs?: number;
  /**
   * A directory (the site's) where the permutation tests used are kept for the next detection
   * (permutation-memo-file.ts): read before, rewritten after, with only the tests used.
   */
  memoDir?: string;
  /** The memo of permutation tests; default the process's (processPermutationMemo). */
  memo?: PermutationMemo;
  /** Told how many tests were run and answered, and what the kept file cost. */
  log?: (line: string) => void;
}

/**
 * detectChanges, giving the event loop a turn whenever `sliceMs` of detection has run: the same
 * changes in the same order, for a caller whose other work (a site build's render workers, whose
 * replies and next tasks go through this thread) must not wait for the whole detection. With
 * `memoDir`, the permutation tests of the last detection kept there answer those of every
 * segment that has not changed since.
 */
export async function detectChangesInSlices(histories: readonly MetricHistory[], thresholdsFor: (key: SeriesKey) => Thresholds, options: SlicedDetectionOptions = {}): Promise<DetectedChange[]> {
  const { sliceMs = 10, memoDir, memo = processPermutationMemo, log } = options;
  const round = memo.beginRound();
  const [computedBefore, reusedBefore] = [memo.computed, memo.reused];
  const readStarted = performance.now();
  const read = memoDir === undefined ? undefined : readPermutationMemo(memoDir, memo);
  const readMs = performance.now() - readStarted;
  const changes: DetectedChange[] = [];
  let sliceStart = performance.now();
  for (const history of histories) {
    changes.push(...changesOfHistory(history, thresholdsFor, memo));
    if (performance.now() - sliceStart < sliceMs) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = performance.now();
  }
  const tests = `${memo.computed - computedBefore} permutation test(s) run, ${memo.reused - reusedBefore} answered from the memo`;
  if (memoDir === undefined) {
    log?.(`site: ${tests}`);
    return changes;
  }
  const writeStarted = performance.now();
  const written = writePermutationMemo(memoDir, memo, round);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  log?.(
    `site: ${tests}; memo read ${read!.tests} (${kib(read!.bytes)}, ${readMs.toFixed(1)} ms), kept ${written.tests} (${kib(written.bytes)}, ${(performance.now() - writeStarted).toFixed(1)} ms)`,
  );
  return changes;
}

/**
 * Two detections are the same change when they are of the same series and their regimes start
 * within this many sweeps of each other: from night to night a regime's first sweep can move by
 * a sweep or two as points arrive.
 */
export const SAME_CHANGE_SWEEPS = 3;
/** regressionsFirstSeen looks this many earlier sweeps back for the same regression. */
export const FIRST_SEEN_LOOKBACK = 7;

/** Position of `sweepId` in the sorted `sweeps`: its index, or where it would be inserted. */
function sweepPosition(sweeps: readonly string[], sweepId: string): number {
  let lo = 0;
  let hi = sweeps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sweeps[mid]! < sweepId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether two detected changes (from any nights: tonight's, a stored finding, a paged one) are
 * the same change: the same series (keyId) and regimes that start within `tolerance` sweeps of
 * each other, counted in `sweeps` — the series' sweep ids in order (sweepsOf(history)), or every
 * sweep of the store (listSweeps) when the history is not at hand. The same sweep is always the
 * same change, even when it is not in `sweeps`. The changeId of findings.ts (keyId@sweepId) names
 * a change as first seen; match a new detection against stored ones with this, not with changeId
 * equality.
 */
export function sameChange(
  a: Pick<DetectedChange, 'keyId' | 'sweepId'>,
  b: Pick<DetectedChange, 'keyId' | 'sweepId'>,
  sweeps: readonly string[],
  tolerance: number = SAME_CHANGE_SWEEPS,
): boolean {
  if (a.keyId !== b.keyId) return false;
  if (a.sweepId === b.sweepId) return true;
  return Math.abs(sweepPosition(sweeps, a.sweepId) - sweepPosition(sweeps, b.sweepId)) <= tolerance;
}

/**
 * Regressions that the histories up to and including `sweepId` show and that none of the
 * FIRST_SEEN_LOOKBACK sweeps before showed (no regression there whose regime starts within
 * SAME_CHANGE_SWEEPS sweeps): what this sweep newly reveals, and what pages. A new regime counts
 * once it holds for `persistence` nights, so a regression starting at sweep s is first seen at
 * sweep s + persistence - 1 (or later, if it needs more nights to be significant or to hold).
 * Looking several sweeps back keeps a change that hovers at a threshold (seen, not seen for a
 * night, seen again) from being revealed twice. Only histories with a point in `sweepId` are
 * considered; later sweeps are ignored, so the answer for a sweep does not change as more sweeps
 * are stored. Runs the detection once per history, and for each history with a regression up to
 * FIRST_SEEN_LOOKBACK times more (stopping at the first earlier sweep that shows them all).
 */
export function regressionsFirstSeen(
  histories: readonly MetricHistory[],
  thresholdsFor: (key: SeriesKey) => Thresholds,
  sweepId: string,
): DetectedChange[] {
  const result: DetectedChange[] = [];
  for (const history of histories) {
    const upTo = finitePoints(history).filter((point) => point.sweepId <= sweepId);
    if (upTo.length === 0 || upTo[upTo.length - 1]!.sweepId !== sweepId) continue;
    const thresholds = thresholdsFor(history.key);
    let fresh = changesOf(history, upTo, thresholds).filter(({ change }) => change.kind === 'regression');
    // Earlier sweeps, newest first: each is the history cut before its successor.
    let end = upTo.length;
    for (let back = 0; back < FIRST_SEEN_LOOKBACK && fresh.length > 0; back++) {
      const last = upTo[end - 1]!.sweepId;
      while (end > 0 && upTo[end - 1]!.sweepId === last) end--;
      if (end === 0) break;
      const earlier = changesOf(history, upTo.slice(0, end), thresholds).filter(({ change }) => change.kind === 'regression');
      fresh = fresh.filter(({ sweep }) => !earlier.some((known) => Math.abs(known.sweep - sweep) <= SAME_CHANGE_SWEEPS));
    }
    for (const { change } of fresh) result.push(change);
  }
  return result;
}

/**
 * Regressions whose sweepId is this sweep. A new regime must hold for `persistence` nights, so
 * a regression starting in the newest sweep is not visible yet; regressionsFirstSeen is the
 * check that reveals it when it is (what finish-sweep pages on).
 */
export function newRegressions(changes: readonly DetectedChange[], sweepId: string): DetectedChange[] {
  return changes.filter((change) => change.kind === 'regression' && change.sweepId === sweepId);
}

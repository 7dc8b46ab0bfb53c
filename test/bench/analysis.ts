// `npm run bench -- analysis`: regression detection on seeded synthetic series, scored the way a
// sweep sees it. Nothing here touches a host; it runs in seconds.
//
// The suite: for each noise class (relative sd 0.5%, 1%, 2%, 5%), 60-night series of
//   - no change;
//   - one step of 2, 3, 5.25, 7, 10, 15 or 20%, up and down, once as a regression and once as an
//     improvement (the metric's better direction flipped);
//   - two steps (up then back down; down then down again);
//   - a slow drift of 10% over 40 nights;
//   - three single-point spikes of 15-40%, and two 2-point bumps of 7-25% (no change: never to page);
//   - a step of 5.25-15% three nights before the end (the newest points).
// Two views:
//   - whole series: detectChanges on the full series (every kind), detections matched to true
//     change points within MATCH_POINTS; precision and recall;
//   - night by night: regressionsFirstSeen on every night from FIRST_NIGHT on, as finish-sweep calls
//     it; every page is true (first page of a real regression), a repeat (that regression revealed
//     again), on a sub-threshold step (real, < 5%), on a drift, or false. Delay = the night of the
//     first page minus the first night of the new regime. Repeats are also counted as the sweep's
//     page-once state would let them through when it matches changes with sameChange.
// Thresholds: the sweep's defaults (thresholdsResolver(undefined)).
import { detectChanges, regressionsFirstSeen, sameChange, sweepsOf } from '../../orchestrator/analysis/regressions.js';
import type { DetectedChange } from '../../orchestrator/analysis/regressions.js';
import type { MetricHistory, SeriesKey } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';
import { thresholdsResolver } from '../../orchestrator/analysis/thresholds.js';
import type { RegressionThresholdSettings } from '../../orchestrator/inventory/types.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable } from './stats.js';

export const name = 'analysis';
export const description = 'regression detection on seeded synthetic series: precision, recall, false pages, delay';

const NIGHTS = 60;
const FIRST_NIGHT = 20;
const NOISES = [0.005, 0.01, 0.02, 0.05];
const STEPS = [0.02, 0.03, 0.0525, 0.07, 0.1, 0.15, 0.2];
/** A detection within this many points of a true change point is that change. */
const MATCH_POINTS = 3;
/** Steps at least this big must be found (the default min_change). */
const REPORTABLE = 0.05;
const SEED = 20260611;

type Better = 'higher' | 'lower';

interface TrueChange {
  /** First index of the new regime. */
  index: number;
  /** after / before - 1 of the level. */
  relative: number;
}

export interface Spec {
  id: string;
  kind: 'none' | 'step' | 'two-steps' | 'drift' | 'spikes' | 'bumps' | 'end';
  noise: number;
  better: Better;
  values: number[];
  changes: TrueChange[];
}

const isRegression = (better: Better, relative: number) => (relative > 0 ? better === 'lower' : better === 'higher');
/** The better direction that makes a change of this sign a regression (or an improvement). */
const betterFor = (relative: number, regression: boolean): Better => ((relative > 0) === regression ? 'lower' : 'higher');

export function suite(): Spec[] {
  const uniform = mulberry32(SEED);
  const normal = gaussian(uniform);
  const between = (lo: number, hi: number) => lo + (hi - lo) * uniform();
  const intBetween = (lo: number, hi: number) => Math.floor(between(lo, hi + 1));
  const specs: Spec[] = [];
  for (const noise of NOISES) {
    const make = (kind: Spec['kind'], id: string, better: Better, level: (i: number) => number, changes: TrueChange[], shocks: Map<number, number> = new Map()) => {
      const base = 10 ** between(1, 6);
      const values = Array.from({ length: NIGHTS }, (_, i) => base * level(i) * (1 + (shocks.get(i) ?? 0)) * (1 + noise * normal()));
      specs.push({ id: `${kind}/${(noise * 100).toFixed(1)}%/${id}`, kind, noise, better, values, changes });
    };
    for (let k = 0; k < 16; k++) make('none', String(k), k % 2 ? 'higher' : 'lower', () => 1, []);
    for (const size of STEPS) {
      for (const sign of [1, -1]) {
        for (const regression of [true, false]) {
          const relative = sign * size;
          const at = intBetween(25, 50);
          make('step', `${relative > 0 ? '+' : ''}${(relative * 100).toFixed(2)}%${regression ? '' : '-improvement'}`, betterFor(relative, regression), (i) => (i < at ? 1 : 1 + relative), [{ index: at, relative }]);
        }
      }
    }
    for (let k = 0; k < 4; k++) {
      const first = intBetween(22, 32);
      const second = first + intBetween(8, 15);
      const size = [0.07, 0.1, 0.15][k % 3]!;
      if (k % 2 === 0) {
        // up, then back down to the old level: the first is the regression
        const up = 1 + size;
        make('two-steps', `up-down-${k}`, 'lower', (i) => (i < first ? 1 : i < second ? up : 1), [
          { index: first, relative: size },
          { index: second, relative: 1 / up - 1 },
        ]);
      } else {
        const down = 1 - size;
        make('two-steps', `down-down-${k}`, 'higher', (i) => (i < first ? 1 : i < second ? down : down * down), [
          { index: first, relative: -size },
          { index: second, relative: -size },
        ]);
      }
    }
    for (const sign of [1, -1]) make('drift', sign > 0 ? 'up' : 'down', betterFor(sign, true), (i) => 1 + (sign * 0.1 * Math.max(0, i - 20)) / 40, []);
    for (let k = 0; k < 3; k++) {
      const sign = k % 2 ? -1 : 1;
      const shocks = new Map<number, number>();
      for (const at of [intBetween(FIRST_NIGHT, 32), intBetween(36, 46), intBetween(50, NIGHTS - 1)]) shocks.set(at, sign * between(0.15, 0.4));
      make('spikes', String(k), betterFor(sign, true), () => 1, [], shocks);
    }
    for (let k = 0; k < 4; k++) {
      const sign = k % 2 ? -1 : 1;
      const shocks = new Map<number, number>();
      for (const at of [intBetween(FIRST_NIGHT, 34), intBetween(40, NIGHTS - 2)]) {
        const size = sign * between(0.07, 0.25);
        shocks.set(at, size);
        shocks.set(at + 1, size);
      }
      make('bumps', String(k), betterFor(sign, true), () => 1, [], shocks);
    }
    for (const size of [0.0525, 0.07, 0.1, 0.15]) {
      const at = NIGHTS - 3;
      const relative = size * (size === 0.07 || size === 0.15 ? -1 : 1);
      make('end', `${relative > 0 ? '+' : ''}${(relative * 100).toFixed(2)}%`, betterFor(relative, true), (i) => (i < at ? 1 : 1 + relative), [{ index: at, relative }]);
    }
  }
  return specs;
}

const sweepOf = (night: number) => `n${String(night).padStart(3, '0')}`;
const nightOf = (sweepId: string) => Number(sweepId.slice(1));

function historyOf(spec: Spec): MetricHistory {
  const key: SeriesKey = { host: 'bench', scenario: 'analysis', metric: spec.id, labels: {} };
  return {
    key,
    keyId: seriesKeyId(key),
    unit: 'x',
    better: spec.better,
    points: spec.values.map((value, night) => ({ sweepId: sweepOf(night), jobId: 'bench-analysis', at: new Date(Date.UTC(2026, 0, 1 + night)).toISOString(), value })),
  };
}

function nearest(changes: readonly TrueChange[], index: number, accept: (change: TrueChange) => boolean = () => true): TrueChange | undefined {
  let best: TrueChange | undefined;
  for (const change of changes) {
    if (!accept(change) || Math.abs(change.index - index) > MATCH_POINTS) continue;
    if (!best || Math.abs(change.index - index) < Math.abs(best.index - index)) best = change;
  }
  return best;
}

interface WholeResult {
  detections: number;
  matched: number;
  unmatched: number;
  found: { index: number; relative: number; noise: number; kind: string; found: boolean }[];
}

function wholeSeries(spec: Spec, thresholdsFor: ReturnType<typeof thresholdsResolver>): WholeResult {
  const history = historyOf(spec);
  const detected = detectChanges([history], thresholdsFor);
  const hit = new Set<TrueChange>();
  let matched = 0;
  let unmatched = 0;
  for (const change of detected) {
    const truth = nearest(spec.changes, nightOf(change.sweepId));
    if (truth) {
      matched++;
      hit.add(truth);
    } else if (spec.kind !== 'drift') unmatched++;
  }
  return {
    detections: detected.length,
    matched,
    unmatched,
    found: spec.changes.map((change) => ({ index: change.index, relative: change.relative, noise: spec.noise, kind: spec.kind, found: hit.has(change) })),
  };
}

interface NightlyResult {
  nights: number;
  pages: {
    night: number;
    index: number;
    relativeChange: number;
    pValue: number;
    verdict: 'true' | 'repeat' | 'sub-threshold' | 'drift' | 'false';
    /** Whether page-once state matching by sameChange would still page it. */
    pagesOnce: boolean;
  }[];
  regressions: { index: number; relative: number; noise: number; kind: string; pagedAt: number | null }[];
}

function nightly(spec: Spec, thresholdsFor: ReturnType<typeof thresholdsResolver>): NightlyResult {
  const history = historyOf(spec);
  const regressions = spec.changes.filter((change) => isRegression(spec.better, change.relative));
  const pagedAt = new Map<TrueChange, number>();
  const pages: NightlyResult['pages'] = [];
  const paged: DetectedChange[] = [];
  const sweeps = sweepsOf(history);
  for (let night = FIRST_NIGHT; night < NIGHTS; night++) {
    const seen: DetectedChange[] = regressionsFirstSeen([history], thresholdsFor, sweepOf(night));
    for (const change of seen) {
      const index = nightOf(change.sweepId);
      const truth = nearest(regressions, index, (c) => c.index <= night);
      let verdict: NightlyResult['pages'][number]['verdict'];
      if (!truth) verdict = spec.kind === 'drift' ? 'drift' : 'false';
      else if (pagedAt.has(truth)) verdict = 'repeat';
      else {
        pagedAt.set(truth, night);
        verdict = Math.abs(truth.relative) >= REPORTABLE ? 'true' : 'sub-threshold';
      }
      const pagesOnce = !paged.some((earlier) => sameChange(earlier, change, sweeps));
      paged.push(change);
      pages.push({ night, index, relativeChange: change.relativeChange, pValue: change.pValue, verdict, pagesOnce });
    }
  }
  return {
    nights: NIGHTS - FIRST_NIGHT,
    pages,
    regressions: regressions.map((change) => ({ index: change.index, relative: change.relative, noise: spec.noise, kind: spec.kind, pagedAt: pagedAt.get(change) ?? null })),
  };
}

const ratio = (part: number, whole: number) => (whole === 0 ? Number.NaN : part / whole);
const mean = (values: readonly number[]) => (values.length === 0 ? Number.NaN : values.reduce((s, v) => s + v, 0) / values.length);

interface Scores {
  precision: number;
  recall: number;
  recallSmallNoise: number;
  nightlyRecallSmallNoise: number;
  falsePerThousand: number;
  falsePerThousandQuiet: number;
  repeatPages: number;
  repeatPagesOnce: number;
  subThresholdPages: number;
  driftPaged: string;
  meanDelay: number;
  withinTwo: number;
  endDelay: number;
  endFound: string;
}

function score(specs: readonly Spec[], whole: readonly WholeResult[], nights: readonly NightlyResult[]): { scores: Scores; perNoise: string[][] } {
  const found = whole.flatMap((w) => w.found);
  const reportable = found.filter((f) => Math.abs(f.relative) >= REPORTABLE);
  const small = reportable.filter((f) => f.noise <= 0.02);
  const regressions = nights.flatMap((n) => n.regressions).filter((r) => Math.abs(r.relative) >= REPORTABLE);
  const smallRegressions = regressions.filter((r) => r.noise <= 0.02);
  const delays = smallRegressions.filter((r) => r.pagedAt !== null).map((r) => r.pagedAt! - r.index);
  const ends = regressions.filter((r) => r.kind === 'end' && r.noise <= 0.02);
  const endDelays = ends.filter((r) => r.pagedAt !== null).map((r) => r.pagedAt! - r.index);
  const count = (verdict: string, which: readonly NightlyResult[] = nights) => which.flatMap((n) => n.pages).filter((p) => p.verdict === verdict).length;
  const totalNights = nights.reduce((s, n) => s + n.nights, 0);
  const quiet = nights.filter((_, i) => ['none', 'spikes', 'bumps'].includes(specs[i]!.kind));
  const quietNights = quiet.reduce((s, n) => s + n.nights, 0);
  const drift = nights.filter((_, i) => specs[i]!.kind === 'drift');
  const detections = whole.reduce((s, w) => s + w.matched + w.unmatched, 0);
  const scores: Scores = {
    precision: ratio(whole.reduce((s, w) => s + w.matched, 0), detections),
    recall: ratio(reportable.filter((f) => f.found).length, reportable.length),
    recallSmallNoise: ratio(small.filter((f) => f.found).length, small.length),
    nightlyRecallSmallNoise: ratio(smallRegressions.filter((r) => r.pagedAt !== null).length, smallRegressions.length),
    falsePerThousand: (1000 * count('false')) / totalNights,
    falsePerThousandQuiet: (1000 * count('false', quiet)) / quietNights,
    repeatPages: count('repeat'),
    repeatPagesOnce: nights.flatMap((n) => n.pages).filter((p) => p.verdict === 'repeat' && p.pagesOnce).length,
    subThresholdPages: count('sub-threshold'),
    driftPaged: `${drift.filter((n) => n.pages.length > 0).length}/${drift.length}`,
    meanDelay: mean(delays),
    withinTwo: ratio(delays.filter((d) => d <= 2).length, delays.length),
    endDelay: mean(endDelays),
    endFound: `${endDelays.length}/${ends.length}`,
  };
  const perNoise = NOISES.map((noise) => {
    const at = (i: number) => specs[i]!.noise === noise;
    const f = reportable.filter((x) => x.noise === noise);
    const r = regressions.filter((x) => x.noise === noise);
    const n = nights.filter((_, i) => at(i));
    const d = r.filter((x) => x.pagedAt !== null).map((x) => x.pagedAt! - x.index);
    const metricNights = n.reduce((s, x) => s + x.nights, 0);
    return [
      `${(noise * 100).toFixed(1)}%`,
      String(n.length),
      String(metricNights),
      fixed(ratio(f.filter((x) => x.found).length, f.length)),
      fixed(ratio(r.filter((x) => x.pagedAt !== null).length, r.length)),
      `${count('false', n)} (${fixed((1000 * count('false', n)) / metricNights, 1)})`,
      String(count('repeat', n)),
      fixed(mean(d), 1),
    ];
  });
  return { scores, perNoise };
}

/** The defaults against a few other settings: why persistence 3 and noise_factor 2. */
const ALTERNATIVES: { label: string; settings: RegressionThresholdSettings }[] = [
  { label: 'persistence 2', settings: { persistence: 2 } },
  { label: 'persistence 4', settings: { persistence: 4 } },
  { label: 'noise_factor 0 (off)', settings: { noiseFactor: 0 } },
  { label: 'noise_factor 1.5', settings: { noiseFactor: 1.5 } },
  { label: 'noise_factor 2.5', settings: { noiseFactor: 2.5 } },
  { label: 'p_value 0.01', settings: { pValue: 0.01 } },
];

function evaluate(specs: readonly Spec[], settings: RegressionThresholdSettings | undefined) {
  const thresholdsFor = thresholdsResolver(settings ? { default: settings, metrics: [] } : undefined);
  const started = Date.now();
  const whole = specs.map((spec) => wholeSeries(spec, thresholdsFor));
  const nights = specs.map((spec) => nightly(spec, thresholdsFor));
  const seconds = (Date.now() - started) / 1000;
  return { whole, nights, seconds, ...score(specs, whole, nights) };
}

export async function run(): Promise<SectionResult> {
  const specs = suite();
  const { whole, nights, seconds, scores, perNoise } = evaluate(specs, undefined);
  const alternatives = ALTERNATIVES.map(({ label, settings }) => ({ label, settings, scores: evaluate(specs, settings).scores }));
  const summary = (label: string, s: Scores) => [
    label,
    fixed(s.nightlyRecallSmallNoise),
    fixed(s.falsePerThousand),
    fixed(s.falsePerThousandQuiet),
    fixed(s.meanDelay),
    fixed(s.withinTwo),
    fixed(s.precision),
    fixed(s.recall),
  ];
  const totalNights = nights.reduce((s, n) => s + n.nights, 0);
  const rows: string[][] = [
    ['precision, whole series', fixed(scores.precision), ''],
    ['recall, whole series, steps >= 5%', fixed(scores.recall), ''],
    ['recall, whole series, steps >= 5% at noise <= 2%', fixed(scores.recallSmallNoise), '>= 0.90'],
    ['recall night by night, regressions >= 5% at noise <= 2%', fixed(scores.nightlyRecallSmallNoise), '>= 0.90'],
    ['false pages per 1,000 metric-nights', fixed(scores.falsePerThousand), '<= 0.5'],
    ['false pages per 1,000 metric-nights, series without a change', fixed(scores.falsePerThousandQuiet), ''],
    ['the same regression revealed again on a later night', String(scores.repeatPages), ''],
    ['... paged again, page-once state matching with sameChange', String(scores.repeatPagesOnce), '0'],
    ['nights to report a regression >= 5% (noise <= 2%), mean', fixed(scores.meanDelay), ''],
    ['share reported within 2 nights', fixed(scores.withinTwo), ''],
    ['nights to report an end-of-series change (noise <= 2%), found', `${fixed(scores.endDelay)}, ${scores.endFound}`, '<= 2'],
    ['pages on real steps under 5%', String(scores.subThresholdPages), ''],
    ['drift series paged', scores.driftPaged, ''],
  ];
  const table = [
    markdownTable(['measure', 'value', 'target'], rows),
    '',
    markdownTable(['noise', 'series', 'metric-nights', 'recall >= 5% (whole)', 'recall >= 5% (nightly)', 'false pages (/1,000)', 'repeats', 'mean delay'], perNoise),
    '',
    markdownTable(
      ['setting', 'nightly recall >= 5%, noise <= 2%', 'false / 1,000', 'false / 1,000 quiet', 'mean delay', 'within 2 nights', 'precision', 'recall >= 5%'],
      [summary('defaults (p 0.05, persistence 3, noise_factor 2)', scores), ...alternatives.map((a) => summary(a.label, a.scores))],
    ),
    '',
    `${specs.length} series x ${NIGHTS} nights; ${totalNights} metric-nights simulated (nights ${FIRST_NIGHT}-${NIGHTS - 1}, regressionsFirstSeen each night); ${seconds.toFixed(1)} s with the defaults`,
  ].join('\n');
  return {
    table,
    json: {
      scores,
      perNoise,
      seconds,
      alternatives,
      series: specs.map((spec, i) => ({ id: spec.id, better: spec.better, changes: spec.changes, whole: whole[i], pages: nights[i]!.pages, regressions: nights[i]!.regressions })),
    },
  };
}

// "Last night at a glance": what the latest sweep found, at the top of the index. From the
// sweep's findings.json when it has one (regression candidates and what their confirmation
// re-runs said, regressions still present, improvements, failed jobs); for an older sweep without
// one, from what the site detects itself. Pure: loaded data in, what the template shows out.
import { changeText, evidenceMean, rerunChangeText } from '../analysis/change-text.js';
import type { Change, Candidate, Findings } from '../analysis/findings.js';
import type { MetricHistory } from '../analysis/history.js';
import { buildsText, detectChanges, regressionsFirstSeen, type DetectedChange, type Thresholds } from '../analysis/regressions.js';
import type { SeriesKey } from '../analysis/history.js';
import { formatP, formatValue, labelsText } from './format.js';
import type { JobRef, Problem, SweepRef } from './load.js';
import { jobPaths, trendsPage } from './load.js';
import { sparkline } from './sparkline.js';

/** Points of a history a sparkline shows (the newest), when its change is among them. */
export const SPARK_POINTS = 30;
/** Points before a change's first sweep a sparkline keeps, so that the step shows. */
export const SPARK_BEFORE = 8;

/**
 * The points a change's sparkline draws, oldest first, and the index of the first point of its
 * new regime (0 when none is before it): the newest SPARK_POINTS, reaching back to SPARK_BEFORE
 * points before the change so that its step shows; for a regression still present long after it
 * began, the SPARK_BEFORE points before it, then the points since, thinned evenly to SPARK_POINTS
 * in all (the first and the newest kept).
 */
export function sparkWindow<P extends { sweepId: string }>(points: readonly P[], sweepId: string): { points: P[]; from: number } {
  const step = points.findIndex((p) => p.sweepId >= sweepId);
  if (step < 0) return { points: points.slice(-SPARK_POINTS), from: 0 };
  const start = Math.max(0, Math.min(points.length - SPARK_POINTS, step - SPARK_BEFORE));
  if (points.length - step <= SPARK_POINTS) return { points: points.slice(start), from: step - start };
  const before = points.slice(Math.max(0, step - SPARK_BEFORE), step);
  const after = points.slice(step);
  const room = SPARK_POINTS - before.length;
  const thinned = Array.from({ length: room }, (_, i) => after[Math.round((i * (after.length - 1)) / (room - 1))]!);
  return { points: [...before, ...thinned], from: before.length };
}

export interface GlanceLink {
  label: string;
  href: string;
}

export interface GlanceChange {
  kind: Change['kind'];
  host: string;
  scenario: string;
  metric: string;
  /** The series' labels as text ('' when none). */
  labels: string;
  /** Formatted in the metric's unit: "3,500 pps". */
  before: string;
  after: string;
  /** "-14.8 %" */
  change: string;
  pValue: string;
  /** The first sweep of the new regime. */
  sinceSweepId: string;
  since: string;
  builds: string;
  /** Whether this sweep paged it; null when not known (no findings). */
  paged: boolean | null;
  /** What the confirmation re-runs measured, in words; null without re-runs. */
  evidence: string | null;
  note: string | null;
  /** The series' history as an inline SVG (numbers only); '' when the history is not known. */
  spark: string;
  trendHref: string;
  jobHref: string | null;
  compareHref: string | null;
  reruns: GlanceLink[];
}

export interface GlanceJob {
  host: string;
  scenario: string;
  status: string;
  href: string | null;
}

export interface Glance {
  sweepId: string;
  startedAt: string;
  status: string;
  jobs: number;
  hosts: number;
  /** Where it comes from: the sweep's findings.json, or the site's own detection (an older sweep). */
  source: 'findings' | 'computed';
  /** False when there was nothing earlier to compare with: "nothing to compare yet". */
  comparable: boolean;
  confirmed: GlanceChange[];
  unconfirmed: GlanceChange[];
  /** Candidates the re-runs did not reproduce: shown apart, never counted as regressions. */
  notReproduced: GlanceChange[];
  stillPresent: GlanceChange[];
  improvements: GlanceChange[];
  failedJobs: GlanceJob[];
  /** A findings.json that could not be used (the computed view is shown instead). */
  problem: Problem | null;
}

export interface GlanceInput {
  sweeps: readonly SweepRef[];
  /** The latest sweep's findings, when it has a usable findings.json. */
  findings: Findings | undefined;
  /** Why the latest sweep's findings.json could not be used, if it could not. */
  findingsProblem?: Problem;
  /** What the site detects over the whole store (the fallback's still-present regressions). */
  changes: readonly DetectedChange[];
  /** What the latest sweep revealed, as the site detects it (the fallback; see `revealedBy`). */
  revealed?: Revealed;
  histories: readonly MetricHistory[];
  /** Each job's predecessor (pages.previousJobs). */
  previous: ReadonlyMap<string, JobRef>;
  /** How a series' labels read (default: all of them). */
  labelsOf?: (key: DetectedChange['key']) => string;
}

type AnyChange = Pick<DetectedChange, 'keyId' | 'key' | 'unit' | 'kind' | 'sweepId' | 'at' | 'beforeMean' | 'afterMean' | 'relativeChange' | 'pValue' | 'buildBefore' | 'buildAfter'>;


function evidenceText(candidate: Candidate, unit: string): string | null {
  const e = candidate.evidence;
  if (!e) return null;
  const values = e.values.map((v) => formatValue(v, unit)).join(', ');
  const runs = `${e.values.length} re-run${e.values.length === 1 ? '' : 's'}`;
  return `${runs}: ${values || '—'} against ${formatValue(evidenceMean(e.baseline), unit)} before (${e.baseline.length} run${e.baseline.length === 1 ? '' : 's'}): ${rerunChangeText(e)}, p = ${formatP(e.pValue)}`;
}

/**
 * The glance of the newest sweep; undefined for an empty store. With findings, what the sweep
 * found; without, what the site detects that sweep revealed (`revealed`), the regressions of
 * earlier sweeps whose regime still holds, and the jobs that did not end ok.
 */
export function glance(input: GlanceInput): Glance | undefined {
  const sweep = [...input.sweeps].sort((a, b) => a.sweepId.localeCompare(b.sweepId)).at(-1);
  if (!sweep) return undefined;
  const historyOf = new Map(input.histories.map((h) => [h.keyId, h]));
  const jobOf = new Map<string, JobRef>();
  for (const s of input.sweeps) for (const j of s.jobs) jobOf.set(`${s.sweepId}\u0000${j.host}\u0000${j.scenario}`, j);
  const jobIds = new Set(sweep.jobs.map((j) => j.jobId));

  const view = (c: AnyChange, extra: { candidate?: Candidate; paged?: boolean } = {}): GlanceChange => {
    const history = historyOf.get(c.keyId);
    const { points, from } = sparkWindow(history?.points ?? [], c.sweepId);
    // a candidate the re-runs did not reproduce is not drawn as a regression
    const tone = extra.candidate?.status === 'not-reproduced' ? 'none' : c.kind;
    // the job the change shows in: this sweep's run of the series (where it was seen), else the change's own
    const job = jobOf.get(`${sweep.sweepId}\u0000${c.key.host}\u0000${c.key.scenario}`) ?? jobOf.get(`${c.sweepId}\u0000${c.key.host}\u0000${c.key.scenario}`);
    const candidate = extra.candidate;
    return {
      kind: c.kind,
      host: c.key.host,
      scenario: c.key.scenario,
      metric: c.key.metric,
      labels: (input.labelsOf ?? ((key) => labelsText(key.labels)))(c.key),
      before: formatValue(c.beforeMean, c.unit),
      after: formatValue(c.afterMean, c.unit),
      change: changeText(c),
      pValue: formatP(c.pValue),
      sinceSweepId: c.sweepId,
      since: c.at,
      builds: buildsText(c),
      paged: extra.paged ?? null,
      evidence: candidate ? evidenceText(candidate, c.unit) : null,
      note: candidate?.note ?? null,
      spark: sparkline(points.map((p) => p.value), { width: 120, height: 26, tone, ...(from > 0 ? { from } : {}) }),
      trendHref: `${trendsPage(c.key.host, c.key.scenario)}#m-${c.keyId}`,
      jobHref: job?.page ?? null,
      compareHref: job && input.previous.has(job.key) ? job.comparePage : null,
      reruns: (candidate?.evidence?.jobIds ?? []).filter((id) => jobIds.has(id)).map((id) => ({ label: id, href: jobPaths(sweep.sweepId, id).page })),
    };
  };
  const base = {
    sweepId: sweep.sweepId,
    startedAt: sweep.manifest.startedAt,
    status: sweep.manifest.status,
    jobs: sweep.jobs.length,
    hosts: new Set(sweep.jobs.map((j) => j.host)).size,
    problem: input.findingsProblem ?? null,
  };
  const byHostScenario = (a: GlanceChange, b: GlanceChange) => a.host.localeCompare(b.host) || a.scenario.localeCompare(b.scenario) || a.metric.localeCompare(b.metric) || a.labels.localeCompare(b.labels);
  const f = input.findings;
  if (f) {
    const of = (status: Candidate['status']) => f.candidates.filter((c) => c.status === status).map((c) => view(c.change, { candidate: c, paged: c.paged })).sort(byHostScenario);
    return {
      ...base,
      source: 'findings',
      comparable: f.comparable,
      confirmed: of('confirmed'),
      unconfirmed: of('unconfirmed'),
      notReproduced: of('not-reproduced'),
      stillPresent: f.stillPresent.map((c) => view(c)).sort(byHostScenario),
      improvements: f.improvements.map((c) => view(c)).sort(byHostScenario),
      failedJobs: f.failedJobs.map((j) => ({ host: j.host, scenario: j.scenario, status: j.status, href: jobIds.has(j.jobId) ? jobPaths(sweep.sweepId, j.jobId).page : null })),
    };
  }
  // computed: no confirmation re-runs, so the regressions found are unconfirmed
  const revealed = input.revealed ?? { regressions: [], improvements: [] };
  const fresh = new Set(revealed.regressions.map((c) => c.keyId));
  const newest = new Map<string, DetectedChange>();
  for (const c of [...input.changes].sort((a, b) => a.sweepId.localeCompare(b.sweepId))) newest.set(c.keyId, c);
  const inSweep = (c: DetectedChange) => historyOf.get(c.keyId)?.points.some((p) => p.sweepId === sweep.sweepId) ?? false;
  return {
    ...base,
    source: 'computed',
    comparable: sweep.jobs.some((j) => input.previous.has(j.key)),
    confirmed: [],
    unconfirmed: revealed.regressions.map((c) => view(c)).sort(byHostScenario),
    notReproduced: [],
    stillPresent: [...newest.values()]
      .filter((c) => c.kind === 'regression' && !fresh.has(c.keyId) && inSweep(c))
      .map((c) => view(c))
      .sort(byHostScenario),
    improvements: revealed.improvements.map((c) => view(c)).sort(byHostScenario),
    failedJobs: sweep.jobs.filter((j) => j.status !== 'ok').map((j) => ({ host: j.host, scenario: j.scenario, status: j.status, href: j.page })),
  };
}

export interface Revealed {
  regressions: DetectedChange[];
  improvements: DetectedChange[];
}

/** Sweeps apart two detections of one change may be and still be the same change. */
const SAME_CHANGE = 3;

/**
 * What a sweep revealed, as the site detects it: the regressions it would have paged
 * (regressionsFirstSeen), and the improvements detected with it that the history up to the sweep
 * before did not show. For sweeps without findings.json; `sweepId` is the newest sweep of the
 * histories (as the index shows it).
 */
export function revealedBy(histories: readonly MetricHistory[], changes: readonly DetectedChange[], thresholdsFor: (key: SeriesKey) => Thresholds, sweepId: string): Revealed {
  const measured = (h: MetricHistory) => h.points.some((p) => p.sweepId === sweepId);
  // for the newest sweep, a history it revealed a regression in shows one in today's detection:
  // only those are looked at again (an incremental build stays one detection pass)
  const regressed = new Set(changes.filter((c) => c.kind === 'regression').map((c) => c.keyId));
  const regressions = regressionsFirstSeen(histories.filter((h) => regressed.has(h.keyId) && measured(h)), thresholdsFor, sweepId);
  const improved = new Set(changes.filter((c) => c.kind === 'improvement').map((c) => c.keyId));
  const improvements: DetectedChange[] = [];
  for (const h of histories) {
    if (!improved.has(h.keyId) || !measured(h)) continue;
    const sweeps = [...new Set(h.points.map((p) => p.sweepId))];
    const before = { ...h, points: h.points.filter((p) => p.sweepId < sweepId) };
    const known = detectChanges([before], thresholdsFor).filter((c) => c.kind === 'improvement');
    for (const c of changes) {
      if (c.keyId !== h.keyId || c.kind !== 'improvement') continue;
      const at = sweeps.indexOf(c.sweepId);
      if (!known.some((k) => Math.abs(sweeps.indexOf(k.sweepId) - at) <= SAME_CHANGE)) improvements.push(c);
    }
  }
  return { regressions, improvements };
}

/** Nothing to report: no regression of any kind, no improvement, no failed job. */
export function quiet(g: Glance): boolean {
  return g.confirmed.length + g.unconfirmed.length + g.notReproduced.length + g.stillPresent.length + g.improvements.length + g.failedJobs.length === 0;
}

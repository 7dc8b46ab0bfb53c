// Page data: pure functions from loaded store data to what a template shows. No I/O here,
// so each is unit-testable and a page's fingerprint can be the hash of its data.
import type { JobManifest } from '../results/manifest.js';
import type { MetricsFile } from '../results/metrics.js';
import { KIND_ORDER, buildsText, sameChange, type DetectedChange } from '../analysis/regressions.js';
import type { Candidate, Findings } from '../analysis/findings.js';
import type { MetricComparison } from '../analysis/compare.js';
import type { JobRef, SweepRef } from './load.js';
import { trendsPage } from './load.js';
import { formatDuration, labelsText } from './format.js';
import { jobHeadlines } from './job-charts.js';

export interface JobChip {
  host: string;
  scenario: string;
  status: string;
  href: string;
  /** The job's headline numbers, e.g. "lossless 8,000 pps" (see jobHeadlines). */
  headline?: string;
  /** The strongest change detected in this job's series from this sweep on: a regression over an improvement over a change. */
  change?: DetectedChange['kind'];
}

/** The headline text of a job, if its scenario has headline metrics and the job has them. */
export type HeadlineLookup = (sweepId: string, jobId: string, scenario: string) => string | undefined;

export interface IndexRow {
  sweepId: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  duration: string;
  inventory: string;
  inventorySha: string;
  status: string;
  hosts: number;
  /** Every job of the sweep (the folded full list). */
  jobs: JobChip[];
  /** The jobs worth a look: not ok, or with a change detected from this sweep (what the row shows unfolded). */
  notable: JobChip[];
  /** Jobs per status, ok first, then the most frequent: "18 ok · 2 failed". */
  countsText: string;
  counts: Record<string, number>;
  regressions: number;
  improvements: number;
  changes: number;
}

/** One row per sweep, newest first. `hrefOf` maps a job to its page link. */
export function indexRows(sweeps: readonly SweepRef[], changes: readonly DetectedChange[], headlineOf: HeadlineLookup = () => undefined): IndexRow[] {
  const bySweep = new Map<string, { regression: number; improvement: number; change: number }>();
  // sweep + host + scenario -> the strongest kind of change detected there
  const byJob = new Map<string, DetectedChange['kind']>();
  for (const c of changes) {
    const counts = bySweep.get(c.sweepId) ?? { regression: 0, improvement: 0, change: 0 };
    counts[c.kind]++;
    bySweep.set(c.sweepId, counts);
    const job = `${c.sweepId}\u0000${c.key.host}\u0000${c.key.scenario}`;
    const known = byJob.get(job);
    if (known === undefined || KIND_ORDER[c.kind] < KIND_ORDER[known]) byJob.set(job, c.kind);
  }
  return [...sweeps]
    .sort((a, b) => b.sweepId.localeCompare(a.sweepId))
    .map((sweep) => {
      const m = sweep.manifest;
      const durationMs = m.endedAt ? Date.parse(m.endedAt) - Date.parse(m.startedAt) : null;
      const counts: Record<string, number> = {};
      for (const job of sweep.jobs) counts[job.status] = (counts[job.status] ?? 0) + 1;
      const c = bySweep.get(sweep.sweepId);
      const jobs: JobChip[] = sweep.jobs.map((j) => {
        const headline = headlineOf(sweep.sweepId, j.jobId, j.scenario);
        const change = byJob.get(`${sweep.sweepId}\u0000${j.host}\u0000${j.scenario}`);
        return { host: j.host, scenario: j.scenario, status: j.status, href: j.page, ...(headline ? { headline } : {}), ...(change ? { change } : {}) };
      });
      return {
        sweepId: sweep.sweepId,
        startedAt: m.startedAt,
        endedAt: m.endedAt,
        durationMs,
        duration: formatDuration(durationMs),
        inventory: m.inventory.file.split('/').at(-1) ?? m.inventory.file,
        inventorySha: m.inventory.sha256.slice(0, 12),
        status: m.status,
        hosts: new Set(sweep.jobs.map((j) => j.host)).size,
        jobs,
        notable: jobs.filter((j) => j.status !== 'ok' || j.change !== undefined),
        countsText: Object.entries(counts)
          .sort(([a, x], [b, y]) => Number(b === 'ok') - Number(a === 'ok') || y - x || a.localeCompare(b))
          .map(([s, n]) => `${n} ${s}`)
          .join(' · '),
        counts,
        regressions: c?.regression ?? 0,
        improvements: c?.improvement ?? 0,
        changes: c?.change ?? 0,
      };
    });
}

/** Every job's predecessor: the same host x scenario in the closest earlier sweep. */
export function previousJobs(sweeps: readonly SweepRef[]): Map<string, JobRef> {
  const last = new Map<string, JobRef>();
  const previous = new Map<string, JobRef>();
  for (const sweep of [...sweeps].sort((a, b) => a.sweepId.localeCompare(b.sweepId))) {
    for (const job of sweep.jobs) {
      const series = `${job.host}\u0000${job.scenario}`;
      const before = last.get(series);
      if (before) previous.set(job.key, before);
      last.set(series, job);
    }
  }
  return previous;
}

export interface EnvRow {
  field: string;
  a: string;
  b: string;
  same: boolean;
}

export interface PackageRow {
  name: string;
  a: string | null;
  b: string | null;
  change: 'added' | 'removed' | 'changed';
}

export interface EnvDiff {
  rows: EnvRow[];
  packages: PackageRow[];
  differences: number;
}

export function envFields(m: JobManifest | null): Record<string, string> {
  const e = m?.environment;
  return {
    build: m?.build?.label ?? '—',
    profile: m?.profile ?? '—',
    'scenario params': m ? JSON.stringify(m.scenario.params, Object.keys(m.scenario.params).sort()) : '—',
    os: e?.os ?? '—',
    'kernel release': e?.kernel.release ?? '—',
    'kernel version': e?.kernel.version ?? '—',
    machine: e?.kernel.machine ?? '—',
    'kernel cmdline': e?.cmdline ?? '—',
    'cpu model': e?.cpu.model ?? '—',
    'logical cpus': e?.cpu.logical_cpus === null || e?.cpu.logical_cpus === undefined ? '—' : String(e.cpu.logical_cpus),
    'memory (kB)': e?.memory_kb === null || e?.memory_kb === undefined ? '—' : String(e.memory_kb),
    hostname: e?.hostname ?? '—',
    orchestrator: m ? m.orchestrator.version : '—',
  };
}

/** What differs between the environments two jobs ran in. `a` is the earlier (baseline) job. */
export function environmentDiff(a: JobManifest | null, b: JobManifest | null): EnvDiff {
  const fa = envFields(a);
  const fb = envFields(b);
  const rows = Object.keys(fa).map((field) => ({ field, a: fa[field]!, b: fb[field]!, same: fa[field] === fb[field] }));
  const pa = a?.environment?.packages ?? {};
  const pb = b?.environment?.packages ?? {};
  const packages: PackageRow[] = [];
  for (const name of [...new Set([...Object.keys(pa), ...Object.keys(pb)])].sort()) {
    const va = pa[name] ?? null;
    const vb = pb[name] ?? null;
    if (va === vb) continue;
    packages.push({ name, a: va, b: vb, change: va === null ? 'added' : vb === null ? 'removed' : 'changed' });
  }
  return { rows, packages, differences: rows.filter((r) => !r.same).length + packages.length };
}

export interface CompareRow extends MetricComparison {
  labelsText: string;
}

export function compareRows(comparisons: readonly MetricComparison[], labelsOf: (labels: Record<string, string>) => string = labelsText): CompareRow[] {
  const order = { worse: 0, better: 1, inconclusive: 2, missing: 3, same: 4 } as const;
  return [...comparisons]
    .map((c) => ({ ...c, labelsText: labelsOf(c.labels) }))
    .sort((x, y) => order[x.verdict] - order[y.verdict] || x.metric.localeCompare(y.metric) || x.labelsText.localeCompare(y.labelsText));
}

export interface SampleRow {
  metric: string;
  labels: string;
  value: number;
  unit: string;
  better: string;
}

export function sampleRows(metrics: MetricsFile | null): SampleRow[] {
  return (metrics?.samples ?? []).map((s) => ({ metric: s.metric, labels: labelsText(s.labels), value: s.value, unit: s.unit, better: s.better }));
}

export interface ChangeRow {
  kind: DetectedChange['kind'];
  host: string;
  scenario: string;
  metric: string;
  labels: string;
  unit: string;
  better: string;
  sweepId: string;
  at: string;
  beforeMean: number;
  afterMean: number;
  relativeChange: number;
  pValue: number;
  /** The builds of the last job before the change and the first after it (null when not named). */
  buildBefore: string | null;
  buildAfter: string | null;
  /** "between build A and build B", or "" when no build is named. */
  builds: string;
  keyId: string;
  trendHref: string;
  jobHref: string | null;
  compareHref: string | null;
  /** What a sweep's findings said of this change (its confirmation re-runs, whether it paged); absent when no findings name it. */
  finding?: ChangeFinding;
}

export interface ChangeFinding {
  status: Candidate['status'];
  paged: boolean;
  /** The sweep whose findings.json says so. */
  sweepId: string;
}

/** What the sweeps' findings say of a detected change, if any names it. */
export type FindingLookup = (change: Pick<DetectedChange, 'keyId' | 'sweepId'>) => ChangeFinding | undefined;

/**
 * A lookup of the findings' candidates by change: a candidate names a detected change when it is the
 * same change (same series, regimes starting within a few of `sweepIds`, the store's sweeps in
 * order). Where several sweeps' findings name it, the latest says.
 */
export function findingLookup(findings: readonly Findings[], sweepIds: readonly string[]): FindingLookup {
  const byKey = new Map<string, { candidate: Candidate; sweepId: string }[]>();
  for (const f of [...findings].sort((a, b) => b.sweepId.localeCompare(a.sweepId))) {
    for (const candidate of f.candidates) {
      const list = byKey.get(candidate.change.keyId) ?? [];
      list.push({ candidate, sweepId: f.sweepId });
      byKey.set(candidate.change.keyId, list);
    }
  }
  const sorted = [...sweepIds].sort();
  return (change) => {
    const list = byKey.get(change.keyId) ?? [];
    const found = list.find((e) => e.candidate.change.sweepId === change.sweepId) ?? list.find((e) => sameChange(e.candidate.change, change, sorted));
    return found ? { status: found.candidate.status, paged: found.candidate.paged, sweepId: found.sweepId } : undefined;
  };
}

/** How big a change is, for ordering: |relative change|, a change from a mean of 0 counting as the largest. */
function changeSize(c: Pick<DetectedChange, 'beforeMean' | 'afterMean' | 'relativeChange'>): number {
  if (c.beforeMean === 0 && c.afterMean !== 0) return Number.POSITIVE_INFINITY;
  return Number.isFinite(c.relativeChange) ? Math.abs(c.relativeChange) : 0;
}

/** Whether a metric is one of its scenario's headline numbers (lossless max, NDR, CPU busy...). */
export function isHeadlineMetric(scenario: string, metric: string): boolean {
  return jobHeadlines[scenario]?.some((h) => h.metric === metric) ?? false;
}

/**
 * Where a row stands within its sweep: what the findings confirmed or paged first, then unconfirmed
 * candidates, the other regressions, the candidates re-runs did not reproduce, improvements, and
 * changes of metrics without a better direction; within each of the last four, the scenario's
 * headline metrics before the others (a per-step latency's +10,000 % is not the news).
 */
function rank(c: DetectedChange, finding: ChangeFinding | undefined): number {
  if (finding && (finding.paged || finding.status === 'confirmed')) return 0;
  if (finding?.status === 'unconfirmed') return 1;
  const base = c.kind === 'regression' ? (finding?.status === 'not-reproduced' ? 4 : 2) : c.kind === 'improvement' ? 6 : 8;
  return base + (isHeadlineMetric(c.key.scenario, c.key.metric) ? 0 : 1);
}

/**
 * The regressions page and feeds: newest sweep first; within a sweep, what matters first (see
 * `rank`), then the largest changes (a change from 0 the largest).
 */
export function changeRows(
  changes: readonly DetectedChange[],
  jobsByKey: ReadonlyMap<string, JobRef>,
  previous: ReadonlyMap<string, JobRef>,
  /** How a series' labels read (point-matrix.seriesLabeller names a matrix scenario's points shortly); default: all of them. */
  labelsOf: (key: DetectedChange['key']) => string = (key) => labelsText(key.labels),
  /** What the sweeps' findings say of a change (findingLookup); default: nothing. */
  findingOf: FindingLookup = () => undefined,
): ChangeRow[] {
  return changes
    .map((c) => {
      const finding = findingOf(c);
      return { c, finding, rank: rank(c, finding), size: changeSize(c) };
    })
    .sort((x, y) => y.c.sweepId.localeCompare(x.c.sweepId) || x.rank - y.rank || y.size - x.size || x.c.key.metric.localeCompare(y.c.key.metric) || x.c.keyId.localeCompare(y.c.keyId))
    .map(({ c, finding }) => {
      const job = findJob(jobsByKey, c.sweepId, c.key.host, c.key.scenario);
      return {
        kind: c.kind,
        host: c.key.host,
        scenario: c.key.scenario,
        metric: c.key.metric,
        labels: labelsOf(c.key),
        unit: c.unit,
        better: c.better,
        sweepId: c.sweepId,
        at: c.at,
        beforeMean: c.beforeMean,
        afterMean: c.afterMean,
        relativeChange: c.relativeChange,
        pValue: c.pValue,
        buildBefore: c.buildBefore ?? null,
        buildAfter: c.buildAfter ?? null,
        builds: buildsText(c),
        keyId: c.keyId,
        trendHref: `${trendsPage(c.key.host, c.key.scenario)}#m-${c.keyId}`,
        jobHref: job?.page ?? null,
        compareHref: job && previous.has(job.key) ? job.comparePage : null,
        ...(finding ? { finding } : {}),
      };
    });
}

/** Rows of a group the regressions page shows unfolded. */
export const GROUP_SHOWN = 3;

/** The changes one cause brought: one host x scenario from one sweep, between the same builds. */
export interface ChangeGroup {
  sweepId: string;
  host: string;
  scenario: string;
  /** "between build A and build B", or "" when no build is named. */
  builds: string;
  /** What the page shows: the group's first GROUP_SHOWN rows (all of them when one more would be folded). */
  shown: ChangeRow[];
  /** The rest, folded. */
  folded: ChangeRow[];
}

/**
 * The regressions page's rows by cause: rows (in changeRows' order) of one sweep, host x scenario
 * and pair of builds together, the groups in the order of their first row (what matters first),
 * the rows of a group in theirs.
 */
export function changeGroups(rows: readonly ChangeRow[]): ChangeGroup[] {
  const groups = new Map<string, { sweepId: string; host: string; scenario: string; builds: string; rows: ChangeRow[] }>();
  for (const r of rows) {
    const id = [r.sweepId, r.host, r.scenario, r.builds].join('\u0000');
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { sweepId: r.sweepId, host: r.host, scenario: r.scenario, builds: r.builds, rows: [] }));
    g.rows.push(r);
  }
  return [...groups.values()].map(({ rows: all, ...g }) => {
    const cut = all.length <= GROUP_SHOWN + 1 ? all.length : GROUP_SHOWN;
    return { ...g, shown: all.slice(0, cut), folded: all.slice(cut) };
  });
}

function findJob(jobsByKey: ReadonlyMap<string, JobRef>, sweepId: string, host: string, scenario: string): JobRef | undefined {
  return jobsByKey.get(`${sweepId}\u0000${host}\u0000${scenario}`);
}

/** sweepId + host + scenario -> job, for linking a detected change to the job it happened at. */
export function jobsBySweepHostScenario(sweeps: readonly SweepRef[]): Map<string, JobRef> {
  const map = new Map<string, JobRef>();
  for (const sweep of sweeps) for (const job of sweep.jobs) map.set(`${sweep.sweepId}\u0000${job.host}\u0000${job.scenario}`, job);
  return map;
}

export interface RunRow {
  at: string;
  sweepId: string;
  jobId: string;
  /** Site-relative path of the job's page. */
  page: string;
  build: string | null;
  /** The build differs from the run before it (older runs first in time). */
  buildChanged: boolean;
}

/**
 * The runs behind a host x scenario's trends, newest first, each with the build it measured:
 * the trends page's table (one row per job, whichever metrics it has).
 */
export function runRows(points: readonly { sweepId: string; jobId: string; at: string; build?: string }[], pageOf: (sweepId: string, jobId: string) => string): RunRow[] {
  // each job's first point, in the order first seen, by sweep then job (no key text made per point: a midolman page has 72,000)
  const runs: { sweepId: string; jobId: string; at: string; build: string | null }[] = [];
  const seen = new Map<string, Set<string>>();
  for (const p of points) {
    let jobs = seen.get(p.sweepId);
    if (!jobs) seen.set(p.sweepId, (jobs = new Set()));
    if (jobs.has(p.jobId)) continue;
    jobs.add(p.jobId);
    runs.push({ sweepId: p.sweepId, jobId: p.jobId, at: p.at, build: p.build ?? null });
  }
  const ordered = runs.sort((a, b) => a.sweepId.localeCompare(b.sweepId) || a.jobId.localeCompare(b.jobId));
  return ordered
    .map((r, i) => ({ ...r, page: pageOf(r.sweepId, r.jobId), buildChanged: i > 0 && r.build !== null && r.build !== ordered[i - 1]!.build }))
    .reverse();
}

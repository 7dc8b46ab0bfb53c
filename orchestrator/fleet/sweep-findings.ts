// What one sweep found, decided and recorded: the regression candidates it newly reveals
// (regressionsFirstSeen), each confirmed by re-runs or not (confirm-regressions.ts), paged once
// (alerts/page-once.ts), regressions paged on earlier nights that still hold, improvements, and
// the jobs that failed. Writes `<sweep dir>/findings.json` and `<results_dir>/alerts/paged.json`.
import { FINDINGS_SCHEMA, type Candidate, type Change, type Findings } from '../analysis/findings.js';
import type { MetricHistory, SeriesKey } from '../analysis/history.js';
import { detectChanges, regressionsFirstSeen, type DetectedChange, type Thresholds } from '../analysis/regressions.js';
import { findPaged, loadPagedState, pagedEntries, sameChange, withPaged } from '../alerts/page-once.js';
import { listJobIds, readFindings, readJobManifest, readSweepManifest, writeFindings, writePagedState } from '../results/store.js';
import { confirmCandidates, type ConfirmInput, type ConfirmPolicy } from './confirm-regressions.js';
import type { EventSink } from './events.js';
import { jobIdFor } from './plan.js';

export interface AnalyseOptions {
  resultsDir: string;
  sweepId: string;
  sweepDir: string;
  /** Every history of the store, re-run points left out. */
  histories: readonly MetricHistory[];
  thresholdsFor: (key: SeriesKey) => Thresholds;
  policy: ConfirmPolicy;
  /** What confirmCandidates needs beyond the above. */
  confirm: Pick<ConfirmInput, 'inventory' | 'runner' | 'interrupt' | 'now'>;
  /** Where the confirmation's events go. */
  emit: EventSink;
  /** The time findings and pages are stamped with. */
  at?: () => string;
}

export interface SweepAnalysis {
  findings: Findings;
  /** Candidates this sweep pages (exit status 3), those of an earlier run of a resumed sweep included. */
  paged: Candidate[];
  /** Candidates paged now for the first time: what the alerts carry. */
  newlyPaged: Candidate[];
  /** What went wrong keeping the records (the analysis itself stands). */
  problems: string[];
  notes: string[];
}

/** A DetectedChange as findings.json keeps it. */
function asChange(change: DetectedChange): Change {
  return { ...change, key: { ...change.key, labels: { ...change.key.labels } } };
}

function sweepsOf(history: MetricHistory): string[] {
  return [...new Set(history.points.map((point) => point.sweepId))].sort();
}

function byKeyAndSweep(a: Change, b: Change): number {
  return a.key.host.localeCompare(b.key.host) || a.key.scenario.localeCompare(b.key.scenario) || a.key.metric.localeCompare(b.key.metric) || a.keyId.localeCompare(b.keyId);
}

export async function analyseSweep(options: AnalyseOptions): Promise<SweepAnalysis> {
  const { sweepId, resultsDir } = options;
  const stamp = options.at ?? (() => new Date().toISOString());
  const problems: string[] = [];
  const notes: string[] = [];

  // The histories this sweep has points in, cut at this sweep (later sweeps never change its answer).
  const upTo = options.histories
    .map((history) => ({ ...history, points: history.points.filter((point) => point.sweepId <= sweepId && Number.isFinite(point.value)) }))
    .filter((history) => history.points.some((point) => point.sweepId === sweepId));
  const sweepsOfKey = new Map(upTo.map((history) => [history.keyId, sweepsOf(history)]));
  const comparable = upTo.some((history) => history.points.some((point) => point.sweepId < sweepId));
  const nowChanges = new Map(upTo.map((history) => [history.keyId, detectChanges([history], options.thresholdsFor)]));

  const loaded = await loadPagedState(resultsDir);
  if (loaded.rebuilt) notes.push(`paging record: ${loaded.rebuilt}`);
  let state = loaded.state;
  const entries = pagedEntries(state);
  let previous: Findings | undefined;
  try {
    previous = await readFindings(resultsDir, sweepId);
  } catch (error) {
    notes.push(`earlier findings of this sweep unreadable, decided afresh: ${(error as Error).message}`);
  }

  const candidates: Candidate[] = [];
  const toConfirm: DetectedChange[] = [];
  const stillPresent: Change[] = [];
  for (const change of regressionsFirstSeen(upTo, options.thresholdsFor, sweepId)) {
    const sweeps = sweepsOfKey.get(change.keyId);
    const paged = findPaged(entries, change, sweeps);
    if (paged && paged.pagedBy !== sweepId) {
      // Paged on an earlier night: detection found it again, it is not news.
      stillPresent.push(asChange(change));
      continue;
    }
    const before = previous?.candidates.find((candidate) => sameChange(candidate.change, change, sweeps));
    if (before && (before.status !== 'unconfirmed' || paged)) {
      // A resumed sweep: what its first run decided (and paged) stands; no second re-run, no second page.
      candidates.push({ ...before, change: asChange(change), paged: before.paged || paged !== undefined });
      continue;
    }
    toConfirm.push(change);
  }

  const decided = await confirmCandidates({
    ...options.confirm,
    candidates: toConfirm,
    histories: upTo,
    changesOf: (keyId) => nowChanges.get(keyId) ?? [],
    thresholdsFor: options.thresholdsFor,
    policy: options.policy,
    sweepDir: options.sweepDir,
    jobDurationMs: await jobDurations(resultsDir, sweepId, toConfirm),
    existingJobIds: await listJobIds(resultsDir, sweepId).catch(() => []),
    emit: options.emit,
  });
  const newlyPaged: Candidate[] = [];
  const at = stamp();
  for (const { change, decision } of decided) {
    const pages = decision.status === 'confirmed' || (decision.status === 'unconfirmed' && !options.policy.required);
    const candidate: Candidate = {
      change: asChange(change),
      status: decision.status,
      ...(decision.evidence ? { evidence: decision.evidence } : {}),
      ...(decision.note ? { note: decision.note } : {}),
      paged: pages,
    };
    candidates.push(candidate);
    if (pages && !findPaged(entries, change, sweepsOfKey.get(change.keyId))) {
      newlyPaged.push(candidate);
      state = withPaged(state, change, sweepId, at);
    }
  }

  // Regressions paged on an earlier night whose regime still holds: no later change point undid it.
  for (const [keyId, changes] of nowChanges) {
    const sweeps = sweepsOfKey.get(keyId);
    changes.forEach((change, index) => {
      if (change.kind !== 'regression') return;
      const paged = findPaged(entries, change, sweeps);
      if (!paged || paged.pagedBy === sweepId) return;
      if (changes.slice(index + 1).some((later) => later.kind === 'improvement')) return;
      if (stillPresent.some((known) => sameChange(known, change, sweeps))) return;
      stillPresent.push(asChange(change));
    });
  }

  // Improvements this sweep reveals: change points of that kind the histories before it did not have.
  const improvements: Change[] = [];
  for (const history of upTo) {
    const found = (nowChanges.get(history.keyId) ?? []).filter((change) => change.kind === 'improvement');
    if (found.length === 0) continue;
    const earlier = detectChanges([{ ...history, points: history.points.filter((point) => point.sweepId < sweepId) }], options.thresholdsFor).filter(
      (change) => change.kind === 'improvement',
    );
    const sweeps = sweepsOfKey.get(history.keyId);
    for (const change of found) if (!earlier.some((known) => sameChange(known, change, sweeps))) improvements.push(asChange(change));
  }

  let failedJobs: Findings['failedJobs'] = [];
  try {
    const manifest = await readSweepManifest(resultsDir, sweepId);
    failedJobs = manifest.jobs.filter((job) => job.status !== 'ok').map(({ jobId, host, scenario, status }) => ({ jobId, host, scenario, status }));
  } catch (error) {
    problems.push(`findings: cannot read the sweep's record: ${(error as Error).message}`);
  }

  const findings: Findings = {
    schema: FINDINGS_SCHEMA,
    sweepId,
    at,
    comparable,
    candidates: candidates.sort((a, b) => byKeyAndSweep(a.change, b.change)),
    stillPresent: stillPresent.sort(byKeyAndSweep),
    improvements: improvements.sort(byKeyAndSweep),
    failedJobs,
  };
  // The paging record first: should the findings not be written, nothing is paged twice.
  if (newlyPaged.length > 0 || loaded.rebuilt) {
    try {
      await writePagedState(resultsDir, state);
    } catch (error) {
      problems.push(`cannot write the paging record: ${(error as Error).message}`);
    }
  }
  try {
    await writeFindings(resultsDir, findings);
  } catch (error) {
    problems.push(`cannot write findings.json: ${(error as Error).message}`);
  }
  return { findings, paged: findings.candidates.filter((candidate) => candidate.paged), newlyPaged, problems, notes };
}

/** How long the night's jobs behind `changes` took, from their manifests (for the confirmation budget). */
async function jobDurations(resultsDir: string, sweepId: string, changes: readonly DetectedChange[]): Promise<(jobId: string) => number | undefined> {
  const durations = new Map<string, number>();
  for (const jobId of new Set(changes.map((change) => jobIdFor(change.key.host, change.key.scenario)))) {
    try {
      const manifest = await readJobManifest(resultsDir, sweepId, jobId);
      const ms = Date.parse(manifest.endedAt ?? '') - Date.parse(manifest.startedAt ?? '');
      if (Number.isFinite(ms) && ms > 0) durations.set(jobId, ms);
    } catch {
      // unknown: assumed to fit
    }
  }
  return (jobId) => durations.get(jobId);
}


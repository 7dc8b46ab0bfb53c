// Confirmation re-runs: before a sweep pages a new regression, it re-runs the job(s) behind it on
// the same hosts and checks that the re-runs still show it against the previous regime.
//
//   confirmed       the re-runs' values are worse than the previous regime's by a one-sided
//                   Mann-Whitney (rank permutation) test at the metric's p_value, and their mean by
//                   at least its min_change: paged.
//   not-reproduced  they are not: shown apart, never paged.
//   unconfirmed     no decision was possible: confirmation is off, the budget was used up, the
//                   host was unreachable or the re-runs failed, or too few re-runs completed for
//                   the test to ever reach p_value. Paged only with `regressions.confirm.required: false`.
//
// Re-runs are jobs of the same sweep with their own ids, `<job>~rerun<n>`, stored beside the
// night's jobs (their manifests say `rerunOf`), and never listed in sweep.json: history and the
// site take them for no night's result. The running itself is a RerunRunner
// (confirm-reruns.ts runs them through the fleet's own runHost); this module plans and decides.
import { join } from 'node:path';
import PQueue from 'p-queue';
import { rerunChangeText } from '../analysis/change-text.js';
import type { RerunEvidence } from '../analysis/findings.js';
import { canonicalKey, type MetricHistory, type SeriesKey } from '../analysis/history.js';
import { mannWhitneyU } from '../analysis/mann-whitney.js';
import { relativeChange } from '../analysis/e-divisive.js';
import type { DetectedChange, Thresholds } from '../analysis/regressions.js';
import type { HostSpec, Inventory, RegressionConfig } from '../inventory/types.js';
import { isRerunJobId, rerunJobId, type JobStatus } from '../results/manifest.js';
import type { EventSink } from './events.js';
import { jobIdFor, type JobPlan } from './plan.js';
import { jobDirIn, jobFiles, metricsFile } from '../results/store.js';

export interface ConfirmPolicy {
  /** Re-runs of each affected job; 0 turns confirmation off. */
  reruns: number;
  /** Wall-clock limit of all of one sweep's re-runs. */
  budgetMs: number;
  /** Only confirmed candidates page (true), or unconfirmed ones too (false). */
  required: boolean;
}

export const DEFAULT_CONFIRM: Readonly<ConfirmPolicy> = Object.freeze({ reruns: 2, budgetMs: 30 * 60_000, required: true });

export function confirmPolicy(config: RegressionConfig | undefined): ConfirmPolicy {
  return {
    reruns: config?.confirm?.reruns ?? DEFAULT_CONFIRM.reruns,
    budgetMs: config?.confirm?.budgetMs ?? DEFAULT_CONFIRM.budgetMs,
    required: config?.confirm?.required ?? DEFAULT_CONFIRM.required,
  };
}

export { isRerunJobId, rerunJobId };

/** The direction in which a regression of this change moved the metric. */
function worseDirection(change: Pick<DetectedChange, 'better' | 'beforeMean' | 'afterMean'>): 'higher' | 'lower' {
  if (change.better === 'lower') return 'higher';
  if (change.better === 'higher') return 'lower';
  return change.afterMean >= change.beforeMean ? 'higher' : 'lower';
}

/**
 * One-sided rank permutation test that `values` lie above (`worse` higher) or below `baseline`:
 * analysis/mann-whitney.ts's Mann-Whitney U with that alternative (exact by enumerating every
 * split for small samples, ties included; the normal approximation for large ones). `minPValue`
 * is the smallest p these sample sizes (and ties) can give whatever the values.
 */
export function oneSidedTest(values: readonly number[], baseline: readonly number[], worse: 'higher' | 'lower'): { pValue: number; minPValue: number } {
  if (values.length === 0 || baseline.length === 0) return { pValue: 1, minPValue: 1 };
  const { pValue, minPValue } = mannWhitneyU(values, baseline, worse === 'higher' ? 'greater' : 'less');
  return { pValue, minPValue };
}

export function oneSidedP(values: readonly number[], baseline: readonly number[], worse: 'higher' | 'lower'): number {
  return oneSidedTest(values, baseline, worse).pValue;
}

/** The smallest one-sided p that `reruns` distinct values against `baseline` distinct points can give. */
export function bestPossibleP(reruns: number, baseline: number): number {
  if (reruns === 0 || baseline === 0) return 1;
  return oneSidedTest(
    Array.from({ length: reruns }, (_, i) => baseline + i),
    Array.from({ length: baseline }, (_, i) => i),
    'higher',
  ).minPValue;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

export interface Decision {
  status: 'confirmed' | 'not-reproduced' | 'unconfirmed';
  evidence?: RerunEvidence;
  note?: string;
}


/**
 * The verdict on one candidate from its re-runs' values and the previous regime's: confirmed when
 * the re-runs are worse at p <= thresholds.pValue (one-sided) and by at least minRelativeChange.
 */
export function decide(change: DetectedChange, jobIds: readonly string[], values: readonly number[], baseline: readonly number[], thresholds: Thresholds): Decision {
  if (baseline.length === 0) return { status: 'unconfirmed', note: 'no earlier regime to compare the re-runs with' };
  if (values.length === 0) return { status: 'unconfirmed', note: `the re-runs (${jobIds.join(', ') || 'none'}) gave no value of ${change.key.metric}` };
  const worse = worseDirection(change);
  const change_ = relativeChange(mean(baseline), mean(values));
  const { pValue, minPValue: best } = oneSidedTest(values, baseline, worse);
  const evidence: RerunEvidence = { jobIds: [...jobIds], values: [...values], baseline: [...baseline], relativeChange: change_, pValue };
  const large = worse === 'higher' ? change_ >= thresholds.minRelativeChange : change_ <= -thresholds.minRelativeChange;
  const significant = pValue <= thresholds.pValue;
  if (significant && large) return { status: 'confirmed', evidence, note: `re-runs ${rerunChangeText(evidence, '')} against the previous regime, p=${pValue.toFixed(3)}` };
  if (best > thresholds.pValue) {
    return {
      status: 'unconfirmed',
      evidence,
      note: `${values.length} re-run value(s) against ${baseline.length} earlier point(s) cannot reach p <= ${thresholds.pValue} (at best p=${best.toFixed(3)})`,
    };
  }
  const why = [
    ...(significant ? [] : [`p=${pValue.toFixed(3)} > ${thresholds.pValue}`]),
    ...(large ? [] : [`${rerunChangeText(evidence, '')} is under the ${(thresholds.minRelativeChange * 100).toFixed(1)}% that counts`]),
  ];
  return { status: 'not-reproduced', evidence, note: `the re-runs did not show it: ${why.join('; ')}` };
}

/**
 * The previous regime of a change: the history's points before the change's first sweep, after
 * the latest earlier change point of the series (`changes`: every change point detected in it),
 * at most `window` of them, newest last.
 */
export function previousRegime(history: MetricHistory, change: DetectedChange, changes: readonly DetectedChange[], window: number): number[] {
  const earlier = changes.filter((other) => other.keyId === change.keyId && other.sweepId < change.sweepId).map((other) => other.sweepId).sort();
  const from = earlier.at(-1);
  const values = history.points
    .filter((point) => point.sweepId < change.sweepId && (from === undefined || point.sweepId >= from) && Number.isFinite(point.value))
    .map((point) => point.value);
  return values.slice(-Math.max(1, window));
}

/** One re-run to make: a copy of the night's job under its own id. */
export interface RerunJob {
  plan: JobPlan;
  /** The night's job it repeats. */
  rerunOf: string;
  attempt: number;
}

export interface RerunHost {
  host: HostSpec;
  jobs: RerunJob[];
}

/**
 * Runs one host's re-runs (one connection, one job at a time), stores each as a job of the sweep,
 * and says how each ended. `signal` aborts when the budget is used up or the sweep is interrupted.
 * Throws only when it could not run anything at all.
 */
export type RerunRunner = (request: RerunHost, signal: AbortSignal) => Promise<Map<string, JobStatus>>;

export interface ConfirmInput {
  candidates: readonly DetectedChange[];
  /** The histories (loadHistory leaves re-run jobs out). */
  histories: readonly MetricHistory[];
  /** Every change point of each history, up to this sweep (for the previous regime). */
  changesOf: (keyId: string) => readonly DetectedChange[];
  thresholdsFor: (key: SeriesKey) => Thresholds;
  policy: ConfirmPolicy;
  inventory: Pick<Inventory, 'hosts' | 'concurrency'>;
  sweepDir: string;
  runner: RerunRunner;
  /** How long each night's job took (ms), for the budget; unknown jobs are assumed to fit. */
  jobDurationMs: (jobId: string) => number | undefined;
  /** Job ids already in the sweep (earlier re-runs of a resumed sweep): new re-runs number past them. */
  existingJobIds: readonly string[];
  interrupt?: AbortSignal;
  /** Told when a host's re-runs start (a `confirming` event). */
  emit: EventSink;
  now?: () => number;
}

export interface ConfirmOutcome {
  change: DetectedChange;
  decision: Decision;
}

function statusNote(statuses: readonly JobStatus[], budgetUsed: boolean, interrupted: boolean): string {
  if (statuses.length > 0 && statuses.every((s) => s === 'unreachable')) return 'the host was unreachable for the re-runs';
  if (interrupted) return 'the sweep was interrupted during the re-runs';
  if (budgetUsed) return 'the confirmation budget ran out during the re-runs';
  return `the re-runs did not finish ok (${statuses.join(', ') || 'none ran'})`;
}

async function rerunValues(sweepDir: string, jobIds: readonly string[], key: SeriesKey): Promise<number[]> {
  const wanted = canonicalKey({ ...key, host: '', scenario: '' });
  const values: number[] = [];
  for (const jobId of jobIds) {
    try {
      const file = await metricsFile.readOptional(jobFiles(jobDirIn(sweepDir, jobId)).metrics);
      for (const sample of file?.samples ?? []) {
        if (Number.isFinite(sample.value) && canonicalKey({ host: '', scenario: '', metric: sample.metric, labels: sample.labels }) === wanted) values.push(sample.value);
      }
    } catch {
      // a re-run whose metrics cannot be read gives no value
    }
  }
  return values;
}

const minutes = (ms: number) => (ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${Math.round(ms / 1000)} s`);

/** Re-runs the jobs behind `candidates` (each job once for all its candidates) and decides each candidate. */
export async function confirmCandidates(input: ConfirmInput): Promise<ConfirmOutcome[]> {
  const now = input.now ?? Date.now;
  const { policy } = input;
  const outcomes = new Map<DetectedChange, Decision>();
  if (input.candidates.length === 0) return [];
  if (policy.reruns === 0) {
    return input.candidates.map((change) => ({ change, decision: { status: 'unconfirmed', note: 'confirmation re-runs are off (regressions.confirm)' } }));
  }
  const historyOf = new Map(input.histories.map((history) => [history.keyId, history]));

  // The night's jobs behind the candidates, grouped by host.
  const byHost = new Map<string, { host: HostSpec; jobs: Map<string, { plan: JobPlan; changes: DetectedChange[] }> }>();
  for (const change of input.candidates) {
    const host = input.inventory.hosts.find((h) => h.name === change.key.host);
    const request = host?.scenarios.find((s) => s.name === change.key.scenario);
    if (!host || !request) {
      outcomes.set(change, { status: 'unconfirmed', note: `the inventory no longer runs ${change.key.scenario} on ${change.key.host}` });
      continue;
    }
    const jobId = jobIdFor(host.name, request.name);
    let entry = byHost.get(host.name);
    if (!entry) byHost.set(host.name, (entry = { host, jobs: new Map() }));
    let job = entry.jobs.get(jobId);
    if (!job) entry.jobs.set(jobId, (job = { plan: { jobId, host, scenario: request.name, params: request.params }, changes: [] }));
    job.changes.push(change);
  }

  const started = now();
  const deadline = started + policy.budgetMs;
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(new Error(`the confirmation budget (${minutes(policy.budgetMs)}) is used up`)), policy.budgetMs);
  const signal = input.interrupt ? AbortSignal.any([input.interrupt, budget.signal]) : budget.signal;
  const taken = new Set(input.existingJobIds);
  const nextAttempt = (jobId: string) => {
    let n = 1;
    while (taken.has(rerunJobId(jobId, n))) n++;
    taken.add(rerunJobId(jobId, n));
    return n;
  };

  const queue = new PQueue({ concurrency: Math.max(1, input.inventory.concurrency) });
  try {
    await Promise.all(
      [...byHost.values()].map((entry) =>
        queue.add(async () => {
          // Plan as many re-runs of each job as the budget left can hold (by the night's duration).
          let left = deadline - now();
          const planned: { jobId: string; changes: DetectedChange[]; reruns: RerunJob[] }[] = [];
          for (const [jobId, job] of entry.jobs) {
            const duration = input.jobDurationMs(jobId);
            const fits = duration === undefined || duration <= 0 ? policy.reruns : Math.floor(left / duration);
            const count = signal.aborted ? 0 : Math.max(0, Math.min(policy.reruns, fits));
            if (count === 0) {
              const why = input.interrupt?.aborted
                ? 'the sweep was interrupted before the re-runs'
                : `the confirmation budget is used up (${minutes(Math.max(0, left))} of ${minutes(policy.budgetMs)} left; the job took ${minutes(duration ?? 0)})`;
              for (const change of job.changes) outcomes.set(change, { status: 'unconfirmed', note: why });
              continue;
            }
            if (duration !== undefined) left -= count * duration;
            const reruns = Array.from({ length: count }, () => {
              const attempt = nextAttempt(jobId);
              return { plan: { ...job.plan, jobId: rerunJobId(jobId, attempt) }, rerunOf: jobId, attempt };
            });
            planned.push({ jobId, changes: job.changes, reruns });
          }
          if (planned.length === 0) return;
          input.emit({
            kind: 'confirming',
            at: Date.now(),
            host: entry.host.name,
            candidates: planned.reduce((n, p) => n + p.changes.length, 0),
            reruns: planned.map((p) => ({ jobId: p.jobId, count: p.reruns.length })),
          });
          let statuses: Map<string, JobStatus>;
          try {
            statuses = await input.runner({ host: entry.host, jobs: planned.flatMap((p) => p.reruns) }, signal);
          } catch (error) {
            for (const p of planned) for (const change of p.changes) outcomes.set(change, { status: 'unconfirmed', note: `the re-runs could not run: ${(error as Error).message}` });
            return;
          }
          for (const p of planned) {
            const ids = p.reruns.map((r) => r.plan.jobId);
            const ok = ids.filter((id) => statuses.get(id) === 'ok');
            for (const change of p.changes) {
              const thresholds = input.thresholdsFor(change.key);
              if (ok.length === 0) {
                const note = statusNote(ids.map((id) => statuses.get(id) ?? 'skipped'), budget.signal.aborted, input.interrupt?.aborted === true);
                outcomes.set(change, { status: 'unconfirmed', note });
                continue;
              }
              const history = historyOf.get(change.keyId);
              const baseline = history ? previousRegime(history, change, input.changesOf(change.keyId), thresholds.window) : [];
              const values = await rerunValues(input.sweepDir, ok, change.key);
              const decision = decide(change, ok, values, baseline, thresholds);
              if (ok.length < ids.length && decision.status !== 'confirmed') {
                decision.note = `${decision.note ?? ''}${decision.note ? '; ' : ''}${ids.length - ok.length} of ${ids.length} re-run(s) did not finish ok`;
              }
              outcomes.set(change, decision);
            }
          }
        }),
      ),
    );
  } finally {
    clearTimeout(timer);
  }
  return input.candidates.map((change) => ({ change, decision: outcomes.get(change) ?? { status: 'unconfirmed', note: 'not re-run' } }));
}

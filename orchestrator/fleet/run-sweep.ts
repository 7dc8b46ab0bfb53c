// A sweep: plan the jobs, run hosts in parallel (p-queue, up to the inventory's
// concurrency; one job at a time per host), respect the failure budget and interrupts,
// and keep the sweep manifest current so a crash leaves an accurate record.
import PQueue from 'p-queue';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { HostSpec, Inventory } from '../inventory/types.js';
import type { Connector } from '../connectors/types.js';
import { SshConnector, type HostKeyPolicy } from '../connectors/ssh/ssh-connector.js';
import { KnownHosts } from '../connectors/ssh/known-hosts.js';
import { buildHelperBundle, projectBundleRoots, type HelperBundle } from '../bundle/build-bundle.js';
import { SWEEP_SCHEMA, type JobCounts, type JobStatus, type SweepManifest, type SweepStatus } from '../results/manifest.js';
import { SweepStore, newSweepId } from '../results/store.js';
import { ORCHESTRATOR } from '../version.js';
import { SCENARIOS, type ScenarioRegistry } from '../scenarios/registry.js';
import type { EngineEvent, EventSink } from './events.js';
import { eventText, timestamp } from './event-text.js';
import { FailureBudgetTracker } from './failure-budget.js';
import { planSweep, type Selection, type SweepPlan } from './plan.js';
import { runHost } from './run-host.js';

export interface SweepOptions {
  inventory: Inventory;
  selection: Selection;
  acceptNewHostKeys: boolean;
  /** First Ctrl-C / SIGTERM. */
  interrupt: AbortSignal;
  /** Second one: teardowns are stopped too. */
  force: AbortSignal;
  onEvent: EventSink;
  bundle?: HelperBundle;
  /** The scenarios jobs may name (default: every scenario this build ships). */
  scenarios?: ScenarioRegistry;
  /** Re-run the jobs of this earlier sweep that did not finish ok, into the same sweep. */
  resumeFrom?: SweepManifest;
  /** Per-job cap on collected artifact bytes (default 8 GiB). */
  maxArtifactBytes?: number;
  connectorFor?: (host: HostSpec, policy: HostKeyPolicy) => Connector;
}

export type SweepExitCode = 0 | 1 | 130;

export interface SweepSummary {
  sweepId: string;
  dir: string;
  status: SweepStatus;
  counts: JobCounts;
  exitCode: SweepExitCode;
  jobs: SweepManifest['jobs'];
}

export function countStatuses(statuses: JobStatus[]): JobCounts {
  const counts: JobCounts = { ok: 0, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 };
  for (const status of statuses) {
    if (status === 'pending' || status === 'running') counts.skipped++;
    else counts[status]++;
  }
  return counts;
}

function sweepStatus(counts: JobCounts, interrupted: boolean, aborted: boolean): SweepStatus {
  if (interrupted) return 'interrupted';
  if (aborted) return 'aborted';
  return counts.failed + counts.unreachable + counts.skipped + counts.interrupted > 0 ? 'failed' : 'ok';
}

export async function runSweep(options: SweepOptions, plan: SweepPlan = planSweep(options.inventory, options.selection)): Promise<SweepSummary> {
  const { inventory, resumeFrom } = options;
  const sweepId = resumeFrom?.sweepId ?? newSweepId();
  const store = new SweepStore(inventory.resultsDir, sweepId);
  await store.init();
  if (resumeFrom) {
    for (const hostPlan of plan.hosts) for (const job of hostPlan.jobs) await store.setAsideAttempt(job.jobId);
  }
  const bundle = options.bundle ?? (await buildHelperBundle(projectBundleRoots()));
  const knownHosts = await KnownHosts.load(inventory.knownHostsFile);
  const policy: HostKeyPolicy = { knownHosts, acceptNew: options.acceptNewHostKeys };
  const connectorFor = options.connectorFor ?? ((host, p) => new SshConnector(host.name, host.connection, p));

  // Logs are appended in event order through one chain, so files read like the run.
  let logChain: Promise<void> = Promise.resolve();
  const emit: EventSink = (event: EngineEvent) => {
    options.onEvent(event);
    const json = JSON.stringify(event);
    const line = `${timestamp(event.at)} ${eventText(event)}`;
    const jobId = 'jobId' in event ? event.jobId : undefined;
    logChain = logChain
      .then(() => store.appendSweepEvent(json))
      .then(() => store.appendSweepLog(line))
      .then(() => (jobId ? store.appendJobLog(jobId, line) : undefined))
      .catch(() => undefined);
  };

  const inventorySha = createHash('sha256').update(await readFile(inventory.file)).digest('hex');
  const jobStatus = new Map<string, { jobId: string; host: string; scenario: string; status: JobStatus }>();
  for (const job of resumeFrom?.jobs ?? []) jobStatus.set(job.jobId, { ...job });
  for (const hostPlan of plan.hosts) {
    for (const job of hostPlan.jobs) jobStatus.set(job.jobId, { jobId: job.jobId, host: job.host.name, scenario: job.scenario, status: 'pending' });
  }
  const manifest: SweepManifest = {
    schema: SWEEP_SCHEMA,
    sweepId,
    inventory: { file: inventory.file, sha256: inventorySha },
    selection: resumeFrom?.selection ?? { limit: options.selection.limit, scenarios: options.selection.scenarios },
    startedAt: resumeFrom?.startedAt ?? new Date().toISOString(),
    endedAt: null,
    status: 'running',
    jobs: [...jobStatus.values()],
    counts: countStatuses([...jobStatus.values()].map((j) => j.status)),
    notes: [
      ...(resumeFrom?.notes ?? []),
      ...(resumeFrom ? [`resumed at ${new Date().toISOString()}: re-running ${plan.jobs} job(s) that had not finished ok`] : []),
      ...(resumeFrom && resumeFrom.inventory.sha256 !== inventorySha ? ['the inventory changed since this sweep started'] : []),
      ...plan.unmatched.map((term) => `--limit term ${JSON.stringify(term)} matched no host`),
    ],
    orchestrator: { ...ORCHESTRATOR },
  };
  let manifestChain: Promise<void> = store.writeSweepManifest(manifest);
  const saveManifest = () => {
    manifest.jobs = [...jobStatus.values()];
    manifest.counts = countStatuses(manifest.jobs.map((j) => j.status));
    const snapshot = structuredClone(manifest);
    manifestChain = manifestChain.then(() => store.writeSweepManifest(snapshot));
    return manifestChain;
  };

  emit({ kind: 'sweep-start', at: Date.now(), sweepId, dir: store.dir, hosts: plan.hosts.length, jobs: plan.jobs });
  const onInterrupt = () => emit({ kind: 'interrupting', at: Date.now(), reason: String((options.interrupt.reason as Error)?.message ?? options.interrupt.reason ?? 'signal') });
  options.interrupt.addEventListener('abort', onInterrupt, { once: true });

  const budget = new FailureBudgetTracker(inventory.failureBudget, plan.hosts.length);
  let aborted = false;
  const queue = new PQueue({ concurrency: Math.max(1, inventory.concurrency) });
  const jobEvents: EventSink = (event) => {
    if (event.kind === 'job-start' || event.kind === 'job-end') {
      const entry = jobStatus.get(event.jobId);
      if (entry) {
        entry.status = event.kind === 'job-start' ? 'running' : event.status;
        void saveManifest();
      }
    }
    emit(event);
  };

  const hostTasks = plan.hosts.map((hostPlan) =>
    queue.add(async () => {
      if (aborted) {
        for (const job of hostPlan.jobs) {
          const entry = jobStatus.get(job.jobId);
          if (entry) entry.status = 'skipped';
        }
        return;
      }
      const result = await runHost(hostPlan, {
        connector: connectorFor(hostPlan.host, policy),
        bundle,
        store,
        scenarios: options.scenarios ?? SCENARIOS,
        profilesDir: inventory.profilesDir,
        maxArtifactBytes: options.maxArtifactBytes ?? 8 * 1024 ** 3,
        emit: jobEvents,
        interrupt: options.interrupt,
        force: options.force,
      });
      hostPlan.jobs.forEach((job, index) => {
        const entry = jobStatus.get(job.jobId);
        if (entry) entry.status = result.statuses[index] ?? 'skipped';
      });
      if (result.failed && budget.recordFailure() && !aborted) {
        aborted = true;
        emit({ kind: 'budget-exceeded', at: Date.now(), failedHosts: budget.failedHosts, limit: budget.describe() });
      }
    }),
  );
  await Promise.all(hostTasks);
  await queue.onIdle();
  options.interrupt.removeEventListener('abort', onInterrupt);

  const interrupted = options.interrupt.aborted;
  manifest.endedAt = new Date().toISOString();
  manifest.status = sweepStatus(countStatuses([...jobStatus.values()].map((j) => j.status)), interrupted, aborted);
  if (aborted) manifest.notes.push(`failure budget (${budget.describe()}) exceeded after ${budget.failedHosts} failed host(s)`);
  await saveManifest();
  const counts = manifest.counts;
  emit({ kind: 'sweep-end', at: Date.now(), sweepId, dir: store.dir, status: manifest.status, counts });
  await logChain;
  const exitCode: SweepExitCode = interrupted ? 130 : manifest.status === 'ok' ? 0 : 1;
  return { sweepId, dir: store.dir, status: manifest.status, counts, exitCode, jobs: manifest.jobs };
}

/**
 * The jobs of an earlier sweep that did not finish ok, planned from the current
 * inventory with the sweep's own selection. Jobs the inventory no longer has are
 * reported in `missing`.
 */
export function planResume(inventory: Inventory, prior: SweepManifest): { plan: SweepPlan; missing: string[] } {
  const unfinished = new Set(prior.jobs.filter((job) => job.status !== 'ok').map((job) => job.jobId));
  const full = planSweep(inventory, prior.selection);
  const hosts = full.hosts
    .map((hostPlan) => ({ ...hostPlan, jobs: hostPlan.jobs.filter((job) => unfinished.has(job.jobId)) }))
    .filter((hostPlan) => hostPlan.jobs.length > 0);
  const planned = new Set(hosts.flatMap((h) => h.jobs.map((j) => j.jobId)));
  return {
    plan: { hosts, jobs: planned.size, unmatched: [] },
    missing: [...unfinished].filter((jobId) => !planned.has(jobId)),
  };
}

// A sweep: plan the jobs, run hosts in parallel (p-queue, up to the inventory's
// concurrency; one job at a time per host), respect the failure budget and interrupts,
// and keep the sweep manifest current so a crash leaves an accurate record.
//
// When the results store cannot be written (a full disk, above all) the sweep starts no
// more hosts, lets the running ones end, then gives back the space it set aside at the start
// and uses it to close every record it left open: no `running` state stays behind.
import { DEFAULTS } from '../inventory/defaults.js';
import PQueue from 'p-queue';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import type { HostSpec, Inventory } from '../inventory/types.js';
import type { Connector } from '../connectors/types.js';
import { connectorFor as openConnector, type HostKeyPolicy } from '../connectors/open-connector.js';
import { KnownHosts } from '../connectors/ssh/known-hosts.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import { hostBundles } from '../bundle/scenario-bundles.js';
import { SWEEP_SCHEMA, type JobCounts, type JobStatus, type SweepManifest, type SweepStatus } from '../results/manifest.js';
import { SweepStore, newSweepId } from '../results/store.js';
import { isNoSpaceError, writeJsonAtomicallySync } from '../results/atomic-write.js';
import { MIN_FREE_BYTES, freeBytes } from '../results/results-dir.js';
import { ORCHESTRATOR } from '../version.js';
import { SCENARIOS, type ScenarioRegistry } from '../scenarios/registry.js';
import type { EngineEvent, EventSink } from './events.js';
import { sweepEventLog } from './sweep-event-log.js';
import { FailureBudgetTracker } from './failure-budget.js';
import { planSweep, type JobPlan, type Selection, type SweepPlan } from './plan.js';
import { runHost } from './run-host.js';
import { baseManifest } from './run-job.js';

export interface SweepOptions {
  inventory: Inventory;
  selection: Selection;
  acceptNewHostKeys: boolean;
  /** First Ctrl-C / SIGTERM. */
  interrupt: AbortSignal;
  /** Second one: teardowns are stopped too. */
  force: AbortSignal;
  /**
   * Every event of the sweep; also written to events.jsonl and sweep.log, except `store-problem`
   * (the first write the store could not make: told at once, and the sweep then starts nothing new).
   */
  onEvent: EventSink;
  bundle?: HelperBundle;
  /** The scenarios jobs may name (default: every scenario this build ships). */
  scenarios?: ScenarioRegistry;
  /** Re-run the jobs of this earlier sweep that did not finish ok, into the same sweep. */
  resumeFrom?: SweepManifest;
  /** Per-job cap on collected artifact bytes (default 8 GiB). */
  maxArtifactBytes?: number;
  connectorFor?: (host: HostSpec, policy: HostKeyPolicy) => Connector;
  /** No host starts with less free space than this under the results directory (default MIN_FREE_BYTES). */
  minFreeBytes?: number;
  /**
   * Handed, once the sweep has a record, a synchronous function that marks it interrupted
   * with a note (for a process that must exit at once: the third Ctrl-C). It returns whether
   * it did: once the sweep has written its final record it leaves it alone.
   */
  registerExitRecord?: (record: (note: string) => boolean) => void;
}

export interface SweepSummary {
  sweepId: string;
  dir: string;
  status: SweepStatus;
  counts: JobCounts;
  jobs: SweepManifest['jobs'];
  /** The interrupt came (first Ctrl-C / SIGTERM) before the sweep ended. */
  interrupted: boolean;
  /** Why the results store stopped the sweep, when it did. */
  storeProblem?: string;
  /** Whether the final sweep.json was written (false: it still shows an earlier state). */
  recorded: boolean;
}

/** The store could not be written before anything started (nothing was contacted). */
export class SweepStoreError extends Error {
  override readonly name = 'SweepStoreError';
}

function storeProblemText(path: string, error: Error): string {
  return isNoSpaceError(error) ? `the results disk is full (${error.message}; writing ${path})` : `cannot write ${path}: ${error.message}`;
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
  // The first write the store could not make; from then on no host starts.
  let storeProblem: string | undefined;
  const noteStoreProblem = (problem: string) => {
    if (storeProblem !== undefined) return;
    storeProblem = problem;
    options.onEvent({ kind: 'store-problem', at: Date.now(), problem });
  };
  const store = new SweepStore(inventory.resultsDir, sweepId, { onWriteError: (path, error) => noteStoreProblem(storeProblemText(path, error)) });
  try {
    await store.init();
    await store.reserveSpace();
    if (resumeFrom) {
      for (const hostPlan of plan.hosts) for (const job of hostPlan.jobs) await store.setAsideAttempt(job.jobId);
    }
  } catch (error) {
    await store.releaseSpace().catch(() => undefined);
    if (!resumeFrom) await rm(store.dir, { recursive: true, force: true }).catch(() => undefined);
    throw new SweepStoreError(storeProblem ?? `cannot prepare ${store.dir}: ${(error as Error).message}`);
  }
  try {
    return await runStarted(options, plan, store, () => storeProblem, noteStoreProblem);
  } catch (error) {
    // A new sweep that could not write its first record leaves no empty directory behind.
    if (error instanceof SweepStoreError && !resumeFrom) await rm(store.dir, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  } finally {
    await store.releaseSpace().catch(() => undefined);
  }
}

async function runStarted(
  options: SweepOptions,
  plan: SweepPlan,
  store: SweepStore,
  storeProblemNow: () => string | undefined,
  noteStoreProblem: (problem: string) => void,
): Promise<SweepSummary> {
  const { inventory, resumeFrom } = options;
  const { sweepId } = store;
  // Each host's bundle carries the helpers of the scenarios it runs (bundle/helper-selection.ts),
  // one build per distinct selection. Built while the hosts connect (each waits for its own after
  // its handshake): reading, packing and hashing the helpers take about 30 ms that no host needs to
  // wait for before it is reached. A build that fails fails its hosts' jobs with its reason
  // (run-host.ts), as a push would.
  const registry = options.scenarios ?? SCENARIOS;
  const bundleFor = hostBundles(registry, options.bundle);
  const bundles = new Map(plan.hosts.map((hostPlan) => [hostPlan, bundleFor(hostPlan.jobs.map((job) => job.scenario))]));
  // (the hosts await them; this only keeps a failed build that no host waited for, all of them skipped, from ending the process)
  for (const bundle of bundles.values()) bundle.catch(() => undefined);
  const knownHosts = await KnownHosts.load(inventory.knownHostsFile);
  const policy: HostKeyPolicy = { knownHosts, acceptNew: options.acceptNewHostKeys };
  const connectorFor = options.connectorFor ?? openConnector;

  // Logs are appended in event order through one chain, so files read like the run.
  const log = sweepEventLog(store);
  const emit: EventSink = (event: EngineEvent) => {
    options.onEvent(event);
    log.append(event);
  };

  const inventorySha = createHash('sha256').update(await readFile(inventory.file)).digest('hex');
  const jobStatus = new Map<string, { jobId: string; host: string; scenario: string; status: JobStatus }>();
  // Jobs of a resumed sweep that are not re-run (gone from the inventory) keep their status,
  // except that one a killed sweep left `running` or `pending` did not finish and says so.
  const leftOver = { running: 'interrupted', pending: 'skipped' } as const;
  for (const job of resumeFrom?.jobs ?? []) {
    jobStatus.set(job.jobId, { ...job, status: job.status === 'running' || job.status === 'pending' ? leftOver[job.status] : job.status });
  }
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
  try {
    await store.writeSweepManifest(manifest);
  } catch (error) {
    throw new SweepStoreError(storeProblemNow() ?? (error as Error).message);
  }
  // Each write is queued after the last; one that fails is noted (by the store) and the next is still
  // tried. A save while a write is queued (not started) joins it: that write takes the record as it
  // is when it starts, so it holds this save's state too. Jobs starting and ending together (a
  // sweep's first and last seconds) then cost one durable write of the record, not one each.
  let manifestChain: Promise<boolean> = Promise.resolve(true);
  let queued: Promise<boolean> | undefined;
  const saveManifest = (): Promise<boolean> => {
    if (queued) return queued;
    const write = () => {
      queued = undefined;
      manifest.jobs = [...jobStatus.values()];
      manifest.counts = countStatuses(manifest.jobs.map((j) => j.status));
      return store.writeSweepManifest(structuredClone(manifest)).then(() => true, () => false);
    };
    queued = manifestChain = manifestChain.then(write);
    return queued;
  };

  // The third Ctrl-C exits at once: what is in memory is written synchronously first.
  let finalWritten = false;
  options.registerExitRecord?.((note) => {
    if (finalWritten) return false;
    for (const entry of jobStatus.values()) {
      if (entry.status === 'running') {
        entry.status = 'interrupted';
        try {
          store.closeJobRecordSync(entry.jobId, 'interrupted', { kind: 'interrupted', message: note });
        } catch {
          // the sweep record below still says so
        }
      } else if (entry.status === 'pending') entry.status = 'skipped';
    }
    manifest.jobs = [...jobStatus.values()];
    manifest.counts = countStatuses(manifest.jobs.map((j) => j.status));
    manifest.status = 'interrupted';
    manifest.endedAt = new Date().toISOString();
    manifest.notes.push(note);
    let written = false;
    try {
      writeJsonAtomicallySync(store.sweepManifestPath, manifest);
      written = true;
    } catch {
      // nothing more can be done on the way out; --resume still reads the last record
    }
    try {
      store.releaseSpaceSync();
    } catch {
      // the next sweep into this results directory reuses it
    }
    return written;
  });

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

  const minFree = options.minFreeBytes ?? MIN_FREE_BYTES;
  const spaceLeft = async () => {
    const free = await freeBytes(store.dir).catch(() => Infinity);
    if (free < minFree) {
      noteStoreProblem(`the results disk is nearly full (${(free / 1024 ** 2).toFixed(1)} MiB free under ${inventory.resultsDir}, below the ${(minFree / 1024 ** 2).toFixed(0)} MiB floor)`);
    }
  };
  // Jobs whose record the store could not finish: closed after the hosts are done.
  const unrecorded = new Map<string, { job: JobPlan; reason: string }>();

  const hostTasks = plan.hosts.map((hostPlan) =>
    queue.add(async () => {
      if (!aborted && storeProblemNow() === undefined) await spaceLeft();
      if (aborted || storeProblemNow() !== undefined) {
        for (const job of hostPlan.jobs) {
          const entry = jobStatus.get(job.jobId);
          if (entry) entry.status = 'skipped';
        }
        return;
      }
      let failed: boolean;
      try {
        const result = await runHost(hostPlan, {
          connector: connectorFor(hostPlan.host, policy),
          bundle: bundles.get(hostPlan)!,
          store,
          scenarios: registry,
          profilesDir: inventory.profilesDir,
          maxArtifactBytes: options.maxArtifactBytes ?? inventory.maxArtifactBytes ?? DEFAULTS.maxArtifactBytes,
          emit: jobEvents,
          interrupt: options.interrupt,
          force: options.force,
        });
        hostPlan.jobs.forEach((job, index) => {
          const entry = jobStatus.get(job.jobId);
          if (entry) entry.status = result.statuses[index] ?? 'skipped';
        });
        failed = result.failed;
      } catch (error) {
        // runHost records every job's outcome itself and throws only when even that could not
        // be written: the job it was on failed for that reason, the ones after it never started.
        const reason = storeProblemNow() ?? `internal error: ${(error as Error).message}`;
        let current = true;
        for (const job of hostPlan.jobs) {
          const entry = jobStatus.get(job.jobId);
          if (!entry || (entry.status !== 'pending' && entry.status !== 'running')) continue;
          if (current) unrecorded.set(job.jobId, { job, reason });
          entry.status = current ? 'failed' : 'skipped';
          current = false;
        }
        failed = true;
      }
      if (failed && budget.recordFailure() && !aborted) {
        aborted = true;
        emit({ kind: 'budget-exceeded', at: Date.now(), failedHosts: budget.failedHosts, limit: budget.describe() });
      }
    }),
  );
  await Promise.all(hostTasks);
  await queue.onIdle();
  options.interrupt.removeEventListener('abort', onInterrupt);

  const storeProblem = storeProblemNow();
  if (storeProblem !== undefined) {
    // The space set aside at the start now holds the final records.
    await store.releaseSpace().catch(() => undefined);
    for (const { job, reason } of unrecorded.values()) {
      await store
        .closeJobRecord(job.jobId, 'failed', { kind: 'results-store', message: reason }, baseManifest(job, sweepId, 'failed'))
        .catch(() => undefined);
    }
  }
  const interrupted = options.interrupt.aborted;
  manifest.endedAt = new Date().toISOString();
  manifest.status = sweepStatus(countStatuses([...jobStatus.values()].map((j) => j.status)), interrupted, aborted || storeProblem !== undefined);
  if (aborted) manifest.notes.push(`failure budget (${budget.describe()}) exceeded after ${budget.failedHosts} failed host(s)`);
  if (storeProblem !== undefined) {
    const skipped = [...jobStatus.values()].filter((j) => j.status === 'skipped').length;
    manifest.notes.push(
      `stopped: ${storeProblem}; no host started after that` +
        (unrecorded.size > 0 ? `; ${unrecorded.size} job(s) whose results could not be written are marked failed` : '') +
        (skipped > 0 ? `; ${skipped} job(s) skipped` : '') +
        `; free space, then --resume ${sweepId}`,
    );
  }
  const recorded = await saveManifest();
  finalWritten = true;
  const counts = manifest.counts;
  emit({ kind: 'sweep-end', at: Date.now(), sweepId, dir: store.dir, status: manifest.status, counts });
  await log.written();
  return {
    sweepId,
    dir: store.dir,
    status: manifest.status,
    counts,
    jobs: manifest.jobs,
    interrupted,
    recorded,
    ...(storeProblem !== undefined ? { storeProblem } : {}),
  };
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

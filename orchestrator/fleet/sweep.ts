// The sweep as one engine call: check the results directory, take the sweep lock, run the jobs
// (run-sweep.ts), do what comes after them (finish-sweep.ts: regressions, report site, publishing,
// alerts, retention), release the lock, and return what happened as a typed outcome. Every step
// reports through typed events (events.ts); the engine never prints or exits. The CLI renders the
// events and the outcome and maps the outcome to an exit status (cli/exit-codes.ts).
import type { Inventory } from '../inventory/types.js';
import type { JobCounts, SweepManifest, SweepStatus } from '../results/manifest.js';
import { checkResultsDir, ResultsDirError } from '../results/results-dir.js';
import type { EventSink } from './events.js';
import { finishSweep, type FinishOptions, type FinishResult } from './finish-sweep.js';
import type { Selection, SweepPlan } from './plan.js';
import { runSweep, SweepStoreError, type SweepOptions } from './run-sweep.js';
import { acquireSweepLock, SweepLockedError, type LockHolder, type SweepLock } from './sweep-lock.js';

export interface SweepRequest {
  inventory: Inventory;
  selection: Selection;
  plan: SweepPlan;
  /** Re-run the jobs of this earlier sweep that did not finish ok, into the same sweep. */
  resumeFrom?: SweepManifest;
  acceptNewHostKeys: boolean;
  /** Build the report site after the jobs (default true). */
  report?: boolean;
  /** Publish it when the inventory names a reports host (default true). */
  publish?: boolean;
  /** First Ctrl-C / SIGTERM: phases stop, teardowns run, nothing more starts, no report. */
  interrupt: AbortSignal;
  /** Second one: teardowns are stopped too. */
  force: AbortSignal;
  /**
   * Handed, once the lock is held, a synchronous function for a process that must exit at once
   * (the third Ctrl-C): it marks the sweep's record interrupted with `note` (when the sweep has a
   * record it has not finished) and releases the lock; it returns whether the record was marked.
   */
  onExitNow?: (exitNow: (note: string) => boolean) => void;
  /** Test seams: what runSweep and finishSweep take beyond the above. */
  run?: Pick<SweepOptions, 'bundle' | 'scenarios' | 'maxArtifactBytes' | 'connectorFor' | 'minFreeBytes'>;
  finish?: Pick<FinishOptions, 'rerun' | 'alertEnv'>;
}

/** What a sweep that started recorded (sweep.json): its id, directory, status and jobs. */
export interface SweepRecord {
  sweepId: string;
  dir: string;
  status: SweepStatus;
  counts: JobCounts;
  jobs: SweepManifest['jobs'];
}

export type SweepOutcome =
  /** The results directory cannot be used, or the lock could not be taken for another reason: nothing was contacted. */
  | { kind: 'refused'; message: string }
  /** Another sweep into the same results directory holds the lock: nothing was started. */
  | { kind: 'locked'; message: string; holder?: LockHolder }
  /** The results store could not be written before any host was contacted. */
  | { kind: 'store-unwritable'; message: string }
  /** Interrupted (Ctrl-C / SIGTERM): partial results kept and marked; no report. `sweep` is absent when it came before the sweep started. */
  | { kind: 'interrupted'; sweep?: SweepRecord }
  /** The results store could not be written during the sweep: no host started after that, no report. */
  | { kind: 'store-problem'; sweep: SweepRecord; problem: string; recorded: boolean }
  /** The jobs ran to the end (`sweep.status` says how they went) and the steps after them ran. */
  | { kind: 'completed'; sweep: SweepRecord; finish: FinishResult };

export async function sweep(request: SweepRequest, emit: EventSink): Promise<SweepOutcome> {
  const { inventory } = request;
  try {
    await checkResultsDir(inventory.resultsDir);
  } catch (error) {
    if (error instanceof ResultsDirError) return { kind: 'refused', message: error.message };
    throw error;
  }
  let lock: SweepLock;
  try {
    lock = await acquireSweepLock(inventory.resultsDir, inventory.file, {
      onCompromised: (error) => emit({ kind: 'lock-compromised', at: Date.now(), message: error.message }),
    });
  } catch (error) {
    if (error instanceof SweepLockedError) return { kind: 'locked', message: error.message, ...(error.holder ? { holder: error.holder } : {}) };
    return { kind: 'refused', message: `results directory ${inventory.resultsDir}: cannot take the sweep lock: ${(error as Error).message}` };
  }
  let markRecord: ((note: string) => boolean) | undefined;
  request.onExitNow?.((note) => {
    const marked = markRecord?.(note) ?? false;
    lock.releaseSync();
    return marked;
  });
  try {
    if (request.interrupt.aborted) return { kind: 'interrupted' };
    let summary;
    try {
      summary = await runSweep(
        {
          ...request.run,
          inventory,
          selection: request.selection,
          acceptNewHostKeys: request.acceptNewHostKeys,
          interrupt: request.interrupt,
          force: request.force,
          onEvent: emit,
          registerExitRecord: (record) => (markRecord = record),
          ...(request.resumeFrom ? { resumeFrom: request.resumeFrom } : {}),
        },
        request.plan,
      );
    } catch (error) {
      if (error instanceof SweepStoreError) return { kind: 'store-unwritable', message: error.message };
      throw error;
    }
    const record: SweepRecord = { sweepId: summary.sweepId, dir: summary.dir, status: summary.status, counts: summary.counts, jobs: summary.jobs };
    // An interrupt that came as the jobs ended still skips the report.
    if (summary.interrupted || request.interrupt.aborted) return { kind: 'interrupted', sweep: record };
    if (summary.storeProblem !== undefined) return { kind: 'store-problem', sweep: record, problem: summary.storeProblem, recorded: summary.recorded };
    const finish = await finishSweep({
      ...request.finish,
      inventory,
      sweepId: summary.sweepId,
      sweepDir: summary.dir,
      report: request.report !== false,
      publish: request.publish !== false,
      acceptNewHostKeys: request.acceptNewHostKeys,
      emit,
      interrupt: request.interrupt,
      force: request.force,
    });
    return { kind: 'completed', sweep: record, finish };
  } finally {
    await lock.release().catch(() => undefined);
  }
}

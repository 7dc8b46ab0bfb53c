// A sweep's logs, written in event order through one chain: each event as a JSON line in
// events.jsonl, as a text line in sweep.log and, for a job's event, in that job's log. The jobs
// (run-sweep.ts), the confirmation re-runs (confirm-reruns.ts) and the steps after the jobs
// (finish-sweep.ts) each keep one. A write that fails is the store's to report (its onWriteError);
// the log goes on with the next event.
import type { SweepStore } from '../results/store.js';
import { eventText, timestamp } from './event-text.js';
import type { EngineEvent } from './events.js';

export interface SweepEventLog {
  /** Queues the event; `marks` are added to its JSON line only (a re-run's `rerun: true`). */
  append(event: EngineEvent, marks?: Record<string, unknown>): void;
  /** Resolves once every event appended so far is written (or failed). */
  written(): Promise<void>;
}

export function sweepEventLog(store: Pick<SweepStore, 'appendSweepEvent' | 'appendSweepLog' | 'appendJobLog'>): SweepEventLog {
  let chain: Promise<void> = Promise.resolve();
  return {
    append(event, marks) {
      const json = JSON.stringify(marks ? { ...event, ...marks } : event);
      const line = `${timestamp(event.at)} ${eventText(event)}`;
      const jobId = 'jobId' in event ? event.jobId : undefined;
      chain = chain
        .then(() => store.appendSweepEvent(json))
        .then(() => store.appendSweepLog(line))
        .then(() => (jobId ? store.appendJobLog(jobId, line) : undefined))
        .catch(() => undefined);
    },
    written: () => chain,
  };
}

// A sweep's logs, written in event order through one chain: each event as a JSON line in
// events.jsonl, as a text line in sweep.log and, for a job's event, in that job's log. The jobs
// (run-sweep.ts), the confirmation re-runs (confirm-reruns.ts) and the steps after the jobs
// (finish-sweep.ts) each keep one. A write that fails is the store's to report (its onWriteError);
// the log goes on with the next event.
//
// Events that come while a write is on its way wait for it together, as one batch: each file then
// gets the batch's lines in one append (whole lines or nothing, appendWhole), instead of an open,
// fstat, write and close per event and file. The files of one batch are written side by side;
// batches one after the other, so each file keeps the events' order.
import type { SweepStore } from '../results/store.js';
import { eventText, timestamp } from './event-text.js';
import type { EngineEvent } from './events.js';

export interface SweepEventLog {
  /** Queues the event; `marks` are added to its JSON line only (a re-run's `rerun: true`). */
  append(event: EngineEvent, marks?: Record<string, unknown>): void;
  /** Resolves once every event appended so far is written (or failed). */
  written(): Promise<void>;
}

/** Lines waiting for their write: the sweep's JSON and text lines, and each job's text lines. */
interface Batch {
  json: string[];
  text: string[];
  jobs: Map<string, string[]>;
}

export function sweepEventLog(store: Pick<SweepStore, 'appendSweepEvent' | 'appendSweepLog' | 'appendJobLog'>): SweepEventLog {
  let chain: Promise<void> = Promise.resolve();
  /** The batch not yet being written: new events join it. */
  let open: Batch | undefined;
  const quietly = (write: Promise<void>) => write.catch(() => undefined);
  const write = async (batch: Batch) => {
    await Promise.all([
      quietly(store.appendSweepEvent(batch.json.join('\n'))),
      quietly(store.appendSweepLog(batch.text.join('\n'))),
      ...[...batch.jobs].map(([jobId, lines]) => quietly(store.appendJobLog(jobId, lines.join('\n')))),
    ]);
  };
  return {
    append(event, marks) {
      if (!open) {
        const batch: Batch = { json: [], text: [], jobs: new Map() };
        open = batch;
        chain = chain.then(() => {
          // From here on, new events go to the next batch.
          if (open === batch) open = undefined;
          return write(batch);
        }).catch(() => undefined);
      }
      const line = `${timestamp(event.at)} ${eventText(event)}`;
      open.json.push(JSON.stringify(marks ? { ...event, ...marks } : event));
      open.text.push(line);
      const jobId = 'jobId' in event ? event.jobId : undefined;
      if (jobId) {
        const lines = open.jobs.get(jobId);
        if (lines) lines.push(line);
        else open.jobs.set(jobId, [line]);
      }
    },
    written: () => chain,
  };
}

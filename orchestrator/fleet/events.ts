// The engine's events: a union tagged by kind. The engine never prints; the CLI renders
// these (live progress on a terminal, plain lines otherwise) and the store logs them.
//
// Fields that carry a host's text, raw here (events.jsonl keeps them as JSON) and made inert by
// every text rendering (event-text.ts, ../cli/render-tty.ts, through ../inert-text.ts):
//   wholly the host's:  phase-progress.message, phase-log.level, phase-log.message, protocol-error.line
//   partly the host's:  host-unreachable.message (an SSH server's disconnect text), phase-end.error
//                       (agent stderr, lost reason), reconnecting.error, protocol-error.problem,
//                       collected.error (collect stderr), job-end.errors (all of the above)
//   after the jobs:    rerun.event (a re-run's job event, as above), site-progress.message and
//                       publish-progress.message (may quote a reports host's words), the *-failed
//                       events' error (may quote a host's stderr)
// A new field that can hold host text belongs in this list and in event-text.ts's formatter.
//
// The sweep as one engine call (sweep.ts) emits these from the lock to the last step after the
// jobs (finish-sweep.ts): the jobs' events (sweep-start .. sweep-end), then findings, candidates,
// the report site, publishing, drop-off, alerts and retention. Events whose fact the summary
// reports at the end (REPORTED_AT_END in event-text.ts) are logged, not shown live.
import type { Candidate } from '../analysis/findings.js';
import type { AlertOutcome } from '../alerts/send-alerts.js';
import type { ConnectFailure } from '../connectors/connect-errors.js';
import type { JobCounts, JobStatus, SweepStatus } from '../results/manifest.js';
import type { PhaseStatus } from '../remote/run-phase.js';
import type { CollectStatus } from '../remote/collect-artifacts.js';

interface At {
  /** Milliseconds since the epoch. */
  at: number;
}
interface OnJob extends At {
  host: string;
  jobId: string;
}
interface OnPhase extends OnJob {
  phase: string;
}

export type EngineEvent =
  | (At & { kind: 'sweep-start'; sweepId: string; dir: string; hosts: number; jobs: number })
  | (At & { kind: 'host-connect'; host: string })
  | (At & { kind: 'host-ready'; host: string; connectMs: number; bundleUploaded: boolean; bundleBytes: number })
  /** The host's cached helper bundle was not genuine (`file` and `problem` come from the host). */
  | (At & { kind: 'bundle-repaired'; host: string; hash: string; file: string; problem: string })
  | (At & { kind: 'host-unreachable'; host: string; failure: ConnectFailure; message: string })
  | (OnJob & { kind: 'job-start'; scenario: string })
  | (OnJob & { kind: 'job-files'; files: number; uploaded: number; bytes: number; durationMs: number })
  | (OnPhase & { kind: 'phase-start' })
  | (OnPhase & { kind: 'phase-progress'; message: string; fraction?: number })
  | (OnPhase & { kind: 'phase-log'; level: string; message: string })
  | (OnPhase & { kind: 'phase-end'; status: PhaseStatus | 'skipped'; durationMs: number; error?: string })
  | (OnPhase & { kind: 'reconnecting'; attempt: number; error: string })
  | (OnPhase & { kind: 'protocol-error'; line: string; problem: string })
  | (OnJob & { kind: 'collected'; status: CollectStatus; files: number; bytes: number; error?: string })
  | (OnJob & { kind: 'job-end'; status: JobStatus; errors: string[] })
  | (At & { kind: 'budget-exceeded'; failedHosts: number; limit: string })
  | (At & { kind: 'interrupting'; reason: string })
  | (At & { kind: 'sweep-end'; sweepId: string; dir: string; status: SweepStatus; counts: JobCounts })
  /** The first write the results store could not make: no host starts from now on (not logged: the store is failing). */
  | (At & { kind: 'store-problem'; problem: string })
  /** The sweep lock was lost or could not be refreshed while the sweep ran. */
  | (At & { kind: 'lock-compromised'; message: string })
  // After the jobs (finish-sweep.ts).
  /** A remark of the regression check (a rebuilt paging record, earlier findings unreadable). */
  | (At & { kind: 'analysis-note'; message: string })
  /** Confirmation re-runs of a host's regression candidates are starting. */
  | (At & { kind: 'confirming'; host: string; candidates: number; reruns: { jobId: string; count: number }[] })
  /** A confirmation re-run's job start or end, or its host unreachable (all its events are in events.jsonl, marked `rerun`). */
  | (At & { kind: 'rerun'; event: EngineEvent })
  /** What the regression check decided (findings.json). */
  | (At & { kind: 'findings'; confirmed: number; notReproduced: number; unconfirmed: number; pagedUnconfirmed: number; stillPresent: number; comparable: boolean })
  /** A candidate the sweep pages, or one it does not (not reproduced, unconfirmed). */
  | (At & { kind: 'regression-candidate'; candidate: Candidate; newlyPaged: boolean })
  | (At & { kind: 'analysis-failed'; error: string })
  /** The regression check stands, but one of its records could not be kept. */
  | (At & { kind: 'record-problem'; message: string })
  | (At & { kind: 'site-progress'; message: string })
  | (At & { kind: 'site-built'; dir: string; pagesWritten: number; pagesUnchanged: number })
  | (At & { kind: 'site-failed'; error: string })
  | (At & { kind: 'publish-progress'; message: string })
  | (At & { kind: 'published'; host: string; releaseId: string; uploadedFiles: number; url?: string })
  | (At & { kind: 'publish-failed'; host: string; error: string })
  | (At & { kind: 'dropped-off'; host: string; archive: string; marker: string })
  | (At & { kind: 'drop-off-failed'; host: string; incoming: string; error: string })
  | (At & { kind: 'alert-sent'; outcome: AlertOutcome; regressions: number })
  /** Retention ran: raw artifacts of `jobs` jobs removed. */
  | (At & { kind: 'pruned'; jobs: number; bytes: number })
  | (At & { kind: 'prune-failed'; error: string });

export type EngineEventKind = EngineEvent['kind'];
export type EventOf<K extends EngineEventKind> = Extract<EngineEvent, { kind: K }>;
export type EventSink = (event: EngineEvent) => void;

// The engine's events: a union tagged by kind. The engine never prints; the CLI renders
// these (live progress on a terminal, plain lines otherwise) and the store logs them.
//
// Fields that carry a host's text, raw here (events.jsonl keeps them as JSON) and made inert by
// every text rendering (event-text.ts, ../cli/render-tty.ts, through ../inert-text.ts):
//   wholly the host's:  phase-progress.message, phase-log.level, phase-log.message, protocol-error.line
//   partly the host's:  host-unreachable.message (an SSH server's disconnect text), phase-end.error
//                       (agent stderr, lost reason), reconnecting.error, protocol-error.problem,
//                       collected.error (collect stderr), job-end.errors (all of the above)
// A new field that can hold host text belongs in this list and in event-text.ts's formatter.
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
  | (At & { kind: 'sweep-end'; sweepId: string; dir: string; status: SweepStatus; counts: JobCounts });

export type EngineEventKind = EngineEvent['kind'];
export type EventOf<K extends EngineEventKind> = Extract<EngineEvent, { kind: K }>;
export type EventSink = (event: EngineEvent) => void;

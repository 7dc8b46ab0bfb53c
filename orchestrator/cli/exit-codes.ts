// Exit statuses of `orchestrate`, as documented in the README, and the one mapping from a
// sweep's outcome (fleet/sweep.ts) to its exit status.
import type { SweepOutcome } from '../fleet/sweep.js';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Every job ok, but the sweep revealed a new regression (cron can alert on it). */
  regression: 3,
  /** The results store could not be written during the sweep, e.g. the disk filled (EX_IOERR). */
  storeFailed: 74,
  /** Another sweep into the same results directory holds the lock (EX_TEMPFAIL: try again later). */
  locked: 75,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * A sweep's exit status: 2 refused (nothing contacted), 75 locked, 74 the store could not be
 * written, 130 interrupted; once it completed, 1 when a job did not finish ok or a step after the
 * jobs failed (report, publish, drop-off, retention, the regression check's records), 3 when every
 * job is ok and the sweep pages a new regression, else 0. A failed alert never changes it.
 */
export function sweepExitCode(outcome: SweepOutcome): ExitCode {
  switch (outcome.kind) {
    case 'refused':
      return EXIT.usage;
    case 'locked':
      return EXIT.locked;
    case 'store-unwritable':
    case 'store-problem':
      return EXIT.storeFailed;
    case 'interrupted':
      return EXIT.interrupted;
    case 'completed':
      if (outcome.sweep.status !== 'ok') return EXIT.failed;
      if (outcome.finish.problems.length > 0) return EXIT.failed;
      if (outcome.finish.newRegressions.length > 0) return EXIT.regression;
      return EXIT.ok;
  }
}

/** Print `message` on stderr and exit with `code` (usage errors and refusals before any work). */
export function exitWith(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

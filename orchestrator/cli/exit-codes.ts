// Exit statuses of `orchestrate`, as documented in the README.
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

/** Print `message` on stderr and exit with `code` (usage errors and refusals before any work). */
export function exitWith(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

// Exit statuses of `orchestrate`, as documented in the README.
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Every job ok, but the sweep revealed a new regression (cron can alert on it). */
  regression: 3,
  /** Another sweep of the same inventory holds the lock (EX_TEMPFAIL: try again later). */
  locked: 75,
  interrupted: 130,
} as const;

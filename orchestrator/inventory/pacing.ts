// Loading a large inventory is CPU work. So that a signal (Ctrl-C, SIGTERM) or an abort is
// seen while it runs, the long loops hand the event loop a turn every few milliseconds: they
// call `pacer.due()` (cheap, synchronous) and, when it says so, `await pacer.pause()`, which
// yields through setImmediate (so I/O and signal handlers run) and then throws the abort
// reason if the signal was aborted meanwhile.

/** How long a loop may keep the event loop before handing it a turn. */
export const SLICE_MS = 10;

/** How many calls of due() between two looks at the clock (hot loops call it less often still). */
const CHECK_EVERY = 64;

export class Pacer {
  private calls = 0;
  private sliceStart = performance.now();

  constructor(
    readonly signal?: AbortSignal,
    private readonly sliceMs: number = SLICE_MS,
  ) {}

  /** True when the current slice is used up (or the signal was aborted): call pause(). */
  due(): boolean {
    if (++this.calls % CHECK_EVERY !== 0) return false;
    return this.signal?.aborted === true || performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Yields to the event loop; throws the signal's reason when it was aborted. */
  async pause(): Promise<void> {
    this.signal?.throwIfAborted();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.signal?.throwIfAborted();
    this.sliceStart = performance.now();
  }

  /** pause() when due(). */
  async tick(): Promise<void> {
    if (this.due()) await this.pause();
  }
}

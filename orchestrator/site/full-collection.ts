// A full garbage collection on demand, for the points in a build where a thread knows most of
// what it allocated just became garbage. V8 schedules its next full collection at a multiple (up
// to ~4x) of the heap it found live at the last one; when that one happened mid-way through a
// burst of short-lived data, the limit stays high and the heap drifts up to it, holding garbage
// for the rest of the build. Collecting at a known quiet point sets the limit from what is really
// live.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full (mark-compact) collection of this thread's heap. */
export function collectFully(): void {
  if (!gc) {
    // V8's gc(), made visible to a fresh context only (the flag alone changes nothing else)
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

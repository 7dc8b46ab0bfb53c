// collectFully (site/full-collection.ts) runs a full collection of the calling thread's heap when
// asked: what nothing refers to any more is gone afterwards, not left for V8 to find later.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getHeapStatistics } from 'node:v8';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { collectFully } from '../../orchestrator/site/full-collection.js';

test('an object nothing refers to any more is collected by collectFully', async () => {
  let held: { rows: number[] } | undefined = { rows: Array.from({ length: 1000 }, (_, i) => i) };
  const ref = new WeakRef(held);
  held = undefined;
  // a WeakRef keeps its target for the rest of the job that made or read it
  await nextTurn();
  collectFully();
  assert.is(ref.deref(), undefined);
});

test('collectFully frees the garbage of a burst of allocations at once', async () => {
  let burst: string[][] | undefined = Array.from({ length: 200 }, (_, i) => Array.from({ length: 500 }, (_, j) => `${i}:${j}:${'x'.repeat(40)}`));
  await nextTurn();
  collectFully();
  const withBurst = getHeapStatistics().used_heap_size;
  burst = undefined;
  collectFully();
  const after = getHeapStatistics().used_heap_size;
  assert.is(burst, undefined);
  // 100,000 strings of ~45 bytes plus their arrays: several MB, all of it garbage now
  assert.ok(withBurst - after > 4 * 1024 * 1024, `freed ${withBurst - after} bytes`);
});

test.run();

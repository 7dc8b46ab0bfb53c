import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration } from '../../orchestrator/site/format.js';

test('durations round before they split: never "60 s"', () => {
  assert.is(formatDuration(null), '—');
  assert.is(formatDuration(4_321), '4.3 s');
  assert.is(formatDuration(9_960), '10 s');
  assert.is(formatDuration(59_400), '59 s');
  assert.is(formatDuration(59_600), '1 min 0 s');
  assert.is(formatDuration(27 * 60_000 + 59_700), '28 min 0 s');
  assert.is(formatDuration(64_000), '1 min 4 s');
  assert.is(formatDuration(3 * 3_600_000 + 5 * 60_000 + 40_000), '3 h 5 min');
});

test.run();

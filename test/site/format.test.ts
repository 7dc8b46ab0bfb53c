import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatDuration, formatNanoseconds, formatRate } from '../../orchestrator/site/format.js';

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

test('latencies read in the unit that fits, rounded before the unit is chosen', () => {
  assert.is(formatNanoseconds(850), '850 ns');
  assert.is(formatNanoseconds(24_361), '24.4 µs');
  assert.is(formatNanoseconds(999_600), '1 ms');
  assert.is(formatNanoseconds(24_361_268), '24.4 ms');
  assert.is(formatNanoseconds(1_204_000_000), '1.2 s');
  assert.is(formatNanoseconds(null), '—');
  assert.is(formatNanoseconds(Number.NaN), '—');
});

test('rates: whole packets per second with thousands separators; fractions only for small rates', () => {
  assert.is(formatRate(3665), '3,665 pps');
  assert.is(formatRate(2030.836), '2,031 pps');
  assert.is(formatRate(12.46), '12.5 pps');
  assert.is(formatRate(undefined), '—');
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDuration } from '../../orchestrator/inventory/durations.js';

test('numbers are seconds', () => {
  assert.is(parseDuration(30), 30_000);
  assert.is(parseDuration(0.5), 500);
  assert.is(parseDuration('45'), 45_000);
});

test('strings combine parts with the units ms, s, m, h and d', () => {
  assert.is(parseDuration('500ms'), 500);
  assert.is(parseDuration('30s'), 30_000);
  assert.is(parseDuration('10m'), 600_000);
  assert.is(parseDuration('1h30m'), 5_400_000);
  assert.is(parseDuration('1.5h'), 5_400_000);
  assert.is(parseDuration('1d2h3m4s5ms'), 86_400_000 + 7_200_000 + 180_000 + 4_000 + 5);
  assert.is(parseDuration(' 2m '), 120_000);
});

test('zero, negative, unitless garbage, spaces between parts and other types are not durations', () => {
  for (const bad of [0, -1, '0s', '-5s', '10x', '1h 30m', 'm', '', 'soon', true, null, [], {}, Number.NaN, Infinity]) {
    assert.is(parseDuration(bad), undefined, String(bad));
  }
});

test.run();

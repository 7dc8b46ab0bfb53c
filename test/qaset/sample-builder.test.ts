import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Samples, durationMs, shiftDecimal, splitRuns, withRepeats } from '../../orchestrator/qaset/sample-builder.js';
import { sample } from '../../orchestrator/results/metrics.js';

test('shiftDecimal moves the decimal point exactly, without binary rounding', () => {
  assert.is(shiftDecimal('0.0041', 3), 4.1);
  assert.is.not(0.0041 * 1000, 4.1, 'what it avoids');
  assert.is(shiftDecimal('43', -3), 0.043);
  assert.is(shiftDecimal('.5', 3), 500);
  assert.is(shiftDecimal('-1.5', 2), -150);
  assert.is(shiftDecimal('12', 0), 12);
  assert.is(shiftDecimal('x', 3), null);
  assert.is(shiftDecimal('', 3), null);
});

test('durationMs reads sysbench/bonnie time units; a bare number only with a unit given', () => {
  assert.is(durationMs('0.4121s'), 412.1);
  assert.is(durationMs('2.81ms'), 2.81);
  assert.is(durationMs('43709us'), 43.709);
  assert.is(durationMs('0.19', 'ms'), 0.19);
  assert.is(durationMs('0.19'), null);
  assert.is(durationMs('fast'), null);
});

test('splitRuns starts a run at each banner and drops what precedes the first', () => {
  assert.equal(splitRuns('noise\nB 1\na\nB 2\nb\n', /^B \d/), ['B 1\na', 'B 2\nb\n']);
  assert.equal(splitRuns('no banner\n', /^B/), ['no banner\n']);
});

test('withRepeats numbers the runs of a label set seen in several runs; label order does not matter', () => {
  const out = withRepeats([sample('m', 1, '', 'none', { a: '1', b: '2' }), sample('n', 4, '', 'none', { a: '1', b: '2' }), sample('m', 2, '', 'none', { b: '2', a: '1' }), sample('m', 3, '', 'none', { a: '9' })]);
  assert.equal(out.map((s) => [s.metric, s.labels['repeat']]), [['m', '1'], ['n', '1'], ['m', '2'], ['m', undefined]]);
  // a run lacking a metric ("+++++") does not shift the others: n of the second run stays repeat 2
  const gap = withRepeats([sample('m', 1, '', 'none', {}), sample('m', 2, '', 'none', {}), sample('n', 3, '', 'none', {})]);
  assert.equal(gap.map((s) => [s.metric, s.labels['repeat']]), [['m', '1'], ['m', '2'], ['n', '2']]);
  // a parser that marks its runs: a metric only the second run has is still that run's
  const runs = new Samples({});
  runs.newRun();
  runs.add('seq_create', 1, '', 'higher');
  runs.newRun();
  runs.add('ran_create', 2, '', 'higher');
  runs.add('latency', 3, '', 'lower');
  assert.equal(runs.list.map((x) => [x.metric, x.labels['repeat']]), [['seq_create', '1'], ['ran_create', '2'], ['latency', '2']]);
  const s = new Samples({ source: 'f' });
  s.add('m', 1, 'u', 'higher', { t: '1' });
  s.add('m', NaN, 'u', 'higher', { t: '1' });
  s.add('m', null, 'u', 'higher', { t: '1' });
  assert.is(s.size, 1, 'non-finite values are dropped');
  assert.equal(s.list[0]!.labels, { source: 'f', t: '1' });
});

test.run();

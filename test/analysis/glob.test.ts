// Metric-name globs (picomatch underneath): '*' matches any run of characters, dots and slashes
// included; every other character means itself; patterns are anchored.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { metricGlobMatcher, specificity } from '../../orchestrator/analysis/glob.js';

const matches = (pattern: string, name: string) => metricGlobMatcher(pattern)(name);

test('* matches any run of characters, dots and slashes included, or none', () => {
  assert.ok(matches('kvm.*', 'kvm.fio.iops'));
  assert.ok(matches('kvm.*', 'kvm.'));
  assert.ok(matches('*.pps', 'rx.pps'));
  assert.ok(matches('host.*.busy', 'host.cpu.0.busy'));
  assert.ok(matches('disk*', 'disk./dev/sda.util'));
  assert.ok(matches('*', 'a/b/c'));
  assert.ok(matches('a*b*c', 'a.x/b/y.c'));
  assert.ok(matches('*', '.hidden'));
  assert.ok(matches('lat*', 'lat'));
});

test('patterns are anchored at both ends', () => {
  assert.not.ok(matches('host.*', 'xhost.cpu'));
  assert.not.ok(matches('*.pps', 'rx.pps.max'));
  assert.not.ok(matches('throughput', 'throughput.pps'));
  assert.ok(matches('throughput', 'throughput'));
});

test('every character but * means itself: no ?, [], {}, !, extglob or escapes', () => {
  for (const [pattern, name, other] of [
    ['a?c', 'a?c', 'abc'],
    ['[ab]', '[ab]', 'a'],
    ['{a,b}', '{a,b}', 'a'],
    ['!x', '!x', 'y'],
    ['+(a)', '+(a)', 'a'],
    ['@(a)', '@(a)', 'a'],
    ['a.b', 'a.b', 'aXb'],
    ['a\\*', 'a\\bc', 'a*'],
    ['a\\b', 'a\\b', 'ab'],
    ['x$^|#', 'x$^|#', 'x'],
  ] as const) {
    assert.ok(matches(pattern, name), `${pattern} ~ ${name}`);
    assert.not.ok(matches(pattern, other), `${pattern} !~ ${other}`);
  }
});

test('specificity: an exact name first, then the most characters besides *', () => {
  assert.is(specificity('throughput.pps'), Number.POSITIVE_INFINITY);
  assert.is(specificity('host.cpu.busy.*'), 14);
  assert.is(specificity('*.pps'), 4);
  assert.is(specificity('*'), 0);
});

test.run();

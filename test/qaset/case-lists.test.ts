import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseListFailed, parseRunList } from '../../orchestrator/qaset/case-lists.js';

test('list.failed as real QASET writes it (" <case>": date(1) got no "+") and as a fixed one would', () => {
  const { failed, problems } = parseListFailed(' dbench4_async_xfs\n20261122T061000 sysbench_sys\n\n dbench4_async_xfs\n');
  assert.equal(failed, [
    { case: 'dbench4_async_xfs', at: null, line: 1 },
    { case: 'sysbench_sys', at: '2026-11-22T06:10:00', line: 2 },
    { case: 'dbench4_async_xfs', at: null, line: 4 },
  ]);
  assert.equal(problems, []);
});

test('list.failed lines that are not "[stamp] <case>" are problems, with the line, never cases', () => {
  const { failed, problems } = parseListFailed('two words\n x;reboot\n ok_case\n');
  assert.equal(failed, [{ case: 'ok_case', at: null, line: 3 }]);
  assert.equal(problems.map((p) => [p.line, p.text]), [[1, 'two words'], [2, ' x;reboot']]);
});

test('run list: the SQ_TEST_RUN_LIST array, quotes, comments and several lines; += appends; hostile words refused', () => {
  const text = [
    '# written by the orchestrator',
    'SQ_TEST_RUN_LIST=(',
    '  _reboot_off   # no reboots',
    '  "sysbench_sys" \'dbench4_async_xfs\'',
    '  bonniepp_async_xfs',
    ')',
    'SQ_TEST_RUN_LIST+=( kernbench )',
  ].join('\n');
  assert.equal(parseRunList(text), { cases: ['_reboot_off', 'sysbench_sys', 'dbench4_async_xfs', 'bonniepp_async_xfs', 'kernbench'], problems: [] });
  const bad = parseRunList('SQ_TEST_RUN_LIST=( ok $(reboot) )\n')!;
  assert.equal(bad.cases, ['ok']);
  assert.equal(bad.problems.map((p) => [p.line, p.text]), [[1, '$(reboot']]);
  assert.is(parseRunList('SQ_TEST_RUN_SET=performance\n'), null);
  assert.match(parseRunList('SQ_TEST_RUN_LIST=( a b\n')!.problems[0]!.reason, /closing parenthesis/);
});

test.run();

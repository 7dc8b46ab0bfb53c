// Each permutation test is a function of the segment it tests (its shuffles seeded by the
// segment's values), so its p-value does not depend on what came before it in the history, and
// a memo of p-values changes nothing but how many tests are run: night by night, only the
// segments that reach the newest points are tested again.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectChangePoints, type ChangePoint } from '../../orchestrator/analysis/e-divisive.js';
import { seriesKeyId, type MetricHistory, type SeriesKey } from '../../orchestrator/analysis/history.js';
import { PermutationMemo, parseScope, permutationScope, processPermutationMemo } from '../../orchestrator/analysis/permutation-memo.js';
import { DEFAULT_THRESHOLDS, detectChanges } from '../../orchestrator/analysis/regressions.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';

/** Concatenated regimes of normal noise: [count, mean, sd] each, from one seeded generator. */
function series(seed: number, ...regimes: [number, number, number][]): number[] {
  const normal = gaussian(mulberry32(seed));
  return regimes.flatMap(([count, mean, sd]) => Array.from({ length: count }, () => mean + sd * normal()));
}

test('a change judged on the same values has the same p-value whatever precedes it in the history', () => {
  // a small step (0.8 sd; the magnitude and noise rules off, so that the test decides) far from
  // the start: the segment it is judged on, up to a window (30 points) each side, is the same
  // values with any prefix before the history
  const history = series(3, [60, 100, 2], [40, 101.6, 2]);
  const options = { memo: null, noiseFactor: 0, minRelativeChange: 0 };
  const alone = detectChangePoints(history, options);
  assert.equal(
    alone.map((change) => change.index),
    [60],
  );
  assert.ok(alone[0]!.pValue > 1 / 201, `a p-value above the floor, where a shifted stream would show: ${alone[0]!.pValue}`);
  // prefixes of whole window steps (15 points), so that stage 1 cuts the history into the same
  // windows: which candidates a search finds depends on where its windows fall, and whether a
  // change holds on the whole regimes before it, but a segment's p-value no longer does (with one
  // stream for the whole history, these gave 0.015, 0.010, 0.015 and 0.020)
  const prefixes = [
    series(12, [15, 100, 2]),
    series(14, [45, 100, 0.5]),
    series(15, [20, 90, 1], [25, 100, 1]), // a change of its own before
  ];
  for (const prefix of prefixes) {
    const found = detectChangePoints([...prefix, ...history], options);
    const change = found.find((c) => c.index === prefix.length + 60);
    assert.ok(change, `prefix of ${prefix.length}: ${JSON.stringify(found.map((c) => c.index))}`);
    assert.is(change!.pValue, alone[0]!.pValue, `prefix of ${prefix.length}`);
  }
});

test('the seed option still chooses the permutations: another seed, another (equally valid) p-value', () => {
  const history = series(3, [60, 100, 2], [40, 101.6, 2]);
  const pValues = [undefined, 1, 2, 3].map((seed) => detectChangePoints(history, { memo: null, noiseFactor: 0, minRelativeChange: 0, ...(seed === undefined ? {} : { seed }) })[0]!.pValue);
  assert.ok(new Set(pValues).size > 1, JSON.stringify(pValues));
  assert.ok(pValues.every((p) => p <= 0.05));
});

/** The results of each night's detection (the history up to it), oldest night first. */
function nightByNight(values: readonly number[], from: number, memo: PermutationMemo | null, options: { seed?: number } = {}): ChangePoint[][] {
  const nights: ChangePoint[][] = [];
  for (let n = from; n <= values.length; n++) nights.push(detectChangePoints(values.slice(0, n), { memo, ...options }));
  return nights;
}

test('with a memo the results are those without one: the same change points and p-values, night by night', () => {
  const histories = [
    series(21, [50, 100, 2], [30, 115, 2], [40, 95, 2]),
    series(22, [140, 50, 1.5]),
    series(23, [40, 10, 0.3], [3, 14, 0.3], [50, 10, 0.3]), // a bump that comes back
    series(24, [70, 1000, 40], [50, 900, 40]),
  ];
  for (const [i, values] of histories.entries()) {
    const memo = new PermutationMemo();
    const remembered = nightByNight(values, 10, memo);
    assert.equal(remembered, nightByNight(values, 10, null), `history ${i}`);
    assert.ok(memo.reused > 0 && memo.computed > 0, `history ${i}: ${memo.computed} run, ${memo.reused} reused`);
    // and again, everything answered from the memo: the same again
    const computed = memo.computed;
    assert.equal(nightByNight(values, 10, memo), remembered, `history ${i}, from the memo`);
    assert.is(memo.computed, computed, `history ${i}: no test run twice`);
    // the seed is part of what a test is kept by: another seed runs its own tests
    assert.equal(nightByNight(values, values.length - 3, memo, { seed: 7 }), nightByNight(values, values.length - 3, null, { seed: 7 }), `history ${i}, seed 7`);
  }
});

test('night by night, a memo runs only the tests of segments that reach the newest points', () => {
  const values = series(31, [120, 100, 2], [40, 112, 2], [40, 100, 2]);
  const memo = new PermutationMemo();
  nightByNight(values.slice(0, -1), 20, memo);
  const before = memo.computed;
  detectChangePoints(values, { memo });
  const tonight = memo.computed - before;
  const fresh = new PermutationMemo();
  detectChangePoints(values, { memo: fresh });
  assert.ok(fresh.computed >= 10, `a fresh detection runs ${fresh.computed} tests`);
  assert.ok(tonight * 3 <= fresh.computed, `tonight ran ${tonight} of the ${fresh.computed} tests a fresh detection runs`);
  // every test of a night whose segments all held the same values before (the same history again): none
  const again = memo.computed;
  detectChangePoints(values, { memo });
  assert.is(memo.computed, again);
});

test('a memo past its capacity drops what the current round has not used, and what it keeps still answers', () => {
  const memo = new PermutationMemo(4);
  const scope = permutationScope(200, 0.05, 1);
  memo.preload(scope, 1, 1, 2, { hits: 1, of: 201 });
  memo.preload(scope, 2, 2, 2, { hits: 3, of: 201 });
  memo.beginRound();
  assert.is(memo.lookup(scope, 1, 1, 2), 1 / 201);
  memo.remember(scope, 3, 3, 2, { hits: 11, of: 101 });
  memo.remember(scope, 4, 4, 2, { hits: 11, of: 150 });
  assert.is(memo.size, 4);
  memo.remember(scope, 5, 5, 2, { hits: 2, of: 201 }); // full: the unused (2, 2) goes
  assert.is(memo.size, 4);
  assert.is(memo.lookup(scope, 2, 2, 2), undefined);
  assert.is(memo.lookup(scope, 1, 1, 2), 1 / 201);
  assert.is(memo.lookup(scope, 5, 5, 2), 2 / 201);
});

test('scopes: permutations, alpha, seed and the series, read back as written; anything else is not a scope', () => {
  assert.equal(parseScope(permutationScope(200, 0.05, 0x5eed1e55)), { permutations: 200, alpha: 0.05, seed: 0x5eed1e55 });
  assert.equal(parseScope(permutationScope(200, 0.05, 1, '0a1b2c3d4e5f')), { permutations: 200, alpha: 0.05, seed: 1, series: '0a1b2c3d4e5f' });
  for (const bad of ['', '200/0.05', '0/0.05/1', '200/x/1', '200/0.05/-1', '200/0.05/4294967296', '1e3/0.05/1', '200/0.050/1', '200/0.05/1/', '200/0.05/1/X1', '200/0.05/1/a/b'])
    assert.is(parseScope(bad), undefined, bad);
  assert.throws(() => permutationScope(200, 0.05, 1, '../x'), /not a key id/);
});

test('a test is answered only by tests of its own series: the same values in another series are tested again, with the same p-values', () => {
  // two hosts' series with the same values (what a host could also craft to collide with another's digest)
  const values = series(41, [50, 100, 2], [40, 110, 2]);
  const memo = new PermutationMemo();
  const first = detectChangePoints(values, { memo, series: 'aaaa' });
  const ran = memo.computed;
  assert.ok(ran > 0);
  const same = detectChangePoints(values, { memo, series: 'aaaa' });
  assert.is(memo.computed, ran, 'its own series: every test answered');
  const other = detectChangePoints(values, { memo, series: 'bbbb' });
  assert.is(memo.computed, 2 * ran, 'another series: every test run again');
  assert.equal(other, first);
  assert.equal(same, first);
});

test("detectChanges: a history's key id is its series, so two hosts' histories of equal values each run their own tests", () => {
  const values = series(43, [50, 1000, 10], [40, 800, 10]);
  const historyOf = (host: string): MetricHistory => {
    const key: SeriesKey = { host, scenario: 'midolman', metric: 'throughput.pps', labels: {} };
    const points = values.map((value, i) => ({ sweepId: `s${String(i).padStart(4, '0')}`, jobId: `${host}--midolman`, at: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, value }));
    return { key, keyId: seriesKeyId(key), unit: 'pps', better: 'higher', points };
  };
  const ran = (history: MetricHistory) => {
    const before = processPermutationMemo.computed;
    const changes = detectChanges([history], () => DEFAULT_THRESHOLDS);
    return { tests: processPermutationMemo.computed - before, changes: changes.map((c) => [c.sweepId, c.pValue]) };
  };
  const a = ran(historyOf('host-a'));
  assert.ok(a.tests > 0 && a.changes.length === 1, JSON.stringify(a));
  assert.equal(ran(historyOf('host-a')), { tests: 0, changes: a.changes }, 'the same series again: answered');
  assert.equal(ran(historyOf('host-b')), a, 'another series: run again, the same p-values');
});

test.run();

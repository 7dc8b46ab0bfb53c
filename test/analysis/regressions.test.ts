// detectChanges / newRegressions: direction of better, sweeps of the new regime, thresholds per key.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricHistory, SeriesKey } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';
import { DEFAULT_THRESHOLDS, detectChanges, newRegressions, regressionsFirstSeen } from '../../orchestrator/analysis/regressions.js';
import type { Thresholds } from '../../orchestrator/analysis/regressions.js';

/** A history of one sample per sweep: `before` points at mean a, then `after` at mean b (1% noise). */
function history(metric: string, better: MetricHistory['better'], a: number, b: number, before = 40, after = 10, seed = 1): MetricHistory {
  const normal = gaussian(mulberry32(seed));
  const key: SeriesKey = { host: 'mm1', scenario: 'midolman', metric, labels: {} };
  const points = Array.from({ length: before + after }, (_, i) => {
    const mean = i < before ? a : b;
    return { sweepId: `s${String(i).padStart(4, '0')}`, jobId: `mm1-midolman`, at: `2026-01-01T00:${String(i % 60).padStart(2, '0')}:00Z`, value: mean + 0.01 * mean * normal() };
  });
  return { key, keyId: seriesKeyId(key), unit: 'pps', better, points };
}

const defaults = () => DEFAULT_THRESHOLDS;

test('a drop of a higher-is-better metric is a regression, at the first sweep of the new regime', () => {
  const changes = detectChanges([history('throughput.pps', 'higher', 1000, 800)], defaults);
  assert.is(changes.length, 1);
  const [change] = changes;
  assert.is(change!.kind, 'regression');
  assert.is(change!.sweepId, 's0040');
  assert.is(change!.at, '2026-01-01T00:40:00Z');
  assert.is(change!.keyId, seriesKeyId({ host: 'mm1', scenario: 'midolman', metric: 'throughput.pps', labels: {} }));
  assert.is(change!.unit, 'pps');
  assert.ok(Math.abs(change!.relativeChange + 0.2) < 0.01, `relative ${change!.relativeChange}`);
  assert.ok(change!.pValue <= 0.05);
});

test('a drop of a lower-is-better metric is an improvement; a rise is a regression; no direction is a change', () => {
  const kinds = detectChanges(
    [history('latency.p99', 'lower', 50, 40), history('latency.p50', 'lower', 40, 50), history('flows', 'none', 100, 150), history('rate', 'higher', 100, 150)],
    defaults,
  ).map((change) => [change.key.metric, change.kind]);
  assert.equal(kinds, [
    ['latency.p99', 'improvement'],
    ['latency.p50', 'regression'],
    ['flows', 'change'],
    ['rate', 'improvement'],
  ]);
});

test('thresholds come from the resolver per key: a 10% change is ignored where min change is 20%', () => {
  const strict = (key: SeriesKey): Thresholds => (key.metric === 'cpu' ? { ...DEFAULT_THRESHOLDS, minRelativeChange: 0.2 } : DEFAULT_THRESHOLDS);
  const changes = detectChanges([history('cpu', 'lower', 50, 55), history('mem', 'lower', 50, 55)], strict);
  assert.equal(
    changes.map((change) => change.key.metric),
    ['mem'],
  );
});

test('newRegressions keeps the regressions that start at the given sweep', () => {
  const changes = detectChanges(
    [history('a', 'higher', 100, 80, 40, 2), history('b', 'lower', 100, 80, 40, 2), history('c', 'higher', 100, 80, 30, 12)],
    defaults,
  );
  assert.equal(
    changes.map((change) => [change.key.metric, change.kind, change.sweepId]),
    [
      ['a', 'regression', 's0040'],
      ['b', 'improvement', 's0040'],
      ['c', 'regression', 's0030'],
    ],
  );
  assert.equal(
    newRegressions(changes, 's0040').map((change) => change.key.metric),
    ['a'],
  );
  assert.equal(newRegressions(changes, 's0041'), []);
});

test('a change inside repeated samples of one job is reported at that job sweep', () => {
  const key: SeriesKey = { host: 'h', scenario: 'kvm', metric: 'iops', labels: { fs: 'xfs' } };
  const normal = gaussian(mulberry32(9));
  const points = [];
  for (let sweep = 0; sweep < 12; sweep++) {
    for (let repeat = 0; repeat < 5; repeat++) {
      points.push({ sweepId: `s${sweep}`, jobId: 'h-kvm', at: `t${sweep}`, value: (sweep < 9 ? 1000 : 1300) + 10 * normal() });
    }
  }
  const changes = detectChanges([{ key, keyId: seriesKeyId(key), unit: 'ops/s', better: 'higher', points }], defaults);
  assert.equal(
    changes.map((change) => [change.sweepId, change.kind]),
    [['s9', 'improvement']],
  );
});

test('regressionsFirstSeen: one sample per job, a regression starting at s0040 is first seen at s0041, and only then', () => {
  const histories = [history('a', 'higher', 100, 80, 40, 3), history('b', 'lower', 100, 80, 40, 3), history('c', 'higher', 100, 80, 30, 13)];
  // Through s0040 the new regime has one point: nothing yet, neither way.
  assert.equal(regressionsFirstSeen(histories, defaults, 's0040'), []);
  const seen = regressionsFirstSeen(histories, defaults, 's0041');
  assert.equal(
    seen.map((change) => [change.key.metric, change.kind, change.sweepId]),
    [['a', 'regression', 's0040']],
  );
  assert.equal(newRegressions(seen, 's0041'), []); // what newRegressions alone would miss
  // One sweep later it is known already; c's older regression never counts as new.
  assert.equal(regressionsFirstSeen(histories, defaults, 's0042'), []);
  assert.equal(regressionsFirstSeen(histories, defaults, 's9999'), []); // no points in that sweep
});
test.run();

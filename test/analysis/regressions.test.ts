// detectChanges / newRegressions: direction of better, sweeps of the new regime, thresholds per key.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricHistory, SeriesKey } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';
import { DEFAULT_THRESHOLDS, buildsText, detectChanges, newRegressionLine, newRegressions, regressionsFirstSeen } from '../../orchestrator/analysis/regressions.js';
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
/** history() with the build each point measured: `builds(i)` for point i. */
function withBuilds(h: MetricHistory, builds: (i: number) => string | undefined): MetricHistory {
  return { ...h, points: h.points.map((p, i) => (builds(i) === undefined ? p : { ...p, build: builds(i)! })) };
}

test('a change names the build before it and the build it started with', () => {
  const h = withBuilds(history('throughput.lossless_max', 'higher', 1000, 800), (i) => (i < 40 ? 'midolman 5.6.2 (3f2a1c9e)' : 'midolman 5.6.3 (8b41d0a7)'));
  const [change] = detectChanges([h], defaults);
  assert.is(change!.buildBefore, 'midolman 5.6.2 (3f2a1c9e)');
  assert.is(change!.buildAfter, 'midolman 5.6.3 (8b41d0a7)');
  assert.is(buildsText(change!), 'between build midolman 5.6.2 (3f2a1c9e) and build midolman 5.6.3 (8b41d0a7)');
  assert.is(
    newRegressionLine(change!),
    `NEW REGRESSION: mm1 midolman throughput.lossless_max ${(change!.relativeChange * 100).toFixed(1)}% (${change!.beforeMean.toPrecision(4)} -> ${change!.afterMean.toPrecision(4)} pps, p=${change!.pValue.toFixed(3)}) between build midolman 5.6.2 (3f2a1c9e) and build midolman 5.6.3 (8b41d0a7)`,
  );
});

test('the same build on both sides says so; no builds named (older manifests, other scenarios) reads as before', () => {
  const same = detectChanges([withBuilds(history('rate', 'higher', 1000, 800), () => 'midolman 5.6.2')], defaults)[0]!;
  assert.is(buildsText(same), 'with build midolman 5.6.2 before and after');
  const none = detectChanges([history('rate', 'higher', 1000, 800)], defaults)[0]!;
  assert.is(none.buildBefore, undefined);
  assert.is(none.buildAfter, undefined);
  assert.is(buildsText(none), '');
  assert.match(newRegressionLine(none), /^NEW REGRESSION: mm1 midolman rate -[0-9.]+% \([0-9.]+ -> [0-9.]+ pps, p=[0-9.]+\)$/);
  // builds first named partway: only the side that has one is told
  const later = detectChanges([withBuilds(history('rate', 'higher', 1000, 800), (i) => (i >= 40 ? 'v2' : undefined))], defaults)[0]!;
  assert.is(buildsText(later), 'first seen with build v2');
});

test("repeated samples of one job: the build before is the previous job's, not the new regime's own", () => {
  const key: SeriesKey = { host: 'h', scenario: 'kvm', metric: 'iops', labels: {} };
  const normal = gaussian(mulberry32(3));
  const points = [];
  for (let sweep = 0; sweep < 12; sweep++) {
    for (let repeat = 0; repeat < 5; repeat++) {
      // the new level starts inside sweep 9's repeats: the change point falls within that job
      const after = sweep > 9 || (sweep === 9 && repeat >= 2);
      points.push({ sweepId: `s${String(sweep).padStart(2, '0')}`, jobId: 'h-kvm', at: `t${sweep}`, value: (after ? 1300 : 1000) + 10 * normal(), build: `b${sweep}` });
    }
  }
  const [change] = detectChanges([{ key, keyId: seriesKeyId(key), unit: 'ops/s', better: 'higher', points }], defaults);
  assert.equal([change!.sweepId, change!.buildBefore, change!.buildAfter], ['s09', 'b8', 'b9']);
});

test.run();

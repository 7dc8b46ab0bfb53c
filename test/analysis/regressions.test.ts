// detectChanges / newRegressions / regressionsFirstSeen: direction of better, sweeps of the new
// regime, thresholds per key; what pages night by night (noise, persistence, flapping, delay); sameChange.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricHistory, SeriesKey } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';
import {
  DEFAULT_THRESHOLDS,
  buildsText,
  detectChanges,
  detectChangesInSlices,
  newRegressionLine,
  newRegressions,
  regressionsFirstSeen,
  sameChange,
  sweepsOf,
} from '../../orchestrator/analysis/regressions.js';
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
    [history('a', 'higher', 100, 80, 40, 3), history('b', 'lower', 100, 80, 40, 3), history('c', 'higher', 100, 80, 30, 13)],
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

test('regressionsFirstSeen: one sample per job, a regression starting at s0040 is first seen at s0042 (it held 3 nights), and only then', () => {
  const histories = [history('a', 'higher', 100, 80, 40, 4), history('b', 'lower', 100, 80, 40, 4), history('c', 'higher', 100, 80, 30, 14)];
  // Through s0041 the new regime has two nights: nothing yet, neither way.
  assert.equal(regressionsFirstSeen(histories, defaults, 's0040'), []);
  assert.equal(regressionsFirstSeen(histories, defaults, 's0041'), []);
  const seen = regressionsFirstSeen(histories, defaults, 's0042');
  assert.equal(
    seen.map((change) => [change.key.metric, change.kind, change.sweepId, change.nights]),
    [['a', 'regression', 's0040', 3]],
  );
  assert.ok(seen[0]!.noise! > 0.005 && seen[0]!.noise! < 0.02, `noise ${seen[0]!.noise}`); // the history's 1%
  assert.equal(newRegressions(seen, 's0042'), []); // what newRegressions alone would miss
  // One sweep later it is known already; c's older regression never counts as new.
  assert.equal(regressionsFirstSeen(histories, defaults, 's0043'), []);
  assert.equal(regressionsFirstSeen(histories, defaults, 's9999'), []); // no points in that sweep
  // With persistence 2 it is seen a night earlier.
  const two = () => ({ ...DEFAULT_THRESHOLDS, persistence: 2 });
  assert.equal(
    regressionsFirstSeen(histories, two, 's0041').map((change) => [change.key.metric, change.sweepId]),
    [['a', 's0040']],
  );
});

/** One sample per sweep s0000, s0001, ...: the values given. */
function series(metric: string, better: MetricHistory['better'], values: readonly number[]): MetricHistory {
  const key: SeriesKey = { host: 'mm1', scenario: 'midolman', metric, labels: {} };
  const points = values.map((value, i) => ({ sweepId: sweep(i), jobId: 'mm1-midolman', at: `t${i}`, value }));
  return { key, keyId: seriesKeyId(key), unit: 'pps', better, points };
}
const sweep = (i: number) => `s${String(i).padStart(4, '0')}`;
/** `count` values around 1 with relative noise `sd`, times level(i). */
function noisy(seed: number, count: number, sd: number, level: (i: number) => number): number[] {
  const normal = gaussian(mulberry32(seed));
  return Array.from({ length: count }, (_, i) => level(i) * (1 + sd * normal()));
}
/** Every regression revealed night by night from sweep `from` on, as "night:regime start". */
function revealed(h: MetricHistory, thresholds = DEFAULT_THRESHOLDS, from = 30): string[] {
  const out: string[] = [];
  for (let night = from; night < h.points.length; night++) {
    for (const change of regressionsFirstSeen([h], () => thresholds, sweep(night))) out.push(`${sweep(night)}:${change.sweepId}`);
  }
  return out;
}

test('noise: a 2-point +15% bump on a 3%-noise metric is not paged on any night; with persistence 2 it is, the night it is 2 points old', () => {
  const h = series('latency', 'lower', noisy(2, 52, 0.03, (i) => (i === 40 || i === 41 ? 1.15 : 1)));
  assert.equal(revealed(h), []);
  assert.equal(revealed(h, { ...DEFAULT_THRESHOLDS, persistence: 2 }), ['s0041:s0040']);
});

test('noise: of 20 seeded 2-point +15% bumps on a 3%-noise metric, 2 page (both look like 3 nights); all 20 with persistence 2', () => {
  let paged = 0;
  let pagedTwo = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const h = series('latency', 'lower', noisy(seed, 52, 0.03, (i) => (i === 40 || i === 41 ? 1.15 : 1)));
    paged += revealed(h, DEFAULT_THRESHOLDS, 38).length;
    pagedTwo += revealed(h, { ...DEFAULT_THRESHOLDS, persistence: 2 }, 38).length;
  }
  assert.is(paged, 2); // seed 1: a +5% night before the bump; seed 4: the night after it +5.6%
  assert.is(pagedTwo, 20);
});

test('persistence: a one-night dip is not a change, nor a two-night one; a three-night one is, revealed on its third night', () => {
  const base = noisy(5, 40, 0.01, () => 1000);
  const dip = (nights: number) => series('throughput', 'higher', [...base, ...Array.from({ length: nights }, () => 900), ...noisy(6, 8, 0.01, () => 1000)]);
  for (const nights of [1, 2]) {
    const h = dip(nights);
    assert.equal(revealed(h), [], `${nights}-night dip`);
    assert.equal(detectChanges([h], defaults), [], `${nights}-night dip, whole history`);
  }
  assert.equal(revealed(dip(3)), ['s0042:s0040']);
});

test('flapping: a change that falls under the rules for a night (a dip in its new regime) and returns is revealed once', () => {
  const before = noisy(3, 40, 0.005, () => 100);
  const h = series('latency', 'lower', [...before, 110, 110, 110, 96, 110, 110, 110]);
  const upTo = (night: number) => ({ ...h, points: h.points.slice(0, night + 1) });
  // the premise: the detection sees it at s0042, not at s0043 (the dip), again from s0044
  assert.equal(
    [42, 43, 44].map((night) => detectChanges([upTo(night)], defaults).map((change) => change.sweepId)),
    [['s0040'], [], ['s0040']],
  );
  assert.equal(revealed(h), ['s0042:s0040']);
});

test('sameChange: the same series with regime starts up to 3 sweeps apart is one change; another series or farther is not', () => {
  const h = series('latency', 'lower', noisy(1, 50, 0.01, () => 1));
  const sweeps = sweepsOf(h);
  assert.is(sweeps.length, 50);
  const at = (i: number, keyId = h.keyId) => ({ keyId, sweepId: sweep(i) });
  assert.ok(sameChange(at(40), at(40), sweeps));
  assert.ok(sameChange(at(40), at(41), sweeps));
  assert.ok(sameChange(at(42), at(40), sweeps));
  assert.ok(sameChange(at(40), at(43), sweeps));
  assert.not.ok(sameChange(at(40), at(44), sweeps));
  assert.not.ok(sameChange(at(40), at(40, 'another'), sweeps));
  assert.ok(sameChange(at(40), at(44), sweeps, 4)); // a wider tolerance
  // Sweeps are counted in the list given: a sweep missing from it (pruned, or of another series) falls between its neighbours.
  assert.ok(sameChange({ keyId: 'k', sweepId: 's0040' }, { keyId: 'k', sweepId: 's0041x' }, ['s0040', 's0041', 's0042']));
});

test('flapping stability: a regime start that moves by a sweep between nights is the same change, revealed once', () => {
  // +10% from s0040 on a 2%-noise metric: night by night the detection starts the regime at s0039 or s0040
  const h = series('latency', 'lower', noisy(39, 50, 0.02, (i) => (i < 40 ? 100 : 110)));
  const startOn = (night: number) => detectChanges([{ ...h, points: h.points.slice(0, night + 1) }], defaults).map((change) => change.sweepId);
  assert.equal(
    [44, 45, 46].map(startOn),
    [['s0039'], ['s0040'], ['s0039']],
  );
  const [a, b] = [44, 45].map((night) => detectChanges([{ ...h, points: h.points.slice(0, night + 1) }], defaults)[0]!);
  assert.ok(sameChange(a!, b!, sweepsOf(h)));
  assert.is(revealed(h).length, 1);
});

test('end of series: each of 20 seeded -10% regressions on a 2%-noise metric is revealed within 2 nights of its first night, once', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const h = series('throughput', 'higher', noisy(seed, 50, 0.02, (i) => (i >= 40 ? 0.9 : 1)));
    const pages = revealed(h, DEFAULT_THRESHOLDS, 20);
    assert.is(pages.length, 1, `seed ${seed}: ${pages}`);
    const [night, start] = pages[0]!.split(':').map((s) => Number(s.slice(1)));
    assert.ok(night! <= 42, `seed ${seed}: revealed at ${pages[0]}`);
    assert.ok(Math.abs(start! - 40) <= 2, `seed ${seed}: regime start ${pages[0]}`);
  }
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

test('detection in slices gives the changes of detectChanges, in the same order, and lets other work run between slices', async () => {
  const histories = [1, 2, 3].flatMap((seed) => [
    history('cpu', 'lower', 50, 55, 40, 10, seed),
    history('throughput.pps', 'higher', 1000, 800, 40, 10, seed + 10),
    history('flat', 'none', 10, 10, 40, 10, seed + 20),
    history('mem', 'lower', 50, 60, 30, 20, seed + 30),
  ]);
  const whole = detectChanges(histories, () => DEFAULT_THRESHOLDS);
  assert.ok(whole.length >= 2, 'the fixture has changes to find');
  // other work: a callback that queues itself again on every turn of the event loop (a timer
  // would not do: with the process's permutation memo the detection below takes well under a
  // millisecond, and a timer's turn may not come that soon)
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  let during: number;
  try {
    // a slice of 0 ms yields after every history
    assert.equal(await detectChangesInSlices(histories, () => DEFAULT_THRESHOLDS, { sliceMs: 0 }), whole);
    during = turns;
  } finally {
    ticking = false;
  }
  assert.ok(during >= histories.length - 1, `other work ran between the slices: ${during} turns for ${histories.length} histories`);
  assert.equal(await detectChangesInSlices(histories, () => DEFAULT_THRESHOLDS), whole, 'with the default slice');
});

test.run();

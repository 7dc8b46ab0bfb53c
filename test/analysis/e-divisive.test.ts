// E-Divisive means change points on seeded synthetic series.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectChangePoints } from '../../orchestrator/analysis/e-divisive.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';

/** Concatenated regimes of normal noise: [count, mean, sd] each, from one seeded generator. */
function series(seed: number, ...regimes: [number, number, number][]): number[] {
  const normal = gaussian(mulberry32(seed));
  return regimes.flatMap(([count, mean, sd]) => Array.from({ length: count }, () => mean + sd * normal()));
}

test('one step of 60 x N(100, 2) then 60 x N(120, 2) is found once, at index 60, with p at the permutation floor', () => {
  const changes = detectChangePoints(series(42, [60, 100, 2], [60, 120, 2]));
  assert.is(changes.length, 1);
  const [change] = changes;
  assert.ok(Math.abs(change!.index - 60) <= 1, `index ${change!.index}`);
  assert.ok(Math.abs(change!.beforeMean - 100) < 1, `before ${change!.beforeMean}`);
  assert.ok(Math.abs(change!.afterMean - 120) < 1, `after ${change!.afterMean}`);
  assert.ok(Math.abs(change!.relativeChange - 0.2) < 0.02, `relative ${change!.relativeChange}`);
  assert.is(change!.pValue, 1 / 201); // 200 permutations, none as extreme
});

test('two steps (up then down) are both found, in order', () => {
  const changes = detectChangePoints(series(7, [50, 100, 2], [50, 120, 2], [50, 90, 2]));
  assert.equal(
    changes.map((change) => change.index),
    [50, 100],
  );
  assert.ok(changes[0]!.relativeChange > 0.15);
  assert.ok(changes[1]!.relativeChange < -0.2);
});

test('pure noise: at most 10% of 200 seeded series of 100 points show any change (measured: 6.5%)', () => {
  let withChange = 0;
  for (let seed = 1000; seed < 1200; seed++) {
    if (detectChangePoints(series(seed, [100, 100, 2]), { pValue: 0.05, minRelativeChange: 0 }).length > 0) withChange++;
  }
  const rate = withChange / 200;
  assert.ok(rate <= 0.1, `false-positive rate ${rate}`);
  assert.is(withChange, 13); // deterministic: fixed seeds, fixed permutation seed
});

test('a significant change smaller than minRelativeChange is not reported; above it, it is', () => {
  const values = series(3, [60, 100, 0.5], [60, 103, 0.5]); // +3%, far beyond the noise
  assert.equal(detectChangePoints(values, { minRelativeChange: 0.05 }), []);
  const found = detectChangePoints(values, { minRelativeChange: 0.02 });
  assert.equal(
    found.map((change) => change.index),
    [60],
  );
});

test('a change two points before the end is found (the newest sweeps count); a single last point is not', () => {
  const twoAfter = series(3, [60, 100, 2], [2, 130, 2]);
  assert.equal(
    detectChangePoints(twoAfter).map((change) => change.index),
    [60],
  );
  const oneAfter = series(3, [60, 100, 2], [1, 130, 2]);
  assert.equal(detectChangePoints(oneAfter), []);
});

test('long histories are analysed in windows: an old change does not hide a new one', () => {
  const values = series(11, [150, 100, 2], [150, 80, 2], [65, 90, 2]);
  assert.equal(
    detectChangePoints(values, { window: 30 }).map((change) => change.index),
    [150, 300],
  );
});

test('deterministic: the same input and seed give the same result; short or flat input gives none', () => {
  const values = series(5, [40, 10, 0.3], [40, 13, 0.3]);
  assert.equal(detectChangePoints(values), detectChangePoints(values));
  assert.equal(detectChangePoints(values, { seed: 1 }).map((change) => change.index), [40]);
  assert.equal(detectChangePoints([1, 2, 3]), []);
  assert.equal(detectChangePoints(Array.from({ length: 50 }, () => 5)), []);
});

test.run();

// estimateNoise: a metric's noise from successive differences, robust to steps and spikes.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { estimateNoise } from '../../orchestrator/analysis/noise.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';

const normal = (seed: number, count: number, mean: number, sd: number) => {
  const next = gaussian(mulberry32(seed));
  return Array.from({ length: count }, () => mean + sd * next());
};

test('gaussian noise: the estimate is within 15% of the true sd over 400 points, relative to the median', () => {
  const noise = estimateNoise(normal(1, 400, 1000, 20));
  assert.ok(Math.abs(noise.sd / 20 - 1) < 0.15, `sd ${noise.sd}`);
  assert.ok(Math.abs(noise.level - 1000) < 5, `level ${noise.level}`);
  assert.ok(Math.abs(noise.relative - 0.02) < 0.003, `relative ${noise.relative}`);
});

test('a 30% step and five 50% spikes barely move it; the plain standard deviation triples', () => {
  const values = [...normal(2, 100, 1000, 10), ...normal(3, 100, 1300, 10)];
  for (const at of [20, 60, 110, 150, 190]) values[at] = values[at]! * 1.5;
  const noise = estimateNoise(values);
  assert.ok(Math.abs(noise.sd / 10 - 1) < 0.25, `sd ${noise.sd}`);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const plain = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
  assert.ok(plain > 10 * noise.sd, `plain sd ${plain}`);
});

test('short, constant and zero-level series', () => {
  assert.equal(estimateNoise([5, 6]), { sd: 0, level: 5.5, relative: 0 });
  assert.equal(estimateNoise([3, 3, 3, 3]), { sd: 0, level: 3, relative: 0 });
  assert.is(estimateNoise([0, 0, 1, 0, -1, 0]).relative, Infinity);
});

test.run();

// Mann-Whitney U against values worked by hand and checked with scipy.stats.mannwhitneyu.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mannWhitneyU, normalUpperTail } from '../../orchestrator/analysis/mann-whitney.js';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('small samples without ties: U = R_a - n_a(n_a+1)/2 and the exact two-sided p (scipy: U=17, p=0.1111)', () => {
  // Ranks of a in the pooled sample: 19->5, 22->7, 16->3, 29->9, 24->8; R = 32, U = 32 - 15 = 17.
  // P(U >= 17) = P(U <= 3) = 7/126 (partitions of 0..3 into at most 4 parts <= 5), two-sided 14/126.
  const result = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
  assert.is(result.u, 17);
  close(result.pValue, 14 / 126, 1e-12, 'p');
  close(result.z, 1.5921683, 1e-6, 'z'); // (17 - 10 - 0.5) / sqrt(20 * 10 / 12)
});

test('complete separation of 3 vs 3: U = 0 and exact p = 2/20 = 0.1', () => {
  const result = mannWhitneyU([1, 2, 3], [4, 5, 6]);
  assert.is(result.u, 0);
  close(result.pValue, 0.1, 1e-12, 'p');
  // With U symmetric: the same samples the other way round give U = 9 and the same p.
  const reverse = mannWhitneyU([4, 5, 6], [1, 2, 3]);
  assert.is(reverse.u, 9);
  close(reverse.pValue, 0.1, 1e-12, 'p');
});

test('ties: mid-ranks, tie-corrected variance and continuity correction (scipy asymptotic: U=6, p=0.113903)', () => {
  // Pooled: 1 | 2 2 2 | 3 3 3 | 4 5 6 7 -> a's ranks 1, 3, 3, 6, 8: R = 21, U = 6.
  // Var = (5*6/12) * (12 - 48/110) = 28.909; z = (6 - 15 + 0.5) / 5.3767 = -1.58089.
  const result = mannWhitneyU([1, 2, 2, 3, 4], [2, 3, 3, 5, 6, 7]);
  assert.is(result.u, 6);
  close(result.z, -1.5808902, 1e-6, 'z');
  close(result.pValue, 0.1139031, 1e-6, 'p');
});

test('large samples use the normal approximation (scipy asymptotic: U=820, p=2.7322e-7)', () => {
  const a = Array.from({ length: 60 }, (_, i) => i + 1);
  const b = Array.from({ length: 60 }, (_, i) => i + 20.5);
  const result = mannWhitneyU(a, b);
  assert.is(result.u, 820);
  close(result.z, -5.1410417, 1e-6, 'z');
  close(result.pValue, 2.7321938e-7, 1e-12, 'p');
});

test('identical samples (all tied) give z = 0 and p = 1; an empty side gives p = 1', () => {
  assert.equal(mannWhitneyU([10, 10, 10, 10], [10, 10, 10, 10]), { u: 8, z: 0, pValue: 1 });
  assert.is(mannWhitneyU([], [1, 2, 3]).pValue, 1);
});

test('the normal tail is accurate to 1e-7', () => {
  close(normalUpperTail(0), 0.5, 1e-7, 'P(Z>0)');
  close(normalUpperTail(1.959964), 0.025, 1e-7, 'P(Z>1.96)');
  close(normalUpperTail(-1), 0.8413447, 1e-7, 'P(Z>-1)');
});

test.run();

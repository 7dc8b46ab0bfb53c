// Mann-Whitney U against values worked by hand and checked with scipy.stats.mannwhitneyu and
// scipy.stats.permutation_test (n_resamples=inf: every split).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { binomial, mannWhitneyU, normalUpperTail } from '../../orchestrator/analysis/mann-whitney.js';

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

test('ties, small samples: the exact permutation p over all 462 splits, mid-ranks and all (scipy permutation_test: U=6, p=56/462)', () => {
  // Pooled: 1 | 2 2 2 | 3 3 3 | 4 5 6 7 -> a's ranks 1, 3, 3, 6, 8: R = 21, U = 6.
  // z (reported, not used for p here): Var = (5*6/12) * (12 - 48/110) = 28.909; z = (6 - 15 + 0.5) / 5.3767.
  // Of the C(11, 5) = 462 splits, 28 give U <= 6, so p = 2 * 28/462 (the normal approximation said 0.1139).
  const result = mannWhitneyU([1, 2, 2, 3, 4], [2, 3, 3, 5, 6, 7]);
  assert.is(result.u, 6);
  assert.is(result.method, 'exact');
  close(result.z, -1.5808902, 1e-6, 'z');
  close(result.pValue, 56 / 462, 1e-12, 'p');
});

test('ties, 3 vs 3: 10 12 12 vs 12 14 15 gives U = 1 and exact p = 0.3; ties make the smallest p 0.3, not 0.1', () => {
  // splits of {10, 12, 12, 12, 14, 15}: U <= 1 in 3 of 20 (scipy permutation_test: 0.3)
  const result = mannWhitneyU([10, 12, 12], [12, 14, 15]);
  assert.is(result.u, 1);
  close(result.pValue, 0.3, 1e-12, 'p');
  close(result.minPValue, 0.3, 1e-12, 'smallest p'); // three 12s: the most extreme split has 3 ways
});

test('the smallest p sample sizes allow: 2 vs 2 is 1/3, 3 vs 3 is 0.1, 3 vs 4 is 2/35, 4 vs 4 is 2/70; one-sided halves them', () => {
  const smallest = (n: number, m: number) => mannWhitneyU(Array.from({ length: n }, (_, i) => i), Array.from({ length: m }, (_, i) => 100 + i)).minPValue;
  close(smallest(1, 1), 1, 1e-12, '1 vs 1');
  close(smallest(2, 2), 1 / 3, 1e-12, '2 vs 2');
  close(smallest(3, 3), 0.1, 1e-12, '3 vs 3');
  close(smallest(3, 4), 2 / 35, 1e-12, '3 vs 4');
  close(smallest(4, 4), 2 / 70, 1e-12, '4 vs 4');
  // the most extreme data reaches it
  close(mannWhitneyU([1, 2], [3, 4]).pValue, 1 / 3, 1e-12, '2 vs 2 separated');
  close(mannWhitneyU([1, 2, 3], [5, 6, 7], 'less').pValue, 0.05, 1e-12, 'one-sided 3 vs 3'); // scipy alternative='less': 0.05
  close(mannWhitneyU([1, 2, 3], [5, 6, 7], 'greater').pValue, 1, 1e-12, 'the other side');
  assert.is(binomial(20, 10), 184756);
});

test('beyond 20,000 splits without ties: the exact distribution of U; with ties: the normal approximation', () => {
  const a = Array.from({ length: 10 }, (_, i) => i * 2);
  const b = Array.from({ length: 10 }, (_, i) => i * 2 + 5); // C(20, 10) = 184,756 splits
  const exact = mannWhitneyU(a, b);
  assert.is(exact.method, 'exact');
  close(exact.minPValue, 2 / 184756, 1e-15, 'smallest p');
  const tied = mannWhitneyU([...a, 4], [...b, 4]);
  assert.is(tied.method, 'normal');
  close(tied.pValue, 2 * normalUpperTail(Math.abs(tied.z)), 1e-15, 'p from z');
});

test('large samples use the normal approximation (scipy asymptotic: U=820, p=2.7322e-7)', () => {
  const a = Array.from({ length: 60 }, (_, i) => i + 1);
  const b = Array.from({ length: 60 }, (_, i) => i + 20.5);
  const result = mannWhitneyU(a, b);
  assert.is(result.u, 820);
  assert.is(result.method, 'normal');
  close(result.z, -5.1410417, 1e-6, 'z');
  close(result.pValue, 2.7321938e-7, 1e-12, 'p');
});

test('identical samples (all tied) give z = 0 and p = 1, and no split could do better; an empty side gives p = 1', () => {
  assert.equal(mannWhitneyU([10, 10, 10, 10], [10, 10, 10, 10]), { u: 8, z: 0, pValue: 1, minPValue: 1, method: 'exact' });
  assert.is(mannWhitneyU([], [1, 2, 3]).pValue, 1);
});

test('the normal tail is accurate to 1e-7', () => {
  close(normalUpperTail(0), 0.5, 1e-7, 'P(Z>0)');
  close(normalUpperTail(1.959964), 0.025, 1e-7, 'P(Z>1.96)');
  close(normalUpperTail(-1), 0.8413447, 1e-7, 'P(Z>-1)');
});

test.run();

// Mann-Whitney U (Wilcoxon rank-sum) test of two independent samples; two-sided unless asked.
//
// u is U of the first sample: the number of pairs (a_i, b_j) with a_i > b_j, ties counting 1/2.
// z is the normal approximation with the tie correction of the variance and a continuity
// correction of 0.5 toward the mean (as scipy.stats.mannwhitneyu). The p-value is
//   - exact by enumeration when the pooled sample can be split into the two sizes in at most
//     EXACT_SPLITS ways (C(n_a + n_b, n_a): 3 vs 3 is 20 ways, 7 vs 7 is 3,432): every split of
//     the pooled values, mid-ranks and all, so ties are handled exactly (the permutation test of
//     U, as scipy.stats.permutation_test would compute it with all permutations);
//   - exact from the distribution of U without ties (a recursion) when there are no ties and
//     n_a * n_b <= EXACT_LIMIT;
//   - from z otherwise.
// Two-sided p is 2 * min(P(U <= u), P(U >= u)), at most 1. minPValue is the smallest p the test
// can give for these sizes (and ties): the p of the most extreme split. When it is above the
// significance level, no data of these sizes could be significant: "not enough samples to tell".

const EXACT_LIMIT = 2500;
/** Enumerate every split up to this many. */
export const EXACT_SPLITS = 20_000;

/** 'greater': a tends to be larger than b (U large); 'less': smaller. */
export type Alternative = 'two-sided' | 'greater' | 'less';

export interface MannWhitneyResult {
  u: number;
  z: number;
  pValue: number;
  /** The smallest p-value this test can give with these sample sizes (and ties), whatever the data's order. */
  minPValue: number;
  /** How pValue was computed. */
  method: 'exact' | 'normal';
}

/** C(n, k) as a float (exact while it is below 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  const small = Math.min(k, n - k);
  let result = 1;
  for (let i = 1; i <= small; i++) result = (result * (n - small + i)) / i;
  return Math.round(result);
}

/** Mid-ranks (1-based) of `values`, and the sum over tie groups of t^3 - t. */
function rank(values: readonly number[]): { ranks: Float64Array; tieTerm: number } {
  const order = values.map((value, index) => ({ value, index })).sort((p, q) => p.value - q.value);
  const ranks = new Float64Array(values.length);
  let tieTerm = 0;
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end]!.value === order[start]!.value) end++;
    const midRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!.index] = midRank;
    const t = end - start;
    if (t > 1) tieTerm += t * t * t - t;
    start = end;
  }
  return { ranks, tieTerm };
}

/** Standard normal upper tail P(Z > z), to about 1e-7 (Abramowitz & Stegun 7.1.26 via erfc). */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc (Chebyshev fit), fractional error < 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(U <= u) for every u = 0..n*m under H0 without ties: the exact null distribution, by recursion. */
function exactCdf(n: number, m: number): Float64Array {
  // f[i][j][u]: probability that U = u for sample sizes i and j. The largest value of the
  // combined sample is from the first sample (probability i/(i+j), adding j to U) or not.
  let previous: Float64Array[] = []; // row i - 1, indexed by j
  for (let i = 0; i <= n; i++) {
    const row: Float64Array[] = [];
    for (let j = 0; j <= m; j++) {
      const dist = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) dist[0] = 1;
      else {
        const fromA = previous[j]!; // sizes (i-1, j)
        const fromB = row[j - 1]!; // sizes (i, j-1)
        const pa = i / (i + j);
        const pb = j / (i + j);
        for (let u = 0; u < fromA.length; u++) dist[u + j]! += pa * fromA[u]!;
        for (let u = 0; u < fromB.length; u++) dist[u]! += pb * fromB[u]!;
      }
      row.push(dist);
    }
    previous = row;
  }
  const pmf = previous[m]!;
  const cdf = new Float64Array(pmf.length);
  let sum = 0;
  for (let u = 0; u < pmf.length; u++) {
    sum += pmf[u]!;
    cdf[u] = sum;
  }
  return cdf;
}

/**
 * The exact distribution of 2U (an integer with mid-ranks) over every split of the pooled sample,
 * as counts: counts.get(2U). Enumerates the C(N, k) subsets of the smaller side.
 */
function enumerateSplits(ranks: Float64Array, n: number, m: number): Map<number, number> {
  const total = n + m;
  const k = Math.min(n, m);
  const doubled = Array.from(ranks, (r) => Math.round(2 * r));
  const counts = new Map<number, number>();
  // 2U_a = 2R_a - n(n+1); when the smaller side is b, U_a = n*m - U_b.
  const record = (sum: number) => {
    const twiceU = k === n ? sum - n * (n + 1) : 2 * n * m - (sum - m * (m + 1));
    counts.set(twiceU, (counts.get(twiceU) ?? 0) + 1);
  };
  const walk = (start: number, left: number, sum: number) => {
    if (left === 0) return record(sum);
    for (let i = start; i <= total - left; i++) walk(i + 1, left - 1, sum + doubled[i]!);
  };
  walk(0, k, 0);
  return counts;
}

function tailsOf(counts: Map<number, number>, twiceU: number): { lower: number; upper: number; lowest: number; highest: number } {
  let all = 0;
  let lower = 0;
  let upper = 0;
  const keys = [...counts.keys()];
  const min = Math.min(...keys);
  const max = Math.max(...keys);
  for (const [value, count] of counts) {
    all += count;
    if (value <= twiceU) lower += count;
    if (value >= twiceU) upper += count;
  }
  return { lower: lower / all, upper: upper / all, lowest: counts.get(min)! / all, highest: counts.get(max)! / all };
}

function sided(alternative: Alternative, lower: number, upper: number): number {
  if (alternative === 'greater') return upper;
  if (alternative === 'less') return lower;
  return Math.min(1, 2 * Math.min(lower, upper));
}

export function mannWhitneyU(a: readonly number[], b: readonly number[], alternative: Alternative = 'two-sided'): MannWhitneyResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { u: 0, z: 0, pValue: 1, minPValue: 1, method: 'exact' };
  const { ranks, tieTerm } = rank([...a, ...b]);
  let rankSum = 0;
  for (let i = 0; i < n; i++) rankSum += ranks[i]!;
  const u = rankSum - (n * (n + 1)) / 2;
  const mean = (n * m) / 2;
  const total = n + m;
  const variance = ((n * m) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  const deviation = u - mean;
  const corrected = Math.sign(deviation) * Math.max(0, Math.abs(deviation) - 0.5);
  const z = variance > 0 ? corrected / Math.sqrt(variance) : 0;

  if (binomial(total, n) <= EXACT_SPLITS) {
    const tails = tailsOf(enumerateSplits(ranks, n, m), Math.round(2 * u));
    return { u, z, pValue: sided(alternative, tails.lower, tails.upper), minPValue: sided(alternative, tails.lowest, tails.highest), method: 'exact' };
  }
  if (tieTerm === 0 && n * m <= EXACT_LIMIT) {
    const cdf = exactCdf(n, m);
    // U is an integer without ties; by symmetry P(U >= u) = P(U <= nm - u).
    const lower = cdf[Math.round(u)]!;
    const upper = cdf[Math.round(n * m - u)]!;
    return { u, z, pValue: sided(alternative, lower, upper), minPValue: sided(alternative, cdf[0]!, cdf[0]!), method: 'exact' };
  }
  // Normal approximation; the most extreme split is U = 0 or U = nm.
  const tail = (deviation: number, side: 1 | -1) => {
    if (variance <= 0) return 1;
    const corrected = Math.max(0, side * deviation - 0.5);
    return normalUpperTail(corrected / Math.sqrt(variance));
  };
  const upper = tail(u - mean, 1);
  const lower = tail(u - mean, -1);
  const extreme = tail(mean, 1); // U = nm is as far above the mean as U = 0 is below it
  return { u, z, pValue: sided(alternative, lower, upper), minPValue: sided(alternative, extreme, extreme), method: 'normal' };
}

// Mann-Whitney U (Wilcoxon rank-sum) test of two independent samples, two-sided.
//
// u is U of the first sample: the number of pairs (a_i, b_j) with a_i > b_j, ties counting 1/2.
// z is the normal approximation with the tie correction of the variance and a continuity
// correction of 0.5 toward the mean (as scipy.stats.mannwhitneyu). The p-value is exact (the
// permutation distribution of U) when there are no ties and n_a * n_b <= EXACT_LIMIT, and from z
// otherwise.

const EXACT_LIMIT = 2500;

export interface MannWhitneyResult {
  u: number;
  z: number;
  pValue: number;
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

export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) return { u: 0, z: 0, pValue: 1 };
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

  let pValue: number;
  if (tieTerm === 0 && n * m <= EXACT_LIMIT) {
    const cdf = exactCdf(n, m);
    // U is an integer without ties; by symmetry P(U >= u) = P(U <= nm - u).
    const lower = cdf[Math.round(u)]!;
    const upper = cdf[Math.round(n * m - u)]!;
    pValue = 2 * Math.min(lower, upper);
  } else {
    pValue = variance > 0 ? 2 * normalUpperTail(Math.abs(z)) : 1;
  }
  return { u, z, pValue: Math.min(1, pValue) };
}

// The 95% confidence interval of a mean (orchestrator/analysis/confidence-interval.ts) and the
// stopping rule of adaptive repetitions; the hosts' awk (remote-scripts/lib/repeat.sh), run by real
// bash under mawk and gawk, against the TypeScript on the same values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { meanInterval, repeatUntil, repeatVerdict, T_975, tQuantile975, Z_975, type RepeatRule } from '../../orchestrator/analysis/confidence-interval.js';
import { mulberry32 } from '../../orchestrator/analysis/random.js';

const exec = promisify(execFile);
const LIB = fileURLToPath(new URL('../../remote-scripts/lib/', import.meta.url));

/** ln Gamma (Lanczos, g = 7): enough digits for the t density. */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(T <= t) of Student's t with df degrees of freedom, by Simpson's rule on the density from 0. */
function tCdf(t: number, df: number): number {
  const k = Math.exp(lnGamma((df + 1) / 2) - lnGamma(df / 2)) / Math.sqrt(df * Math.PI);
  const pdf = (x: number) => k * (1 + (x * x) / df) ** (-(df + 1) / 2);
  const n = 20_000;
  const h = t / n;
  let sum = pdf(0) + pdf(t);
  for (let i = 1; i < n; i++) sum += (i % 2 ? 4 : 2) * pdf(i * h);
  return 0.5 + (sum * h) / 3;
}

test('the t table is the 0.975 quantile of Student\'s t for df 1..30, the normal quantile beyond', () => {
  assert.is(T_975.length, 30);
  for (let df = 1; df <= 30; df++) {
    const p = tCdf(tQuantile975(df), df);
    assert.ok(Math.abs(p - 0.975) < 2e-6, `df ${df}: P(T <= ${tQuantile975(df)}) = ${p}`);
  }
  // the normal quantile: t with a huge df is the normal
  assert.ok(Math.abs(tCdf(Z_975, 1e7) - 0.975) < 2e-6);
  assert.is(tQuantile975(31), Z_975);
  assert.is(tQuantile975(1000), Z_975);
  assert.throws(() => tQuantile975(0), /degrees of freedom/);
  assert.throws(() => tQuantile975(2.5), /degrees of freedom/);
});

test('a hand-computed interval: 10, 12, 11, 13 -> mean 11.5, sd 1.2910, half-width 3.182446 * 1.2910 / 2 = 2.0543', () => {
  const ci = meanInterval([10, 12, 11, 13]);
  assert.is(ci.n, 4);
  assert.is(ci.mean, 11.5);
  assert.ok(Math.abs(ci.sd - Math.sqrt(5 / 3)) < 1e-12);
  assert.ok(Math.abs(ci.halfWidth - (3.182446 * Math.sqrt(5 / 3)) / 2) < 1e-12);
  assert.ok(Math.abs(ci.halfWidth - 2.05426) < 1e-5);
  assert.ok(Math.abs(ci.relative - 2.05426 / 11.5) < 1e-6);
  // a negative mean: the relative width is of |mean|
  assert.ok(Math.abs(meanInterval([-10, -12, -11, -13]).relative - ci.relative) < 1e-12);
  // 40 values: the normal quantile
  const many = Array.from({ length: 40 }, (_, i) => 100 + (i % 5));
  const m = meanInterval(many);
  assert.ok(Math.abs(m.halfWidth - (Z_975 * m.sd) / Math.sqrt(40)) < 1e-12);
});

test('undefined widths: one value is infinitely wide; equal values are 0 wide (a zero mean too); a zero mean that varies is infinitely wide relatively', () => {
  assert.equal(meanInterval([5]), { n: 1, mean: 5, sd: 0, halfWidth: Infinity, relative: Infinity });
  assert.is(meanInterval([3, 3, 3]).relative, 0);
  assert.is(meanInterval([0, 0]).relative, 0);
  const zero = meanInterval([-1, 1]);
  assert.is(zero.mean, 0);
  assert.ok(zero.halfWidth > 0 && zero.relative === Infinity);
  assert.throws(() => meanInterval([]), /no values/);
  assert.throws(() => meanInterval([1, Number.NaN]), /finite/);
});

test('the stopping rule: target once min ran (it wins over max), max, the deadline (even below min), else continue', () => {
  const rule: RepeatRule = { min: 3, max: 5, targetCi: 0.02 };
  assert.is(repeatVerdict(rule, 2, 0.001, 100, 1), 'continue', 'below min the target does not stop');
  assert.is(repeatVerdict(rule, 3, 0.02, 100, 1), 'target', 'at the target exactly');
  assert.is(repeatVerdict(rule, 3, 0.0201, 100, 1), 'continue');
  assert.is(repeatVerdict(rule, 5, 0.01, 100, 1), 'target', 'target and max: target');
  assert.is(repeatVerdict(rule, 5, 0.5, 100, 1), 'max');
  assert.is(repeatVerdict(rule, 4, 0.5, 10, 11), 'deadline', 'one more would end after the deadline');
  assert.is(repeatVerdict(rule, 4, 0.5, 10, 10), 'continue', 'one more ends exactly at the deadline');
  assert.is(repeatVerdict(rule, 1, Infinity, -5, 1), 'deadline', 'below min: the deadline still stops');
  assert.is(repeatVerdict({ min: 1, max: 1, targetCi: 0.02 }, 1, Infinity, 100, 1), 'max', 'off: one repetition');
});

test('the loop: target met early (at the first narrow-enough n), max reached, the deadline reached (simulated clock)', async () => {
  let now = 0;
  const values = [100, 100.5, 99.5, 100.2, 99.9, 100.1];
  const out = await repeatUntil({ min: 2, max: 10, targetCi: 0.02 }, 1e9, () => now, async (k) => {
    now += 10;
    return { value: values[k - 1]!, seconds: 10 };
  });
  assert.is(out.stop, 'target');
  const n = out.values.length;
  assert.ok(meanInterval(values.slice(0, n)).relative <= 0.02);
  assert.ok(meanInterval(values.slice(0, n - 1)).relative > 0.02 || n - 1 < 2, 'it stopped at the first narrow-enough n');
  assert.is(n, 3);

  now = 0;
  const noisy = await repeatUntil({ min: 2, max: 4, targetCi: 0.02 }, 1e9, () => now, async (k) => {
    now += 10;
    return { value: [100, 150, 60, 120, 80][k - 1]!, seconds: 10 };
  });
  assert.is(noisy.stop, 'max');
  assert.equal(noisy.values, [100, 150, 60, 120]);
  assert.ok(noisy.relative > 0.02);

  now = 0;
  const late = await repeatUntil({ min: 5, max: 10, targetCi: 0.02 }, 35, () => now, async () => {
    now += 10;
    return { value: 1, seconds: 10 };
  });
  assert.is(late.stop, 'deadline', 'at 30 s a fourth 10 s run would end at 40 > 35, below min');
  assert.is(late.values.length, 3);
});

/** repeat_stats and repeat_verdict of lib/repeat.sh, with AWK first on PATH as awk. */
async function bash(awk: string, script: string): Promise<string> {
  const prelude = ['common.sh', 'json.sh', 'repeat.sh'].map((f) => `. ${JSON.stringify(join(LIB, f))}`).join('\n');
  const bin = await exec('bash', ['-c', `d=$(mktemp -d); ln -s "$(command -v ${awk})" "$d/awk"; echo "$d"`]).then((r) => r.stdout.trim());
  try {
    const { stdout } = await exec('bash', ['-c', `set -euo pipefail\n${prelude}\n${script}`], { env: { PATH: `${bin}:${process.env.PATH}` } });
    return stdout;
  } finally {
    await exec('rm', ['-rf', bin]);
  }
}

const close = (a: number, b: number) => (a === b ? true : Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)));
const num = (s: string) => (s === 'inf' ? Infinity : Number(s));

for (const awk of ['mawk', 'gawk']) {
  test(`the hosts' awk (${awk}) computes the same interval and verdicts as the TypeScript`, async () => {
    const rand = mulberry32(16);
    const sets: number[][] = [[10, 12, 11, 13], [5], [3, 3, 3], [-1, 1], [0, 0], [-10, -12, -11, -13], Array.from({ length: 40 }, (_, i) => 100 + (i % 5))];
    for (let i = 0; i < 40; i++) {
      const n = 2 + Math.floor(rand() * 35);
      const scale = 10 ** Math.floor(rand() * 8 - 2);
      sets.push(Array.from({ length: n }, () => Number(((50 + rand() * 10) * scale).toPrecision(8))));
    }
    const script = sets.map((s) => `repeat_stats ${s.join(' ')}`).join('\n');
    const lines = (await bash(awk, script)).trim().split('\n');
    assert.is(lines.length, sets.length);
    sets.forEach((values, i) => {
      const [n, mean, sd, hw, rel] = lines[i]!.split(' ').map(num);
      const ts = meanInterval(values);
      assert.is(n, ts.n, `n of set ${i}`);
      for (const [name, a, b] of [['mean', mean, ts.mean], ['sd', sd, ts.sd], ['half-width', hw, ts.halfWidth], ['relative', rel, ts.relative]] as const) {
        assert.ok(close(a!, b), `${name} of set ${i} (${values.join(' ')}): awk ${a}, TypeScript ${b}`);
      }
    });
    const rule: RepeatRule = { min: 2, max: 4, targetCi: 0.02 };
    const cases: [number, number | 'inf', number, number][] = [];
    for (let i = 0; i < 60; i++) cases.push([1 + Math.floor(rand() * 5), rand() < 0.2 ? 'inf' : rand() * 0.05, rand() * 100 - 20, rand() * 60]);
    const verdicts = (await bash(awk, cases.map(([n, rel, left, next]) => `repeat_verdict ${rule.min} ${rule.max} ${rule.targetCi} ${n} ${rel} ${left} ${next}`).join('\n'))).trim().split('\n');
    cases.forEach(([n, rel, left, next], i) => {
      assert.is(verdicts[i], repeatVerdict(rule, n, rel === 'inf' ? Infinity : rel, left, next), `verdict of ${JSON.stringify(cases[i])}`);
    });
  });
}

test('the record a loop leaves: the rule, the values, mean, half-width, target met, why it stopped', async () => {
  const out = JSON.parse(await bash('mawk', 'repeat_record_json 2 4 0.02 max 12.5 10 12 11 13'));
  const ci = meanInterval([10, 12, 11, 13]);
  assert.equal(
    { ...out, ci_half_width: Number(out.ci_half_width.toFixed(9)), ci_relative: Number(out.ci_relative.toFixed(9)), sd: Number(out.sd.toFixed(9)) },
    { min: 2, max: 4, target_ci: 0.02, n: 4, values: [10, 12, 11, 13], mean: 11.5, sd: Number(ci.sd.toFixed(9)), ci_half_width: Number(ci.halfWidth.toFixed(9)), ci_relative: Number(ci.relative.toFixed(9)), target_met: false, stop: 'max', seconds: 12.5 },
  );
  const one = JSON.parse(await bash('mawk', 'repeat_record_json 2 4 0.02 no-value 1 5'));
  assert.is(one.ci_half_width, null, 'infinitely wide is null in JSON');
  assert.is(one.ci_relative, null);
  const none = JSON.parse(await bash('mawk', 'repeat_record_json 2 4 0.02 no-value 1'));
  assert.equal([none.n, none.values, none.mean], [0, [], null]);
});

test.run();

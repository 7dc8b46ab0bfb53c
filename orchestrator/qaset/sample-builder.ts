// Building blocks of the benchmark parsers: numbers as benchmarks print them (with k/M suffixes,
// with time units), metric-name slugs, lines, splitting a file into runs, a sample collector that
// never lets two runs collapse into one sample, and the "not understood" result.
import { sample, type Better, type MetricSample } from '../results/metrics.js';

/** Parses a plain decimal number ("1,234" is not accepted); null when it is not one. */
export function num(s: string | undefined): number | null {
  if (s === undefined) return null;
  const t = s.trim();
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/** A number with an optional k/K/M/G multiplier suffix (fio's "19.8k", lmbench's "10.K"). */
export function numSuffixed(s: string | undefined): number | null {
  if (s === undefined) return null;
  const m = /^([-+]?(?:\d+\.?\d*|\.\d+))([kKmMgG])?$/.exec(s.trim());
  if (!m) return null;
  const base = Number(m[1]);
  const mult = { k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number.isFinite(base) ? base * mult : null;
}

/**
 * A plain decimal number multiplied by 10^exp exactly as written ("0.0031", 3 -> 3.1), by moving
 * the decimal point in the text: a unit conversion that adds no binary rounding noise
 * (0.0031 * 1000 is 3.1000000000000005).
 */
export function shiftDecimal(s: string, exp: number): number | null {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(s.trim());
  if (!m || `${m[2]}${m[3] ?? ''}` === '') return null;
  let int = m[2]!;
  let frac = m[3] ?? '';
  if (exp > 0) {
    frac = frac.padEnd(exp, '0');
    int += frac.slice(0, exp);
    frac = frac.slice(exp);
  } else if (exp < 0) {
    int = int.padStart(-exp + 1, '0');
    frac = int.slice(exp) + frac;
    int = int.slice(0, exp);
  }
  const v = Number(`${m[1]}${int || '0'}.${frac || '0'}`);
  return Number.isFinite(v) ? v : null;
}

const TO_MS: Record<string, number> = { ns: -6, us: -3, ms: 0, s: 3 };

/** "0.4121s", "2.81ms", "43us" -> milliseconds; a bare number is taken in `bareUnit`. */
export function durationMs(s: string | undefined, bareUnit: 'ms' | 's' | null = null): number | null {
  if (s === undefined) return null;
  const m = /^([-+]?(?:\d+\.?\d*|\.\d+))\s*(ns|us|ms|s)?$/.exec(s.trim());
  if (!m) return null;
  const unit = m[2] ?? bareUnit;
  if (unit === null || unit === undefined) return null;
  return shiftDecimal(m[1]!, TO_MS[unit]!);
}

/** "Re-writer report" -> "re_writer". */
export function slug(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function lines(text: string): string[] {
  return text.replace(/\r\n?/g, '\n').split('\n');
}

/**
 * Splits a file holding several runs of one program into the runs: each run starts at a line
 * `starts` matches (its banner). Text before the first banner is dropped (a harness' noise);
 * with no banner at all the whole text is one run.
 */
export function splitRuns(text: string, starts: RegExp): string[] {
  const ls = lines(text);
  const at: number[] = [];
  ls.forEach((l, i) => {
    if (starts.test(l)) at.push(i);
  });
  if (at.length === 0) return [text];
  return at.map((start, k) => ls.slice(start, at[k + 1] ?? ls.length).join('\n'));
}

function sampleKey(s: MetricSample): string {
  return JSON.stringify([s.metric, Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/**
 * Gives every sample whose metric and labels occur more than once (a file that repeats a run
 * with the same parameters) a `repeat` label, its 1-based occurrence in file order, so that no
 * two measurements collapse into one series point. Samples that occur once are left alone.
 */
export function withRepeats(samples: readonly MetricSample[]): MetricSample[] {
  const total = new Map<string, number>();
  for (const s of samples) total.set(sampleKey(s), (total.get(sampleKey(s)) ?? 0) + 1);
  const seen = new Map<string, number>();
  return samples.map((s) => {
    const key = sampleKey(s);
    if ((total.get(key) ?? 0) < 2) return s;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return { ...s, labels: { ...s.labels, repeat: String(n) } };
  });
}

/** Collects samples, dropping non-finite values; `list` never holds two with the same metric and labels. */
export class Samples {
  private readonly raw: MetricSample[] = [];
  constructor(private readonly base: Record<string, string>) {}
  add(metric: string, value: number | null | undefined, unit: string, better: Better, labels: Record<string, string> = {}): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    this.raw.push(sample(metric, value, unit, better, { ...this.base, ...labels }));
  }
  get size(): number {
    return this.raw.length;
  }
  /** The samples, repeated runs told apart by `repeat` (see withRepeats). */
  get list(): MetricSample[] {
    return withRepeats(this.raw);
  }
}

export function none(benchmark: string, reason: string): { benchmark: string; samples: MetricSample[]; unparsed: string } {
  return { benchmark, samples: [], unparsed: reason };
}

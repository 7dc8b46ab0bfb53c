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

function labelsKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Tells repeated runs apart. A file that repeats a run with the same parameters yields the same
 * labels again. Walking the samples in file order, a label set's run starts over when the parser
 * said a new run began (`runs`, one run number per sample) or, for parsers that do not say, when
 * one of the label set's metrics comes again. When a label set is seen in more than one run, every
 * sample of it gets a `repeat` label, the 1-based number of its run among the runs with those
 * labels, so no two measurements collapse into one point, and a run that lacks a metric (a
 * "+++++" field) does not shift the numbering. Label sets seen in one run only are left alone.
 */
export function withRepeats(samples: readonly MetricSample[], runs?: readonly number[]): MetricSample[] {
  const state = new Map<string, { n: number; run: number; metrics: Set<string> }>();
  const nth = samples.map((s, i) => {
    const key = labelsKey(s.labels);
    const run = runs?.[i] ?? 0;
    let st = state.get(key);
    if (!st) state.set(key, (st = { n: 1, run, metrics: new Set() }));
    else if (run !== st.run || st.metrics.has(s.metric)) [st.n, st.run, st.metrics] = [st.n + 1, run, new Set()];
    st.metrics.add(s.metric);
    return st.n;
  });
  return samples.map((s, i) => (state.get(labelsKey(s.labels))!.n > 1 ? { ...s, labels: { ...s.labels, repeat: String(nth[i]) } } : s));
}

/**
 * Collects samples, dropping non-finite values; `list` never holds two with the same metric and
 * labels. A parser whose runs share labels calls `newRun()` at each run's start (see withRepeats).
 */
export class Samples {
  private readonly raw: MetricSample[] = [];
  private readonly runs: number[] = [];
  private run = 0;
  constructor(private readonly base: Record<string, string>) {}
  newRun(): void {
    this.run++;
  }
  add(metric: string, value: number | null | undefined, unit: string, better: Better, labels: Record<string, string> = {}): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    this.raw.push(sample(metric, value, unit, better, { ...this.base, ...labels }));
    this.runs.push(this.run);
  }
  get size(): number {
    return this.raw.length;
  }
  /** The samples, repeated runs told apart by `repeat` (see withRepeats). */
  get list(): MetricSample[] {
    return withRepeats(this.raw, this.runs);
  }
}

export function none(benchmark: string, reason: string): { benchmark: string; samples: MetricSample[]; unparsed: string } {
  return { benchmark, samples: [], unparsed: reason };
}

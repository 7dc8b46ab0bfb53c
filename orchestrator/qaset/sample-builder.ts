// Building blocks of the benchmark parsers: numbers as benchmarks print them (with k/M suffixes), metric-name slugs, lines, a sample collector, and the "not understood" result.
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

/** Collects samples, dropping non-finite values. */
export class Samples {
  readonly list: MetricSample[] = [];
  constructor(private readonly base: Record<string, string>) {}
  add(metric: string, value: number | null | undefined, unit: string, better: Better, labels: Record<string, string> = {}): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    this.list.push(sample(metric, value, unit, better, { ...this.base, ...labels }));
  }
}

export function none(benchmark: string, reason: string): { benchmark: string; samples: MetricSample[]; unparsed: string } {
  return { benchmark, samples: [], unparsed: reason };
}

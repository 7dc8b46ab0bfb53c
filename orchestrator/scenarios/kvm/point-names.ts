// How the report tells a kvm job's matrix points apart (the scenario's PointNaming): a point's
// short name is the axes that differ between the points shown together, what a sample measured is
// its labels less those of its point and of where QASET's output came from, and the trends
// matrix lists benchmarks first, then ctcs2/QASET bookkeeping, then each point's steps in the
// order a point goes through them, then the rest of the scenario's own kvm.* samples.
import type { MetricSample } from '../../results/metrics.js';
import { labelsText } from '../../site/format.js';
import type { PointNaming } from '../types.js';
import { POINT_AXIS_LABELS, POINT_LABEL_NAMES, POINT_STEPS } from './points.js';

/** Labels that say which point (or where the output came from), not what was measured. */
const POINT_LABELS: ReadonlySet<string> = new Set<string>([...POINT_LABEL_NAMES, 'source', 'tcf', 'test']);

/** What a sample measured, without the labels that say which point or where it came from: "job=seq-read, rw=read". */
export function measuredText(labels: Record<string, string>): string {
  return labelsText(Object.fromEntries(Object.entries(labels).filter(([k]) => !POINT_LABELS.has(k))));
}

/**
 * Short names for a job's points: only the axes that differ between them ("smp2x1x1-numa2 · r2"),
 * since point ids share most of their length and charts cut long labels. The full id when the
 * short names would not tell points apart.
 */
export function pointNames(samples: readonly Pick<MetricSample, 'labels'>[]): Map<string, string> {
  const axes = new Map<string, Record<string, string>>();
  for (const s of samples) {
    const point = s.labels['point'];
    if (!point) continue;
    const known = axes.get(point) ?? {};
    for (const a of POINT_AXIS_LABELS) if (known[a] === undefined && s.labels[a] !== undefined) known[a] = s.labels[a]!;
    axes.set(point, known);
  }
  const varying = POINT_AXIS_LABELS.filter((a) => new Set([...axes.values()].map((v) => v[a])).size > 1);
  const complete = [...axes.values()].every((v) => varying.every((a) => v[a] !== undefined));
  const show = (axis: string, value: string) => (axis === 'repetition' ? `r${value}` : axis === 'memory_mib' ? `${value} MiB` : value);
  const names = new Map([...axes].map(([point, v]) => [point, varying.map((a) => show(a, v[a]!)).join(' · ') || point]));
  return complete && new Set(names.values()).size === names.size ? names : new Map([...axes.keys()].map((p) => [p, p]));
}

/** Benchmarks first, then ctcs2/QASET bookkeeping, then each point's steps in the order a point goes, then the rest. */
function matrixRank(metric: string): [number, number] {
  if (metric.startsWith('kvm.point.')) {
    const step = POINT_STEPS.indexOf(metric.slice('kvm.point.'.length) as (typeof POINT_STEPS)[number]);
    return [2, step < 0 ? POINT_STEPS.length : step];
  }
  if (metric.startsWith('kvm.')) return [3, 0];
  if (metric.startsWith('ctcs2.') || metric.startsWith('qaset.')) return [1, 0];
  return [0, 0];
}

export const kvmPointNaming: PointNaming = { names: pointNames, measured: measuredText, rank: matrixRank };

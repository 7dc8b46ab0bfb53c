// What a kvm job page shows (the scenario's JobPage, loaded only when the report is built): each
// matrix point's time by step, the benchmarks point against point, the host's series a line per
// point; the matrix's points named by the axes that differ between them (point-names.ts); and the
// sweeps index's headline numbers.
import type { MetricSample } from '../../results/metrics.js';
import { itemBarsChart, stepBarsChart, type ChartSpec } from '../../site/charts.js';
import { labelsText } from '../../site/format.js';
import { slug } from '../../site/names.js';
import { seriesCharts } from '../../site/series-charts.js';
import type { JobPage, JobPageInput } from '../types.js';
import { kvmPointNaming, measuredText, pointNames } from './point-names.js';
import { POINT_STEPS } from './points.js';

const KVM_STEPS: readonly string[] = POINT_STEPS;

/** Bar charts of benchmark results across points shown at most (the samples table has them all). */
const MAX_POINT_COMPARISONS = 24;

/**
 * One bar chart per benchmark measurement (metric + the labels that say what was measured, such as
 * fio's job), a bar per matrix point: the comparison a matrix is run for. ctcs2 and QASET bookkeeping
 * (qaset.case.passed, qaset.cases.*) and the scenario's own kvm.* samples are left to the table.
 */
function pointComparisonCharts(samples: readonly MetricSample[], names: ReadonlyMap<string, string> = pointNames(samples)): ChartSpec[] {
  const groups = new Map<string, { metric: string; unit: string; better: string; what: string; bars: { item: string; value: number; detail: string }[] }>();
  for (const s of samples) {
    const point = s.labels['point'];
    if (!point || s.metric.startsWith('kvm.') || s.metric.startsWith('ctcs2.') || s.metric.startsWith('qaset.')) continue;
    const what = measuredText(s.labels);
    const key = `${s.metric}\u0000${what}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { metric: s.metric, unit: s.unit, better: s.better, what, bars: [] }));
    g.bars.push({ item: names.get(point) ?? point, value: s.value, detail: point });
  }
  return [...groups.values()]
    .sort((a, b) => a.metric.localeCompare(b.metric) || a.what.localeCompare(b.what))
    .slice(0, MAX_POINT_COMPARISONS)
    .flatMap((g) => {
      const chart = itemBarsChart({
        id: `points-${slug(`${g.metric}-${g.what}`)}`,
        metric: g.metric,
        unit: g.unit,
        better: g.better,
        title: g.what ? `${g.metric} (${g.what})` : g.metric,
        bars: g.bars,
      });
      return chart ? [chart] : [];
    });
}

/** Each matrix point's time by step, the benchmarks point against point, the host's series per point. */
function kvmJobCharts(job: JobPageInput): ChartSpec[] {
  const samples = job.metrics?.samples ?? [];
  const names = pointNames(samples);
  const bars = samples
    .filter((s) => s.metric.startsWith('kvm.point.') && KVM_STEPS.includes(s.metric.slice('kvm.point.'.length)) && s.labels['point'])
    .sort((a, b) => KVM_STEPS.indexOf(a.metric.slice('kvm.point.'.length)) - KVM_STEPS.indexOf(b.metric.slice('kvm.point.'.length)))
    .map((s) => ({ item: names.get(s.labels['point']!) ?? s.labels['point']!, step: s.metric.slice('kvm.point.'.length), seconds: s.value }));
  const steps = stepBarsChart({
    id: 'kvm-point-steps',
    title: 'Time per matrix point',
    note: 'Points are named by the axes that differ between them. boot: start until the guest first reports (its QASET watcher); run: until QASET ends, reboots between cases included; the rest is the orchestrator\'s work around the guest.',
    bars,
  });
  const series = job.metrics?.series ?? [];
  const host = seriesCharts(series, (s) => (s.labels['point'] ? (names.get(s.labels['point']) ?? s.labels['point']) : labelsText(s.labels) || s.metric), series.some((s) => s.labels['point']) ? 'point' : undefined);
  return [...(steps ? [steps] : []), ...pointComparisonCharts(samples, names), ...host];
}

export const jobPage: JobPage = {
  charts: kvmJobCharts,
  headlines: [
    { metric: 'kvm.points.done', label: 'points done' },
    { metric: 'qaset.outputs.unparsed', label: 'unparsed outputs' },
  ],
  points: kvmPointNaming,
};

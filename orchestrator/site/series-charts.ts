// The generic job chart: line charts of series, one per metric, a line per label set.
import type { MetricSeries } from '../results/metrics.js';
import { timeSeriesChart, type ChartSpec } from './charts.js';
import { labelsText } from './format.js';
import { slug } from './names.js';

/**
 * Line charts of the given series, grouped by metric name; `labelOf` names each line (default: its
 * labels, and the legend then names it by the labels that differ between the chart's lines) and
 * `seriesTitle` says what the lines are in the legend (default "labels").
 */
export function seriesCharts(series: readonly MetricSeries[], labelOf?: (s: MetricSeries) => string, seriesTitle?: string): ChartSpec[] {
  const byMetric = new Map<string, MetricSeries[]>();
  for (const s of series) byMetric.set(s.metric, [...(byMetric.get(s.metric) ?? []), s]);
  const lineOf = (s: MetricSeries) => (labelOf ? { label: labelOf(s), points: s.points } : { label: labelsText(s.labels) || s.metric, labels: s.labels, points: s.points });
  return [...byMetric.entries()].map(([metric, group]) =>
    timeSeriesChart({
      id: `series-${slug(metric)}`,
      metric,
      unit: group[0]!.unit,
      better: group[0]!.better,
      series: group.map(lineOf),
      ...(seriesTitle ? { seriesTitle } : {}),
    }),
  );
}

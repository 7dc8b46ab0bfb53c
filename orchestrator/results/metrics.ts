// Normalized metrics: what analysis and the report read, whatever scenario made them.
import * as z from 'zod';

export const METRICS_SCHEMA = 'orchestrate/metrics@1' as const;

export const BetterSchema = z.enum(['higher', 'lower', 'none']);
export type Better = z.infer<typeof BetterSchema>;

export const MetricSampleSchema = z.object({
  metric: z.string().min(1),
  value: z.number(),
  unit: z.string(),
  better: BetterSchema,
  labels: z.record(z.string(), z.string()),
});
export type MetricSample = z.infer<typeof MetricSampleSchema>;

export const MetricSeriesSchema = z.object({
  metric: z.string().min(1),
  unit: z.string(),
  better: BetterSchema,
  labels: z.record(z.string(), z.string()),
  /** [unix seconds, value or null for unknown] */
  points: z.array(z.tuple([z.number(), z.number().nullable()])),
});
export type MetricSeries = z.infer<typeof MetricSeriesSchema>;

export const MetricsFileSchema = z.object({
  schema: z.literal(METRICS_SCHEMA),
  samples: z.array(MetricSampleSchema),
  series: z.array(MetricSeriesSchema),
});
export type MetricsFile = z.infer<typeof MetricsFileSchema>;

export interface MetricsDraft {
  samples: MetricSample[];
  series: MetricSeries[];
}

export function sample(metric: string, value: number, unit: string, better: Better, labels: Record<string, string> = {}): MetricSample {
  return { metric, value, unit, better, labels };
}

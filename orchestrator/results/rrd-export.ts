// Time series a helper stored in RRD files, read back from their `rrdtool xport --json` exports
// (RRD files are not portable across architectures; the exports are). A helper lists its series
// in an index.json: {step, heartbeat, series: [{collector, alias, type, rrd, json}]}, the paths
// relative to the job's artifacts directory. Both are host output: validated here.
import { join } from 'node:path';
import * as z from 'zod';
import type { Better, MetricSeries } from './metrics.js';
import { readHostJson } from './host-json.js';

const RelativeJson = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\.json$/, 'a relative path to a .json file')
  .refine((p) => !p.split('/').includes('..'), 'a path without ".." parts');

export const RrdIndexSchema = z.object({
  step: z.number(),
  heartbeat: z.number(),
  series: z.array(
    z.object({
      collector: z.string().regex(/^[a-z]+$/),
      alias: z.string().regex(/^[A-Za-z0-9_.-]+$/),
      type: z.enum(['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE']),
      rrd: z.string(),
      json: RelativeJson,
    }),
  ),
});

/** `rrdtool xport --json`: meta.start/step/legend and data rows (one value per legend entry). */
const XportSchema = z.object({
  meta: z.object({ start: z.number(), step: z.number().positive(), end: z.number().optional(), legend: z.array(z.string()) }),
  data: z.array(z.array(z.number().nullable())),
});

export class RrdExportError extends Error {
  override readonly name = 'RrdExportError';
}

const readJson = (path: string) => readHostJson(path, (message) => new RrdExportError(message));

export interface SeriesUnit {
  unit: string;
  better: Better;
}

/**
 * The AVERAGE column of every series listed in <artifactsDir>/<indexPath>, as metric
 * "<collector>.<alias>" with labels {collector, rrd_type, ...labels}. No index: no series.
 */
export async function readRrdSeries(
  artifactsDir: string,
  indexPath: string,
  unitOf: (collector: string, alias: string, type: string) => SeriesUnit,
  labels: Record<string, string> = {},
): Promise<MetricSeries[]> {
  const indexFile = join(artifactsDir, indexPath);
  const raw = await readJson(indexFile);
  if (raw === undefined) return [];
  const index = RrdIndexSchema.safeParse(raw);
  if (!index.success) throw new RrdExportError(`${indexFile}: ${index.error.issues[0]?.path.join('.')}: ${index.error.issues[0]?.message}`);
  const series: MetricSeries[] = [];
  for (const entry of index.data.series) {
    const path = join(artifactsDir, entry.json);
    const parsed = XportSchema.safeParse(await readJson(path));
    if (!parsed.success) throw new RrdExportError(`${path}: not an rrdtool xport --json document: ${parsed.error.issues[0]?.message}`);
    const { meta, data } = parsed.data;
    const column = Math.max(0, meta.legend.indexOf('average'));
    const { unit, better } = unitOf(entry.collector, entry.alias, entry.type);
    series.push({
      metric: `${entry.collector}.${entry.alias}`,
      unit,
      better,
      labels: { collector: entry.collector, rrd_type: entry.type, ...labels },
      points: data.map((row, i) => [meta.start + i * meta.step, row[column] ?? null] as [number, number | null]),
    });
  }
  return series;
}

/** Mean and max of a series' known values. */
export function seriesStats(series: MetricSeries | undefined): { mean: number; max: number } | undefined {
  const values = series?.points.map(([, v]) => v).filter((v): v is number => v !== null && Number.isFinite(v)) ?? [];
  if (values.length === 0) return undefined;
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

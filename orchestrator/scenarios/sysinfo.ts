// sysinfo: gathers each host's environment (CPU count and topology, NUMA, memory, block
// devices and mounts; the provenance every manifest records is collected once per host per
// sweep, not by this helper). It exercises the whole core (connect, bundle, detached
// phase, collect, store) before any performance scenario.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { ProvenanceSchema } from '../results/provenance.js';
import { sample, type MetricSample, type MetricSeries } from '../results/metrics.js';
import type { Scenario } from './types.js';
import { rawArtifactsIn } from '../results/store-layout.js';

const SysinfoParams = z.strictObject({
  /** Seconds of host CPU sampling (a baseline of how busy the host is before a test); 0 = none. */
  sample_seconds: z.number().int().min(0).max(3600).optional(),
});
export type SysinfoParams = z.infer<typeof SysinfoParams>;

const CpuBusyLine = z.object({ t: z.number(), busy_percent: z.number().min(0).max(100) });

const LsblkDevice: z.ZodType<{ name: string; type: string; size: number | string | null; children?: unknown[] }> = z.looseObject({
  name: z.string(),
  type: z.string(),
  size: z.union([z.number(), z.string()]).nullable(),
  children: z.array(z.unknown()).optional(),
});

export const SysinfoDocumentSchema = z.object({
  /** Only in documents written before provenance was collected once per host per sweep. */
  provenance: ProvenanceSchema.optional(),
  /** CPUs the host lets a process use (what nproc prints); absent in older documents. */
  logical_cpus: z.number().int().nullable().optional(),
  uptime_s: z.number().nullable(),
  loadavg: z.tuple([z.number().nullable(), z.number().nullable(), z.number().nullable()]),
  numa_nodes: z.number().int().nullable(),
  meminfo_kb: z.record(z.string(), z.number()),
  lscpu: z.looseObject({ lscpu: z.array(z.looseObject({ field: z.string(), data: z.string().nullable() })) }).nullable(),
  lsblk: z.looseObject({ blockdevices: z.array(LsblkDevice) }).nullable(),
  mounts: z.looseObject({ filesystems: z.array(z.looseObject({ target: z.string(), fstype: z.string() })) }).nullable(),
});
export type SysinfoDocument = z.infer<typeof SysinfoDocumentSchema>;

export class ArtifactError extends Error {
  override readonly name = 'ArtifactError';
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
  }
}

export async function readSysinfo(rawDir: string): Promise<SysinfoDocument> {
  const path = join(rawArtifactsIn(rawDir), 'sysinfo.json');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ArtifactError(path, `cannot read: ${(error as Error).message}`);
  }
  const parsed = SysinfoDocumentSchema.safeParse(value);
  if (!parsed.success) {
    throw new ArtifactError(path, parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

function lscpuField(doc: SysinfoDocument, field: string): string | undefined {
  return doc.lscpu?.lscpu.find((entry) => entry.field.replace(/:$/, '') === field)?.data ?? undefined;
}

export function sysinfoMetrics(doc: SysinfoDocument): MetricSample[] {
  const samples: MetricSample[] = [];
  const add = (metric: string, value: number | null | undefined, unit: string) => {
    if (typeof value === 'number' && Number.isFinite(value)) samples.push(sample(metric, value, unit, 'none'));
  };
  add('cpu.logical', doc.logical_cpus ?? doc.provenance?.cpu.logical_cpus, 'count');
  add('cpu.sockets', Number(lscpuField(doc, 'Socket(s)') ?? NaN), 'count');
  add('cpu.threads_per_core', Number(lscpuField(doc, 'Thread(s) per core') ?? NaN), 'count');
  add('numa.nodes', doc.numa_nodes, 'count');
  add('memory.total', (doc.meminfo_kb['MemTotal'] ?? NaN) * 1024, 'bytes');
  add('memory.available', (doc.meminfo_kb['MemAvailable'] ?? NaN) * 1024, 'bytes');
  add('load.1m', doc.loadavg[0], 'load');
  add('uptime', doc.uptime_s, 's');
  const disks = doc.lsblk?.blockdevices.filter((device) => device.type === 'disk') ?? [];
  add('disk.count', doc.lsblk ? disks.length : null, 'count');
  add('disk.total', doc.lsblk ? disks.reduce((sum, d) => sum + (Number(d.size) || 0), 0) : null, 'bytes');
  return samples;
}

/** Reads cpu-busy.jsonl (absent when sampling was off); malformed lines are skipped. */
export async function readCpuBusy(rawDir: string): Promise<MetricSeries | undefined> {
  let text: string;
  try {
    text = await readFile(join(rawArtifactsIn(rawDir), 'cpu-busy.jsonl'), 'utf8');
  } catch {
    return undefined;
  }
  const points: [number, number | null][] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const parsed = CpuBusyLine.safeParse(JSON.parse(line));
      if (parsed.success) points.push([parsed.data.t, parsed.data.busy_percent]);
    } catch {
      // a torn last line of an interrupted run: skip it
    }
  }
  return { metric: 'host.cpu.busy', unit: '%', better: 'lower', labels: {}, points };
}

export const sysinfoScenario: Scenario<SysinfoParams> = {
  name: 'sysinfo',
  description: "Records each host's environment: kernel, command line, CPU topology, NUMA, memory, disks, mounts, package versions; optionally samples how busy the host's CPUs are.",
  params: SysinfoParams,
  helpers: ['remote-scripts/sysinfo'],
  phases: ({ params }) => [
    {
      name: 'sysinfo',
      helper: 'sysinfo',
      env: { SYSINFO_SAMPLE_SECONDS: String(params.sample_seconds ?? 0) },
      timeoutMs: 120_000 + (params.sample_seconds ?? 0) * 2000,
    },
  ],
  async normalize(rawDir) {
    const samples = sysinfoMetrics(await readSysinfo(rawDir));
    const busy = await readCpuBusy(rawDir);
    const values = busy?.points.map(([, v]) => v).filter((v): v is number => v !== null) ?? [];
    if (busy && values.length > 0) {
      samples.push(sample('host.cpu.busy.mean', values.reduce((a, b) => a + b, 0) / values.length, '%', 'lower'));
      samples.push(sample('host.cpu.busy.max', Math.max(...values), '%', 'lower'));
    }
    return { samples, series: busy ? [busy] : [] };
  },
  // The job page's chart: loaded by the report only.
  jobPage: async () => (await import('./sysinfo/job-page.js')).jobPage,
};

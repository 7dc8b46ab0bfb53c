// Reads a midolman job's artifacts (they came from the host: everything is validated) into
// normalized metrics: per-step offered/achieved/delivered rates, loss and one-way latency, the
// highest lossless rate, NDR, peak delivered rate; the RRD series (exported on the host with
// `rrdtool xport --json`: RRD files are not portable across architectures) as time series with
// CPU, RSS and heap peaks and means; per step, the agent's CPU, simulation latency and processed
// rate over the step's window, and at the NDR (or the lossless maximum) the one-way p99 latency and
// the agent's CPU per 1000 pps delivered; the heap dump's size. A step repeated (the scenario's
// `repeat`) has one steps.jsonl line per burst: each burst's samples carry the step's labels (repeated
// samples of one key, the spread history and comparison read), the step's verdicts (lossless,
// maxima, the reference step) read the means over its bursts, and repeats.jsonl's record of each
// step's loop becomes repeat.* samples and the job's repeats.json beside raw/.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { sample, type MetricSample, type MetricSeries, type MetricsDraft } from '../../results/metrics.js';
import { readRrdSeries, RrdExportError, seriesStats, type SeriesUnit } from '../../results/rrd-export.js';
import { readHostJson } from '../../results/host-json.js';
import { writeJsonAtomically } from '../../results/atomic-write.js';
import { MIDOLMAN_REPEAT_METRICS } from './params.js';
import { rawArtifactsIn } from '../../results/store-layout.js';

const nullableNumber = z.number().nullable();

export const StepSchema = z.object({
  phase: z.enum(['warm-up', 'throughput', 'long-running']),
  index: z.number().int().min(1),
  /** Which burst of its step this is (only when the step was repeated: the scenario's `repeat`). */
  repetition: z.number().int().min(1).max(100).optional(),
  generator: z.string(),
  mode: z.enum(['linear', 'ndr']),
  t_start: z.number(),
  t_end: z.number(),
  offered_pps: z.number().min(0),
  probes: z.number().int().min(0),
  sent: z.number().int().min(0),
  delivered: z.number().int().min(0),
  send_duration_s: z.number().min(0),
  achieved_pps: z.number().min(0),
  delivered_pps: z.number().min(0),
  loss: z.number().min(0).max(1),
  latency_ns: z.object({
    count: z.number().int().min(0),
    min: nullableNumber,
    mean: nullableNumber,
    p50: nullableNumber,
    p90: nullableNumber,
    p99: nullableNumber,
    max: nullableNumber,
  }),
  link: z.object({ src_tx_packets: nullableNumber, dst_rx_packets: nullableNumber }),
  generator_report: z.unknown(),
  /**
   * The topology's datapath over the burst (ovs_* topologies: Open vSwitch's userspace datapath,
   * remote-scripts/lib/midolman-datapath.sh): flows before and after, hits, misses (upcalls) and
   * lost upcalls, new flows (misses not lost: each installed a flow), new flows per second of
   * the send window, and packets dropped at the switch's sockets before it read them. Absent for topologies without a datapath to read; null when a read failed.
   */
  datapath: z
    .object({
      flows_before: z.number().int().min(0),
      flows_after: z.number().int().min(0),
      hit: z.number().int(),
      missed: z.number().int(),
      lost: z.number().int(),
      new_flows: z.number().int().min(0),
      flow_setup_pps: z.number().min(0).nullable(),
      /** Packets the kernel dropped at the switch's packet sockets during the burst (queues full: read too late); null when not known. */
      socket_drops: z.number().int().nullable().optional(),
    })
    .nullable()
    .optional(),
});
export type Step = z.infer<typeof StepSchema>;

export const NdrSchema = z.object({
  mode: z.literal('ndr'),
  loss_threshold: z.number(),
  resolution_pps: z.number(),
  trials: z.number().int(),
  ndr_pps: z.number(),
  found: z.boolean(),
  best_step: StepSchema.nullable(),
});

/** A step's repetition loop (remote-scripts/lib/traffic-repeat.sh; lib/repeat.sh's record). */
export const RepeatRecordSchema = z.object({
  phase: z.literal('throughput'),
  index: z.number().int().min(1),
  offered_pps: z.number().min(0),
  metric: z.enum(MIDOLMAN_REPEAT_METRICS),
  /** Bursts sent. */
  repetitions: z.number().int().min(1).max(100),
  min: z.number().int().min(1),
  max: z.number().int().min(1),
  target_ci: z.number(),
  /** Values judged (fewer than repetitions only when a burst had none: stop no-value). */
  n: z.number().int().min(0).max(100),
  values: z.array(z.number()).max(100),
  mean: nullableNumber,
  sd: nullableNumber,
  ci_half_width: nullableNumber,
  ci_relative: nullableNumber,
  target_met: z.boolean(),
  stop: z.enum(['target', 'max', 'deadline', 'no-value']),
  seconds: z.number().min(0),
});
export type RepeatRecord = z.infer<typeof RepeatRecordSchema>;

/** A heap dump the phase skipped: the agent is no JVM (ovs-vswitchd under the ovs_* topologies). */
const HeapDumpSkippedSchema = z.object({ pid: z.number(), skipped: z.literal(true), reason: z.string().max(1000) });

const HeapDumpSchema = z.object({
  pid: z.number(),
  tool: z.string(),
  file: z.string(),
  hprof_bytes: z.number(),
  bytes: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  seconds: z.number(),
});

export class MidolmanArtifactError extends Error {
  override readonly name = 'MidolmanArtifactError';
}

const readJson = (path: string) => readHostJson(path, (message) => new MidolmanArtifactError(message));

/** A JSON-lines artifact; a torn last line (interrupted run) is skipped, any other bad line is an error. */
async function readJsonLines<T>(rawDir: string, name: string, schema: z.ZodType<T>): Promise<T[]> {
  const path = join(rawArtifactsIn(rawDir), name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i >= lines.length - 2) return; // torn last line
      throw new MidolmanArtifactError(`${path}:${i + 1}: not JSON`);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new MidolmanArtifactError(`${path}:${i + 1}: ${parsed.error.issues.slice(0, 3).map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    out.push(parsed.data);
  });
  return out;
}

/** steps.jsonl: one line per burst. */
export function readSteps(rawDir: string): Promise<Step[]> {
  return readJsonLines(rawDir, 'steps.jsonl', StepSchema);
}

/** repeats.jsonl: one line per repeated step (none without the scenario's `repeat`). */
export function readRepeats(rawDir: string): Promise<RepeatRecord[]> {
  return readJsonLines(rawDir, 'repeats.jsonl', RepeatRecordSchema);
}

/** A step with its bursts: one, or one per repetition. Rates, loss and latency are the bursts' means. */
export interface StepGroup {
  phase: Step['phase'];
  index: number;
  offered_pps: number;
  mode: Step['mode'];
  bursts: Step[];
  achieved_pps: number;
  delivered_pps: number;
  loss: number;
  /** Mean of the bursts' one-way p99 latency (those that have one); null when none has. */
  p99_ns: number | null;
}

const meanOf = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Lines of one step (phase and index) gathered, in the order of their first line. */
export function stepGroups(steps: readonly Step[]): StepGroup[] {
  const groups = new Map<string, Step[]>();
  for (const s of steps) {
    const key = `${s.phase}#${s.index}`;
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()].map((bursts) => {
    const p99 = bursts.map((b) => b.latency_ns.p99).filter((v): v is number => v !== null);
    const first = bursts[0]!;
    return {
      phase: first.phase,
      index: first.index,
      offered_pps: first.offered_pps,
      mode: first.mode,
      bursts,
      achieved_pps: meanOf(bursts.map((b) => b.achieved_pps)),
      delivered_pps: meanOf(bursts.map((b) => b.delivered_pps)),
      loss: meanOf(bursts.map((b) => b.loss)),
      p99_ns: p99.length ? meanOf(p99) : null,
    };
  });
}

/** Unit and direction of a collector series, from its alias (and type: COUNTER/DERIVE are per-second rates). */
export function seriesUnit(collector: string, alias: string, type: string): SeriesUnit {
  if (collector === 'proc') {
    if (alias.endsWith('_percent')) return { unit: '%', better: 'lower' };
    if (alias === 'agent.rss_bytes') return { unit: 'bytes', better: 'lower' };
    if (alias.endsWith('_bytes')) return { unit: 'bytes', better: 'none' };
    if (alias.startsWith('if.')) return { unit: 'pps', better: 'none' };
  }
  if (collector === 'datapath') return datapathSeriesUnit(alias);
  if (alias.startsWith('jvm.heap') || alias.startsWith('jvm.pool')) return { unit: 'bytes', better: 'lower' };
  if (alias === 'jvm.process_cpu_load') return { unit: 'ratio', better: 'lower' };
  if (alias === 'jvm.process_cpu_time') return { unit: 'ns/s', better: 'lower' };
  if (alias.startsWith('sim_latency.')) return { unit: 'ns', better: 'lower' };
  if (alias.startsWith('packets_')) return { unit: type === 'COUNTER' || type === 'DERIVE' ? 'pps' : 'packets', better: alias === 'packets_dropped' ? 'lower' : 'higher' };
  if (alias.startsWith('flows.')) return { unit: alias.endsWith('_created') ? 'flows/s' : 'flows', better: 'none' };
  return { unit: '', better: 'none' };
}

/** The datapath collector's series (remote-scripts/lib/midolman-datapath.sh MM_DATAPATH_TYPES). */
function datapathSeriesUnit(alias: string): SeriesUnit {
  switch (alias) {
    case 'dp.flows':
    case 'dp.upcall_flows':
      return { unit: 'flows', better: 'none' };
    case 'dp.missed':
      return { unit: 'upcalls/s', better: 'none' };
    case 'dp.hit':
      return { unit: 'pps', better: 'none' };
    case 'dp.lost':
    case 'dp.socket_drops':
      return { unit: 'pps', better: 'lower' };
    case 'dp.flow_put':
    case 'dp.flow_del':
      return { unit: 'flows/s', better: 'none' };
    case 'dp.dump_duration_ms':
      return { unit: 'ms', better: 'lower' };
    case 'dp.handlers':
    case 'dp.revalidators':
      return { unit: 'threads', better: 'none' };
    default:
      return { unit: '', better: 'none' };
  }
}

/** RRD series (AVERAGE column) from the host's exports listed in rrd/index.json. */
export async function readMidolmanRrdSeries(rawDir: string): Promise<MetricSeries[]> {
  try {
    return await readRrdSeries(rawArtifactsIn(rawDir), join('rrd', 'index.json'), seriesUnit);
  } catch (error) {
    if (error instanceof RrdExportError) throw new MidolmanArtifactError(error.message);
    throw error;
  }
}

export interface NormalizeOptions {
  /** Loss at or below this fraction counts as lossless (the scenario's ndr_loss; default 0). */
  losslessLoss?: number;
}

export function stepMetrics(steps: Step[], options: NormalizeOptions = {}): MetricSample[] {
  const samples: MetricSample[] = [];
  const lossless = options.losslessLoss ?? 0;
  for (const s of steps) {
    if (s.phase === 'warm-up') continue;
    const labels = { phase: s.phase, step: String(s.index), offered_pps: String(s.offered_pps), mode: s.mode };
    samples.push(sample('traffic.offered', s.offered_pps, 'pps', 'none', labels));
    samples.push(sample('traffic.achieved', s.achieved_pps, 'pps', 'higher', labels));
    samples.push(sample('traffic.delivered', s.delivered_pps, 'pps', 'higher', labels));
    samples.push(sample('traffic.loss', s.loss, 'ratio', 'lower', labels));
    for (const q of ['p50', 'p90', 'p99'] as const) {
      const v = s.latency_ns[q];
      if (v !== null) samples.push(sample(`latency.oneway.${q}`, v, 'ns', 'lower', labels));
    }
    samples.push(...datapathStepSamples(s, labels));
  }
  const scan = stepGroups(steps.filter((s) => s.phase === 'throughput'));
  if (scan.length > 0) {
    const ok = scan.filter((s) => s.loss <= lossless + 1e-9);
    samples.push(sample('throughput.lossless_max', ok.length ? Math.max(...ok.map((s) => s.offered_pps)) : 0, 'pps', 'higher', { loss_threshold: String(lossless) }));
    samples.push(sample('throughput.delivered_max', Math.max(...scan.map((s) => s.delivered_pps)), 'pps', 'higher'));
    samples.push(sample('throughput.achieved_max', Math.max(...scan.map((s) => s.achieved_pps)), 'pps', 'higher'));
  }
  const steady = steps.filter((s) => s.phase === 'long-running' && s.latency_ns.count > 0);
  if (steady.length > 0) {
    for (const q of ['p50', 'p99'] as const) {
      const values = steady.map((s) => s.latency_ns[q]).filter((v): v is number => v !== null);
      if (values.length) samples.push(sample(`long_running.latency.${q}`, values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!, 'ns', 'lower'));
    }
    const sent = steady.reduce((a, s) => a + s.sent, 0);
    const delivered = steady.reduce((a, s) => a + s.delivered, 0);
    if (sent > 0) samples.push(sample('long_running.loss', 1 - delivered / sent, 'ratio', 'lower'));
  }
  return samples;
}

/** A step's datapath readings as samples labelled like the step's traffic. */
function datapathStepSamples(s: Step, labels: Record<string, string>): MetricSample[] {
  const dp = s.datapath;
  if (!dp) return [];
  const out = [
    sample('datapath.new_flows', dp.new_flows, 'flows', 'none', labels),
    sample('datapath.flows', dp.flows_after, 'flows', 'none', labels),
    sample('datapath.upcalls', dp.missed, 'upcalls', 'none', labels),
    sample('datapath.lost', dp.lost, 'packets', 'lower', labels),
  ];
  if (dp.flow_setup_pps !== null) out.push(sample('datapath.flow_setup', dp.flow_setup_pps, 'flows/s', 'higher', labels));
  if (typeof dp.socket_drops === 'number') out.push(sample('datapath.socket_drops', dp.socket_drops, 'packets', 'lower', labels));
  return out;
}

/**
 * Where loss begins in a linear scan: the lowest offered rate whose (mean) loss is above the
 * threshold, and the flow-setup rate the datapath reached at the step before it (the highest it
 * sustained without loss) and at that step. Nothing when no step lost packets.
 */
export function lossOnsetMetrics(steps: readonly Step[], losslessLoss = 0): MetricSample[] {
  const groups = stepGroups(steps.filter((s) => s.phase === 'throughput')).sort((a, b) => a.offered_pps - b.offered_pps);
  const onset = groups.find((g) => g.loss > losslessLoss + 1e-9);
  if (!onset) return [];
  const setup = (g: StepGroup) => {
    const v = g.bursts.map((b) => b.datapath?.flow_setup_pps).filter((x): x is number => typeof x === 'number');
    return v.length ? meanOf(v) : undefined;
  };
  const out = [sample('throughput.loss_onset', onset.offered_pps, 'pps', 'higher', { loss_threshold: String(losslessLoss) })];
  const at = setup(onset);
  if (at !== undefined) out.push(sample('datapath.flow_setup.at_loss_onset', at, 'flows/s', 'higher'));
  const below = groups.filter((g) => g.offered_pps < onset.offered_pps).at(-1);
  const before = below ? setup(below) : undefined;
  if (before !== undefined) out.push(sample('datapath.flow_setup.lossless_max', before, 'flows/s', 'higher'));
  return out;
}

export function seriesSummaries(series: MetricSeries[]): MetricSample[] {
  const out: MetricSample[] = [];
  const byMetric = new Map(series.map((s) => [s.metric, s]));
  const add = (metric: string, name: string, unit: string) => {
    const st = seriesStats(byMetric.get(metric));
    if (!st) return;
    out.push(sample(`${name}.mean`, st.mean, unit, 'lower'));
    out.push(sample(`${name}.max`, st.max, unit, 'lower'));
  };
  add('proc.agent.cpu_percent', 'agent.cpu', '%');
  add('proc.agent.rss_bytes', 'agent.rss', 'bytes');
  add('proc.host.cpu_busy_percent', 'host.cpu', '%');
  add('jmx.jvm.heap.used', 'agent.heap.used', 'bytes');
  add('jmx.sim_latency.p99', 'agent.simulation_latency.p99', 'ns');
  const flows = seriesStats(byMetric.get('jmx.flows.wildcard'));
  if (flows) out.push(sample('agent.flows.wildcard.max', flows.max, 'flows', 'none'));
  const processed = seriesStats(byMetric.get('jmx.packets_processed'));
  if (processed) out.push(sample('agent.packets_processed.max', processed.max, 'pps', 'higher'));
  const dpFlows = seriesStats(byMetric.get('datapath.dp.flows'));
  if (dpFlows) out.push(sample('datapath.flows.max', dpFlows.max, 'flows', 'none'));
  const upcalls = seriesStats(byMetric.get('datapath.dp.missed'));
  if (upcalls) out.push(sample('datapath.upcalls.max', upcalls.max, 'upcalls/s', 'none'));
  return out;
}

/**
 * Mean of a series' known values over a step: RRD stamps each value at the end of its interval,
 * so the points after the step's start up to one interval past its end. Undefined when none.
 */
export function windowMean(series: MetricSeries | undefined, start: number, end: number): number | undefined {
  if (!series) return undefined;
  const interval = series.points.length > 1 ? series.points[1]![0] - series.points[0]![0] : 1;
  const values = series.points.filter(([t, v]) => t > start && t < end + interval && v !== null && Number.isFinite(v)).map(([, v]) => v!);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;
}

/** The agent's series read per step, as samples labelled like the step's traffic samples. */
const STEP_AGENT_SERIES: readonly (readonly [series: string, metric: string, unit: string, better: 'higher' | 'lower'])[] = [
  ['proc.agent.cpu_percent', 'agent.cpu', '%', 'lower'],
  ['jmx.sim_latency.p50', 'agent.simulation_latency.p50', 'ns', 'lower'],
  ['jmx.sim_latency.p99', 'agent.simulation_latency.p99', 'ns', 'lower'],
  ['jmx.packets_processed', 'agent.packets_processed', 'pps', 'higher'],
];

/**
 * The step a job's headline figures are read at: the NDR search's best step (with all its
 * bursts), else the highest lossless throughput step (the last one at that rate; lossless by the
 * mean loss of its bursts). Undefined when no step qualifies.
 */
export function referenceStep(steps: readonly Step[], ndrBest: Step | null | undefined, losslessLoss = 0): { step: StepGroup; at: 'ndr' | 'lossless_max' } | undefined {
  const groups = stepGroups(steps.filter((s) => s.phase === 'throughput'));
  if (ndrBest) {
    const group = groups.find((g) => g.index === ndrBest.index && g.offered_pps === ndrBest.offered_pps);
    return { step: group ?? stepGroups([ndrBest])[0]!, at: 'ndr' };
  }
  const ok = groups.filter((s) => s.loss <= losslessLoss + 1e-9);
  if (ok.length === 0) return undefined;
  const top = Math.max(...ok.map((s) => s.offered_pps));
  return { step: ok.filter((s) => s.offered_pps === top).at(-1)!, at: 'lossless_max' };
}

/**
 * Per step (throughput and long-running): the agent's CPU, simulation latency and processed rate
 * over the step's window. At the reference step: one-way p99 latency and agent CPU per 1000 pps
 * delivered (percent of one CPU per kpps), labelled with which rate it is (`at`).
 */
export function agentStepMetrics(steps: readonly Step[], series: readonly MetricSeries[], reference: ReturnType<typeof referenceStep>): MetricSample[] {
  const byMetric = new Map(series.map((s) => [s.metric, s]));
  const samples: MetricSample[] = [];
  for (const s of steps) {
    if (s.phase === 'warm-up') continue;
    const labels = { phase: s.phase, step: String(s.index), offered_pps: String(s.offered_pps), mode: s.mode };
    for (const [name, metric, unit, better] of STEP_AGENT_SERIES) {
      const mean = windowMean(byMetric.get(name), s.t_start, s.t_end);
      if (mean !== undefined) samples.push(sample(metric, mean, unit, better, labels));
    }
  }
  if (reference) {
    const { step, at } = reference;
    if (step.p99_ns !== null) samples.push(sample('throughput.latency.oneway.p99', step.p99_ns, 'ns', 'lower', { at }));
    // each burst's own window (the pauses between a step's bursts are not the step's load)
    const cpus = step.bursts.map((b) => windowMean(byMetric.get('proc.agent.cpu_percent'), b.t_start, b.t_end)).filter((v): v is number => v !== undefined);
    if (cpus.length > 0 && step.delivered_pps > 0) samples.push(sample('throughput.agent.cpu_per_kpps', meanOf(cpus) / (step.delivered_pps / 1000), '%/kpps', 'lower', { at }));
  }
  return samples;
}

/** The unit of a judged measurement (what its interval's half-width is in). */
const REPEAT_UNITS: Record<RepeatRecord['metric'], string> = {
  delivered_pps: 'pps',
  achieved_pps: 'pps',
  loss: 'ratio',
  latency_p50_ns: 'ns',
  latency_p99_ns: 'ns',
  agent_cpu_percent: '%',
};

/**
 * Each repeated step's loop as samples labelled like the step's (plus `measure`, what was
 * judged): repeat.repetitions (bursts sent), repeat.ci_relative and repeat.ci_half_width (of the
 * mean of the judged values; absent below two), repeat.target_met and repeat.deadline (1 when the
 * phase's deadline ended it). The values themselves are the bursts' own samples.
 */
export function repeatMetrics(records: readonly RepeatRecord[], mode: (index: number) => string | undefined): MetricSample[] {
  const out: MetricSample[] = [];
  for (const r of records) {
    const labels = { phase: r.phase, step: String(r.index), offered_pps: String(r.offered_pps), mode: mode(r.index) ?? 'linear', measure: r.metric };
    out.push(sample('repeat.repetitions', r.repetitions, 'count', 'none', labels));
    if (r.ci_relative !== null) out.push(sample('repeat.ci_relative', r.ci_relative, 'ratio', 'none', labels));
    if (r.ci_half_width !== null) out.push(sample('repeat.ci_half_width', r.ci_half_width, REPEAT_UNITS[r.metric], 'none', labels));
    out.push(sample('repeat.target_met', r.target_met ? 1 : 0, 'bool', 'none', labels));
    out.push(sample('repeat.deadline', r.stop === 'deadline' ? 1 : 0, 'bool', 'none', labels));
  }
  return out;
}

export async function normalizeMidolman(rawDir: string, options: NormalizeOptions = {}): Promise<MetricsDraft> {
  const steps = await readSteps(rawDir);
  const samples = stepMetrics(steps, options);
  if (!(await readJson(join(rawArtifactsIn(rawDir), 'ndr.json')))) samples.push(...lossOnsetMetrics(steps, options.losslessLoss));
  const ndrPath = join(rawArtifactsIn(rawDir), 'ndr.json');
  const ndrRaw = await readJson(ndrPath);
  let ndrBest: Step | null = null;
  if (ndrRaw !== undefined) {
    const ndr = NdrSchema.safeParse(ndrRaw);
    if (!ndr.success) throw new MidolmanArtifactError(`${ndrPath}: ${ndr.error.issues[0]?.message}`);
    samples.push(sample('throughput.ndr', ndr.data.ndr_pps, 'pps', 'higher', { loss_threshold: String(ndr.data.loss_threshold), found: String(ndr.data.found) }));
    if (ndr.data.best_step) samples.push(sample('throughput.ndr.delivered', ndr.data.best_step.delivered_pps, 'pps', 'higher'));
    if (ndr.data.found) ndrBest = ndr.data.best_step;
  }
  const series = await readMidolmanRrdSeries(rawDir);
  samples.push(...seriesSummaries(series));
  samples.push(...agentStepMetrics(steps, series, referenceStep(steps, ndrBest, options.losslessLoss)));
  const repeats = await readRepeats(rawDir);
  if (repeats.length > 0) {
    const modes = new Map(steps.filter((s) => s.phase === 'throughput').map((s) => [s.index, s.mode]));
    samples.push(...repeatMetrics(repeats, (index) => modes.get(index)));
    // the job's record of every repeated step, beside raw/ (as kvm-points.json is for kvm)
    await writeJsonAtomically(join(dirname(rawDir), 'repeats.json'), { steps: repeats });
  }
  const heapPath = join(rawArtifactsIn(rawDir), 'heapdump.json');
  const heapRaw = await readJson(heapPath);
  if (heapRaw !== undefined && !HeapDumpSkippedSchema.safeParse(heapRaw).success) {
    const heap = HeapDumpSchema.safeParse(heapRaw);
    if (!heap.success) throw new MidolmanArtifactError(`${heapPath}: ${heap.error.issues[0]?.message}`);
    samples.push(sample('heap_dump.hprof_bytes', heap.data.hprof_bytes, 'bytes', 'lower'));
  }
  // Per-step series too: delivered vs offered over the scan (the report's throughput chart).
  const scan = steps.filter((s) => s.phase !== 'warm-up');
  if (scan.length > 0) {
    series.push({ metric: 'traffic.delivered', unit: 'pps', better: 'higher', labels: { source: 'steps' }, points: scan.map((s) => [s.t_start, s.delivered_pps]) });
    series.push({ metric: 'traffic.offered', unit: 'pps', better: 'none', labels: { source: 'steps' }, points: scan.map((s) => [s.t_start, s.offered_pps]) });
    const setup = scan.filter((s) => typeof s.datapath?.flow_setup_pps === 'number');
    if (setup.length > 0) {
      series.push({ metric: 'datapath.flow_setup', unit: 'flows/s', better: 'higher', labels: { source: 'steps' }, points: setup.map((s) => [s.t_start, s.datapath!.flow_setup_pps!]) });
    }
  }
  return { samples, series };
}

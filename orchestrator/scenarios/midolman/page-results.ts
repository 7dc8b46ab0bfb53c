// A midolman job's results as its page reads them: the per-step samples the scenario's normalize
// writes (labelled phase, step, offered_pps, mode) gathered into one row per step, and the
// headline figures (lossless maximum, NDR, the step they were read at). Pure: metrics in, rows out.
// Labels are host data: a step whose labels do not parse is left out, never guessed.
import type { MetricSample, MetricsFile } from '../../results/metrics.js';

export type StepPhase = 'throughput' | 'long-running';

export interface StepRow {
  phase: StepPhase;
  /** The step's number within its phase (1-based). */
  step: number;
  offered: number;
  mode: string;
  /** Achieved (sent) rate, pps. */
  achieved?: number;
  delivered?: number;
  /** Fraction lost, 0..1. */
  loss?: number;
  /** One-way latency percentiles, ns. */
  p50?: number;
  p90?: number;
  p99?: number;
  /** The agent over the step's window: CPU (% of one CPU), simulation latency (ns), processed rate (pps). */
  agentCpu?: number;
  simP50?: number;
  simP99?: number;
  processed?: number;
  /** The datapath over the step (ovs_* topologies): new flows per second of the send window, flows at its end. */
  flowSetup?: number;
  dpFlows?: number;
}

const FIELD_OF: Record<string, keyof StepRow> = {
  'traffic.achieved': 'achieved',
  'traffic.delivered': 'delivered',
  'traffic.loss': 'loss',
  'latency.oneway.p50': 'p50',
  'latency.oneway.p90': 'p90',
  'latency.oneway.p99': 'p99',
  'agent.cpu': 'agentCpu',
  'agent.simulation_latency.p50': 'simP50',
  'agent.simulation_latency.p99': 'simP99',
  'agent.packets_processed': 'processed',
  'datapath.flow_setup': 'flowSetup',
  'datapath.flows': 'dpFlows',
};

function stepKey(s: MetricSample): { phase: StepPhase; step: number; offered: number; mode: string } | undefined {
  const { phase, step, offered_pps: offered, mode } = s.labels;
  if (phase !== 'throughput' && phase !== 'long-running') return undefined;
  if (!step || !/^[1-9][0-9]{0,6}$/.test(step) || !offered || !/^[0-9]+(\.[0-9]+)?$/.test(offered)) return undefined;
  return { phase, step: Number(step), offered: Number(offered), mode: mode ?? '' };
}

/** One row per (phase, step), throughput steps first, each phase in step order. */
export function stepRows(samples: readonly MetricSample[]): StepRow[] {
  const rows = new Map<string, StepRow>();
  for (const s of samples) {
    const field = FIELD_OF[s.metric];
    if (!field && s.metric !== 'traffic.offered') continue;
    const key = stepKey(s);
    if (!key || !Number.isFinite(s.value)) continue;
    const id = `${key.phase}#${key.step}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { ...key }));
    if (field) (row as unknown as Record<string, number>)[field] = s.value;
  }
  const order: Record<StepPhase, number> = { throughput: 0, 'long-running': 1 };
  return [...rows.values()].sort((a, b) => order[a.phase] - order[b.phase] || a.step - b.step);
}

export interface RateResult {
  pps: number;
  /** The loss that still counts as "no loss" (fraction). */
  lossThreshold: number;
}

export interface MidolmanResults {
  steps: StepRow[];
  throughput: StepRow[];
  longRunning: StepRow[];
  /** Highest offered rate whose loss was within the threshold; 0 when no step was. */
  losslessMax?: RateResult;
  /** From the NDR search (scan_mode: ndr); `found` false when even its lowest trial lost too much. */
  ndr?: RateResult & { found: boolean };
  /** The step the headline latency and CPU are read at: the NDR's, else the lossless maximum's. */
  reference?: { row: StepRow; at: 'ndr' | 'lossless_max' };
  /** Agent CPU (% of one CPU) per 1000 pps delivered, at the reference step. */
  cpuPerKpps?: number;
  peakRssBytes?: number;
  peakHeapBytes?: number;
}

function single(samples: readonly MetricSample[], metric: string): MetricSample | undefined {
  return samples.find((s) => s.metric === metric && Number.isFinite(s.value));
}

function threshold(s: MetricSample): number {
  const t = Number(s.labels['loss_threshold'] ?? '0');
  return Number.isFinite(t) && t >= 0 ? t : 0;
}

export function midolmanResults(metrics: MetricsFile | null): MidolmanResults {
  const samples = metrics?.samples ?? [];
  const steps = stepRows(samples);
  const throughput = steps.filter((s) => s.phase === 'throughput');
  const result: MidolmanResults = { steps, throughput, longRunning: steps.filter((s) => s.phase === 'long-running') };
  const lossless = single(samples, 'throughput.lossless_max');
  if (lossless) result.losslessMax = { pps: lossless.value, lossThreshold: threshold(lossless) };
  const ndr = single(samples, 'throughput.ndr');
  if (ndr) result.ndr = { pps: ndr.value, lossThreshold: threshold(ndr), found: ndr.labels['found'] !== 'false' };
  const target = result.ndr?.found ? { ...result.ndr, at: 'ndr' as const } : result.losslessMax && result.losslessMax.pps > 0 ? { ...result.losslessMax, at: 'lossless_max' as const } : undefined;
  if (target) {
    const row = throughput.filter((s) => s.offered === target.pps && (s.loss === undefined || s.loss <= target.lossThreshold + 1e-9)).at(-1);
    if (row) result.reference = { row, at: target.at };
  }
  const ref = result.reference?.row;
  if (ref && ref.agentCpu !== undefined && ref.delivered !== undefined && ref.delivered > 0) result.cpuPerKpps = ref.agentCpu / (ref.delivered / 1000);
  const rss = single(samples, 'agent.rss.max');
  if (rss) result.peakRssBytes = rss.value;
  const heap = single(samples, 'agent.heap.used.max');
  if (heap) result.peakHeapBytes = heap.value;
  return result;
}

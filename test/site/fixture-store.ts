// Generates a results store with the real schemas (manifest.ts, metrics.ts): nightly sweeps of
// sysinfo jobs (host.cpu.busy series + samples), optional midolman jobs (the artifacts a host
// sends back - steps.jsonl, ndr.json, RRD exports - read by the scenario's own normalize, with the
// real phases and a build that changes at buildChangeAt), optional kvm jobs (a 3-point matrix with the samples and
// series the kvm scenario's normalize.ts writes: step times, QASET's fio/sysbench/ctcs2 results
// and the host's series, all labelled by pointLabels) and a step change in one host's metric so
// a regression is detected. Deterministic (seeded), fast (plain writes, no fsync).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JOB_SCHEMA, SWEEP_SCHEMA, type JobManifest, type JobStatus, type SweepManifest } from '../../orchestrator/results/manifest.js';
import { METRICS_SCHEMA, sample, type MetricsFile, type MetricSample, type MetricSeries } from '../../orchestrator/results/metrics.js';
import { expandMatrix, type KvmMatrixInput, type MatrixPoint } from '../../orchestrator/scenarios/kvm/matrix.js';
import { POINT_STEPS, pointLabels } from '../../orchestrator/scenarios/kvm/points.js';
import { normalizeMidolman } from '../../orchestrator/scenarios/midolman/normalize.js';
import { FINDINGS_SCHEMA, FindingsSchema, type Change, type Findings } from '../../orchestrator/analysis/findings.js';
import { loadHistory } from '../../orchestrator/analysis/history.js';
import { SweepStore } from '../../orchestrator/results/store.js';
import { mulberry32 } from '../../orchestrator/analysis/random.js';

export const XSS_SCRIPT = '<script>alert(1)</script>';
export const XSS_ATTR = '"><img src=x onerror=alert(1)>';

export interface FixtureHost {
  name: string;
  /** Directory-safe id used in the job id (defaults to the name). */
  id?: string;
  scenarios: string[];
  /** Overrides FixtureOptions.hostile for this host's jobs (one hostile job page in an otherwise plain store). */
  hostile?: boolean;
  /** midolman: an NDR search (scan_mode: ndr, ndr_loss 0.01) instead of the linear scan. */
  ndr?: boolean;
}

export interface FixtureOptions {
  hosts: FixtureHost[];
  /** First sweep's start. */
  start: Date;
  /** Points of each job's time series. */
  seriesPoints: number;
  /** From this sweep index on, the first host's host.cpu.busy.mean is ~60 % higher (a regression). */
  stepAt?: number;
  /** Put XSS payloads in error messages, output, packages, cmdline and labels. */
  hostile?: boolean;
  /** From this sweep index on, midolman hosts run the next build (5.6.3), which delivers ~15 % less. */
  buildChangeAt?: number;
  /** Sweep index -> job ids that fail. */
  failing?: (sweepIndex: number, host: FixtureHost, scenario: string) => boolean;
  /** Write each job's metrics and manifest through the results store (SweepStore), as a sweep does: its history index is kept. */
  throughStore?: boolean;
}


export function sweepIdFor(start: Date, index: number): string {
  const at = new Date(start.getTime() + index * 86_400_000);
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${(0x1000 + index).toString(16)}`;
}

function hostId(host: FixtureHost): string {
  return host.id ?? host.name;
}

function sysinfoMetrics(rand: () => number, sweepIndex: number, hostIndex: number, opts: FixtureOptions, t0: number): MetricsFile {
  const step = opts.stepAt !== undefined && hostIndex === 0 && sweepIndex >= opts.stepAt ? 1.6 : 1;
  const base = (20 + hostIndex) * step;
  const points: [number, number | null][] = [];
  for (let i = 0; i < opts.seriesPoints; i++) {
    const spike = i % 97 === 50 ? 40 : 0;
    const v = Math.min(100, Math.max(0, base + (rand() - 0.5) * 4 + spike));
    points.push([t0 + i, i === 120 ? null : Math.round(v * 100) / 100]);
  }
  const values = points.map(([, v]) => v).filter((v): v is number => v !== null);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const samples: MetricSample[] = [
    { metric: 'cpu.logical', value: 16, unit: 'count', better: 'none', labels: {} },
    { metric: 'numa.nodes', value: 2, unit: 'count', better: 'none', labels: {} },
    { metric: 'memory.total', value: 68_719_476_736, unit: 'bytes', better: 'none', labels: {} },
    { metric: 'memory.available', value: 60_000_000_000 + Math.round(rand() * 1e8), unit: 'bytes', better: 'none', labels: {} },
    { metric: 'load.1m', value: Math.round((0.5 + rand() * 0.1) * 100) / 100, unit: 'load', better: 'none', labels: {} },
    { metric: 'host.cpu.busy.mean', value: mean, unit: '%', better: 'lower', labels: {} },
    { metric: 'host.cpu.busy.max', value: Math.max(...values), unit: '%', better: 'lower', labels: {} },
  ];
  const series: MetricSeries[] = opts.seriesPoints > 0 ? [{ metric: 'host.cpu.busy', unit: '%', better: 'lower', labels: {}, points }] : [];
  return { schema: METRICS_SCHEMA, samples, series };
}

/** The midolman scenario's phases, in order (orchestrator/scenarios/midolman.ts), with the provenance phase first. */
const MIDOLMAN_PHASES = ['provenance', 'check', 'build-info', 'cleanup', 'profile', 'install', 'topology', 'collectors-start', 'warm-up', 'throughput', 'long-running', 'collectors-stop', 'heap-dump', 'teardown'];

/** A step as remote-scripts/midolman writes it to steps.jsonl (StepSchema), before its times are known. */
interface MidolmanBurst {
  phase: 'warm-up' | 'throughput' | 'long-running';
  index: number;
  mode: 'linear' | 'ndr';
  offered: number;
  probes: number;
}

interface MidolmanPlan {
  bursts: MidolmanBurst[];
  /** Phase name, helper, duration (ms). */
  phases: [string, string, number][];
  /** Delivered-rate ceiling of the agent (pps): the knee of the scan. */
  capacity: number;
  ndr: boolean;
  /** Seconds per burst (probes / offered) plus the pause after it. */
  pause: number;
}

const MIDOLMAN_BUILDS = [
  { version: '5.6.2', revision: '3f2a1c9e', capacity: 1 },
  // the later build delivers ~15 % less: the regression the trends and regressions pages name it for
  { version: '5.6.3', revision: '8b41d0a7', capacity: 0.85 },
];

export function midolmanBuildFor(opts: FixtureOptions, index: number): (typeof MIDOLMAN_BUILDS)[number] {
  return MIDOLMAN_BUILDS[opts.buildChangeAt !== undefined && index >= opts.buildChangeAt ? 1 : 0]!;
}

/**
 * The linear scan of the default profile, shortened (1000 pps, +500 up to 6500; 8 long-running
 * bursts at 3000 pps), or with `ndr` the binary search for the highest rate losing <= 1 %.
 */
function midolmanPlan(rand: () => number, capacityFactor: number, ndr: boolean): MidolmanPlan {
  const capacity = 4300 * capacityFactor * (0.99 + rand() * 0.02);
  const bursts: MidolmanBurst[] = [];
  for (let i = 1; i <= 5; i++) bursts.push({ phase: 'warm-up', index: i, mode: 'linear', offered: 100, probes: 500 });
  if (ndr) {
    let lo = 1000;
    let hi = 6500;
    let index = 1;
    for (const rate of [hi, lo]) bursts.push({ phase: 'throughput', index: index++, mode: 'ndr', offered: rate, probes: rate * 4 });
    while (hi - lo > 100) {
      const mid = Math.round((lo + hi) / 2);
      bursts.push({ phase: 'throughput', index: index++, mode: 'ndr', offered: mid, probes: mid * 4 });
      if (mid <= capacity) lo = mid;
      else hi = mid;
    }
  } else {
    for (let rate = 1000, index = 1; rate <= 6500; rate += 500) bursts.push({ phase: 'throughput', index: index++, mode: 'linear', offered: rate, probes: rate * 4 });
  }
  for (let i = 1; i <= 8; i++) bursts.push({ phase: 'long-running', index: i, mode: 'linear', offered: 3000, probes: 12000 });
  const pause = 1.5;
  const phaseSeconds = (phase: MidolmanBurst['phase']) => bursts.filter((b) => b.phase === phase).reduce((a, b) => a + b.probes / b.offered + pause, 0) + (phase === 'warm-up' ? 10 : 0.5);
  const ms = (min: number, spread: number) => Math.round(min + rand() * spread);
  const phases: [string, string, number][] = MIDOLMAN_PHASES.map((name): [string, string, number] => {
    if (name === 'warm-up' || name === 'throughput' || name === 'long-running') return [name, 'midolman', Math.round(phaseSeconds(name) * 1000)];
    const durations: Record<string, number> = { provenance: ms(500, 300), check: ms(300, 200), 'build-info': ms(900, 400), cleanup: ms(1500, 800), profile: ms(200, 100), install: ms(5500, 1500), topology: ms(1200, 400), 'collectors-start': ms(2500, 800), 'collectors-stop': ms(1800, 500), 'heap-dump': ms(3500, 1500), teardown: ms(1200, 400) };
    return [name, name === 'provenance' ? 'provenance' : 'midolman', durations[name]!];
  });
  return { bursts, phases, capacity, ndr, pause };
}

interface Xport {
  about: string;
  meta: { start: number; end: number; step: number; legend: string[] };
  data: (number | null)[][];
}

/**
 * Writes what the host would have sent back (steps.jsonl, ndr.json, the RRD exports listed in
 * rrd/index.json, as `rrdtool xport --json` prints them) and reads it with the scenario's own
 * normalize, so the page is built from exactly the samples and series a real job has. The RRD
 * exports are removed afterwards (as retention prunes them), keeping the store small.
 * Hostile: the eden pool's series and a step's label carry XSS_SCRIPT.
 */
async function midolmanMetrics(rand: () => number, plan: MidolmanPlan, phases: JobManifest['phases'], jobDir: string, hostile: boolean): Promise<MetricsFile> {
  const artifacts = join(jobDir, 'raw', 'artifacts');
  await mkdir(join(artifacts, 'rrd'), { recursive: true });
  const phaseStart = (name: string) => Date.parse(phases.find((p) => p.name === name)!.startedAt!) / 1000;
  const noise = (spread: number) => 1 + (rand() - 0.5) * spread;
  // steps: each burst after the previous one's pause, from its phase's start
  const cursor: Record<string, number> = {};
  const steps = plan.bursts.map((b) => {
    const t_start = (cursor[b.phase] ??= phaseStart(b.phase) + (b.phase === 'warm-up' ? 0 : 0.3));
    const achieved = b.offered * (1.003 + (rand() - 0.5) * 0.006);
    const duration = b.probes / achieved;
    const ratio = Math.min(1, plan.capacity / achieved);
    const delivered = ratio >= 1 ? b.probes : Math.round(b.probes * ratio);
    const over = achieved / plan.capacity;
    const base = (26_000 + 3 * b.offered) * noise(0.08);
    const p50 = over > 1 ? Math.min(12e6, 2e6 + (over - 1) * 2e7) * noise(0.1) : base;
    const p90 = over > 1 ? p50 * 1.4 : base * 1.6;
    const p99 = over > 1 ? p50 * 1.7 : over > 0.93 ? 1.2e6 * noise(0.2) : base * 3.1;
    cursor[b.phase] = t_start + duration + plan.pause;
    return {
      phase: b.phase, index: b.index, generator: 'nmap', mode: b.mode,
      t_start: round(t_start, 6), t_end: round(t_start + duration, 6),
      offered_pps: b.offered, probes: b.probes, sent: b.probes, delivered,
      send_duration_s: round(duration, 9), achieved_pps: round(achieved), delivered_pps: round(delivered / duration), loss: round(1 - delivered / b.probes, 6),
      latency_ns: { count: delivered, min: Math.round(base * 0.4), mean: Math.round((p50 + p90) / 2), p50: Math.round(p50), p90: Math.round(p90), p99: Math.round(p99), max: Math.round(p99 * 1.3) },
      link: { src_tx_packets: b.probes, dst_rx_packets: delivered },
      generator_report: { elapsed_s: round(duration, 3), closed: delivered, filtered: b.probes - delivered },
    };
  });
  await writeFile(join(artifacts, 'steps.jsonl'), `${steps.map((s) => JSON.stringify(s)).join('\n')}\n`);
  if (plan.ndr) {
    const passing = steps.filter((s) => s.phase === 'throughput' && s.loss <= 0.01);
    const best = passing.sort((a, b) => a.offered_pps - b.offered_pps).at(-1) ?? null;
    await writeFile(join(artifacts, 'ndr.json'), JSON.stringify({ mode: 'ndr', loss_threshold: 0.01, resolution_pps: 100, trials: steps.filter((s) => s.phase === 'throughput').length, ndr_pps: best?.offered_pps ?? 0, found: best !== null, best_step: best }));
  }
  // the collectors: one sample a second from collectors-start's end to long-running's end
  const from = Math.ceil(phaseStart('warm-up') - 1);
  const to = Math.floor(Date.parse(phases.find((p) => p.name === 'long-running')!.endedAt!) / 1000) + 1;
  const rateAt = (t: number) => {
    const s = steps.find((x) => t > x.t_start && t <= x.t_end + 1);
    return s ? { offered: s.achieved_pps, delivered: s.delivered_pps } : { offered: 0, delivered: 0 };
  };
  const MiB = 1024 * 1024;
  const columns: Record<string, { collector: string; type: string; values: (number | null)[] }> = {};
  const put = (collector: string, alias: string, type: string, value: number | null) => ((columns[`${collector}.${alias}`] ??= { collector, type, values: [] }).values.push(value));
  let eden = 40 * MiB;
  let old = 118 * MiB;
  let survivor = 12 * MiB;
  let rss = 410 * MiB;
  let flows = 0;
  for (let t = from; t <= to; t++) {
    const { offered, delivered } = rateAt(t);
    const kpps = delivered / 1000;
    const cpu = (3 + 1.9 * kpps) * noise(0.1);
    eden += (3 + kpps * 9) * MiB * noise(0.2);
    if (eden > 200 * MiB) {
      // a young collection: eden empties, a little survives into old gen
      eden = 6 * MiB;
      survivor = survivor > 12 * MiB ? 10 * MiB : 16 * MiB;
      old += 1.5 * MiB * noise(0.3);
    }
    rss = Math.min(rss + 0.12 * MiB * noise(1), 470 * MiB);
    flows = Math.round(flows * 0.8 + delivered * 2);
    put('proc', 'agent.cpu_percent', 'GAUGE', round(cpu, 2));
    put('proc', 'agent.rss_bytes', 'GAUGE', Math.round(rss));
    put('proc', 'host.cpu_busy_percent', 'GAUGE', round(Math.min(100, (12 + 2.5 * offered / 1000) * noise(0.1)), 2));
    put('proc', 'host.mem_available_bytes', 'GAUGE', Math.round(24e9 - rss));
    for (const [alias, v] of [['if.src.tx_packets', offered], ['if.src.rx_packets', delivered], ['if.dst.tx_packets', delivered], ['if.dst.rx_packets', delivered]] as const) put('proc', alias, 'COUNTER', t === from ? null : round(v * noise(0.02), 3));
    put('jmx', 'jvm.heap.used', 'GAUGE', Math.round(eden + old + survivor));
    put('jmx', 'jvm.heap.committed', 'GAUGE', 512 * MiB);
    put('jmx', 'jvm.pool.G1_Eden_Space.used', 'GAUGE', Math.round(eden));
    put('jmx', 'jvm.pool.G1_Survivor_Space.used', 'GAUGE', Math.round(survivor));
    put('jmx', 'jvm.pool.G1_Old_Gen.used', 'GAUGE', Math.round(old));
    put('jmx', 'jvm.pool.Metaspace.used', 'GAUGE', Math.round(46 * MiB));
    put('jmx', 'jvm.pool.CodeHeap__profiled_nmethods_.used', 'GAUGE', Math.round((11 + (t - from) / 200) * MiB));
    put('jmx', 'jvm.process_cpu_load', 'GAUGE', round(cpu / 100 / 16, 5));
    put('jmx', 'jvm.process_cpu_time', 'DERIVE', t === from ? null : Math.round(cpu * 1e7));
    put('jmx', 'packets_processed', 'COUNTER', t === from ? null : round(delivered * noise(0.02), 3));
    put('jmx', 'packets_simulated', 'COUNTER', t === from ? null : round(delivered * 0.97 * noise(0.02), 3));
    put('jmx', 'packets_dropped', 'COUNTER', t === from ? null : round(Math.max(0, offered - delivered) * noise(0.05), 3));
    const sim = 40_000 * (1 + Math.max(0, offered / 1000 - 4) * 0.15) * noise(0.05);
    for (const [q, f] of [['p50', 1], ['p75', 1.45], ['p95', 2.3], ['p99', 3], ['p999', 4.2], ['mean', 1.2]] as const) put('jmx', `sim_latency.${q}`, 'GAUGE', Math.round(sim * f));
    put('jmx', 'flows.datapath', 'GAUGE', flows);
    put('jmx', 'flows.wildcard', 'GAUGE', Math.round(flows / 2));
    put('jmx', 'flows.wildcard_created', 'COUNTER', t === from ? null : round(delivered * 0.97, 3));
  }
  const index = { step: 1, heartbeat: 400, series: [] as { collector: string; alias: string; type: string; rrd: string; json: string }[] };
  for (const [name, c] of Object.entries(columns)) {
    const alias = name.slice(c.collector.length + 1);
    const json = `rrd/${name}.json`;
    index.series.push({ collector: c.collector, alias, type: c.type, rrd: `rrd/${name}.rrd`, json });
    const xport: Xport = { about: 'RRDtool graph JSON output', meta: { start: from, end: to, step: 1, legend: ['average', 'min', 'max'] }, data: c.values.map((v) => [v, v, v]) };
    await writeFile(join(artifacts, json), JSON.stringify(xport));
  }
  await writeFile(join(artifacts, 'rrd', 'index.json'), JSON.stringify(index));
  const draft = await normalizeMidolman(join(jobDir, 'raw'), { losslessLoss: plan.ndr ? 0.01 : 0 });
  await rm(join(artifacts, 'rrd'), { recursive: true, force: true });
  if (hostile) {
    const eden = draft.series.find((x) => x.metric === 'jmx.jvm.pool.G1_Eden_Space.used');
    if (eden) eden.metric = `jmx.jvm.pool.G1_Eden_Space${XSS_SCRIPT}.used`;
    draft.samples.push(sample('traffic.delivered', 1, 'pps', 'higher', { phase: 'throughput', step: XSS_SCRIPT, offered_pps: XSS_ATTR, mode: 'linear' }));
  }
  return { schema: METRICS_SCHEMA, ...draft };
}

/** The kvm jobs' matrix: two topologies x two image formats, minus qcow2 on the larger guest = 3 points. */
export const KVM_FIXTURE_MATRIX: KvmMatrixInput = {
  topologies: [
    { vcpus: 2, sockets: 1, cores: 2, threads: 1 },
    { vcpus: 4, sockets: 2, cores: 2, threads: 1 },
  ],
  backing: ['xfs'],
  format: ['raw', 'qcow2'],
  exclude: [{ topology: 'smp2x2x1', format: 'qcow2' }],
};
const KVM_RUN_LIST = ['qa_fio', 'qa_sysbench'];

interface KvmPointPlan {
  point: MatrixPoint;
  /** pointLabels(point), with the hostile point id when the job is hostile. */
  labels: Record<string, string>;
  /** Seconds of each of POINT_STEPS. */
  steps: Record<(typeof POINT_STEPS)[number], number>;
}

interface KvmPlan {
  points: KvmPointPlan[];
  /** Phase name, helper, duration (ms), as phases.ts plans them: provenance, check, host-prepare, point-<id>..., cleanup, host-teardown. */
  phases: [string, string, number][];
}

function round(v: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Each point's step times and the job's phases. Hostile: the second point's id carries XSS_SCRIPT. */
function kvmPlan(rand: () => number, hostile: boolean): KvmPlan {
  const points = expandMatrix(KVM_FIXTURE_MATRIX).points.map((point, i): KvmPointPlan => {
    const labels = pointLabels(point);
    if (hostile && i === 1) labels['point'] = `${point.id}${XSS_SCRIPT}`;
    const qcow2 = point.format === 'qcow2' ? 1.25 : 1;
    // ±2 % noise: below the detector's 5 % least change, so only TEST_FIXTURE's step change is a regression
    const noisy = (v: number) => round(v * (0.98 + rand() * 0.04));
    const steps = {
      prepare: noisy(16 * qcow2),
      inject: noisy(6),
      define: noisy(0.4),
      boot: noisy(26 + point.topology.vcpus * 2),
      run: noisy(440 * qcow2),
      shutdown: 3, // not from rand(): the fixture's other numbers stay as they were
      collect: noisy(5),
      teardown: noisy(2.5),
    };
    return { point, labels, steps };
  });
  const phases: [string, string, number][] = [
    ['provenance', 'provenance', 900 + Math.round(rand() * 400)],
    ['check', 'kvm', 1500 + Math.round(rand() * 800)],
    ['host-prepare', 'kvm-prepare-host', 38_000 + Math.round(rand() * 6000)],
    ...points.map((p): [string, string, number] => [`point-${p.labels['point']}`, 'kvm', Math.round(Object.values(p.steps).reduce((a, b) => a + b, 0) * 1000) + 400]),
    ['cleanup', 'kvm', 1200 + Math.round(rand() * 600)],
    ['host-teardown', 'kvm-prepare-host', 9000 + Math.round(rand() * 3000)],
  ];
  return { points, phases };
}

/**
 * What normalizeKvm makes of the points: kvm.point.completed and kvm.point.<step> per point, the
 * QASET samples (fio seq-write/seq-read, sysbench cpu, ctcs2 per test) with the walker's source,
 * test and tcf labels plus the point's, the host's series over each point's boot + run (with
 * their kvm.host.* summaries), and the job's kvm.points.* / qaset.outputs.unparsed counts.
 * Hostile: fio's seq-read job name carries XSS_ATTR.
 */
function kvmMetrics(rand: () => number, plan: KvmPlan, phases: JobManifest['phases'], opts: FixtureOptions, hostile: boolean): MetricsFile {
  const samples: MetricSample[] = [];
  const series: MetricSeries[] = [];
  for (const p of plan.points) {
    const { point, labels, steps } = p;
    samples.push(sample('kvm.point.completed', 1, 'bool', 'higher', labels));
    for (const step of POINT_STEPS) samples.push(sample(`kvm.point.${step}`, steps[step], 's', 'lower', labels));
    const phase = phases.find((ph) => ph.name === `point-${labels['point']}`)!;
    const bootAt = new Date(phase.startedAt!).getTime() + (steps.prepare + steps.inject + steps.define) * 1000;
    // QASET's names: ctcs2 directories <tcf>-YYYY-MM-DD-HH-MM-SS, log tarballs <run>-ACAP2-<day>-<day>T<hhmmss>.tar.bz2
    const stamp = (offsetS: number) => new Date(bootAt + offsetS * 1000).toISOString().slice(0, 19).replace(/[-:T]/g, '-');
    const end = new Date(bootAt + (steps.boot + steps.run) * 1000).toISOString().replace(/[-:]/g, '');
    const tarball = (run: string) => `log/${run}-ACAP2-${end.slice(0, 8)}-${end.slice(0, 8)}T${end.slice(9, 15)}.tar.bz2`;
    // fio: one job file, a sequential write then a sequential read, 1 MiB blocks
    const fioTcf = `qa_fio-${stamp(steps.boot + 5)}`;
    const fioSource = `${tarball('qa_fio')}!var/log/qa/ctcs2/${fioTcf}/fio-seq`;
    const qcow2 = point.format === 'qcow2' ? 0.72 : 1;
    for (const [job, rw, base] of [
      ['seq-write', 'write', 860_000],
      [hostile ? `seq-read${XSS_ATTR}` : 'seq-read', 'read', 1_240_000],
    ] as const) {
      const bw = Math.round(base * qcow2 * (0.98 + rand() * 0.04));
      const fioLabels = { source: fioSource, job, rw, bs: '1M', iodepth: '16', test: 'fio-seq', tcf: fioTcf, ...labels };
      samples.push(sample('fio.iops', round(bw / 1024, 2), 'IOPS', 'higher', fioLabels));
      samples.push(sample('fio.bw', bw, 'KiB/s', 'higher', fioLabels));
    }
    // sysbench cpu: the run list's config fixes the thread count, so points compare directly
    const sbTcf = `qa_sysbench-${stamp(steps.boot + steps.run / 2)}`;
    const sbSource = `${tarball('qa_sysbench')}!var/log/qa/ctcs2/${sbTcf}/sysbench-cpu`;
    const sbLabels = { source: sbSource, threads: '2', test: 'sysbench-cpu', tcf: sbTcf, ...labels };
    samples.push(sample('sysbench.cpu.events_per_sec', round(4650 * Math.min(2, point.topology.vcpus) * (0.98 + rand() * 0.04), 2), 'events/s', 'higher', sbLabels));
    // ctcs2 test_results of both runs
    for (const [source, test] of [
      [fioSource, 'fio-seq'],
      [sbSource, 'sysbench-cpu'],
    ] as const) {
      const results = { source: source.replace(/[^/]+$/, 'test_results'), test, ...labels };
      samples.push(sample('ctcs2.succeed', 1, 'count', 'higher', results));
      samples.push(sample('ctcs2.fail', 0, 'count', 'lower', results));
    }
    // the host sampler's series over boot + run (RRD step 5 s), labelled like readRrdSeries does
    const n = Math.max(10, Math.floor(opts.seriesPoints / 3));
    const span = steps.boot + steps.run;
    const t0 = Math.floor(bootAt / 1000);
    const cpu: [number, number | null][] = [];
    const mem: [number, number | null][] = [];
    for (let k = 0; k < n; k++) {
      const t = t0 + Math.round((k * span) / n);
      const booting = k < n * (steps.boot / span);
      cpu.push([t, round(Math.min(100, (booting ? 35 : 8 + point.topology.vcpus * 5) + rand() * 6), 2)]);
      mem.push([t, Math.round((6.2e9 + point.memoryMib * 1_048_576 * (booting ? k / (n * (steps.boot / span)) : 1)) * (0.995 + rand() * 0.01))]);
    }
    const seriesLabels = { collector: 'host', rrd_type: 'GAUGE', ...labels };
    series.push({ metric: 'host.cpu_busy_percent', unit: '%', better: 'lower', labels: seriesLabels, points: cpu });
    series.push({ metric: 'host.mem_used_bytes', unit: 'bytes', better: 'none', labels: seriesLabels, points: mem });
    for (const [name, unit, points] of [
      ['kvm.host.cpu_busy', '%', cpu],
      ['kvm.host.mem_used', 'bytes', mem],
    ] as const) {
      const values = points.map(([, v]) => v).filter((v): v is number => v !== null);
      samples.push(sample(`${name}.mean`, values.reduce((a, b) => a + b, 0) / values.length, unit, 'none', labels));
      samples.push(sample(`${name}.max`, Math.max(...values), unit, 'none', labels));
    }
  }
  samples.push(sample('kvm.points.done', plan.points.length, 'count', 'higher'));
  samples.push(sample('kvm.points.planned', plan.points.length, 'count', 'none'));
  samples.push(sample('qaset.outputs.unparsed', 0, 'count', 'lower'));
  return { schema: METRICS_SCHEMA, samples, series };
}

/** Writes sweep number `index` (0-based) of the store. */
export async function writeFixtureSweep(resultsDir: string, index: number, opts: FixtureOptions): Promise<string> {
  const sweepId = sweepIdFor(opts.start, index);
  const startedAt = new Date(opts.start.getTime() + index * 86_400_000);
  const rand = mulberry32(index * 7919 + 17);
  const dir = join(resultsDir, 'sweeps', sweepId);
  const jobs: SweepManifest['jobs'] = [];
  const counts = { ok: 0, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 };
  let offset = 0;
  let jobsEnd = 0;
  for (const [hostIndex, host] of opts.hosts.entries()) {
    for (const scenario of host.scenarios) {
      const jobId = `${hostId(host)}--${scenario}`;
      const jobDir = join(dir, 'jobs', jobId);
      const jobStart = new Date(startedAt.getTime() + 1000 + offset * 50);
      offset++;
      const failed = opts.failing?.(index, host, scenario) ?? false;
      const status: JobStatus = failed ? 'failed' : 'ok';
      counts[failed ? 'failed' : 'ok']++;
      const hostile = host.hostile ?? opts.hostile ?? false;
      const t0 = Math.floor(jobStart.getTime() / 1000) + 5;
      // kvm: the plan (step and phase times) first, its metrics once the phases are laid out
      const kvm = scenario === 'kvm' ? kvmPlan(rand, hostile) : undefined;
      const build = midolmanBuildFor(opts, index);
      const mm = scenario === 'midolman' ? midolmanPlan(rand, build.capacity, host.ndr ?? false) : undefined;
      const planned = kvm?.phases ?? mm?.phases;
      const early = planned ? undefined : sysinfoMetrics(rand, index, hostIndex, opts, t0);
      const phaseNames = planned ? planned.map(([name]) => name) : ['provenance', 'sysinfo'];
      let at = jobStart.getTime();
      const phases: JobManifest['phases'] = phaseNames.map((name, i) => {
        const duration = planned ? planned[i]![2] : 800 + Math.round(rand() * 3000);
        const p = {
          name,
          helper: planned ? planned[i]![1] : name,
          status: failed && i === phaseNames.length - 1 ? ('failed' as const) : ('ok' as const),
          exitCode: failed && i === phaseNames.length - 1 ? 1 : 0,
          startedAt: new Date(at).toISOString(),
          endedAt: new Date(at + duration).toISOString(),
          durationMs: duration,
          reattached: 0,
          ...(failed && i === phaseNames.length - 1 ? { error: hostile ? `exit 1: ${XSS_SCRIPT} ${XSS_ATTR}` : 'exit 1' } : {}),
        };
        at += duration + 100;
        return p;
      });
      const metrics = kvm ? kvmMetrics(rand, kvm, phases, opts, hostile) : mm ? await midolmanMetrics(rand, mm, phases, jobDir, hostile) : early!;
      jobsEnd = Math.max(jobsEnd, at);
      const packages: Record<string, string> = { 'openjdk-17-jre-headless': '17.0.13+11-2~deb12u1', 'linux-image-amd64': '6.1.119-1', midolman: build.version, 'qemu-system-x86': '1:7.2+dfsg-7' };
      if (hostile) packages[XSS_SCRIPT] = XSS_ATTR;
      const params =
        scenario === 'sysinfo'
          ? { sample_seconds: opts.seriesPoints }
          : scenario === 'kvm'
            ? { matrix: KVM_FIXTURE_MATRIX, qaset: { run_list: KVM_RUN_LIST } }
            : { topology: 'linux_bridge', ...(mm?.ndr ? { scan_mode: 'ndr', ndr_loss: 0.01 } : {}), note: hostile ? XSS_ATTR : 'steady' };
      const manifest: JobManifest = {
        schema: JOB_SCHEMA,
        sweepId,
        jobId,
        host: { name: host.name, address: `10.0.0.${10 + hostIndex}`, port: 22, user: 'root', roles: host.scenarios.includes('kvm') ? ['hypervisor'] : ['midolman'], groups: ['lab'] },
        scenario: { name: scenario, params },
        profile: hostile && scenario === 'midolman' ? `compute${XSS_ATTR}` : 'default',
        status,
        startedAt: jobStart.toISOString(),
        endedAt: new Date(at).toISOString(),
        environment: {
          hostname: hostile ? `${host.name}${XSS_SCRIPT}` : host.name,
          collected_at: jobStart.getTime() / 1000,
          os: 'Debian GNU/Linux 12 (bookworm)',
          kernel: { release: index < 3 ? '6.1.0-26-amd64' : '6.1.0-27-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1', machine: 'x86_64' },
          cmdline: `BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet isolcpus=2-7${hostile ? ` ${XSS_ATTR}` : ''}`,
          cpu: { model: 'Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz', logical_cpus: 16 },
          memory_kb: 67_108_864,
          packages,
        },
        phases,
        errors: failed ? [{ kind: 'phase-failed', message: hostile ? `helper said ${XSS_SCRIPT} and ${XSS_ATTR}` : 'helper exited with status 1', phase: phaseNames.at(-1)! }] : [],
        artifacts: { status: 'complete', files: 6, bytes: 48_213, rejected: [] },
        metrics: { samples: metrics.samples.length, series: metrics.series.length },
        ...(mm ? { build: { label: `midolman ${build.version} (${build.revision})${hostile ? ` ${XSS_SCRIPT}` : ''}`, package: 'midolman', version: build.version, revision: hostile ? XSS_ATTR.slice(0, 64) : build.revision } } : {}),
        orchestrator: { version: '0.1.0', node: 'v20.20.2' },
      };
      await mkdir(join(jobDir, 'raw', 'phases', phaseNames.at(-1)!), { recursive: true });
      if (opts.throughStore) {
        const store = new SweepStore(resultsDir, sweepId);
        await store.writeMetrics(jobId, metrics);
        await store.writeJobManifest(manifest);
      } else {
        await writeFile(join(jobDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
        await writeFile(join(jobDir, 'metrics.json'), `${JSON.stringify(metrics)}\n`);
      }
      await writeFile(
        join(jobDir, 'orchestrator.log'),
        `${jobStart.toISOString()} connect ${host.name}\n${jobStart.toISOString()} phase ${phaseNames.at(-1)} started\n${hostile ? `${XSS_SCRIPT}\n${XSS_ATTR}\n` : ''}${new Date(at).toISOString()} ${status}\n`,
      );
      await writeFile(join(jobDir, 'raw', 'phases', phaseNames.at(-1)!, 'output.log'), `running ${scenario}\n${hostile ? `${XSS_SCRIPT}\n` : ''}done\n`);
      jobs.push({ jobId, host: host.name, scenario, status });
    }
  }
  const sweep: SweepManifest = {
    schema: SWEEP_SCHEMA,
    sweepId,
    inventory: { file: '/etc/orchestrate/nightly.yaml', sha256: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12' },
    selection: { limit: [], scenarios: [] },
    startedAt: startedAt.toISOString(),
    // a minute and a second per job, or until the last job ended (kvm jobs run for half an hour)
    endedAt: new Date(Math.max(startedAt.getTime() + 60_000 + offset * 1000, jobsEnd + 1000)).toISOString(),
    status: counts.failed > 0 ? 'failed' : 'ok',
    jobs,
    counts,
    notes: [],
    orchestrator: { version: '0.1.0', node: 'v20.20.2' },
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'sweep.json'), `${JSON.stringify(sweep, null, 2)}\n`);
  return sweepId;
}

export async function writeFixtureStore(resultsDir: string, sweeps: number, opts: FixtureOptions): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < sweeps; i++) ids.push(await writeFixtureSweep(resultsDir, i, opts));
  return ids;
}

/** The small store the tests use: 3 sysinfo hosts (a regression on the first), one midolman host. */
export const TEST_FIXTURE: FixtureOptions = {
  hosts: [
    { name: 'node-a', scenarios: ['sysinfo'] },
    { name: 'node-b', scenarios: ['sysinfo'] },
    { name: 'node-c', scenarios: ['sysinfo', 'midolman'] },
  ],
  start: new Date('2026-10-01T02:00:00Z'),
  seriesPoints: 300,
  stepAt: 4,
  buildChangeAt: 4,
  failing: (i, host, scenario) => i === 4 && host.name === 'node-b' && scenario === 'sysinfo',
};

/**
 * TEST_FIXTURE plus a hypervisor, node-d, running the kvm scenario (3 matrix points), and node-e,
 * a midolman host searching the NDR. Both are hostile: a point id and a fio job name carry the XSS
 * payloads (as do their hostnames, packages and cmdline); node-e's build label, profile, a heap
 * pool's name and a step label do. Kept out of TEST_FIXTURE itself, whose job, host and page
 * counts other tests assert.
 */
export const TEST_FIXTURE_BROWSER: FixtureOptions = {
  ...TEST_FIXTURE,
  hosts: [...TEST_FIXTURE.hosts, { name: 'node-d', scenarios: ['kvm'], hostile: true }, { name: 'node-e', scenarios: ['midolman'], hostile: true, ndr: true }],
};

// ---- findings.json: what a sweep found (orchestrator/analysis/findings.ts), written as the sweep would ----

export interface FindingChange {
  host: string;
  scenario: string;
  metric: string;
  /** Picks one of the metric's histories (default: the first). */
  labels?: (labels: Record<string, string>) => boolean;
  kind?: Change['kind'];
  /** First sweep of the new regime (default: the sweep the findings are for). */
  sweepId?: string;
  beforeMean: number;
  afterMean: number;
}

/** A findings Change for a series of the store, with its real key and keyId (so the site finds its history). */
export async function findingChange(resultsDir: string, sweepId: string, c: FindingChange): Promise<Change> {
  const { histories } = await loadHistory(resultsDir);
  const h = histories.find((x) => x.key.host === c.host && x.key.scenario === c.scenario && x.key.metric === c.metric && (c.labels?.(x.key.labels) ?? true));
  if (!h) throw new Error(`no history of ${c.host} ${c.scenario} ${c.metric}`);
  const since = c.sweepId ?? sweepId;
  return {
    keyId: h.keyId,
    key: h.key,
    unit: h.unit,
    better: h.better,
    kind: c.kind ?? 'regression',
    sweepId: since,
    at: h.points.find((p) => p.sweepId === since)?.at ?? h.points.at(-1)!.at,
    beforeMean: c.beforeMean,
    afterMean: c.afterMean,
    relativeChange: (c.afterMean - c.beforeMean) / Math.abs(c.beforeMean),
    pValue: 0.004,
  };
}

/** Writes `<sweep dir>/findings.json`, checked against the schema first. */
export async function writeFindings(resultsDir: string, findings: Omit<Findings, 'schema'>): Promise<Findings> {
  const full = FindingsSchema.parse({ schema: FINDINGS_SCHEMA, ...findings });
  await writeFile(join(resultsDir, 'sweeps', findings.sweepId, 'findings.json'), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/**
 * The findings of TEST_FIXTURE_BROWSER's latest sweep (index `last`): a confirmed regression
 * (node-c's lossless maximum, reproduced by two re-runs, paged), an unconfirmed one (node-e's NDR:
 * no re-run budget), a candidate the re-runs did not reproduce (node-b's CPU busy), node-a's CPU
 * regression of sweep 4 still present, and an improvement (a kvm point booting faster).
 */
export async function writeBrowserFindings(resultsDir: string, opts: FixtureOptions, last: number): Promise<Findings> {
  const sweepId = sweepIdFor(opts.start, last);
  const change = (c: FindingChange) => findingChange(resultsDir, sweepId, c);
  const lossless = await change({ host: 'node-c', scenario: 'midolman', metric: 'throughput.lossless_max', beforeMean: 4000, afterMean: 3500 });
  const ndr = await change({ host: 'node-e', scenario: 'midolman', metric: 'throughput.ndr', beforeMean: 4300, afterMean: 3579 });
  const busy = await change({ host: 'node-b', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', beforeMean: 21.3, afterMean: 23.9 });
  return writeFindings(resultsDir, {
    sweepId,
    at: new Date(opts.start.getTime() + last * 86_400_000 + 3_600_000).toISOString(),
    comparable: true,
    candidates: [
      { change: lossless, status: 'confirmed', paged: true, evidence: { jobIds: ['node-c--midolman~rerun1', 'node-c--midolman~rerun2'], values: [3480, 3510], baseline: [4000, 4000, 4010], relativeChange: -0.1263, pValue: 0.02 } },
      { change: ndr, status: 'unconfirmed', paged: false, note: 'no re-run: the confirmation budget was spent' },
      { change: busy, status: 'not-reproduced', paged: false, evidence: { jobIds: ['node-b--sysinfo~rerun1'], values: [21.4], baseline: [21.3, 21.35, 21.3], relativeChange: 0.004, pValue: 0.5 } },
    ],
    stillPresent: [await change({ host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', sweepId: sweepIdFor(opts.start, 4), beforeMean: 20.1, afterMean: 32.2 })],
    improvements: [await change({ host: 'node-d', scenario: 'kvm', metric: 'kvm.point.boot', labels: (l) => l['format'] === 'raw' && l['topology'] === 'smp1x2x1', kind: 'improvement', beforeMean: 33.1, afterMean: 30.4 })],
    failedJobs: [],
  });
}

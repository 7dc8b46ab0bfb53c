// Benchmark section "midolman-switch": where loss begins, and the flow-setup rate at that point,
// with Open vSwitch's userspace datapath on the path (ovs_bridge: a private ovs-vswitchd per job,
// megaflows off, the datapath emptied before each burst, so every probe is a new flow and an
// upcall) against the kernel's Linux bridge (linux_bridge), on this machine.
//
// One lab host (test/lab: a real sshd on loopback, subnet 71; the traffic stays in the job's
// namespaces), one real sweep through the orchestrator's CLI per topology: a linear scan of
// bursts of BURST probes from START pps by STEP up to MAX (trafgen by default: nmap's own ceiling
// is near 20,000 pps here), unshaped. Per step, from steps.jsonl: achieved and delivered rate
// (the captures), loss, the agent's CPU (ovs-vswitchd; none for the Linux bridge) from metrics.json,
// and for OVS the datapath's new flows per second of the burst. Loss onset: the lowest offered rate
// whose loss is above LOSS (0.1% by default); the flow-setup rate is read at the last lossless
// step before it and at the onset step.
//
// Environment knobs (quick runs; the defaults are the benchmark):
//   BENCH_SWITCH_TOPOLOGIES=linux_bridge,ovs_bridge,ovs_l3   (default linux_bridge,ovs_bridge)
//   BENCH_SWITCH_GENERATOR=trafgen|nmap                      (default trafgen)
//   BENCH_SWITCH_START=2500 BENCH_SWITCH_STEP=2500 BENCH_SWITCH_MAX=40000 BENCH_SWITCH_BURST=10000
//   BENCH_SWITCH_LOSS=0.001
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labUp } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { readSteps, stepGroups } from '../../orchestrator/scenarios/midolman/normalize.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable } from './stats.js';

export const name = 'midolman-switch';
export const description = 'midolman: loss onset and flow-setup rate there, Open vSwitch userspace datapath (ovs_bridge) vs Linux bridge, on this machine';

const env = (key: string, fallback: number) => {
  const v = Number(process.env[key]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const TOPOLOGIES = (process.env['BENCH_SWITCH_TOPOLOGIES'] ?? 'linux_bridge,ovs_bridge').split(',').map((s) => s.trim()).filter(Boolean);
const GENERATOR = process.env['BENCH_SWITCH_GENERATOR'] ?? 'trafgen';
const START = env('BENCH_SWITCH_START', 2500);
const STEP = env('BENCH_SWITCH_STEP', 2500);
const MAX = env('BENCH_SWITCH_MAX', 40000);
const BURST = Math.min(65535, env('BENCH_SWITCH_BURST', 10000));
const LOSS = env('BENCH_SWITCH_LOSS', 0.001);
const SUBNET = 71;
const HOST = 'lab-01';
const JOB = `${HOST}--midolman`;

function log(line: string): void {
  process.stderr.write(`[midolman-switch] ${line}\n`);
}

interface StepRow {
  offered_pps: number;
  achieved_pps: number;
  delivered_pps: number;
  loss: number;
  agent_cpu_percent: number | null;
  flow_setup_pps: number | null;
  new_flows: number | null;
  upcalls_lost: number | null;
  /** Probes the kernel dropped at the switch's sockets (it read them too late). */
  socket_drops: number | null;
}

interface TopologyRun {
  topology: string;
  steps: StepRow[];
  /** Lowest offered rate with loss above LOSS; null when no step lost that much. */
  loss_onset_pps: number | null;
  /** The last step below the onset (the highest lossless one). */
  lossless: StepRow | null;
  /** Steps above the onset that lost nothing (a busy machine makes the onset move: how noisy it was). */
  lossless_above_onset: number;
  /** The highest flow-setup rate of any lossless step. */
  best_lossless_flow_setup_pps: number | null;
  onset: StepRow | null;
  sweep_wall_s: number;
  /** The machine's 1-minute load average before and after the sweep (other work shares it). */
  load: [number, number];
}

async function runTopology(work: string, lab: Awaited<ReturnType<typeof labUp>>, topology: string, index: number): Promise<TopologyRun> {
  const results = path.join(work, `results-${index}`);
  const inventory = await lab.writeInventory({
    file: path.join(work, `switch-${index}.yaml`),
    resultsDir: results,
    scenarios: {
      midolman: {
        topology,
        generator: GENERATOR,
        heap_dump: false,
        ndr_loss: LOSS,
        overrides: {
          THROUGHPUT_SCAN_START_RATE: START,
          THROUGHPUT_SCAN_STEP: STEP,
          THROUGHPUT_SCAN_MAX_RATE: MAX,
          THROUGHPUT_SCAN_BURST: BURST,
          THROUGHPUT_SCAN_PAUSE_SECONDS: 1,
          WARMUP_ITERATIONS: 1,
          WARMUP_RATE: 1000,
          WARMUP_BURST: 1000,
          WARMUP_SETTLE_SECONDS: 0,
          LONG_RUNNING_SCAN_ITERATIONS: 0,
        },
      },
    },
    defaults: { retries: 0 },
    hostExtra: { [HOST]: { profile: 'lab-smoke' } },
  });
  const started = Date.now();
  const loadBefore = os.loadavg()[0]!;
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  const wall = (Date.now() - started) / 1000;
  const loadAfter = os.loadavg()[0]!;
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, JOB);
  if (code !== 0 || manifest.status !== 'ok') throw new Error(`${topology}: sweep failed (exit ${code}, job ${manifest.status}): ${JSON.stringify(manifest.errors)}\n${stdout}\n${stderr}`);
  const raw = path.join(dir, 'jobs', JOB, 'raw');
  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(path.join(dir, 'jobs', JOB, 'metrics.json'), 'utf8')));
  const cpuAt = (step: number) => metrics.samples.find((s) => s.metric === 'agent.cpu' && s.labels['phase'] === 'throughput' && s.labels['step'] === String(step))?.value ?? null;
  const groups = stepGroups((await readSteps(raw)).filter((s) => s.phase === 'throughput'));
  const steps: StepRow[] = groups.map((g) => {
    const b = g.bursts[0]!;
    return {
      offered_pps: g.offered_pps,
      achieved_pps: g.achieved_pps,
      delivered_pps: g.delivered_pps,
      loss: g.loss,
      agent_cpu_percent: cpuAt(g.index),
      flow_setup_pps: b.datapath?.flow_setup_pps ?? null,
      new_flows: b.datapath?.new_flows ?? null,
      upcalls_lost: b.datapath?.lost ?? null,
      socket_drops: b.datapath?.socket_drops ?? null,
    };
  });
  const onsetIndex = steps.findIndex((s) => s.loss > LOSS);
  const onset = onsetIndex >= 0 ? steps[onsetIndex]! : null;
  const lossless = onsetIndex > 0 ? steps[onsetIndex - 1]! : onsetIndex === -1 ? (steps.at(-1) ?? null) : null;
  for (const s of steps) {
    log(`${topology} ${s.offered_pps} pps: achieved ${fixed(s.achieved_pps, 0)}, delivered ${fixed(s.delivered_pps, 0)}, loss ${fixed(s.loss, 4)}, agent CPU ${s.agent_cpu_percent === null ? '-' : fixed(s.agent_cpu_percent, 1)} %, flow setup ${s.flow_setup_pps === null ? '-' : fixed(s.flow_setup_pps, 0)}/s`);
  }
  const losslessAbove = onsetIndex >= 0 ? steps.slice(onsetIndex + 1).filter((s) => s.loss <= LOSS).length : 0;
  const setups = steps.filter((s) => s.loss <= LOSS && s.flow_setup_pps !== null).map((s) => s.flow_setup_pps!);
  return {
    topology,
    steps,
    loss_onset_pps: onset?.offered_pps ?? null,
    lossless,
    onset,
    lossless_above_onset: losslessAbove,
    best_lossless_flow_setup_pps: setups.length ? Math.max(...setups) : null,
    sweep_wall_s: wall,
    load: [loadBefore, loadAfter],
  };
}

export async function run(): Promise<SectionResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-midolman-switch-'));
  const runs: TopologyRun[] = [];
  let lab: Awaited<ReturnType<typeof labUp>> | undefined;
  try {
    lab = await labUp({ subnet: SUBNET, hosts: 1, dir: path.join(work, 'lab'), reports: false });
    for (const [i, topology] of TOPOLOGIES.entries()) runs.push(await runTopology(work, lab, topology, i));
  } finally {
    await lab?.down();
    await rm(work, { recursive: true, force: true });
  }
  const f = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? '-' : fixed(v, d));
  const summaryRows = runs.map((r) => [
    r.topology,
    r.loss_onset_pps === null ? `none up to ${MAX}` : String(r.loss_onset_pps),
    r.onset ? `${f(r.onset.delivered_pps)} / ${f(r.onset.loss * 100, 2)} %` : '-',
    f(r.lossless?.offered_pps),
    f(r.lossless?.flow_setup_pps),
    f(r.onset?.flow_setup_pps),
    `${f(r.lossless?.agent_cpu_percent, 1)} / ${f(r.onset?.agent_cpu_percent, 1)}`,
    String(r.lossless_above_onset),
    f(r.best_lossless_flow_setup_pps),
    `${fixed(r.load[0], 1)} -> ${fixed(r.load[1], 1)}`,
  ]);
  const stepRows = runs.flatMap((r) =>
    r.steps.map((s) => [r.topology, String(s.offered_pps), f(s.achieved_pps), f(s.delivered_pps), f(s.loss * 100, 2), f(s.agent_cpu_percent, 1), f(s.flow_setup_pps), f(s.upcalls_lost), f(s.socket_drops)]),
  );
  const table = [
    `Loss onset (loss > ${LOSS * 100} %), ${GENERATOR}, bursts of ${BURST} probes from ${START} pps by ${STEP} to ${MAX}, one lab host, unshaped:`,
    '',
    markdownTable(['topology', 'loss begins at (pps offered)', 'there: delivered pps / loss', 'highest lossless step (pps)', 'flow setup there (flows/s)', 'flow setup at the onset (flows/s)', 'agent CPU % (lossless / onset)', 'lossless steps above the onset', 'best lossless flow setup (flows/s)', 'load avg (1 min)'], summaryRows),
    '',
    markdownTable(['topology', 'offered pps', 'achieved pps', 'delivered pps', 'loss %', 'agent CPU %', 'flow setup /s', 'upcalls lost', "dropped at the switch's sockets"], stepRows),
  ].join('\n');
  return { table, json: { generator: GENERATOR, start: START, step: STEP, max: MAX, burst: BURST, loss_threshold: LOSS, runs } };
}

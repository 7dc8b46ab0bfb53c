// Benchmark section "midolman": what the midolman scenario's measurement chain can do on one lab
// host (test/lab: a real sshd on loopback; the traffic stays in per-job namespaces of this kernel).
//
// 1. Generator ceiling: the traffic generator's achieved rate (distinct probes that left the
//    source, first to last, from the source capture) against the requested rate, step by step
//    from 1000 pps upward, until the achieved rate falls more than 5% below the requested one (the
//    machine's ceiling for this generator) or the last step (50k pps). One real sweep per step
//    (the orchestrator's CLI, linux_bridge topology, no shaping), so the scan stops where the
//    ceiling is instead of sending every step.
// 2. The orchestrator's own overhead per job: job wall time (manifest startedAt..endedAt) minus
//    the sum of its phase durations (what the phases themselves took on the host, transport
//    included), over every job of part 1.
//
// 3. The build under test's cost per job (push, install, restart, readiness), apart from the
//    measurement: test/bench/midolman-build.ts.
//
// Environment knobs (for quick runs; the defaults are the benchmark):
//   BENCH_MIDOLMAN_PARTS=generator,build which parts run (default both)
//   BENCH_MIDOLMAN_RATES=1000,2000,...   requested rates, ascending (default below, up to 50000)
//   BENCH_MIDOLMAN_SECONDS=2             seconds of traffic per step (burst = rate x seconds, <= 65535)
//   BENCH_MIDOLMAN_GENERATOR=nmap        generator of the scenario's table
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable, median } from './stats.js';
import { measureBuildCost } from './midolman-build.js';

export const name = 'midolman';
export const description = 'midolman: generator achieved vs requested rate up to its ceiling (or 50k pps); orchestrator overhead per job';

const DEFAULT_RATES = [1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 25000, 30000, 40000, 50000];
const RATES = (process.env.BENCH_MIDOLMAN_RATES ?? '').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const SECONDS = Math.max(0.5, Number(process.env.BENCH_MIDOLMAN_SECONDS ?? 2) || 2);
const GENERATOR = process.env.BENCH_MIDOLMAN_GENERATOR ?? 'nmap';
const DRIFT = 0.05;
const SUBNET = 212;
const HOST = 'lab-01';
const JOB = `${HOST}--midolman`;

function log(line: string): void {
  process.stderr.write(`[midolman] ${line}\n`);
}

function signed(value: number): string {
  return `${value > 0 ? '+' : ''}${fixed(value, 1)}`;
}

interface StepRun {
  requested_pps: number;
  probes: number;
  sent: number;
  delivered: number;
  achieved_pps: number;
  delivered_pps: number;
  send_duration_s: number;
  drift: number;
  loss: number;
  latency_p50_ns: number | null;
  generator_report: unknown;
  sweep_wall_s: number;
  job: JobOverhead;
}

interface JobOverhead {
  wall_ms: number;
  phases_ms: number;
  overhead_ms: number;
  phases: Record<string, number | null>;
}

async function runStep(lab: Lab, work: string, rate: number, index: number): Promise<StepRun> {
  const burst = Math.min(65535, Math.max(100, Math.round(rate * SECONDS)));
  const results = path.join(work, `results-${index}`);
  const inventory = await lab.writeInventory({
    file: path.join(work, `step-${index}.yaml`),
    resultsDir: results,
    scenarios: {
      midolman: {
        topology: 'linux_bridge',
        generator: GENERATOR,
        heap_dump: false,
        overrides: {
          THROUGHPUT_SCAN_START_RATE: rate,
          THROUGHPUT_SCAN_MAX_RATE: rate,
          THROUGHPUT_SCAN_STEP: 1000,
          THROUGHPUT_SCAN_BURST: burst,
          THROUGHPUT_SCAN_PAUSE_SECONDS: 0,
          WARMUP_ITERATIONS: 0,
          WARMUP_SETTLE_SECONDS: 0,
          LONG_RUNNING_SCAN_ITERATIONS: 0,
        },
      },
    },
    defaults: { retries: 0 },
    hostExtra: { [HOST]: { profile: 'lab-smoke' } },
  });
  const started = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  const sweepWall = (Date.now() - started) / 1000;
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, JOB);
  if (code !== 0 || manifest.status !== 'ok') {
    throw new Error(`sweep at ${rate} pps failed (exit ${code}, job ${manifest.status}): ${JSON.stringify(manifest.errors)}\n${stdout}\n${stderr}`);
  }
  const steps = (await readSteps(path.join(dir, 'jobs', JOB, 'raw'))).filter((s) => s.phase === 'throughput');
  if (steps.length !== 1) throw new Error(`expected one throughput step at ${rate} pps, found ${steps.length}`);
  const s = steps[0]!;
  // The work was really done: every probe left the source and the captures saw them.
  if (s.sent < burst * 0.99) throw new Error(`at ${rate} pps only ${s.sent} of ${burst} probes left the source`);
  const phasesMs = manifest.phases.reduce((a, p) => a + (p.durationMs ?? 0), 0);
  const wallMs = Date.parse(manifest.endedAt ?? new Date().toISOString()) - Date.parse(manifest.startedAt ?? new Date().toISOString());
  return {
    requested_pps: rate,
    probes: burst,
    sent: s.sent,
    delivered: s.delivered,
    achieved_pps: s.achieved_pps,
    delivered_pps: s.delivered_pps,
    send_duration_s: s.send_duration_s,
    drift: 1 - s.achieved_pps / rate,
    loss: s.loss,
    latency_p50_ns: s.latency_ns.p50,
    generator_report: s.generator_report,
    sweep_wall_s: sweepWall,
    job: { wall_ms: wallMs, phases_ms: phasesMs, overhead_ms: wallMs - phasesMs, phases: Object.fromEntries(manifest.phases.map((p) => [p.name, p.durationMs])) },
  };
}

const PARTS = (process.env['BENCH_MIDOLMAN_PARTS'] ?? 'generator,build').split(',').map((s) => s.trim());

export async function run(): Promise<SectionResult> {
  const generator = PARTS.includes('generator') ? await runGenerator() : undefined;
  const build = PARTS.includes('build') ? await measureBuildCost() : undefined;
  return {
    table: [generator?.table, build?.table].filter((t) => t !== undefined).join('\n\n'),
    json: { ...(generator ? { generator: generator.json } : {}), ...(build ? { build: build.json } : {}) },
  };
}

async function runGenerator(): Promise<SectionResult> {
  const rates = RATES.length > 0 ? RATES : DEFAULT_RATES;
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-midolman-'));
  const runs: StepRun[] = [];
  let ceiling: number | null = null;
  let lab: Lab | undefined;
  try {
    lab = await labUp({ subnet: SUBNET, hosts: 1, dir: path.join(work, 'lab'), reports: false });
    for (const [i, rate] of rates.entries()) {
      const r = await runStep(lab, work, rate, i);
      runs.push(r);
      log(`${rate} pps requested: ${r.achieved_pps.toFixed(0)} achieved (${signed(-r.drift * 100)}% vs requested), loss ${r.loss.toFixed(4)}; job overhead ${r.job.overhead_ms} ms`);
      if (r.drift > DRIFT) {
        ceiling = rate;
        break;
      }
    }
  } finally {
    await lab?.down();
    await rm(work, { recursive: true, force: true });
  }
  const lastOk = runs.filter((r) => r.drift <= DRIFT).at(-1);
  const rows = runs.map((r) => [
    String(r.requested_pps),
    String(r.probes),
    fixed(r.achieved_pps, 0),
    `${signed(-r.drift * 100)}%`,
    fixed(r.delivered_pps, 0),
    fixed(r.loss, 4),
    r.latency_p50_ns === null ? '-' : fixed(r.latency_p50_ns / 1000, 1),
    r.drift > DRIFT ? 'drift > 5%' : 'ok',
  ]);
  const overheads = runs.map((r) => r.job.overhead_ms);
  const walls = runs.map((r) => r.job.wall_ms);
  const table = [
    `Generator \`${GENERATOR}\` on one lab host (linux_bridge between two namespaces, no shaping; ${SECONDS} s of probes per step, at most 65535):`,
    '',
    markdownTable(['requested pps', 'probes', 'achieved pps', 'vs requested', 'delivered pps', 'loss', 'p50 one-way µs', ''], rows),
    '',
    ceiling !== null
      ? `Ceiling: achieved fell more than 5% below the request at ${ceiling} pps; highest rate held within 5%: ${lastOk?.requested_pps ?? 'none'} pps.`
      : `No ceiling up to ${rates.at(-1)} pps: every step within 5% of the request.`,
    '',
    `Orchestrator overhead per job (job wall time - sum of phase durations), ${runs.length} jobs: median ${median(overheads)} ms, min ${Math.min(...overheads)} ms, max ${Math.max(...overheads)} ms; job wall time median ${median(walls)} ms.`,
  ].join('\n');
  return { table, json: { generator: GENERATOR, seconds_per_step: SECONDS, drift_limit: DRIFT, ceiling_pps: ceiling, highest_within_limit_pps: lastOk?.requested_pps ?? null, runs } };
}

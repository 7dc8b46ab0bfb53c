// Benchmark part of section "midolman": what each traffic generator of the scenario's table can do
// on the lab's veth path, and the orchestrator's own overhead per job.
//
// 1. Generators: for each generator (nmap, trafgen, pktgen), step by step from 1000 pps upward, one
//    real sweep per requested rate through the orchestrator's CLI on one lab host (test/lab: a real
//    sshd on 127.66.160.x; the traffic stays in the job's namespaces of this kernel; linux_bridge
//    topology, no shaping, no agent). Per step, from steps.jsonl: achieved rate (distinct probes that
//    left the source, first to last, from the source capture) and delivered rate (from the
//    destination capture), each against the requested rate. A step whose achieved rate is more than
//    5% below the request is run once more (a shared machine is noisy); when the repeat falls short
//    too, that rate is the generator's ceiling and its scan stops. A generator the check phase
//    refuses (pktgen where the kernel lacks it) is reported with the refusal, not measured.
// 2. The orchestrator's own overhead per job: job wall time (manifest startedAt..endedAt) minus
//    the sum of its phase durations (what the phases themselves took on the host, transport
//    included), over every job of part 1.
//
// Environment knobs (for quick runs; the defaults are the benchmark):
//   BENCH_MIDOLMAN_GENERATORS=nmap,trafgen,pktgen   generators, in order (BENCH_MIDOLMAN_GENERATOR: one)
//   BENCH_MIDOLMAN_RATES=1000,2000,...   requested rates, ascending (default below, up to 50000)
//   BENCH_MIDOLMAN_SECONDS=2             seconds of traffic per step (burst = rate x seconds, <= 65535)
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable, median } from './stats.js';

const DEFAULT_RATES = [1000, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 25000, 30000, 40000, 50000];
const DEFAULT_GENERATORS = ['nmap', 'trafgen', 'pktgen'];
const RATES = (process.env['BENCH_MIDOLMAN_RATES'] ?? '').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const GENERATORS = (process.env['BENCH_MIDOLMAN_GENERATORS'] ?? process.env['BENCH_MIDOLMAN_GENERATOR'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const SECONDS = Math.max(0.5, Number(process.env['BENCH_MIDOLMAN_SECONDS'] ?? 2) || 2);
/** Achieved below (1 - DRIFT) x requested: short of the request. */
const DRIFT = 0.05;
const SUBNET = 160;
const HOST = 'lab-01';
const JOB = `${HOST}--midolman`;

function log(line: string): void {
  process.stderr.write(`[midolman] ${line}\n`);
}

interface JobOverhead {
  wall_ms: number;
  phases_ms: number;
  overhead_ms: number;
  phases: Record<string, number | null>;
}

interface StepRun {
  generator: string;
  requested_pps: number;
  probes: number;
  /** 2 for the repeat of a step that fell short. */
  attempt: number;
  sent: number;
  delivered: number;
  achieved_pps: number;
  delivered_pps: number;
  achieved_ratio: number;
  delivered_ratio: number;
  send_duration_s: number;
  loss: number;
  latency_p50_ns: number | null;
  generator_report: unknown;
  sweep_wall_s: number;
  job: JobOverhead;
}

interface GeneratorResult {
  generator: string;
  /** Why the check phase refused it (then nothing was measured). */
  refused: string | null;
  runs: StepRun[];
  /** First requested rate held short twice; null when every rate held. */
  ceiling_pps: number | null;
  highest_within_limit_pps: number | null;
}

class Refused extends Error {}

async function runStep(lab: Lab, work: string, generator: string, rate: number, attempt: number, index: number): Promise<StepRun> {
  const burst = Math.min(65535, Math.max(100, Math.round(rate * SECONDS)));
  const results = path.join(work, `results-${index}`);
  const inventory = await lab.writeInventory({
    file: path.join(work, `step-${index}.yaml`),
    resultsDir: results,
    scenarios: {
      midolman: {
        topology: 'linux_bridge',
        generator,
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
  const check = manifest.phases.find((p) => p.name === 'check');
  if (check && check.status !== 'ok') {
    // The helper's own words (its last "error: ..." line), else what the manifest says.
    const output = await readFile(path.join(dir, 'jobs', JOB, 'raw', 'phases', 'check', 'output.log'), 'utf8').catch(() => '');
    const said = output.split('\n').filter((l) => l.startsWith('error: ')).at(-1)?.slice('error: '.length).replace(/[\u0000-\u001f\u007f]/g, '?');
    throw new Refused(said ?? manifest.errors.find((e) => e.phase === 'check')?.message ?? check.error ?? `check ${check.status}`);
  }
  if (code !== 0 || manifest.status !== 'ok') {
    throw new Error(`${generator}: sweep at ${rate} pps failed (exit ${code}, job ${manifest.status}): ${JSON.stringify(manifest.errors)}\n${stdout}\n${stderr}`);
  }
  const steps = (await readSteps(path.join(dir, 'jobs', JOB, 'raw'))).filter((s) => s.phase === 'throughput');
  if (steps.length !== 1) throw new Error(`${generator}: expected one throughput step at ${rate} pps, found ${steps.length}`);
  const s = steps[0]!;
  if (s.generator !== generator) throw new Error(`the step was sent by ${s.generator}, not ${generator}`);
  // The work was really done: every probe left the source and the captures saw them.
  if (s.sent < burst * 0.99) throw new Error(`${generator}: at ${rate} pps only ${s.sent} of ${burst} probes left the source`);
  const phasesMs = manifest.phases.reduce((a, p) => a + (p.durationMs ?? 0), 0);
  const wallMs = Date.parse(manifest.endedAt ?? new Date().toISOString()) - Date.parse(manifest.startedAt ?? new Date().toISOString());
  return {
    generator,
    requested_pps: rate,
    probes: burst,
    attempt,
    sent: s.sent,
    delivered: s.delivered,
    achieved_pps: s.achieved_pps,
    delivered_pps: s.delivered_pps,
    achieved_ratio: s.achieved_pps / rate,
    delivered_ratio: s.delivered_pps / rate,
    send_duration_s: s.send_duration_s,
    loss: s.loss,
    latency_p50_ns: s.latency_ns.p50,
    generator_report: s.generator_report,
    sweep_wall_s: sweepWall,
    job: { wall_ms: wallMs, phases_ms: phasesMs, overhead_ms: wallMs - phasesMs, phases: Object.fromEntries(manifest.phases.map((p) => [p.name, p.durationMs])) },
  };
}

async function scanGenerator(lab: Lab, work: string, generator: string, rates: number[], next: () => number): Promise<GeneratorResult> {
  const result: GeneratorResult = { generator, refused: null, runs: [], ceiling_pps: null, highest_within_limit_pps: null };
  for (const rate of rates) {
    let run: StepRun | undefined;
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        run = await runStep(lab, work, generator, rate, attempt, next());
      } catch (error) {
        if (error instanceof Refused && result.runs.length === 0) {
          result.refused = error.message;
          log(`${generator}: refused by the check phase: ${error.message}`);
          return result;
        }
        throw error;
      }
      result.runs.push(run);
      log(
        `${generator} ${rate} pps requested${attempt > 1 ? ' (repeat)' : ''}: ${run.achieved_pps.toFixed(0)} achieved (${fixed(run.achieved_ratio * 100, 1)}%), ` +
          `${run.delivered_pps.toFixed(0)} delivered, loss ${run.loss.toFixed(4)}; job overhead ${run.job.overhead_ms} ms`,
      );
      if (run.achieved_ratio >= 1 - DRIFT) break;
    }
    if (run!.achieved_ratio < 1 - DRIFT) {
      result.ceiling_pps = rate;
      break;
    }
    result.highest_within_limit_pps = rate;
  }
  return result;
}

function summary(g: GeneratorResult, lastRate: number): string {
  if (g.refused !== null) return `- \`${g.generator}\`: not measured, the check phase refused it: ${g.refused}`;
  const repeats = g.runs.filter((r) => r.attempt > 1 && r.achieved_ratio >= 1 - DRIFT).length;
  const held = repeats > 0 ? ` (${repeats} rate${repeats > 1 ? 's' : ''} held only on the repeat, the first attempt short)` : '';
  if (g.ceiling_pps === null) return `- \`${g.generator}\`: no ceiling up to ${lastRate} pps: every rate held within ${DRIFT * 100}% of the request${held}.`;
  const short = g.runs.filter((r) => r.requested_pps === g.ceiling_pps);
  const best = Math.max(...short.map((r) => r.achieved_pps));
  return `- \`${g.generator}\`: ceiling ${g.ceiling_pps} pps requested (achieved at most ${fixed(best, 0)} pps, twice short by more than ${DRIFT * 100}%); highest rate held: ${g.highest_within_limit_pps ?? 'none'} pps${held}.`;
}

/** The generators' scans and the orchestrator's overhead per job, on one lab host (subnet 160). */
export async function runGenerators(): Promise<SectionResult> {
  const rates = RATES.length > 0 ? RATES : DEFAULT_RATES;
  const generators = GENERATORS.length > 0 ? GENERATORS : DEFAULT_GENERATORS;
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-midolman-'));
  const results: GeneratorResult[] = [];
  let lab: Lab | undefined;
  let index = 0;
  try {
    lab = await labUp({ subnet: SUBNET, hosts: 1, dir: path.join(work, 'lab'), reports: false });
    for (const generator of generators) results.push(await scanGenerator(lab, work, generator, rates, () => index++));
  } finally {
    await lab?.down();
    await rm(work, { recursive: true, force: true });
  }
  const runs = results.flatMap((g) => g.runs);
  if (runs.length === 0) throw new Error(`no generator could be measured: ${results.map((g) => `${g.generator}: ${g.refused}`).join('; ')}`);
  const rows = runs.map((r) => [
    r.generator,
    String(r.requested_pps),
    String(r.probes),
    fixed(r.achieved_pps, 0),
    fixed(r.achieved_ratio, 3),
    fixed(r.delivered_pps, 0),
    fixed(r.delivered_ratio, 3),
    fixed(r.loss, 4),
    r.latency_p50_ns === null ? '-' : fixed(r.latency_p50_ns / 1000, 1),
    `${r.attempt > 1 ? 'repeat; ' : ''}${r.achieved_ratio < 1 - DRIFT ? `short by > ${DRIFT * 100}%` : 'ok'}`,
  ]);
  const overheads = runs.map((r) => r.job.overhead_ms);
  const walls = runs.map((r) => r.job.wall_ms);
  const table = [
    `Generators on one lab host (linux_bridge between two namespaces, veth, no shaping; ${SECONDS} s of probes per step, at most 65535; target achieved/requested >= ${1 - DRIFT}):`,
    '',
    markdownTable(['generator', 'requested pps', 'probes', 'achieved pps', 'achieved / requested', 'delivered pps', 'delivered / requested', 'loss', 'p50 one-way µs', ''], rows),
    '',
    ...results.map((g) => summary(g, rates.at(-1)!)),
    '',
    `Orchestrator overhead per job (job wall time - sum of phase durations), ${runs.length} jobs: median ${median(overheads)} ms, min ${Math.min(...overheads)} ms, max ${Math.max(...overheads)} ms; job wall time median ${median(walls)} ms.`,
  ].join('\n');
  return {
    table,
    json: {
      seconds_per_step: SECONDS,
      drift_limit: DRIFT,
      rates,
      generators: Object.fromEntries(results.map((g) => [g.generator, g])),
      overhead_ms: { median: median(overheads), min: Math.min(...overheads), max: Math.max(...overheads) },
    },
  };
}

// Bench section `inventory`: what loading an inventory costs at fleet scale, and that the
// limits hold (orchestrator/inventory/limits.ts).
//
// - `orchestrate --plan` on 20,000 hosts (200 pods of 100 in 20 racks, vars at every layer;
//   test/inventory/big-inventory.ts), wall time through the real CLI, against the same CLI on a
//   one-host inventory (what starting the CLI costs), target: under 2 s;
// - loadInventory alone, in a fresh process each run (so JIT warm-up counts, as in the CLI):
//   20,000 hosts, and 20,000 hosts padded to 7.3 MB (near the 8 MiB cap), with peak RSS;
// - refusals: a 20 MB file (the size cap, before reading it) and an alias bomb;
// - SIGTERM in the middle of parsing the 7.3 MB inventory (fed through a FIFO, so the signal
//   lands while it is being parsed): milliseconds until the CLI has exited, and its status (130).
//
// Every CLI run's exit status and output are checked (the 20,000-host plan lists 20,000 jobs,
// refusals exit 2 with their message); the section fails when one is wrong. Knobs:
// BENCH_REPEATS (default 5).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { bigInventoryText } from '../inventory/big-inventory.js';
import { markdownTable, median } from './stats.js';

export const name = 'inventory';
export const description = 'inventory loading: --plan on 20,000 hosts, loadInventory near the 8 MiB cap, refusals, SIGTERM while parsing';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const CLI = join(REPO, 'orchestrator/cli.ts');
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const TARGET_PLAN_MS = 2000;

interface CliRun {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ ms: performance.now() - started, code, stdout, stderr }));
  });
}

interface LoadResult {
  ms: number;
  hosts: number;
  maxRssBytes: number;
}

/** loadInventory in a fresh process: `node --import tsx inventory-load.ts --child FILE`. */
async function loadInChild(file: string): Promise<LoadResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SELF, '--child', file], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult;
}

async function child(file: string): Promise<void> {
  const { loadInventory } = await import('../../orchestrator/inventory/load.js');
  const { scenarioHostChecks, scenarioParamSchemas } = await import('../../orchestrator/scenarios/registry.js');
  const started = performance.now();
  const inventory = await loadInventory(file, { scenarios: scenarioParamSchemas(), hostChecks: scenarioHostChecks() });
  const ms = performance.now() - started;
  const result: LoadResult = { ms, hosts: inventory.hosts.length, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** SIGTERM while the CLI parses `text` (fed through a FIFO): ms from the signal to the exit. */
async function sigtermWhileParsing(dir: string, text: string, index: number): Promise<{ ms: number; code: number | null; stderr: string }> {
  const fifo = join(dir, `fleet-${index}.fifo`);
  execFileSync('mkfifo', [fifo]);
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--inventory', fifo, '--plan'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const writer = await open(fifo, 'w');
  await writer.writeFile(text);
  await writer.close();
  await sleep(200 + 150 * index); // somewhere in the parse, a different place each run
  const signalled = performance.now();
  child.kill('SIGTERM');
  const code = await exited;
  return { ms: performance.now() - signalled, code, stderr };
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`bench inventory: ${what}`);
}

export async function run(): Promise<{ table: string; json: unknown }> {
  const work = await mkdtemp(join(tmpdir(), 'bench-inventory-'));
  try {
    const fleetText = bigInventoryText({ hosts: 20_000 });
    const paddedText = bigInventoryText({ hosts: 20_000, padding: 300 });
    const fleet = join(work, 'fleet.yaml');
    const padded = join(work, 'padded.yaml');
    const single = join(work, 'single.yaml');
    const oversize = join(work, 'oversize.yaml');
    const bomb = join(work, 'bomb.yaml');
    await writeFile(fleet, fleetText);
    await writeFile(padded, paddedText);
    await writeFile(single, bigInventoryText({ hosts: 1 }));
    await writeFile(oversize, `${bigInventoryText({ hosts: 1 })}${'#'.repeat(20 * 1024 * 1024)}\n`);
    const bombLines = ['x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let level = 1; level <= 9; level++) bombLines.push(`x-${level}: &l${level} [${Array(9).fill(`*l${level - 1}`).join(', ')}]`);
    await writeFile(bomb, `${bombLines.join('\n')}\nhosts: {mm1: {}}\n`);

    const raw: Record<string, unknown[]> = {};
    const rows: string[][] = [];
    const load = loadavg()[0]!;

    // The CLI, --plan.
    const size = (text: string) => `${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MB`;
    for (const [label, file, hosts, text] of [
      ['--plan, 1 host (CLI start)', single, 1, bigInventoryText({ hosts: 1 })],
      ['--plan, 20,000 hosts', fleet, 20_000, fleetText],
    ] as const) {
      await runCli(['--inventory', file, '--plan']); // warm tsx's cache, the page cache
      const runs: CliRun[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await runCli(['--inventory', file, '--plan']));
      for (const r of runs) {
        check(r.code === 0, `${label}: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
        check(r.stdout.includes(`${hosts} job(s) on ${hosts} host(s)`), `${label}: plan does not list ${hosts} jobs`);
      }
      raw[label] = runs.map(({ ms, code }) => ({ ms, code }));
      const ms = runs.map((r) => r.ms);
      rows.push([label, size(text), sec(median(ms)), `${sec(Math.min(...ms))} - ${sec(Math.max(...ms))}`, '-', String(runs.length)]);
    }

    // loadInventory alone, cold.
    for (const [label, file, text] of [['loadInventory, 20,000 hosts', fleet, fleetText], ['loadInventory, 20,000 hosts, 7.3 MB', padded, paddedText]] as const) {
      const runs: LoadResult[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await loadInChild(file));
      for (const r of runs) check(r.hosts === 20_000, `${label}: ${r.hosts} hosts`);
      raw[label] = runs;
      const ms = runs.map((r) => r.ms);
      rows.push([label, size(text), sec(median(ms)), `${sec(Math.min(...ms))} - ${sec(Math.max(...ms))}`, mib(median(runs.map((r) => r.maxRssBytes))), String(runs.length)]);
    }

    // Refusals, through the CLI.
    for (const [label, file, expect] of [
      ['refused: 20 MB file (size cap)', oversize, 'larger than an inventory may be (8 MiB)'],
      ['refused: alias bomb (9 x 9 aliases)', bomb, 'an alias bomb?'],
    ] as const) {
      const runs: CliRun[] = [];
      for (let i = 0; i < REPEATS; i++) runs.push(await runCli(['--inventory', file, '--plan']));
      for (const r of runs) check(r.code === 2 && r.stderr.includes(expect), `${label}: exit ${r.code}: ${r.stderr.slice(0, 500)}`);
      raw[label] = runs.map(({ ms, code }) => ({ ms, code }));
      const ms = runs.map((r) => r.ms);
      rows.push([label, '-', sec(median(ms)), `${sec(Math.min(...ms))} - ${sec(Math.max(...ms))}`, '-', String(runs.length)]);
    }

    // SIGTERM while parsing.
    const signals = [];
    for (let i = 0; i < REPEATS; i++) signals.push(await sigtermWhileParsing(work, paddedText, i));
    for (const s of signals) check(s.code === 130 && s.stderr.includes('SIGTERM: stopped while loading the inventory'), `SIGTERM: exit ${s.code}: ${s.stderr.slice(0, 300)}`);
    raw.sigterm = signals.map(({ ms, code }) => ({ ms, code }));
    const signalMs = signals.map((s) => s.ms);
    rows.push(['SIGTERM while parsing 7.3 MB: until exit (130)', '-', `${median(signalMs).toFixed(0)} ms`, `${Math.min(...signalMs).toFixed(0)} - ${Math.max(...signalMs).toFixed(0)} ms`, '-', String(signals.length)]);

    const planMs = median((raw['--plan, 20,000 hosts'] as CliRun[]).map((r) => r.ms));
    const startMs = median((raw['--plan, 1 host (CLI start)'] as CliRun[]).map((r) => r.ms));
    const table = [
      markdownTable(['case', 'file', 'wall (median)', 'min - max', 'peak RSS', 'runs'], rows),
      '',
      `target: --plan on 20,000 hosts under ${sec(TARGET_PLAN_MS)}: ${sec(planMs)}, ${planMs < TARGET_PLAN_MS ? 'met' : 'MISSED'} (of which starting the CLI: ${sec(startMs)}); load average at the start: ${load.toFixed(2)}`,
    ].join('\n');
    return { table, json: { loadAverage: load, targetPlanMs: TARGET_PLAN_MS, planMs, startMs, raw } };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!);

// What one warm sysinfo job costs its host, measured exactly and independent of machine load:
// - exec channels (sessions) the orchestrator opens on the host, and the processes created
//   there: strace following the host's sshd listener (host-processes.ts);
// - host CPU: task-clock of everything below that sshd listener (perf stat -p LISTENER follows
//   every process forked after it attached, detached supervisors included: perf's counters
//   are inherited by fork lineage, not by who reaps), in a run of its own (strace slows what it follows).
// Beside it, the same facts gathered the way a parallel-ssh user does, on the same host:
// `ssh HOST 'lscpu -J; lsblk -J; findmnt -J; cat /proc/meminfo; uptime; uname -a'` (what
// parallel-ssh runs per host), measured the same way.
//
//   node --import tsx test/remote/host-cost.ts [--subnet 112] [--repeats 5] [--cold] [--tree]
// --cold: a cold job instead (the host's home put back as the lab made it before each sweep: no
// helper bundle, no provenance cache), as the CLI benchmark's cold runs do.
// CPU time is what the host's processes ran, not wall time: on a loaded machine it grows a
// little (caches, migrations), far less than wall time does.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { homeReset } from '../lab/home-reset.js';
import { formatCount, traceHost, type ProcessCount } from './host-processes.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The facts a parallel-ssh user gathers (as test/bench/peers/pssh.ts runs them). */
export const PSSH_FACTS = 'lscpu -J; lsblk -J; findmnt -J; cat /proc/meminfo; uptime; uname -a';

/** Sessions the client opened: processes sshd started a program in (the session shells). */
export function sessions(count: ProcessCount): number {
  return count.tree.filter((line) => /: (?:bash|sh)(?: >|$)/.test(line) && !/\[(?:_supervise)\]/.test(line) && sshdChild(count, line)).length;
}

function sshdChild(count: ProcessCount, line: string): boolean {
  const parent = /<- (\d+):/.exec(line)?.[1];
  const parentLine = count.tree.find((l) => l.startsWith(`${parent} <-`));
  return parentLine !== undefined && /: (?:sshd|\(fork\))$/.test(parentLine);
}

/** Runs `what` while perf counts the task-clock (ms) of everything below `pid` forked meanwhile. */
export async function hostCpuMs(pid: number, what: () => Promise<void>): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'host-cost-'));
  const out = join(dir, 'perf.csv');
  const perf: ChildProcess = spawn('perf', ['stat', '-x', ',', '-e', 'task-clock', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => perf.once('exit', () => resolve()));
  await sleep(300);
  if (perf.exitCode !== null) throw new Error(`perf stat could not attach to ${pid}: ${stderr}`);
  try {
    await what();
    // Detached processes (a phase's supervisor ending after its status was read) finish.
    await sleep(300);
  } finally {
    perf.kill('SIGINT');
    await exited;
  }
  const text = await readFile(out, 'utf8');
  await rm(dir, { recursive: true, force: true });
  const line = text.split('\n').find((l) => l.includes('task-clock'));
  const ms = line ? Number.parseFloat(line.split(',')[0]!) : Number.NaN;
  if (!Number.isFinite(ms)) throw new Error(`perf stat gave no task-clock: ${text}`);
  return ms;
}

function run(argv: string[], opts: { cwd?: string } = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd ?? repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, fallback: number) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? Number(argv[at + 1]) : fallback;
  };
  const subnet = opt('subnet', 112);
  const repeats = opt('repeats', 5);
  const cold = argv.includes('--cold');
  const { labUp } = await import('../lab/lab.js');
  const { sshOptions } = await import('../bench/peers/cli-tools.js');
  const work = await mkdtemp(join(tmpdir(), 'host-cost-run-'));
  const lab = await labUp({ subnet, hosts: 1, dir: join(work, 'lab'), reports: false });
  try {
    const host = lab.hosts[0]!;
    const listener = Number.parseInt(readFileSync(host.pidFile, 'utf8'), 10);
    // the home as the lab made it: anything a sweep left there (bundle, caches, jobs) removed before a cold run
    const resetHome = await homeReset([host]);
    let n = 0;
    const sweep = async () => {
      const inventory = await lab.writeInventory({ file: join(work, `inventory-${++n}.yaml`), resultsDir: join(work, 'results'), scenarios: { sysinfo: { sample_seconds: 0 } } });
      const r = await run([process.execPath, '--import', 'tsx', join(repo, 'orchestrator/cli.ts'), '--inventory', inventory, '--no-progress', '--no-report']);
      if (!/job lab-01--sysinfo OK|lab-01--sysinfo.*OK/.test(r.output)) throw new Error(`sweep failed (exit ${r.code}):\n${r.output}`);
    };
    const pssh = async () => {
      const r = await run(['ssh', ...sshOptions(lab), '-p', String(host.port), '-l', 'root', host.address, PSSH_FACTS]);
      if (r.code !== 0 || !/"lscpu"/.test(r.output)) throw new Error(`ssh facts failed (exit ${r.code}):\n${r.output.slice(-2000)}`);
    };
    await sweep(); // cold: bundle installed, provenance cache made
    const traced = async (what: () => Promise<void>, before?: () => Promise<unknown>) => {
      await before?.();
      const tracer = await traceHost(listener);
      await what();
      await sleep(300);
      return tracer.stop();
    };
    const orchCount = await traced(sweep, cold ? resetHome : undefined);
    const psshCount = await traced(pssh);
    const orchCpu: number[] = [];
    const psshCpu: number[] = [];
    for (let i = 0; i < repeats; i++) {
      if (cold) await resetHome();
      orchCpu.push(await hostCpuMs(listener, sweep));
      psshCpu.push(await hostCpuMs(listener, pssh));
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const row = (name: string, c: ProcessCount, cpu: number[]) =>
      `${name}: sessions ${sessions(c)}, processes ${c.created} (sshd's own ${c.sshd}), host CPU ms median ${median(cpu).toFixed(1)} (runs: ${cpu.map((x) => x.toFixed(1)).join(' ')})`;
    console.log(`one ${cold ? 'cold' : 'warm'} sysinfo job on one lab host; load average ${load}`);
    console.log(row('orchestrate', orchCount, orchCpu));
    console.log(row('ssh (parallel-ssh per host)', psshCount, psshCpu));
    console.log(`orchestrate:\n${formatCount(orchCount)}`);
    if (argv.includes('--tree')) console.log(`  ${orchCount.tree.join('\n  ')}`);
  } finally {
    await lab.down();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

// Counts the processes a lab host creates while something runs against it: strace follows the
// host's sshd listener (-f: every connection, session and command below it) and records each
// process creation and each program a process runs. Every lab host is a real sshd, so this counts
// what a real host pays, sshd's own per-connection processes included (reported apart).
//
// As a script (rerunnable: issue 13's "processes per host per sysinfo job"):
//   node --import tsx test/remote/host-processes.ts [--subnet 60] [--hosts 1] [--sample-seconds 0]
// brings up a lab, runs `orchestrate --scenario sysinfo` through the real CLI, and prints the
// count per host with the programs run, grouped by the agent verb that ran them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCli } from '../e2e/cli-helpers.js';

export interface ProcessCount {
  /** Processes created below the listener (every fork/clone that made a process, not a thread). */
  created: number;
  /** Of those, sshd's own (per connection and per session channel). */
  sshd: number;
  /** created - sshd: the shells, the agent and everything it ran. */
  commands: number;
  /** Programs run (execve basename), with how often, in order of first run. */
  programs: Map<string, number>;
  /** Per agent verb (`run`, `_supervise`, `collect`, `provenance`, ...): processes created in that verb's tree (the last verb a process ran). */
  byVerb: Map<string, number>;
  /** Agent verbs run (execve of the agent), with how often: a process that became another verb counts for each. */
  verbsRun: Map<string, number>;
  /** Every process created: `pid <- parent: programs run`, in creation order. */
  tree: string[];
}

export interface Tracer {
  stop(): Promise<ProcessCount>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts counting processes created below `listenerPid` (a lab host's sshd listener). */
export async function traceHost(listenerPid: number): Promise<Tracer> {
  const dir = await mkdtemp(join(tmpdir(), 'host-processes-'));
  const out = join(dir, 'strace.txt');
  const child: ChildProcess = spawn(
    'strace',
    ['-f', '-qq', '-s', '200', '-e', 'trace=execve,clone,clone3,fork,vfork', '-e', 'signal=none', '-o', out, '-p', String(listenerPid)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // strace is attached once it has written its first line or after a short settle.
  await sleep(500);
  if (child.exitCode !== null) throw new Error(`strace could not attach to ${listenerPid}: ${stderr}`);
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      const text = await readFile(out, 'utf8');
      await rm(dir, { recursive: true, force: true });
      return parseTrace(text, listenerPid);
    },
  };
}

/** Parses `strace -f` output into a process count (exported for a unit test of the parser). */
export function parseTrace(text: string, rootPid: number): ProcessCount {
  const parent = new Map<number, number>();
  const exe = new Map<number, string[]>();
  const argv1 = new Map<number, string>();
  const verbs = new Map<number, string[]>();
  const verbsRun = new Map<string, number>();
  const programs = new Map<string, number>();
  const unfinishedExec = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const rest = m[2]!;
    const created = /^(?:clone3?|v?fork)\(.*\)\s+=\s+(\d+)$|^<\.\.\. (?:clone3?|v?fork) resumed>.*\)\s+=\s+(\d+)$/.exec(rest);
    if (created) {
      // A thread (CLONE_THREAD) is not a process.
      if (/CLONE_THREAD/.test(rest)) continue;
      parent.set(Number(created[1] ?? created[2]), pid);
      continue;
    }
    // strace splits a call that another traced process interrupts: `execve(... <unfinished ...>`,
    // then `<... execve resumed>) = 0` (a pipeline's programs, e.g. head and gzip beside tar, on a
    // loaded machine); the call is whole once resumed.
    if (/^execve\(.*<unfinished \.\.\.>$/.test(rest)) {
      unfinishedExec.set(pid, rest);
      continue;
    }
    const resumed = /^<\.\.\. execve resumed>(.*)$/.exec(rest);
    const call = resumed ? `${unfinishedExec.get(pid) ?? ''}${resumed[1]}` : rest;
    if (resumed) unfinishedExec.delete(pid);
    const exec = /^execve\("([^"]*)", \[(.*?)\]/.exec(call);
    if (exec && / = 0$/.test(call)) {
      const name = exec[1]!.split('/').pop()!;
      exe.set(pid, [...(exe.get(pid) ?? []), name]);
      programs.set(name, (programs.get(name) ?? 0) + 1);
      const args = [...exec[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) => a[1]!);
      // `bash <agent> <bundle> <verb> ...`: remember the verb of the agent process.
      if (name === 'bash' && args[1]?.endsWith('/orchestrate-agent') && args[3]) {
        argv1.set(pid, args[3]);
        verbs.set(pid, [...(verbs.get(pid) ?? []), args[3]]);
        verbsRun.set(args[3], (verbsRun.get(args[3]) ?? 0) + 1);
      }
    }
  }
  // sshd's own: runs only sshd, or never runs a program and was forked by one of sshd's own.
  const isSshd = (pid: number): boolean => {
    const names = exe.get(pid);
    if (names) return names.every((n) => n.startsWith('sshd'));
    const up = parent.get(pid);
    return up === undefined || up === rootPid || isSshd(up);
  };
  const pids = [...parent.keys()].filter((p) => p !== rootPid);
  const byVerb = new Map<string, number>();
  for (const pid of pids) {
    let verb = 'other';
    for (let p: number | undefined = pid; p !== undefined && p !== rootPid; p = parent.get(p)) {
      const v = argv1.get(p);
      if (v) {
        verb = v;
        break;
      }
    }
    if (isSshd(pid)) verb = 'sshd';
    byVerb.set(verb, (byVerb.get(verb) ?? 0) + 1);
  }
  const sshd = pids.filter(isSshd).length;
  const tree = pids.map((pid) => `${pid} <- ${parent.get(pid)}: ${(exe.get(pid) ?? ['(fork)']).join(' > ')}${verbs.has(pid) ? ` [${verbs.get(pid)!.join(' > ')}]` : ''}`);
  return { created: pids.length, sshd, commands: pids.length - sshd, programs, byVerb, verbsRun, tree };
}

export function formatCount(count: ProcessCount, jobs = 1): string {
  const per = (n: number) => (jobs === 1 ? String(n) : `${n} (${(n / jobs).toFixed(1)} per job)`);
  return [
    `processes created on the host: ${per(count.created)}; sshd's own: ${count.sshd}; shells, agent and tools: ${per(count.commands)}`,
    `by agent verb: ${[...count.byVerb].map(([v, n]) => `${v} ${n}`).join(', ')}`,
    `programs run: ${[...count.programs].map(([p, n]) => (n > 1 ? `${p} x${n}` : p)).join(', ')}`,
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const opt = (name: string, fallback: number) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? Number(argv[at + 1]) : fallback;
  };
  const subnet = opt('subnet', 60);
  const hosts = opt('hosts', 1);
  const sampleSeconds = opt('sample-seconds', 0);
  const repeats = opt('repeats', 2);
  const { labUp } = await import('../lab/lab.js');
  const work = await mkdtemp(join(tmpdir(), 'host-processes-run-'));
  const lab = await labUp({ subnet, hosts, dir: join(work, 'lab'), reports: false });
  try {
    for (let run = 1; run <= repeats; run++) {
      const inventory = await lab.writeInventory({
        file: join(work, `inventory-${run}.yaml`),
        resultsDir: join(work, 'results'),
        scenarios: { sysinfo: { sample_seconds: sampleSeconds } },
      });
      const listeners = lab.hosts.map((h) => Number.parseInt(readFileSync(h.pidFile, 'utf8'), 10));
      const tracers = await Promise.all(listeners.map((pid) => traceHost(pid)));
      const cli = startCli(['--inventory', inventory, '--no-progress']);
      const code = await cli.exit;
      const output = cli.stdout() + cli.stderr();
      const counts = await Promise.all(tracers.map((t) => t.stop()));
      console.log(`run ${run} (${run === 1 ? 'cold: bundle pushed' : 'warm: bundle cached'}), CLI exit ${code}`);
      if (code !== 0) console.log(output);
      counts.forEach((c, i) => console.log(`${lab.hosts[i]!.name}:\n${formatCount(c)}${argv.includes('--tree') ? `\n  ${c.tree.join('\n  ')}` : ''}`));
    }
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

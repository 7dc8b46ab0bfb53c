// Counting, exactly, the processes each side of a run created: `perf record -e dummy -a` (Debian
// package linux-perf) records the kernel's task side-band events (PERF_RECORD_FORK / _EXIT) of
// every process on the machine while it runs. No tracefs, no ptrace, no sampling: the processes
// counted run at full speed, and other work on the machine is not mixed in (unlike a delta of
// /proc/sys/kernel/ns_last_pid, which counts every PID any process on the machine took).
//
// A process belongs to a root (a lab host's sshd listener, the client's /usr/bin/time) when it was
// forked by a process that belongs to that root, whatever it became afterwards (exec, setsid,
// double fork, re-parenting to PID 1 all keep it counted). New threads (same process id) are
// counted apart and are not processes.
import { execa, type ResultPromise } from 'execa';
import { stat } from 'node:fs/promises';

export const PERF_BIN = 'perf';

export interface CensusCount {
  /** Processes created under the root while the census ran (the root itself not included). */
  processes: number;
  /** Threads created in those processes (and in the root). */
  threads: number;
  /** Of those processes, how many had not exited when the census stopped. */
  stillRunning: number;
  /** Those processes by the program they ran last (a fork that did not exec: its parent's program). */
  programs: Record<string, number>;
}

export interface CensusResult {
  /** By root label. A root that created nothing has zeros. */
  byRoot: Map<string, CensusCount>;
  /** FORK events in the window that belong to no root (the rest of the machine). */
  otherProcesses: number;
  /** perf reported lost events (its buffer overflowed): the counts may be short. */
  lostEvents: boolean;
}

export interface RunningCensus {
  /**
   * Stop recording and attribute every process created meanwhile to its root. `roots` maps a PID
   * to a label (several PIDs may share one). `mustHaveStarted`: PIDs of roots that were started
   * after the census (the client): their own FORK must be in the record, else the census started
   * late and the counts would be short, which is an error.
   */
  stop(roots: Map<number, string>, mustHaveStarted?: number[]): Promise<CensusResult>;
  /** Stop perf without reading anything (on errors). */
  abort(): Promise<void>;
}

const FORK_OR_EXIT = /\s(\d+\.\d+):\s+PERF_RECORD_(FORK|EXIT)\((\d+):(\d+)\):\((\d+):(\d+)\)/;
const COMM_EXEC = /PERF_RECORD_COMM(?: exec)?: (.*):(\d+)\/(\d+)\s*$/;

/** Start perf; resolves once it records (its data file exists, plus a margin for the synthesized task list). */
export async function startCensus(dataFile: string): Promise<RunningCensus> {
  const perf: ResultPromise = execa(PERF_BIN, ['record', '-q', '-e', 'dummy', '-a', '-m', '1024', '-o', dataFile], {
    reject: false,
    stdin: 'ignore',
    env: { PATH: '/usr/bin:/bin' },
    extendEnv: false,
  });
  const pid = perf.pid;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const st = await stat(dataFile).catch(() => null);
    if (st && st.size > 0) break;
    if (perf.exitCode !== null || Date.now() > deadline) {
      const r = await stopPerf(perf, pid);
      throw new Error(`perf record did not start (is linux-perf installed and perf_event_paranoid <= 1 or root?): ${String(r.stderr).slice(-800)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 300));
  return {
    async abort() {
      await stopPerf(perf, pid);
    },
    async stop(roots, mustHaveStarted = []) {
      const recorded = await stopPerf(perf, pid);
      const script = await execa(PERF_BIN, ['script', '-i', dataFile, '--show-task-events'], {
        reject: false,
        env: { PATH: '/usr/bin:/bin' },
        extendEnv: false,
        maxBuffer: 512 * 1024 * 1024,
      });
      if (script.exitCode !== 0) throw new Error(`perf script failed (${script.exitCode}): ${String(script.stderr).slice(-800)}`);
      const result = attribute(String(script.stdout), roots, mustHaveStarted);
      result.lostEvents ||= /lost/i.test(`${String(recorded.stderr)}\n${String(script.stderr)}`) || /PERF_RECORD_LOST/.test(String(script.stdout));
      return result;
    },
  };
}

async function stopPerf(perf: ResultPromise, pid: number | undefined) {
  if (pid !== undefined && perf.exitCode === null) {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 30_000);
    const r = await perf;
    clearTimeout(timer);
    return r;
  }
  return perf;
}

/** Attribute `perf script --show-task-events` output to roots (exported for its unit test). */
export function attribute(text: string, roots: Map<number, string>, mustHaveStarted: number[] = []): CensusResult {
  const byRoot = new Map<string, CensusCount>();
  for (const label of roots.values()) byRoot.set(label, { processes: 0, threads: 0, stillRunning: 0, programs: {} });
  const owner = new Map<number, string>(roots);
  const counted = new Map<number, string>(); // counted process -> label, until it exits
  const program = new Map<number, string>(); // process -> what it runs (as far as the record shows)
  const tally = (pid: number, label: string) => {
    const programs = byRoot.get(label)!.programs;
    const name = program.get(pid) ?? '?';
    programs[name] = (programs[name] ?? 0) + 1;
  };
  const started = new Set<number>();
  let otherProcesses = 0;
  for (const line of text.split('\n')) {
    const exec = COMM_EXEC.exec(line);
    if (exec) {
      if (exec[2] === exec[3]) program.set(Number(exec[2]), exec[1]!);
      continue;
    }
    const m = FORK_OR_EXIT.exec(line);
    if (!m) continue;
    const time = Number(m[1]);
    const synthesized = time === 0; // perf's list of the tasks that existed when it started
    const [pid, tid, ppid] = [Number(m[3]), Number(m[4]), Number(m[5])];
    if (m[2] === 'EXIT') {
      if (pid === tid && counted.has(pid)) {
        tally(pid, counted.get(pid)!);
        counted.delete(pid);
      }
      continue;
    }
    if (roots.has(pid) && pid === tid) {
      if (!synthesized) started.add(pid);
      continue; // a root stays its own, whoever forked it
    }
    if (pid === ppid) {
      // a new thread of an existing process
      const label = owner.get(pid);
      if (label !== undefined && !synthesized) byRoot.get(label)!.threads++;
      continue;
    }
    const label = owner.get(ppid);
    const parentProgram = program.get(ppid);
    if (parentProgram === undefined) program.delete(pid);
    else program.set(pid, parentProgram);
    if (label === undefined) {
      owner.delete(pid); // a recycled PID now belongs to no root
      if (!synthesized) otherProcesses++;
      continue;
    }
    owner.set(pid, label);
    if (synthesized) continue;
    byRoot.get(label)!.processes++;
    counted.set(pid, label);
  }
  for (const [pid, label] of counted) {
    byRoot.get(label)!.stillRunning++;
    tally(pid, label);
  }
  const late = mustHaveStarted.filter((p) => !started.has(p));
  if (late.length > 0) {
    throw new Error(`process census: perf did not see PID(s) ${late.join(', ')} start; it started too late, so the counts would be short`);
  }
  return { byRoot, otherProcesses, lostEvents: false };
}

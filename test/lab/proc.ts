// Process helpers for the local lab, all by PID and /proc: the lab never finds processes by name
// (no pkill/killall). A PID is only signalled after /proc shows it is still the process we started
// (its command line names this lab's files), so a recycled PID is never hit.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One-letter state from /proc/<pid>/stat ('R', 'S', 'Z', ...), undefined when there is no such process. */
export function procState(pid: number): { state: string; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ..." where comm may contain spaces and parentheses: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  if (state === undefined || !Number.isFinite(ppid)) return undefined;
  return { state, ppid };
}

/** True when the PID names a process that has not exited (zombies count as exited). */
export function isAlive(pid: number | undefined | null): pid is number {
  if (!pid || pid <= 0) return false;
  const s = procState(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** The process's argv as /proc shows it (sshd rewrites it: "sshd: /usr/sbin/sshd -f CONF ... [listener] ..."). */
export function cmdline(pid: number): string[] {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s) => s !== '').flatMap((s) => s.split(' ')).filter((s) => s !== '');
  } catch {
    return [];
  }
}

export function exePath(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** True when argv contains `flag value` as two consecutive words. */
export function hasArgPair(pid: number, flag: string, value: string): boolean {
  const argv = cmdline(pid);
  for (let i = 0; i + 1 < argv.length; i++) if (argv[i] === flag && argv[i + 1] === value) return true;
  return false;
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** Map ppid -> child PIDs, from one pass over /proc/<pid>/stat (this kernel has no /proc/<pid>/task/<tid>/children). */
export function childMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const pid of allPids()) {
    const s = procState(pid);
    if (!s || s.state === 'Z' || s.state === 'X') continue;
    const list = map.get(s.ppid);
    if (list) list.push(pid);
    else map.set(s.ppid, [pid]);
  }
  return map;
}

export function childrenOf(pid: number): number[] {
  return (childMap().get(pid) ?? []).sort((a, b) => a - b);
}

/** Every live descendant of pid (not pid itself), parents before children. */
export function descendantsOf(pid: number, map: Map<number, number[]> = childMap()): number[] {
  const out: number[] = [];
  const queue = [...(map.get(pid) ?? [])];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(map.get(p) ?? []));
  }
  return out;
}

/**
 * Live PIDs whose argv has one of the `flag value` pairs (e.g. `-f <lab sshd_config>`): this lab's
 * own processes that its state lost track of. One pass over /proc.
 */
export function findByArgPairs(pairs: Array<[flag: string, value: string]>): Map<string, number[]> {
  const found = new Map<string, number[]>();
  if (pairs.length === 0) return found;
  for (const pid of allPids()) {
    if (pid === process.pid || !isAlive(pid)) continue;
    const argv = cmdline(pid);
    for (let i = 0; i + 1 < argv.length; i++) {
      for (const [flag, value] of pairs) {
        if (argv[i] === flag && argv[i + 1] === value) {
          const list = found.get(value);
          if (list) list.push(pid);
          else found.set(value, [pid]);
        }
      }
    }
  }
  return found;
}

/** Start time of the process in clock ticks since boot (field 22 of /proc/<pid>/stat): with the PID, a unique identity. */
export function startTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const v = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A PID plus its start time, so a recorded process is never confused with a later one that got the same PID. */
export interface ProcRef {
  pid: number;
  start: number;
}

export function procRef(pid: number): ProcRef | undefined {
  const start = startTime(pid);
  return start === undefined ? undefined : { pid, start };
}

/** True when the recorded process is still the same, live process. */
export function refAlive(ref: ProcRef): boolean {
  return isAlive(ref.pid) && startTime(ref.pid) === ref.start;
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(isAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(isAlive);
  }
  return left;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGTERM the PIDs, wait up to graceMs, then SIGKILL what is left and wait for it to go. */
export async function terminate(pids: number[], graceMs = 3000): Promise<void> {
  const live = pids.filter(isAlive);
  if (live.length === 0) return;
  for (const pid of live) signal(pid, 'SIGTERM');
  const left = await waitGone(live, graceMs);
  if (left.length === 0) return;
  await kill(left);
}

/** SIGKILL the PIDs and wait until /proc shows them gone. */
export async function kill(pids: number[], timeoutMs = 3000): Promise<void> {
  const live = pids.filter(isAlive);
  for (const pid of live) signal(pid, 'SIGKILL');
  const left = await waitGone(live, timeoutMs);
  if (left.length > 0) throw new Error(`processes did not exit after SIGKILL: ${left.join(', ')}`);
}

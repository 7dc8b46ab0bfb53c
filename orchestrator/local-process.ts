// Whether a process of this machine runs, and since when: how a lock or a marker left by a
// process tells a live holder from a dead one (a pid the kernel gave to another process since
// has another start time).
import { readFileSync } from 'node:fs';

export type ProcessProbe = (pid: number) => { alive: false } | { alive: true; start: string | null };

/** Field 22 of /proc/<pid>/stat (after the comm, which may hold spaces and parentheses); null when it cannot be read. */
export function processStartTime(pid: number): string | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Signal 0 sends nothing: it only asks whether the pid exists. */
export const probeProcess: ProcessProbe = (pid) => {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as { code?: string }).code !== 'EPERM') return { alive: false };
  }
  return { alive: true, start: processStartTime(pid) };
};

// QASET's control directory, /var/log/qaset/control, as the real QASET writes it
// (qavm/sq-control.sh, sq-result.sh):
//   NEXT_RUN      written BEFORE a case runs, naming the NEXT one: "<0-based index> <name>".
//                 While the last case runs it is blank (`echo "" ""`: a space and a newline); after
//                 `qaset reset` it is blank too (QASET then starts at index 0). So the case running
//                 now is the entry BEFORE the one NEXT_RUN names, or the last entry when it is blank
//                 and the run has started; it can only be told with the run list.
//   DONE          "%Y-%m-%d-%H-%M-%S" after the last case; STOP: a manual stop (the run ends
//                 without DONE); SYSTEM_DIRTY: a case succeeded, a reboot comes before the next;
//                 PREPARED: the machine is prepared (no repository setup); lock.d/: held while
//                 QASET runs (a stale one makes it refuse to start).
//   RUN_ID        "SQ_TEST_RUN_ID=YYYYMMDD", generated from the date when empty. `_QASET_RUNID` in
//                 /root/qaset/config does NOT set it.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CaseNameSchema } from './case-lists.js';
import { readHostText } from './host-text.js';

export interface RunListEntry {
  /** 0-based index in the run list. */
  index: number;
  name: string;
}

/** What control/NEXT_RUN held: absent, blank, or naming the next case. */
export type NextRunState = 'absent' | 'blank' | 'names-next' | 'unreadable';

export interface QasetControl {
  nextRunState: NextRunState;
  /** The case QASET runs NEXT, as NEXT_RUN names it; null unless nextRunState is 'names-next'. */
  next: RunListEntry | null;
  /** DONE's time as "YYYY-MM-DDTHH:MM:SS" (guest local time); null when not done. */
  done: string | null;
  stop: boolean;
  systemDirty: boolean;
  prepared: boolean;
  /** lock.d exists: QASET is running, or a crashed run left its lock. */
  locked: boolean;
  /** SQ_TEST_RUN_ID from RUN_ID; null when absent or empty. */
  runId: string | null;
  /** What could not be read or made sense of. */
  problems: string[];
}

/** "2026-11-22-06-15-53" -> "2026-11-22T06:15:53"; other text is returned trimmed (first line). */
export function parseDoneStamp(text: string): string | null {
  const t = text.trim();
  if (t === '') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})/.exec(t);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` : t.split('\n')[0]!.slice(0, 64);
}

/** Reads NEXT_RUN's text: "<index> <name>" names the next case; blank (or only spaces) is blank. */
export function parseNextRun(text: string): { state: 'blank' | 'names-next'; next: RunListEntry | null } | null {
  const t = text.trim();
  if (t === '') return { state: 'blank', next: null };
  const m = /^(\d{1,6})\s+(\S+)$/.exec(t);
  if (!m || !CaseNameSchema.safeParse(m[2]).success) return null;
  return { state: 'names-next', next: { index: Number(m[1]), name: m[2]! } };
}

/** Reads RUN_ID's text ("SQ_TEST_RUN_ID=20261122", quotes allowed); null when it holds no id. */
export function parseRunIdFile(text: string): string | null {
  const m = /^\s*SQ_TEST_RUN_ID=\s*["']?([A-Za-z0-9_.-]{1,64})["']?\s*$/m.exec(text);
  return m ? m[1]! : null;
}

async function exists(p: string, kind: 'file' | 'dir'): Promise<boolean> {
  try {
    const st = await fsp.lstat(p);
    return kind === 'dir' ? st.isDirectory() : st.isFile();
  } catch {
    return false;
  }
}

async function readControlFile(file: string, problems: string[]): Promise<string | null> {
  try {
    return await readHostText(file, 64 * 1024);
  } catch (err) {
    problems.push((err as Error).message);
    return null;
  }
}

/** Reads a collected /var/log/qaset/control directory (every file is optional). */
export async function readControl(qasetRoot: string): Promise<QasetControl> {
  const dir = path.join(qasetRoot, 'control');
  const problems: string[] = [];
  const c: QasetControl = { nextRunState: 'absent', next: null, done: null, stop: false, systemDirty: false, prepared: false, locked: false, runId: null, problems };
  const next = await readControlFile(path.join(dir, 'NEXT_RUN'), problems);
  if (next !== null) {
    const parsed = parseNextRun(next);
    if (parsed) [c.nextRunState, c.next] = [parsed.state, parsed.next];
    else {
      c.nextRunState = 'unreadable';
      problems.push(`control/NEXT_RUN: ${JSON.stringify(next.trim().slice(0, 80))} is neither blank nor "<index> <case>"`);
    }
  }
  const done = await readControlFile(path.join(dir, 'DONE'), problems);
  if (done !== null) c.done = parseDoneStamp(done);
  const runId = await readControlFile(path.join(dir, 'RUN_ID'), problems);
  if (runId !== null) {
    c.runId = parseRunIdFile(runId);
    if (c.runId === null && runId.trim() !== '' && !/^\s*SQ_TEST_RUN_ID=\s*$/m.test(runId)) problems.push('control/RUN_ID: no SQ_TEST_RUN_ID=<id> line');
  }
  c.stop = await exists(path.join(dir, 'STOP'), 'file');
  c.systemDirty = await exists(path.join(dir, 'SYSTEM_DIRTY'), 'file');
  c.prepared = await exists(path.join(dir, 'PREPARED'), 'file');
  c.locked = await exists(path.join(qasetRoot, 'lock.d'), 'dir');
  return c;
}

/**
 * The case QASET is running (or was running when it stopped, crashed or was collected), from
 * NEXT_RUN and the run list:
 *   - DONE: none;
 *   - NEXT_RUN names entry i >= 1: entry i - 1 (when NEXT_RUN's name is the run list's entry i);
 *   - NEXT_RUN blank: the last entry if the run has started (`started`: e.g. a screen log of the
 *     last case exists), else none (a reset run that has not begun).
 * A NEXT_RUN that does not match the run list gives none and says why.
 */
export function currentCase(
  control: Pick<QasetControl, 'nextRunState' | 'next' | 'done'>,
  runList: readonly string[],
  started: boolean,
): { current: RunListEntry | null; problem?: string } {
  if (control.done !== null || runList.length === 0) return { current: null };
  if (control.nextRunState === 'names-next' && control.next) {
    const { index, name } = control.next;
    if (index >= runList.length || runList[index] !== name) {
      return { current: null, problem: `NEXT_RUN names ${name} at index ${index}, but the run list has ${index < runList.length ? runList[index] : `only ${runList.length} entries`}` };
    }
    return index === 0 ? { current: null } : { current: { index: index - 1, name: runList[index - 1]! } };
  }
  if (control.nextRunState === 'blank' && started) return { current: { index: runList.length - 1, name: runList[runList.length - 1]! } };
  return { current: null };
}

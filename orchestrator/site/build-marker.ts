// A mark in the site's root while a build draws (`.site-building.json`: the builder's pid and its
// start time). A build that finds one whose process is gone knows the last build was killed
// mid-write: it never recorded the pages it was writing, so this one draws them again, into the
// same directories, and removes there the temp files the killed one left (SiteWriter.finish). A
// build that ends, well or with an error, takes its mark away; one that was told to clean up and
// failed leaves its own, so the next build still does. Never published (a `.site-*.json` record).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { probeProcess, processStartTime, type ProcessProbe } from '../local-process.js';
import { writeFileAtomic } from './output.js';

export const BUILD_MARKER = '.site-building.json';

export interface BuildMark {
  /** The last build into this directory was killed before it ended (its mark left, its process gone). */
  lastBuildKilled: boolean;
  /** Takes the mark away (kept after a failed build that had a killed one's leftovers to clean up). */
  release(finished: boolean): Promise<void>;
}

interface Holder {
  pid: number;
  start: string | null;
}

function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as { pid?: unknown; start?: unknown };
    if (!Number.isSafeInteger(value.pid) || (value.start !== null && typeof value.start !== 'string')) return undefined;
    return { pid: value.pid as number, start: value.start as string | null };
  } catch {
    return undefined;
  }
}

/** Whether the mark's builder still runs: its pid is alive and, where both are known, started when the mark says. */
function holderRuns(holder: Holder, probe: ProcessProbe): boolean {
  const now = probe(holder.pid);
  if (!now.alive) return false;
  return holder.start === null || now.start === null || now.start === holder.start;
}

export async function markBuilding(outDir: string, probe: ProcessProbe = probeProcess): Promise<BuildMark> {
  const path = join(outDir, BUILD_MARKER);
  const text = await readFile(path, 'utf8').catch(() => undefined);
  // a mark that cannot be read as one (edited by hand: ours are written whole) counts as a killed build's: cleaning up only ever removes dead processes' temp files
  const holder = text === undefined ? undefined : parseHolder(text);
  const lastBuildKilled = text !== undefined && (holder === undefined || !holderRuns(holder, probe));
  await writeFileAtomic(path, `${JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) })}\n`);
  return {
    lastBuildKilled,
    async release(finished) {
      if (finished || !lastBuildKilled) await rm(path, { force: true });
    },
  };
}

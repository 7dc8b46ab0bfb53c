// Lab hosts' homes put back as they are now: what a run leaves there afterwards (the helper
// bundle, the provenance cache, job directories) is taken away, so the next run meets a host as a
// first-time user's (a cold run). Used by the CLI benchmark and test/remote/host-cost.ts.
//
// `setAside`: entries are moved into that directory (one subdirectory per reset and host) instead
// of being removed, and the caller removes it once the measured runs are over. On a file system
// where creating a file right after others were deleted costs more (ext4 without a journal passes
// over every recently freed inode; see the README's fleet benchmark), removing thousands of files
// just before a cold run would slow whatever creates files next: the orchestrator's run, not a
// first-time host's. It must be on the homes' file system (a rename); anything it cannot move is removed.
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** Takes each home's entries now; the function it gives back takes away any other entry and says how many it took. */
export async function homeReset(hosts: readonly { home: string }[], options: { setAside?: string } = {}): Promise<() => Promise<number>> {
  const kept = await Promise.all(hosts.map(async (h) => new Set(await readdir(h.home))));
  let resets = 0;
  return async () => {
    let removed = 0;
    const reset = ++resets;
    await Promise.all(
      hosts.map(async (h, i) => {
        for (const entry of await readdir(h.home)) {
          if (kept[i]!.has(entry)) continue;
          await takeAway(join(h.home, entry), options.setAside === undefined ? undefined : join(options.setAside, String(reset), String(i)));
          removed++;
        }
      }),
    );
    return removed;
  };
}

/** Moves `path` into `aside` (made as needed), or removes it when there is no `aside` or it cannot be moved there. */
export async function takeAway(path: string, aside: string | undefined): Promise<void> {
  if (aside !== undefined) {
    try {
      await mkdir(aside, { recursive: true });
      await rename(path, join(aside, basename(path)));
      return;
    } catch {
      // another file system, or a name taken: removed instead
    }
  }
  await rm(path, { recursive: true, force: true });
}

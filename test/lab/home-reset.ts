// Lab hosts' homes put back as they are now: what a run leaves there afterwards (the helper
// bundle, the provenance cache, job directories) is removed, so the next run meets a host as a
// first-time user's (a cold run). Used by the CLI benchmark and test/remote/host-cost.ts.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Takes each home's entries now; the function it gives back removes any other entry and says how many it removed. */
export async function homeReset(hosts: readonly { home: string }[]): Promise<() => Promise<number>> {
  const kept = await Promise.all(hosts.map(async (h) => new Set(await readdir(h.home))));
  return async () => {
    let removed = 0;
    await Promise.all(
      hosts.map(async (h, i) => {
        for (const entry of await readdir(h.home)) {
          if (kept[i]!.has(entry)) continue;
          await rm(join(h.home, entry), { recursive: true, force: true });
          removed++;
        }
      }),
    );
    return removed;
  };
}

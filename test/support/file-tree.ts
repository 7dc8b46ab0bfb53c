// What a directory holds, for tests that check what a run left on disk: its files (relative
// paths), their sizes, or every entry with its type, mode and content hash.
import { createHash } from 'node:crypto';
import { lstat, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under dir, as paths relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await filesUnder(join(dir, e.name))).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out;
}

/** Every file under dir (relative path -> size): what a disk-full case left behind. */
export async function fileSizes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const name of await filesUnder(dir)) {
    const s = await lstat(join(dir, name));
    if (s.isFile()) found.set(name, s.size);
  }
  return found;
}

/** Every entry under dir: path -> type, mode and (files) sha256. */
export async function entryListing(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(rel: string): Promise<void> {
    for (const d of await readdir(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${d.name}` : d.name;
      const mode = ((await lstat(join(dir, p))).mode & 0o7777).toString(8);
      if (d.isDirectory()) {
        out.set(p, `dir ${mode}`);
        await walk(p);
      } else if (d.isFile()) out.set(p, `file ${mode} ${createHash('sha256').update(await readFile(join(dir, p))).digest('hex')}`);
      else out.set(p, `other ${mode}`);
    }
  }
  await walk('');
  return out;
}

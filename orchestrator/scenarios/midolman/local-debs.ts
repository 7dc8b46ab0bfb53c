// The build's .deb files on the orchestrator's machine (`build.local_debs`): absolute paths, with
// wildcards (* ? [...]) allowed in the file name only, as a CI job leaves them in a directory
// (`/srv/ci/midonet/latest/*.deb`). Expanded when the job starts, so tonight's files are the ones
// taken; a pattern that matches nothing is an error that names it.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import picomatch from 'picomatch';

export class LocalDebsError extends Error {
  override readonly name = 'LocalDebsError';
}

const WILDCARD = /[*?[]/;

/**
 * A file-name glob (* ? [...] [!...]) as a matcher, by picomatch: no path separators inside, dot
 * files only when the pattern names them. Only the shell's file-name wildcards are special: braces,
 * extglobs and parentheses (which picomatch would read as regex groups) are escaped, so they match
 * themselves as they would in `ls /srv/ci/*.deb`.
 */
export function fileNameMatcher(glob: string): (name: string) => boolean {
  return picomatch(glob.replace(/[(){}|]/g, '\\$&'), { noextglob: true, nobrace: true, dot: false, posix: true });
}

/** Every pattern expanded to existing regular files, in order, each once. */
export async function expandLocalDebs(patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of patterns) {
    const dir = dirname(pattern);
    const name = basename(pattern);
    if (WILDCARD.test(dir)) throw new LocalDebsError(`build.local_debs: ${pattern}: wildcards are allowed in the file name only`);
    let matches: string[];
    if (!WILDCARD.test(name)) {
      matches = [pattern];
    } else {
      const matchesName = fileNameMatcher(name);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        throw new LocalDebsError(`build.local_debs: ${pattern}: cannot read ${dir}: ${(error as Error).message}`);
      }
      matches = names.filter((n) => matchesName(n) && !n.startsWith('.')).sort().map((n) => join(dir, n));
      if (matches.length === 0) throw new LocalDebsError(`build.local_debs: ${pattern} matches no file`);
    }
    for (const file of matches) {
      const st = await stat(file).catch(() => undefined);
      if (!st) throw new LocalDebsError(`build.local_debs: ${file} does not exist on this machine`);
      if (!st.isFile()) throw new LocalDebsError(`build.local_debs: ${file} is not a file`);
      if (!out.includes(file)) out.push(file);
    }
  }
  return out;
}

/**
 * The helper bundle: the project's bash helpers (remote-scripts/ and topologies/ at the repo root)
 * packed as one deterministic .tar.gz named by its content hash, so a host receives it only when it
 * lacks that hash.
 *
 * Deterministic by construction: entries sorted by path (byte order, a directory right before its
 * contents), mtime 0, uid/gid 0, empty uname/gname, mode 0755 for directories and for files with
 * any execute bit (u, g or o) and 0644 for every other file, regular files and directories only,
 * gzip via zlib.gzipSync at a fixed level (Node writes no name and mtime 0 in the gzip header).
 * So the same tree gives the same hash whatever the files' mtimes, owners or umask, and any content
 * or execute-bit change gives a new hash. A symlink, fifo, socket or device in a source tree is an
 * error that names it (a bundle must not depend on what a link points to on this machine).
 * A missing root directory is treated as empty (it contributes no entries at all). A name with a
 * control character or a backslash is an error too: a host lists its copy one line per path to
 * check it against the bundle (remote/push-bundle.ts), and such a name cannot be one line.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.js';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import type { HelperSelection } from './helper-selection.js';

export interface HelperBundle {
  /** First 16 hex characters of the sha256 of `bytes`. */
  hash: string;
  /** The .tar.gz. */
  bytes: Buffer;
  /** Regular files in the bundle. */
  files: number;
}

export interface BundleRoot {
  /** Directory on this machine. */
  dir: string;
  /** Path prefix inside the archive, e.g. 'remote-scripts'. */
  prefix: string;
  /** Top-level entries of dir left out of the bundle (they never run from it). */
  leaveOut?: string[];
}

export class BundleSourceError extends Error {
  override readonly name = 'BundleSourceError';
  constructor(
    message: string,
    readonly paths: string[],
  ) {
    super(message);
  }
}

const GZIP_LEVEL = 9;
const UNSAFE_NAME = /[\u0000-\u001f\u007f\\]/;
const EPOCH = new Date(0);

interface BundleEntry {
  name: string; // archive path, no trailing slash
  type: 'file' | 'directory';
  mode: number;
  source: string; // absolute path on disk
}

/**
 * Scripts under remote-scripts/ that never run from the bundle: the reports host's (publish/, sent
 * per call: publish/host-calls.ts) and the bundle's own bootstrap (bundle/, sent before the bundle
 * exists: remote/push-bundle.ts). Left out, a change to them does not make every host fetch a new bundle.
 */
export const NOT_BUNDLED = ['publish', 'bundle'];

/** The two helper folders at the repository root, found from this module's location. */
export function projectBundleRoots(): BundleRoot[] {
  const repoRoot = PACKAGE_ROOT;
  return [
    { dir: path.join(repoRoot, 'remote-scripts'), prefix: 'remote-scripts', leaveOut: NOT_BUNDLED },
    { dir: path.join(repoRoot, 'topologies'), prefix: 'topologies' },
  ];
}

/**
 * The bundle of every regular file under `roots`, or with `selection` only of the files it takes
 * (and the directories above them; a root none of whose files it takes is left out, as a missing
 * one is). The source trees are checked whole either way.
 */
export async function buildHelperBundle(roots: BundleRoot[], selection?: HelperSelection): Promise<HelperBundle> {
  return packHelperBundle(await readHelperTree(roots), selection);
}

/** The helper trees as listed and checked once, for any number of bundles (packHelperBundle). */
export interface HelperTree {
  /** Every entry, sorted by path. */
  readonly entries: readonly BundleEntry[];
}

/**
 * Lists `roots` and checks them whole: only regular files and directories, no unsafe name, no path
 * twice. A symlink anywhere is refused, whether or not a bundle will take it.
 */
export async function readHelperTree(roots: BundleRoot[]): Promise<HelperTree> {
  const entries: BundleEntry[] = [];
  const refused: string[] = [];
  const prefixes = new Set<string>();
  for (const root of roots) {
    const prefix = checkPrefix(root.prefix);
    if (prefixes.has(prefix)) throw new Error(`helper bundle: prefix '${prefix}' is used by two roots`);
    prefixes.add(prefix);
    const st = await lstatOrNull(root.dir);
    if (st === null) continue; // missing root: empty
    if (st.isSymbolicLink() || !st.isDirectory()) {
      refused.push(root.dir);
      continue;
    }
    entries.push({ name: prefix, type: 'directory', mode: 0o755, source: root.dir });
    await walk(root.dir, prefix, entries, refused, new Set(root.leaveOut));
  }
  if (refused.length > 0) {
    refused.sort();
    throw new BundleSourceError(
      `helper bundle: only regular files and directories can be bundled; refusing: ${refused.join(', ')}`,
      refused,
    );
  }
  const badNames = entries.filter((e) => UNSAFE_NAME.test(e.name)).map((e) => e.source);
  if (badNames.length > 0) {
    badNames.sort();
    throw new BundleSourceError(
      `helper bundle: a bundled name cannot contain a control character or a backslash; refusing: ${badNames.map((n) => JSON.stringify(n)).join(', ')}`,
      badNames,
    );
  }
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new Error(`helper bundle: duplicate path '${e.name}'`);
    names.add(e.name);
  }
  entries.sort((a, b) => compareBytes(a.name, b.name));
  return { entries };
}

/** The bundle of the tree's files that `selection` takes (every file without one), read from disk now. */
export async function packHelperBundle(tree: HelperTree, selection?: HelperSelection): Promise<HelperBundle> {
  const packed = selection ? selected(tree.entries, selection) : [...tree.entries];

  const tar = await packEntries(packed);
  const bytes = gzipSync(tar, { level: GZIP_LEVEL });
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  return { hash, bytes, files: packed.filter((e) => e.type === 'file').length };
}

/** The files `selection` takes and the directories holding any of them, in the entries' order. */
function selected(entries: readonly BundleEntry[], selection: HelperSelection): BundleEntry[] {
  const files = entries.filter((e) => e.type === 'file' && selection.takes(e.name));
  return entries.filter((e) => (e.type === 'file' ? files.includes(e) : files.some((f) => f.name.startsWith(`${e.name}/`))));
}

async function walk(dir: string, prefix: string, out: BundleEntry[], refused: string[], leaveOut = new Set<string>()): Promise<void> {
  const dirents: Dirent[] = await fsp.readdir(dir, { withFileTypes: true });
  for (const d of dirents) {
    if (leaveOut.has(d.name)) continue;
    const abs = path.join(dir, d.name);
    const name = `${prefix}/${d.name}`;
    if (d.isDirectory()) {
      out.push({ name, type: 'directory', mode: 0o755, source: abs });
      await walk(abs, name, out, refused);
    } else if (d.isFile()) {
      const st = await fsp.lstat(abs);
      out.push({ name, type: 'file', mode: st.mode & 0o111 ? 0o755 : 0o644, source: abs });
    } else {
      refused.push(abs);
    }
  }
}

async function packEntries(entries: BundleEntry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const collected = new Promise<Buffer>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  try {
    for (const e of entries) {
      const common = { mode: e.mode, uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH };
      if (e.type === 'directory') {
        await addEntry(p, { ...common, name: `${e.name}/`, type: 'directory' });
      } else {
        const content = await fsp.readFile(e.source);
        await addEntry(p, { ...common, name: e.name, type: 'file', size: content.length }, content);
      }
    }
    p.finalize();
  } catch (err) {
    p.destroy(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
  return collected;
}

function addEntry(p: ReturnType<typeof tarPack>, header: Parameters<ReturnType<typeof tarPack>['entry']>[0], content?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (content === undefined) p.entry(header, cb);
    else p.entry(header, content, cb);
  });
}

function checkPrefix(prefix: string): string {
  const segs = prefix.split('/').filter((s) => s !== '' && s !== '.');
  if (prefix.startsWith('/') || segs.length === 0 || segs.includes('..') || prefix.includes('\0')) {
    throw new Error(`helper bundle: invalid prefix '${prefix}' (want a relative path like 'remote-scripts')`);
  }
  return segs.join('/');
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

async function lstatOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

// Puts the helper bundle on a host unless that host already has a genuine copy of its content
// hash (run-host.ts pushes once per host per sweep, before that host's jobs): one command,
// remote-scripts/bundle/ensure-bundle, answers "present" or "need" and, when needed, unpacks the
// bundle from its stdin, checks it and renames it into place. A cached copy is verified every
// time against the listing this machine derives from the bundle's own bytes (bundleListing(),
// sent in the command), never trusted by its name; a copy that differs is set aside, reinstalled,
// and its first difference reported (BundlePushResult.repaired).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { Writable } from 'node:stream';
import type { Connector, ExecChannel } from '../connectors/types.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import { command, raw, render, type Part } from '../connectors/shell-command.js';
import { packagePath } from '../package-root.js';
import type { RemoteLayout } from './layout.js';
import { uploadIfNeeded, uploadThenHold, type FollowOnResult, type HeldUpload } from './upload-if-needed.js';

/**
 * The host side: remote-scripts/bundle/ensure-bundle (its header documents the protocol, the
 * check and the cleanup). It cannot travel in the bundle it installs (it runs before the bundle
 * is on the host), so its text is read from the package at run time (package-root.ts: from the
 * sources and from dist/ alike) and sent as `exec bash --norc -c TEXT orchestrate-bundle ROOT HASH
 * ENTRIES SUMS [NEXT...]`, the bundle's tar on stdin (wireTar). Read once per process.
 */
export const ENSURE_BUNDLE_FILE = packagePath('remote-scripts', 'bundle', 'ensure-bundle');
let ensureBundleText: Promise<string> | undefined;

function ensureBundleScript(): Promise<string> {
  ensureBundleText ??= readFile(ENSURE_BUNDLE_FILE, 'utf8').catch((error: unknown) => {
    ensureBundleText = undefined;
    throw new BundlePushError(`cannot read ${ENSURE_BUNDLE_FILE} (is the package complete?): ${(error as Error).message}`);
  });
  return ensureBundleText;
}

export interface BundleRepair {
  /** The first path (in byte order) where the host's copy differs; '.' for the bundle directory itself. */
  file: string;
  /** What differs there, e.g. 'content differs', 'mode 777, expected 755', 'not part of the bundle'. */
  problem: string;
  /** One line for people, naming the host, the bundle hash and the first difference. */
  message: string;
}

export interface BundlePushResult {
  uploaded: boolean;
  /** The bytes sent when it was uploaded (its padded tar, wireTar), else 0. */
  bytes: number;
  /**
   * Set when the host had this hash but its copy was not the bundle (a file edited, added, removed
   * or chmod-ed): that copy was set aside unused and the bundle reinstalled from this machine's bytes.
   */
  repaired?: BundleRepair;
  /** What the command asked to run next in the same session did (pushBundle's `next`). */
  next?: FollowOnResult;
  /**
   * With `next.hold`: the session, still open after `next`'s first line (see uploadThenHold); the
   * caller uses it or closes it.
   */
  held?: ExecChannel;
}

export class BundlePushError extends Error {
  override readonly name = 'BundlePushError';
}

const HASH = /^[0-9a-f]{8,64}$/;
/** Names the listing can carry as one line each, and that sha256sum prints unescaped. */
const UNSAFE_NAME = /[\u0000-\u001f\u007f\\]/;

/**
 * Makes sure the host has the bundle. With `next`, that command then runs in the same session
 * (only once the bundle is in place), for at most `timeoutMs`; what it did is `result.next`.
 * With `next.hold`, `next` prints one line and then waits for more on its stdin: the result
 * comes with that line, and the session is handed on open (`result.held`) when it can take more.
 */
export async function pushBundle(
  connector: Connector,
  layout: RemoteLayout,
  bundle: HelperBundle,
  next?: { argv: Part[]; timeoutMs: number; hold?: boolean },
): Promise<BundlePushResult> {
  if (!HASH.test(bundle.hash)) throw new BundlePushError(`helper bundle hash ${JSON.stringify(bundle.hash)} is not lowercase hex`);
  let want: BundleListing;
  try {
    want = await bundleListing(bundle.bytes);
  } catch (error) {
    throw new BundlePushError(`the helper bundle ${bundle.hash} cannot be read on this machine: ${(error as Error).message}`);
  }
  // What goes on the wire is the bundle's tar (see wireTar), not its .tar.gz.
  const wire = wireTar(bundle.bytes);
  // A held session keeps its stdin past the bundle (for the request its NEXT reads): tar reads the
  // bundle's records and no further, and stdin is not ended after them.
  const hold = next?.hold === true;
  // `exec`: a login shell that would wait for the command (dash, the local connector's /bin/sh)
  // becomes it, so the session's stdout ends when the command's does (a held session's last
  // phase ends its artifacts' stream by closing stdout, then waits for the verdict). `--norc`:
  // bash run with -c by sshd sources ~/.bashrc again (Debian), after the login shell did; a held
  // session must be what a phase's own session is (`exec bash AGENT`: .bashrc once, by the login
  // shell), not a PATH with the user's additions twice. It also spares the host a .bashrc run.
  const text = command([raw('exec'), 'bash', '--norc', '-c', await ensureBundleScript(), 'orchestrate-bundle', layout.root, bundle.hash, want.entries, want.sums, ...(next?.argv ?? [])]);
  const send = async (stdin: Writable) => {
    if (hold) stdin.write(wire);
    else stdin.end(wire);
  };
  const outcome: HeldUpload = next?.hold
    ? await uploadThenHold(connector, text, send, { timeoutMs: next.timeoutMs })
    : await uploadIfNeeded(connector, text, send, next ? { timeoutMs: next.timeoutMs } : undefined);
  if (!outcome.ok) {
    throw new BundlePushError(`${connector.hostName}: could not install the helper bundle ${bundle.hash} (exit ${outcome.exit}): ${outcome.detail}`);
  }
  const { uploaded } = outcome;
  const result: BundlePushResult = {
    uploaded,
    bytes: uploaded ? wire.length : 0,
    ...(outcome.next ? { next: outcome.next } : {}),
    ...(outcome.held ? { held: outcome.held } : {}),
  };
  const found = uploaded ? firstDifference(outcome.detail) : undefined;
  if (found) {
    // The path is the host's word (an added file's name): printable ASCII as it is, anything else quoted.
    const where = found.file === '.' ? 'the bundle directory itself' : /^[\x20-\x7e]+$/.test(found.file) ? found.file : JSON.stringify(found.file);
    result.repaired = {
      ...found,
      message:
        `${connector.hostName}: the cached helper bundle ${bundle.hash} was not the one this machine built ` +
        `(first difference: ${where}: ${found.problem}); it was set aside unused and reinstalled from this machine's copy`,
    };
  }
  return result;
}

/** tar's record: GNU tar reads an archive on stdin in whole records of 20 blocks of 512 bytes. */
export const TAR_RECORD_BYTES = 10240;

/** Per bundle (its bytes): hosts pushed in parallel share one copy. */
const wireTars = new WeakMap<Buffer, Buffer>();

/**
 * The bundle as it travels to a host: its tar (the .tar.gz unzipped here), padded with zeros to a
 * whole number of tar records. The host unpacks it with tar alone, one process instead of three
 * (head to read exactly the bundle, gzip, tar; ~5 ms of host CPU per install): tar reads whole
 * records and stops at the end-of-archive blocks, so it reads exactly these bytes and leaves the
 * rest of stdin to what runs next. 3-4x the bytes of the .tar.gz, on a link the host's CPU, not
 * its bandwidth, limits. The bundle's hash and listing stay those of the .tar.gz; a push
 * reports these bytes, what it sent.
 */
export function wireTar(bytes: Buffer): Buffer {
  let wire = wireTars.get(bytes);
  if (wire === undefined) {
    const tar = gunzipSync(bytes);
    const padded = Math.ceil(tar.length / TAR_RECORD_BYTES) * TAR_RECORD_BYTES;
    wire = padded === tar.length ? tar : Buffer.concat([tar, Buffer.alloc(padded - tar.length)]);
    wireTars.set(bytes, wire);
  }
  return wire;
}

/** What a correct install of a bundle holds, in the forms ensure-bundle checks. */
export interface BundleListing {
  /**
   * `count=<n>`, then `<path> <raw mode in hex>` per entry (`stat -c '%n %f'`): `.` (the bundle
   * directory) first, the others sorted by bytes. The count makes a name with a newline in it (which
   * prints as two lines) a difference even if those lines were forged to match.
   */
  entries: string;
  /** `<sha256>  <path>` per regular file, for `sha256sum -c`. */
  sums: string;
}

/** Per bundle (its bytes): hosts pushed in parallel share one computation. */
const listings = new WeakMap<Buffer, Promise<BundleListing>>();

/**
 * The listing of a correct install of these bytes: the archive's directories and files with their
 * modes (an install runs under umask 022, so tar's modes are the archive's), plus the directory
 * itself and the empty `.complete` marker the install adds (an install from before the check had
 * it too, and passes). Only what build-bundle.ts makes is accepted: directories and regular files,
 * modes 0755 and 0644, plain relative names.
 */
export function bundleListing(bytes: Buffer): Promise<BundleListing> {
  let listing = listings.get(bytes);
  if (listing === undefined) {
    listing = computeListing(bytes);
    listings.set(bytes, listing);
  }
  return listing;
}

async function computeListing(bytes: Buffer): Promise<BundleListing> {
  const entries = new Map<string, { type: 'd' | 'f'; mode: number; sha256?: string }>();
  entries.set('.', { type: 'd', mode: 0o755 });
  entries.set('.complete', { type: 'f', mode: 0o644, sha256: createHash('sha256').digest('hex') });
  const extract = tarExtract();
  extract.end(gunzipSync(bytes));
  for await (const entry of extract) {
    const h = entry.header;
    const name = h.name.replace(/\/+$/, '');
    const mode = (h.mode ?? 0) & 0o7777;
    if (name === '' || name.startsWith('/') || name.split('/').some((s) => s === '' || s === '.' || s === '..') || UNSAFE_NAME.test(name)) {
      throw new Error(`entry ${JSON.stringify(h.name)} is not a plain relative path`);
    }
    if (entries.has(name)) throw new Error(`entry ${name} appears twice`);
    if (h.type === 'directory') {
      if (mode !== 0o755) throw new Error(`directory ${name} has mode ${mode.toString(8)}, not 755`);
      entries.set(name, { type: 'd', mode });
    } else if (h.type === 'file') {
      if (mode !== 0o755 && mode !== 0o644) throw new Error(`file ${name} has mode ${mode.toString(8)}, not 755 or 644`);
      const hash = createHash('sha256');
      for await (const chunk of entry) hash.update(chunk as Uint8Array);
      entries.set(name, { type: 'f', mode, sha256: hash.digest('hex') });
    } else {
      throw new Error(`entry ${name} is a ${h.type ?? 'special entry'}; a bundle holds directories and regular files only`);
    }
  }
  for (const name of entries.keys()) {
    if (name === '.') continue;
    const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '.';
    if (entries.get(parent)?.type !== 'd') throw new Error(`entry ${name} has no directory entry for ${parent}`);
  }
  const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  const names = [...entries.keys()].filter((n) => n !== '.').sort(byBytes);
  const raw = (e: { type: 'd' | 'f'; mode: number }) => ((e.type === 'd' ? S_IFDIR : S_IFREG) | e.mode).toString(16);
  return {
    entries: [`count=${entries.size}`, ...['.', ...names].map((n) => `${n} ${raw(entries.get(n)!)}`)].join('\n'),
    sums: names.flatMap((n) => (entries.get(n)!.sha256 ? [`${entries.get(n)!.sha256}  ${n}`] : [])).join('\n'),
  };
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const TYPES: Record<number, string> = { [S_IFDIR]: 'directory', [S_IFREG]: 'file', 0o120000: 'symlink', 0o010000: 'fifo', 0o140000: 'socket', 0o060000: 'block device', 0o020000: 'character device' };

/** The first difference (in path byte order) among the `orchestrate-bundle:` lines the host printed. */
export function firstDifference(detail: string): { file: string; problem: string } | undefined {
  const seen = new Map<string, { plus?: number; minus?: number; content?: boolean }>();
  let unreadable: string | undefined;
  const count: { plus?: string; minus?: string } = {};
  for (const line of detail.split('\n')) {
    const m = /^orchestrate-bundle: ([-+~!]) (.*)$/.exec(line);
    if (!m) continue;
    const sign = m[1]!;
    const rest = m[2]!;
    if (sign === '!') {
      unreadable ??= rest;
      continue;
    }
    const counted = /^count=(\d+)$/.exec(rest);
    if (counted && sign !== '~') {
      count[sign === '+' ? 'plus' : 'minus'] = counted[1];
      continue;
    }
    const failed = sign === '~' ? /^(.*): FAILED( open or read)?$/.exec(rest) : null;
    const entry = sign !== '~' ? /^(.*) ([0-9a-f]{1,8})$/.exec(rest) : null;
    const file = failed?.[1] ?? entry?.[1];
    if (file === undefined) continue;
    const at = seen.get(file) ?? {};
    if (failed) at.content = true;
    else if (sign === '+') at.plus = parseInt(entry![2]!, 16);
    else at.minus = parseInt(entry![2]!, 16);
    seen.set(file, at);
  }
  if (unreadable !== undefined) return { file: '.', problem: unreadable };
  if (seen.size === 0) {
    // Only the count differs: a name with a newline in it printed as entries of the bundle.
    return count.plus !== undefined ? { file: '.', problem: `${count.plus} entries, expected ${count.minus ?? '?'} (a name with a line break in it?)` } : undefined;
  }
  const [file, at] = [...seen].sort(([a], [b]) => (a === b ? 0 : a === '.' ? -1 : b === '.' ? 1 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))))[0]!;
  const kind = (mode: number) => TYPES[mode & S_IFMT] ?? `type ${(mode & S_IFMT).toString(8)}`;
  const perm = (mode: number) => (mode & 0o7777).toString(8);
  let problem: string;
  if (at.plus !== undefined && at.minus !== undefined) {
    problem = (at.plus & S_IFMT) !== (at.minus & S_IFMT) ? `a ${kind(at.plus)}, expected a ${kind(at.minus)}` : `mode ${perm(at.plus)}, expected ${perm(at.minus)}`;
    if (at.content && (at.plus & S_IFMT) === S_IFREG) problem += '; content differs';
  } else if (at.plus !== undefined) {
    problem = `a ${kind(at.plus)} that is not part of the bundle`;
  } else if (at.minus !== undefined) {
    problem = `missing (a ${kind(at.minus)} of the bundle)`;
  } else {
    problem = 'content differs';
  }
  return { file, problem };
}

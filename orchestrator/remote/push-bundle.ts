// Puts the helper bundle on a host unless that host already has a genuine copy of its content
// hash: one command that answers "present" or "need" and, when needed, unpacks the bundle from its
// stdin into `<hash>.partial.<pid>`, checks it, and renames it into place.
//
// A cached copy is verified every time, never trusted by its name (run-host.ts pushes once per host
// per sweep, before that host's jobs): the host lists the bundle directory (each entry's path, type
// and mode; each regular file's sha256) and compares it with the listing this machine derives from
// the bundle's own bytes, sent in the command. So an edited, added, removed, retyped or chmod-ed
// file is caught, and the host's copy cannot vouch for itself (no manifest on the host that could be
// edited along with the file). A copy that differs is moved aside unused and reinstalled from this
// machine's bytes, and the first difference is reported (BundlePushResult.repaired). A fresh
// install is checked the same way before it is renamed into place.
//
// An install that fails or is interrupted (HUP, INT, TERM, PIPE) removes its partial directory: an
// EXIT trap, which bash also runs on those signals. One killed outright (SIGKILL) leaves it, and the
// next run of this command on that host removes every `*.partial.<pid>` / `*.stale.<pid>` whose PID
// is gone.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { Connector } from '../connectors/types.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import { command, render, type Part } from '../connectors/shell-command.js';
import type { RemoteLayout } from './layout.js';
import { uploadIfNeeded, type FollowOnResult } from './upload-if-needed.js';

/**
 * Run as `bash -c SCRIPT orchestrate-bundle <root> <hash> <entries> <sums> [NEXT...]` (bundleListing()).
 * Protocol (upload-if-needed.ts): "present", or "need" then the bundle on stdin then "installed".
 * NEXT, when given, is a command the script then runs in its place (exec: the same session, the
 * same process) once the bundle is in place, and only then: what it prints follows the protocol
 * lines, and the session's exit status is its own. run-host.ts asks for the provenance verb this
 * way: one SSH session and one shell fewer per host and sweep. (umask 022 carries over to it.)
 * How a cached copy differs goes to stderr: `orchestrate-bundle: + <entry>` (on the host, not in the
 * bundle), `- <entry>` (in the bundle, not on the host), `~ <path>: FAILED...` (content, from
 * sha256sum -c), `! <problem>` (the copy itself: not a directory, could not be listed). Exported for
 * the tests.
 */
// (In this template, ${'${…}'} puts a bash ${…} expansion in verbatim.)
export const ENSURE_BUNDLE_SCRIPT = String.raw`set -euo pipefail
shopt -s nullglob globstar dotglob
# Globs sort by bytes.
LC_ALL=C
umask 022
# then_run SCRIPT-ARGS... : the bundle is in place; run NEXT (arguments 5 on) instead of this
# script, after removing what the EXIT trap would have, or end here without one.
then_run() {
  shift 4
  [ "$#" -gt 0 ] || exit 0
  if [ -e "$t" ] || [ -e "$old" ]; then rm -rf -- "$t" "$old"; fi
  trap - EXIT
  exec "$@"
}
bundles=$1/bundles
b=$bundles/$2
entries=$3
sums=$4
t=$b.partial.$$
old=$b.stale.$$
# bash runs an EXIT trap on a fatal signal too (HUP, INT, TERM, PIPE); only SIGKILL skips it.
# (rm only when there is something to remove: a present bundle costs no process for it.)
trap 'if [ -e "$t" ] || [ -e "$old" ]; then rm -rf -- "$t" "$old"; fi' EXIT

# state DIR : set have to DIR as text, to compare with $entries: "count=<entries>", then "<path>
# <raw mode in hex>" (type and permission bits) for . and each entry below it, sorted by bytes; then
# one more line if a file of the bundle lacks its bytes. False when DIR cannot be listed. No
# subshell (a process on every check of a present bundle): it cd's into DIR and back.
state() {
  have=''
  cd -- "$1" 2>/dev/null || return 1
  names=(. **)
  # (stderr redirected around the substitution, not inside it: inside, it costs bash a fork more)
  if { have="count=${'${#names[@]}'}"$'\n'"$(stat -c '%n %f' -- "${'${names[@]}'}")"; } 2>/dev/null; then
    sha256sum --quiet --strict -c - <<<"$sums" >/dev/null 2>&1 || have+=$'\n''contents differ'
    cd -- "$OLDPWD"
  else
    cd -- "$OLDPWD"
    return 1
  fi
}

# How a cached copy ($1, its state $2) differs, for the warning; at most 20 lines of each kind.
differences() {
  { grep -Fxv -f <(printf '%s\n' "$entries") <<<"$2" || true; } | head -n 20 | sed 's/^/orchestrate-bundle: + /' || true
  { grep -Fxv -f <(printf '%s\n' "$2") <<<"$entries" || true; } | head -n 20 | sed 's/^/orchestrate-bundle: - /' || true
  { cd -- "$1" && sha256sum --quiet -c - <<<"$sums" 2>/dev/null || true; } | head -n 20 | sed 's/^/orchestrate-bundle: ~ /' || true
}

# Partial or set-aside copies of installs that died (their PID is gone): removed.
for p in "$bundles"/*.partial.* "$bundles"/*.stale.*; do
  pid=${'${p##*.}'}
  case $pid in '' | *[!0-9]*) continue ;; esac
  if [ "$pid" = "$$" ] || ! { [ -d "/proc/$pid" ] || kill -0 "$pid" 2>/dev/null; }; then rm -rf -- "$p"; fi
done

if [ -e "$b" ] || [ -L "$b" ]; then
  if [ -L "$b" ] || [ ! -d "$b" ]; then
    echo "orchestrate-bundle: ! not a directory" >&2
  elif state "$b"; then
    if [ "$have" = "$entries" ]; then
      echo present
      then_run "$@"
    fi
    (differences "$b" "$have") >&2
  else
    echo "orchestrate-bundle: ! could not be listed" >&2
  fi
  # Never used again: out of the way now, removed by the EXIT trap whatever happens next.
  mv -T -- "$b" "$old"
fi

echo need
# One process for the bundles directory, this install's own (no *.partial.$$ is left: the loop
# above removed it) and the host-wide cache beside them, which the agent would make next.
mkdir -p -- "$t" "$1/cache"
gzip -dc | tar -xf - -C "$t"
: >"$t/.complete"
if ! state "$t" || [ "$have" != "$entries" ]; then
  echo "orchestrate-bundle: the unpacked bundle does not match this machine's listing of it" >&2
  exit 1
fi
# Another installer may have won the race: its copy will do if it is genuine.
mv -T -- "$t" "$b" 2>/dev/null || { state "$b" && [ "$have" = "$entries" ]; }
echo installed
then_run "$@"`;

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
  bytes: number;
  /**
   * Set when the host had this hash but its copy was not the bundle (a file edited, added, removed
   * or chmod-ed): that copy was set aside unused and the bundle reinstalled from this machine's bytes.
   */
  repaired?: BundleRepair;
  /** What the command asked to run next in the same session did (pushBundle's `next`). */
  next?: FollowOnResult;
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
 */
export async function pushBundle(connector: Connector, layout: RemoteLayout, bundle: HelperBundle, next?: { argv: Part[]; timeoutMs: number }): Promise<BundlePushResult> {
  if (!HASH.test(bundle.hash)) throw new BundlePushError(`helper bundle hash ${JSON.stringify(bundle.hash)} is not lowercase hex`);
  let want: BundleListing;
  try {
    want = await bundleListing(bundle.bytes);
  } catch (error) {
    throw new BundlePushError(`the helper bundle ${bundle.hash} cannot be read on this machine: ${(error as Error).message}`);
  }
  const text = render(command(['bash', '-c', ENSURE_BUNDLE_SCRIPT, 'orchestrate-bundle', layout.root, bundle.hash, want.entries, want.sums, ...(next?.argv ?? [])]));
  const outcome = await uploadIfNeeded(
    connector,
    text,
    async (stdin) => {
      stdin.end(bundle.bytes);
    },
    next ? { timeoutMs: next.timeoutMs } : undefined,
  );
  if (!outcome.ok) {
    throw new BundlePushError(`${connector.hostName}: could not install the helper bundle ${bundle.hash} (exit ${outcome.exit}): ${outcome.detail}`);
  }
  const { uploaded } = outcome;
  const result: BundlePushResult = { uploaded, bytes: uploaded ? bundle.bytes.length : 0, ...(outcome.next ? { next: outcome.next } : {}) };
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

/** What a correct install of a bundle holds, in the forms ENSURE_BUNDLE_SCRIPT checks. */
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

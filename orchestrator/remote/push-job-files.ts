// Files a job needs from the orchestrator's machine (a build's .deb files, a profile's agent
// configuration), put on a host once per content hash, like the helper bundle: each file goes to
// <remote_dir>/files/<sha256>/<name>. One command per file answers "present" or "need"; when needed,
// the file is streamed from disk (never held whole in memory) into a hidden temp file beside its
// final name, its sha256 is checked on the host, and only then is it renamed into place. A host that
// already has the content gets nothing, in this sweep or any later one. Content unused for
// JOB_FILE_KEEP_DAYS days is removed from the host by the next push.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Connector } from '../connectors/types.js';
import { command, render } from '../connectors/shell-command.js';
import type { RemoteLayout } from './layout.js';
import { uploadIfNeeded } from './upload-if-needed.js';

import type { JobFile } from '../scenarios/types.js';

export type { JobFile } from '../scenarios/types.js';

export interface PushedJobFile extends JobFile {
  sha256: string;
  bytes: number;
  /** Path on the host (under the host's remote_dir). */
  remote: string;
  /** Whether this push sent it (false: the host had that content already). */
  uploaded: boolean;
}

export class JobFileError extends Error {
  override readonly name = 'JobFileError';
}

const NAME = /^[A-Za-z0-9._+~-]+$/;
const LABEL = /^[^\t\n\r]+$/;

/** Days a pushed file stays on a host after its last use (nightly builds would pile up otherwise). */
export const JOB_FILE_KEEP_DAYS = 30;

const ENSURE_FILE_SCRIPT = `set -eu
d="$1/files/$2"
f="$d/$3"
# the directory's mtime is the content's last use; unused for KEEP days: removed
find "$1/files" -mindepth 1 -maxdepth 1 -type d -mtime +$4 ! -path "$d" -exec rm -rf {} + 2>/dev/null || true
if [ -f "$f" ]; then touch "$d"; echo present; exit 0; fi
echo need
mkdir -p "$d"
t="$d/.$3.partial.$$"
trap 'rm -f "$t"' EXIT
cat > "$t"
s=$(sha256sum "$t" | cut -d' ' -f1)
if [ "$s" != "$2" ]; then echo "the bytes received have sha256 $s, not $2: the file changed after it was hashed, or in transit" >&2; exit 1; fi
mv -f "$t" "$f"
trap - EXIT
echo installed`;

interface HashEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** sha256 per local file (keyed by path, size, mtime, inode): a sweep hashes each file once. */
const hashes = new Map<string, HashEntry>();

/** sha256 of a local file, streamed. */
export async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const st = await stat(path);
  if (!st.isFile()) throw new JobFileError(`${path} is not a regular file`);
  const known = hashes.get(path);
  if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino) return { sha256: known.sha256, bytes: st.size };
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  const sha256 = hash.digest('hex');
  hashes.set(path, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 });
  return { sha256, bytes: st.size };
}

async function pushOne(connector: Connector, layout: RemoteLayout, file: JobFile): Promise<PushedJobFile> {
  if (!LABEL.test(file.label)) throw new JobFileError(`${file.local}: bad label ${JSON.stringify(file.label)}`);
  let digest: { sha256: string; bytes: number };
  try {
    digest = await fileSha256(file.local);
  } catch (error) {
    if (error instanceof JobFileError) throw error;
    throw new JobFileError(`cannot read ${file.local}: ${(error as Error).message}`);
  }
  const { remote, uploaded } = await putFile(connector, layout, file.local, digest.sha256);
  return { ...file, sha256: digest.sha256, bytes: digest.bytes, remote, uploaded };
}

/**
 * Put one local file on the host as files/<sha256>/<its name> unless it is there already. The host
 * checks the bytes it received against `sha256` before the rename: a file that changed after it was
 * hashed is refused and nothing is left under its final name.
 */
export async function putFile(connector: Connector, layout: RemoteLayout, local: string, sha256: string): Promise<{ remote: string; uploaded: boolean }> {
  const name = basename(local);
  if (!NAME.test(name)) throw new JobFileError(`${local}: a job file's name may only hold letters, digits and . _ + ~ -`);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new JobFileError(`${local}: bad sha256 ${sha256}`);
  const text = command(['sh', '-c', ENSURE_FILE_SCRIPT, 'orchestrate-job-file', layout.root, sha256, name, JOB_FILE_KEEP_DAYS]);
  // Streamed with backpressure; stdin ends with the file.
  const outcome = await uploadIfNeeded(connector, text, (stdin) =>
    pipeline(createReadStream(local), stdin).catch((error: Error) => {
      throw new Error(`reading ${local}: ${error.message}`);
    }),
  );
  if (!outcome.ok) {
    throw new JobFileError(`${connector.hostName}: could not put ${local} (${sha256.slice(0, 12)}) on the host (exit ${outcome.exit}): ${outcome.detail}`);
  }
  const { uploaded } = outcome;
  return { remote: layout.jobFile(sha256, name), uploaded };
}

/** Put every file on the host (one after another: they share the host's link). */
export async function pushJobFiles(connector: Connector, layout: RemoteLayout, files: JobFile[]): Promise<PushedJobFile[]> {
  const out: PushedJobFile[] = [];
  for (const file of files) out.push(await pushOne(connector, layout, file));
  return out;
}

/** What the helpers get in ORCH_JOB_FILES: one "label<TAB>remote path" line per file. */
export function jobFilesEnv(files: PushedJobFile[]): string {
  return files.map((f) => `${f.label}\t${f.remote}`).join('\n');
}

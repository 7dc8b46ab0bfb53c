// The drop-off way, for a reports server that picks up archives: a sweep directory travels as
// one streamed tar.gz into an incoming directory on the reports host, where
// remote-scripts/publish/lib/drop-off.sh checks it whole and only then names it <sweepId>.tar.gz
// and marks it done (<sweepId>.tar.gz.done). A server that takes an archive only once its .done
// exists never sees a partial one.
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { Inventory } from '../inventory/types.js';
import { PublishError, remoteRoot, runScript, withReportsHost } from './reports-host.js';
import { hostCommand } from './host-calls.js';

type EntryHeader = Parameters<ReturnType<typeof tar.pack>['entry']>[0];

export interface DropOffResult {
  sweepId: string;
  /** Remote path of the archive (relative paths are from the login directory). */
  archive: string;
  marker: string;
  files: number;
  /** Uncompressed content bytes. */
  bytes: number;
  /** Size of the archive. */
  archiveBytes: number;
}

const SWEEP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

async function archiveStream(sweepDir: string, top: string, counts: { files: number; bytes: number }): Promise<Readable> {
  const pack = tar.pack();
  const out = new PassThrough();
  pipeline(pack, createGzip({ level: 6 }), out).catch((error: unknown) => out.destroy(error as Error));
  const entry = (header: EntryHeader, body?: Readable) =>
    new Promise<void>((resolvePromise, reject) => {
      const done = (error?: Error | null) => (error ? reject(error) : resolvePromise());
      if (!body || !header.size) {
        body?.destroy();
        if (header.type === 'file') pack.entry(header, '', done);
        else pack.entry(header, done);
      } else {
        pipeline(body, pack.entry(header, done)).catch(reject);
      }
    });
  const walk = async (abs: string, rel: string): Promise<void> => {
    const st = await lstat(abs);
    const name = rel === '' ? top : `${top}/${rel}`;
    if (st.isDirectory()) {
      await entry({ name, type: 'directory', mode: st.mode & 0o755, mtime: st.mtime });
      for (const child of (await readdir(abs)).sort()) await walk(join(abs, child), rel === '' ? child : `${rel}/${child}`);
    } else if (st.isFile()) {
      counts.files++;
      counts.bytes += st.size;
      await entry({ name, type: 'file', size: st.size, mode: st.mode & 0o755, mtime: st.mtime }, createReadStream(abs));
    } else if (st.isSymbolicLink()) {
      await entry({ name, type: 'symlink', linkname: await readlink(abs), mode: 0o777, mtime: st.mtime });
    }
    // sockets, fifos and devices are not results: left out
  };
  (async () => {
    await walk(sweepDir, '');
    pack.finalize();
  })().catch((error: unknown) => pack.destroy(error as Error));
  return out;
}

export async function dropOffSweep(options: {
  inventory: Inventory;
  sweepDir: string;
  /** Incoming directory on the reports host (absolute, or relative to the login directory). */
  incomingPath: string;
  /** Default: the sweep directory's name. */
  sweepId?: string;
  acceptNewHostKeys?: boolean;
  signal?: AbortSignal;
}): Promise<DropOffResult> {
  const sweepDir = resolve(options.sweepDir);
  const sweepId = options.sweepId ?? basename(sweepDir);
  if (!SWEEP_ID.test(sweepId)) throw new PublishError(`${JSON.stringify(sweepId)} cannot name an archive (letters, digits, . _ - only)`);
  if (options.incomingPath === '') throw new PublishError('incomingPath is empty');
  const st = await lstat(sweepDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new PublishError(`${sweepDir} is not a directory`);
  return withReportsHost(options.inventory, options, async (reports) => {
    const counts = { files: 0, bytes: 0 };
    const result = await runScript(reports.connector, await hostCommand('dropOff', [remoteRoot(options.incomingPath), sweepId]), {
      input: await archiveStream(sweepDir, sweepId, counts),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const dropped = /^dropped (\d+)\s*$/m.exec(result.stdout);
    if (result.exitCode !== 0 || !dropped) {
      throw new PublishError(`${reports.host.name}: drop-off of ${sweepId} failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim() || result.stdout.trim()}`);
    }
    const dir = options.incomingPath.replace(/\/+$/, '');
    return { sweepId, archive: `${dir}/${sweepId}.tar.gz`, marker: `${dir}/${sweepId}.tar.gz.done`, files: counts.files, bytes: counts.bytes, archiveBytes: Number(dropped[1]) };
  });
}

// What a publish sends on the session's stdin (remote-scripts/publish/lib/releases.sh,
// releases_publish): one header line, then a tar (gzip'ed when that saves enough) of
// meta/remove, files/<path>..., the new index or its delta, and meta/complete. Every file is sent
// exactly as it was hashed: a file that changed since the scan fails the upload.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, deflateRawSync } from 'node:zlib';
import tar from 'tar-stream';
import { PublishError } from './reports-host.js';
import { INDEX_FILE, type LocalFile } from './site-index.js';

export interface UploadPlan {
  releaseId: string;
  upload: LocalFile[];
  remove: string[];
  base: 'link' | 'empty';
  index: { mode: 'full'; text: string } | { mode: 'delta'; head: string; add: string[]; drop: string[] };
  indexSha256: string;
  compress: boolean;
}

/** The 64 KiB samples of large files and whole small files deflate (level 1) to estimate what gzip saves. */
export async function worthCompressing(upload: LocalFile[]): Promise<boolean> {
  const total = upload.reduce((n, f) => n + f.size, 0);
  // Small uploads: mostly tar headers and padding, which gzip all but removes, at no real cost.
  if (total < 1 << 20) return true;
  const SAMPLE = 64 * 1024;
  const bySize = [...upload].sort((a, b) => b.size - a.size);
  // The 32 largest files, and up to 96 others spread over the rest.
  const rest = bySize.slice(32);
  const stride = Math.max(1, Math.floor(rest.length / 96));
  const sampled = [...bySize.slice(0, 32), ...rest.filter((_, i) => i % stride === 0).slice(0, 96)];
  const big = { bytes: 0, saved: 0 };
  const others = { bytes: 0, saved: 0 };
  for (const [i, f] of sampled.entries()) {
    if (f.size === 0) continue;
    const buf = Buffer.alloc(Math.min(f.size, SAMPLE));
    const fh = await open(f.abs, 'r');
    let got = 0;
    try {
      got = (await fh.read(buf, 0, buf.length, 0)).bytesRead;
    } finally {
      await fh.close();
    }
    if (got === 0) continue;
    const ratio = deflateRawSync(buf.subarray(0, got), { level: 1 }).length / got;
    const group = i < 32 ? big : others;
    group.bytes += f.size;
    group.saved += f.size * (1 - ratio);
  }
  const saved = big.saved + (others.bytes > 0 ? ((total - big.bytes) * others.saved) / others.bytes : 0);
  return saved >= total * 0.1;
}

/**
 * Joins small chunks into ~64 KiB ones: tar-stream emits a 512-byte header and a small body per
 * file, and every chunk costs gzip a thread-pool round trip (and the channel a write).
 */
function coalesce(size = 64 * 1024): Transform {
  let parts: Buffer[] = [];
  let length = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      length += chunk.length;
      if (length < size) return done();
      const out = Buffer.concat(parts, length);
      parts = [];
      length = 0;
      done(null, out);
    },
    flush(done) {
      done(null, length > 0 ? Buffer.concat(parts, length) : undefined);
    },
  });
}

type Pack = ReturnType<typeof tar.pack>;
type Header = Parameters<Pack['entry']>[0];

function addEntry(pack: Pack, header: Header, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => pack.entry(header, data, (error) => (error ? reject(error) : resolve())));
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A large file, streamed into the tar and hashed on the way: what travelled must be what was scanned. */
async function addStreamed(pack: Pack, header: Header, f: LocalFile): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const entry = pack.entry(header, (error) => (error ? reject(error) : resolve()));
    const source = createReadStream(f.abs);
    source.on('data', (chunk) => hash.update(chunk as Buffer));
    pipeline(source, entry).catch(reject);
  });
  return hash.digest('hex');
}

/** Files up to this size are read whole, a few ahead of the one being packed; larger ones are streamed. */
const SMALL = 1 << 20;
/**
 * Read-ahead: one read at a time leaves the thread pool idle between files (thousands of small
 * files take seconds).
 */
const AHEAD = 16;

/** The header line, then (gzip'ed) tar(meta/remove, files/..., the index or its delta, meta/complete). */
export function uploadStream(plan: UploadPlan): Readable {
  const pack = tar.pack();
  const meta = (name: string, data: string) => addEntry(pack, { name, mode: 0o644, mtime: new Date() }, data);
  const reads = new Map<number, Promise<Buffer>>();
  const prefetch = (i: number) => {
    const f = plan.upload[i];
    if (!f || f.size > SMALL || reads.has(i)) return;
    const read = readFile(f.abs);
    read.catch(() => undefined);
    reads.set(i, read);
  };
  const packFiles = async () => {
    await meta('meta/remove', plan.remove.map((p) => `${p}\0`).join(''));
    for (const [i, f] of plan.upload.entries()) {
      const header: Header = { name: `files/${f.path}`, size: f.size, mode: f.mode, mtime: f.mtime, type: 'file' };
      let sent: string;
      if (f.size <= SMALL) {
        for (let j = i; j < i + AHEAD; j++) prefetch(j);
        const data = await reads.get(i)!;
        reads.delete(i);
        sent = data.length === f.size ? sha256(data) : '';
        // Checked before it is sent: a file that changed does not reach the host.
        if (sent === f.sha256) await addEntry(pack, header, data);
      } else {
        // A size change fails inside tar-stream; same size, other bytes fails the hash.
        sent = await addStreamed(pack, header, f).catch(() => '');
      }
      if (sent !== f.sha256) throw new PublishError(`${f.abs} changed while it was being published; publish again`);
    }
    if (plan.index.mode === 'full') await meta(`files/${INDEX_FILE}`, plan.index.text);
    else {
      const lines = (list: string[]) => (list.length > 0 ? `${list.join('\n')}\n` : '');
      await meta('meta/index.head', `${plan.index.head}\n`);
      await meta('meta/index.add', lines(plan.index.add));
      await meta('meta/index.drop', lines(plan.index.drop));
    }
    await meta('meta/complete', plan.releaseId);
    pack.finalize();
  };
  packFiles().catch((error: unknown) => pack.destroy(error as Error));
  const out = new PassThrough();
  out.write(`${plan.base} ${plan.compress ? 'gz' : 'tar'} ${plan.index.mode} ${plan.indexSha256}\n`);
  (plan.compress ? pipeline(pack, coalesce(), createGzip({ level: 6 }), out) : pipeline(pack, coalesce(), out)).catch((error: unknown) => out.destroy(error as Error));
  return out;
}

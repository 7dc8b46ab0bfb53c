// Reading a small text file a host sent back (a QASET control file, list.failed): it must be a
// regular file, not a symlink (a link planted by the host must not make us read our own files),
// and no larger than a limit. Absent is null; anything else wrong is a HostTextError naming it.
// This reads host text safely; it does not make it safe to show. What it returns is the host's
// raw text: anything of it that reaches a terminal or a log line goes through ../inert-text.ts
// (hostText/inertText), the one place that makes host text inert.
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';

export class HostTextError extends Error {
  override readonly name = 'HostTextError';
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
  }
}

export async function readHostText(path: string, maxBytes = 1024 * 1024): Promise<string | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new HostTextError(path, 'is a symbolic link, not read');
    throw new HostTextError(path, `cannot be read (${code ?? (err as Error).message})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new HostTextError(path, 'is not a regular file, not read');
    if (st.size > maxBytes) throw new HostTextError(path, `is ${st.size} bytes, more than the ${maxBytes}-byte limit`);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > maxBytes) throw new HostTextError(path, `grew past the ${maxBytes}-byte limit while read`);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

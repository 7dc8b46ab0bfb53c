// Every file the store writes goes through here: written to a temp file beside the
// target, fsynced, then renamed over it, so a crash never leaves a half-written file.
import writeFileAtomic from 'write-file-atomic';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileAtomically(path: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, data, { fsync: true });
}

export async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify(value, null, 2)}\n`);
}

// Generated site trees for the publish tests and the bench: deterministic content from a seed.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Deterministic pseudo-random bytes (incompressible, so gzip cannot hide the size). */
export function noise(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}

export async function put(root: string, rel: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), data);
}

/** A site like the report site: index pages, per-sweep pages and JSON data, a couple of big files. */
export async function makeSite(root: string, options: { small?: number; big?: number[]; tag?: string } = {}): Promise<string[]> {
  const small = options.small ?? 300;
  const tag = options.tag ?? 'v1';
  const files: string[] = [];
  await put(root, 'index.html', `<html><body><h1>fleet report ${tag}</h1></body></html>\n`);
  files.push('index.html');
  for (let i = 0; i < small; i++) {
    const rel = i % 3 === 0 ? `sweeps/s${String(i).padStart(4, '0')}/index.html` : i % 3 === 1 ? `data/d${i}.json` : `assets/a${i % 17}/f${i}.txt`;
    await put(root, rel, `${rel} ${'x'.repeat(100 + (i % 50))}\n`);
    files.push(rel);
  }
  for (const [k, size] of (options.big ?? [2 << 20, 5 << 20]).entries()) {
    const rel = `assets/big-${k}.bin`;
    await put(root, rel, noise(size, `${rel}-${tag}`));
    files.push(rel);
  }
  return files;
}

// A small real filesystem for disk-full and read-only cases: a tmpfs mounted on a temp
// directory (the tests run as root, here and in CI). Unmount in a finally/after.
import { execFileSync } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

export function mountTmpfs(dir: string, bytes: number): void {
  if (process.getuid?.() !== 0) throw new Error('mounting a tmpfs needs root (the tests run as root here and in CI)');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'tmpfs', dir]);
}

/** The tmpfs mounts of one test file: `mount` makes and mounts `<parent>/<name>`, `unmountAll` undoes them. */
export class TmpfsMounts {
  private readonly mounted: string[] = [];

  async mount(parent: string, name: string, bytes: number): Promise<string> {
    const dir = join(parent, name);
    await mkdir(dir);
    mountTmpfs(dir, bytes);
    this.mounted.push(dir);
    return dir;
  }

  unmountAll(): void {
    for (const dir of this.mounted.splice(0)) unmount(dir);
  }
}


export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    // not mounted (a test that failed before mounting)
  }
}

/** Writes a file until the filesystem is full (the write that ends it fails with ENOSPC). */
export async function fillUp(dir: string, name = 'filler'): Promise<string> {
  const path = join(dir, name);
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  try {
    for (;;) {
      try {
        await handle.write(chunk);
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOSPC') break;
        throw error;
      }
    }
    // the last pages, smaller than a chunk
    for (let size = 4096; ; ) {
      try {
        await handle.write(chunk.subarray(0, size));
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOSPC') throw error;
        if (size === 1) break;
        size = Math.max(1, size >> 1);
      }
    }
  } finally {
    await handle.close();
  }
  return path;
}

// results/atomic-write.ts on a real filesystem: whole files or nothing, in both modes (durable,
// the store's; not durable, the report site's), the directory made only when missing, later
// writes to one path landing after earlier ones, no temp file left by a success or a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from '../../orchestrator/results/atomic-write.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-write-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

for (const durable of [true, false]) {
  test(`durable ${durable}: a write into directories that do not exist yet makes them and leaves only the file`, () =>
    withDir(async (dir) => {
      const path = join(dir, 'a', 'b', 'page.html');
      await writeFileAtomically(path, '<p>one</p>', { durable });
      assert.is(await readFile(path, 'utf8'), '<p>one</p>');
      assert.equal(await readdir(join(dir, 'a', 'b')), ['page.html'], 'no temp file left');
    }));

  test(`durable ${durable}: writes to one path land in the order they were made`, () =>
    withDir(async (dir) => {
      const path = join(dir, 'x.json');
      await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomically(path, String(i), { durable })));
      assert.is(await readFile(path, 'utf8'), '19');
      assert.equal(await readdir(dir), ['x.json']);
    }));

  test(`durable ${durable}: a failed write rejects, leaves other files alone and no temp file`, () =>
    withDir(async (dir) => {
      await writeFile(join(dir, 'not-a-dir'), 'file');
      try {
        await writeFileAtomically(join(dir, 'not-a-dir', 'page.html'), 'x', { durable });
        assert.unreachable('a path under a regular file cannot be written');
      } catch (error) {
        assert.is((error as NodeJS.ErrnoException).code, 'ENOTDIR');
      }
      // a target that is a directory: the rename fails after the temp file was written
      await writeFile(join(dir, 'keep.txt'), 'old');
      const target = join(dir, 'dir-target');
      await writeFileAtomically(join(target, 'inner'), 'inside', { durable });
      try {
        await writeFileAtomically(target, 'x', { durable });
        assert.unreachable('a directory cannot be replaced by a file');
      } catch (error) {
        assert.ok(['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? ''), String(error));
      }
      assert.equal((await readdir(dir)).sort(), ['dir-target', 'keep.txt', 'not-a-dir']);
      assert.is(await readFile(join(dir, 'keep.txt'), 'utf8'), 'old');
    }));
}

test.run();

// results/atomic-write.ts on a real filesystem: whole files or nothing, in both modes (durable,
// the store's; not durable, the report site's), the directory made only when missing, later
// writes to one path landing after earlier ones, no temp file left by a success or a failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { commitStagedSync, stageFileSync, tempPath, writeFileAtomically } from '../../orchestrator/results/atomic-write.js';

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

test('temp names are unique without randomness: pid, thread and a counter, as a dot file beside the target', () => {
  const names = Array.from({ length: 1000 }, () => tempPath('/site/jobs/a.html'));
  assert.is(new Set(names).size, names.length);
  for (const name of names) assert.match(name, new RegExp(`^/site/jobs/\\.a\\.html\\.${process.pid}\\.${threadId}\\.[0-9a-z]+\\.tmp$`));
});

test('a temp file left under the next name (a dead process with the same pid) is skipped, never written into', () =>
  withDir(async (dir) => {
    const path = join(dir, 'page.html');
    // the counter's next value, as the next write will take it
    const taken = tempPath(path).replace(/\.([0-9a-z]+)\.tmp$/, (_, n: string) => `.${(parseInt(n, 36) + 1).toString(36)}.tmp`);
    await writeFile(taken, 'a dead writer\'s temp');
    await writeFileAtomically(path, 'mine', { durable: false });
    assert.is(await readFile(path, 'utf8'), 'mine');
    assert.is(await readFile(taken, 'utf8'), 'a dead writer\'s temp', 'the left temp file is untouched');
    const staged = stageFileSync(path, 'staged');
    assert.is.not(staged.temp, taken);
    commitStagedSync([staged]);
    assert.is(await readFile(path, 'utf8'), 'staged');
  }));

test('staged files are renamed into place in order; one that cannot be renamed leaves the rest unrenamed and no temp file', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, 'b.txt'), 'old b');
    const a = stageFileSync(join(dir, 'sub', 'a.txt'), 'new a');
    const blocked = stageFileSync(join(dir, 'dir-target'), 'x');
    const b = stageFileSync(join(dir, 'b.txt'), 'new b');
    await writeFileAtomically(join(dir, 'dir-target', 'inner'), 'inside');
    try {
      commitStagedSync([a, blocked, b]);
      assert.unreachable('a directory cannot be replaced by a file');
    } catch (error) {
      assert.ok(['EISDIR', 'ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? ''), String(error));
    }
    assert.is(await readFile(join(dir, 'sub', 'a.txt'), 'utf8'), 'new a');
    assert.is(await readFile(join(dir, 'b.txt'), 'utf8'), 'old b');
    assert.equal((await readdir(dir)).sort(), ['b.txt', 'dir-target', 'sub']);
    assert.equal(await readdir(join(dir, 'sub')), ['a.txt']);
  }));

test.run();

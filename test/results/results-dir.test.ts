// The results directory check that runs before a sweep connects to anything: each way a
// directory can be unusable gives its own message naming the path (real filesystems: a
// read-only tmpfs stops root, as chmod does not).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkResultsDir, MIN_FREE_BYTES, ResultsDirError } from '../../orchestrator/results/results-dir.js';
import { remountReadOnly, TmpfsMounts } from './tmpfs.js';

const check = suite('checkResultsDir');
let work: string;
const mounts = new TmpfsMounts();
check.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'results-dir-'));
});
check.after.each(async () => {
  mounts.unmountAll();
  await rm(work, { recursive: true, force: true });
});

async function problem(dir: string, minFree?: number): Promise<string> {
  const error = await checkResultsDir(dir, minFree).then(() => undefined, (e: unknown) => e);
  assert.instance(error, ResultsDirError, String(error));
  return (error as ResultsDirError).message;
}


check('a missing directory is created with sweeps/ and locks/, and no probe file is left', async () => {
  const dir = join(work, 'a', 'b', 'results');
  await checkResultsDir(dir);
  assert.equal((await readdir(dir)).sort(), ['locks', 'sweeps']);
  assert.equal(await readdir(join(dir, 'sweeps')), []);
});

check('a regular file where the directory should be', async () => {
  const file = join(work, 'results');
  await writeFile(file, 'not a directory\n');
  assert.is(await problem(file), `results directory ${file} is a regular file, not a directory`);
  assert.is(await problem(join(file, 'sub')), `results directory ${file}/sub cannot be created: ${file} is a regular file, not a directory`);
  await symlink(join(work, 'nowhere'), join(work, 'dangling'));
  assert.is(await problem(join(work, 'dangling')), `results directory ${work}/dangling is a dangling symlink, not a directory`);
});

check('sweeps/ that is a file', async () => {
  const dir = join(work, 'results');
  await mkdir(dir);
  await writeFile(join(dir, 'sweeps'), '');
  assert.is(await problem(dir), `results directory ${dir} has sweeps, which is a regular file, not a directory`);
});

check('a read-only filesystem, with or without sweeps/ already there (root is stopped too)', async () => {
  const fresh = await mounts.mount(work, 'ro-fresh', 8 * 1024 ** 2);
  remountReadOnly(fresh);
  assert.is(await problem(fresh), `results directory ${fresh} is on a read-only filesystem (cannot create sweeps/ in it)`);
  assert.is(await problem(join(fresh, 'results')), `results directory ${fresh}/results cannot be created: its parent is on a read-only filesystem`);

  const used = await mounts.mount(work, 'ro-used', 8 * 1024 ** 2);
  await mkdir(join(used, 'sweeps'));
  await mkdir(join(used, 'locks'));
  remountReadOnly(used);
  assert.is(await problem(used), `results directory ${used} is on a read-only filesystem`);
});

check('less free space than the floor (64 MiB by default)', async () => {
  assert.is(MIN_FREE_BYTES, 64 * 1024 ** 2);
  const small = await mounts.mount(work, 'small', 8 * 1024 ** 2);
  assert.match(await problem(small), new RegExp(`^results directory ${small} has only 8\\.0 MiB free; a sweep needs at least 64\\.0 MiB `));
  await checkResultsDir(small, 4 * 1024 ** 2);
});

check('a full disk fails the probe write', async () => {
  const full = await mounts.mount(work, 'full', 1024 ** 2);
  await mkdir(join(full, 'sweeps'));
  await mkdir(join(full, 'locks'));
  await writeFile(join(full, 'filler'), Buffer.alloc(1024 ** 2));
  assert.is(await problem(full, 0), `results directory ${full} is full (no space left on device)`);
});

check.run();

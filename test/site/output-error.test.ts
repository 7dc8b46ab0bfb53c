// site/output-error.ts: a site that cannot be written is named by the file a person knows (never a
// temp name), only for paths inside the site's directory, and an output directory that is not a
// writable directory is refused before anything is drawn.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { targetOfTemp, tempPath } from '../../orchestrator/results/atomic-write.js';
import { checkOutputDir, siteOutputError, SiteOutputError } from '../../orchestrator/site/output-error.js';

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, open '${path}'`), { code, path });
}

test('a temp name of an atomic write stands for its file; any other name for itself', () => {
  for (const target of ['/site/jobs/s/j/phases.json', '/site/.site-build.json', '/site/a.b.c.html']) assert.is(targetOfTemp(tempPath(target)), target);
  assert.is(targetOfTemp('/site/index.html'), '/site/index.html');
  assert.is(targetOfTemp('/site/.hidden'), '/site/.hidden');
});

test('a system error about a path inside the site is an output error, named by its file; outside it or without a path it is not', () => {
  const inside = siteOutputError(errno('ENOSPC', tempPath('/srv/site/trends/a--b/m.json')), '/srv/site');
  assert.instance(inside, SiteOutputError);
  assert.is(inside!.path, '/srv/site/trends/a--b/m.json');
  assert.is(inside!.code, 'ENOSPC');
  assert.is(inside!.message, 'cannot write /srv/site/trends/a--b/m.json: no space is left on the device (ENOSPC)');
  assert.is(siteOutputError(errno('ENOTDIR', '/srv/site'), '/srv/site')?.path, '/srv/site');
  // the store being unreadable, a sibling directory whose name starts alike, a bug: not output errors
  assert.is(siteOutputError(errno('EACCES', '/srv/results/sweeps/x/sweep.json'), '/srv/site'), undefined);
  assert.is(siteOutputError(errno('EACCES', '/srv/site-old/index.html'), '/srv/site'), undefined);
  assert.is(siteOutputError(new TypeError('x is undefined'), '/srv/site'), undefined);
  assert.is(siteOutputError(Object.assign(new Error('worker'), { code: 'ERR_WORKER_OUT_OF_MEMORY', path: '/srv/site/x' }), '/srv/site'), undefined);
  // as a render worker passes it on: code and path copied onto its error
  const fromWorker = Object.assign(new Error('rendering a page failed in a render worker: ...'), { code: 'EROFS', path: '/srv/site/jobs/s/j.html' });
  assert.is(siteOutputError(fromWorker, '/srv/site')?.message, 'cannot write /srv/site/jobs/s/j.html: the file system is read-only (EROFS)');
  assert.is(siteOutputError(undefined, '/srv/site'), undefined);
});

test('checkOutputDir makes a missing directory, and refuses a file or a path under a file without touching it', async () => {
  const work = await mkdtemp(join(tmpdir(), 'output-error-'));
  try {
    const fresh = join(work, 'a', 'b', 'site');
    await checkOutputDir(fresh);
    assert.ok((await stat(fresh)).isDirectory());
    await checkOutputDir(fresh); // again: still fine
    const file = join(work, 'a-file');
    await writeFile(file, 'keep me');
    for (const [dir, reason] of [
      [file, 'it is a file, not a directory'],
      [join(file, 'site'), 'a part of its path is a file, not a directory'],
    ] as const) {
      try {
        await checkOutputDir(dir);
        assert.unreachable(`${dir} was taken`);
      } catch (error) {
        assert.instance(error, SiteOutputError);
        assert.is((error as SiteOutputError).message, `cannot write ${dir}: ${reason} (ENOTDIR)`);
      }
    }
    assert.is(await readFile(file, 'utf8'), 'keep me');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('checkOutputDir on a read-only mount says read-only (EROFS) for the mount itself and for a directory to be made under it', async () => {
  const work = await mkdtemp(join(tmpdir(), 'output-error-ro-'));
  const mount = join(work, 'ro');
  await mkdir(mount);
  // a real read-only filesystem (root, as the test suite runs): a recursive mkdir under it says ENOENT, not EROFS
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', mount]);
  try {
    for (const dir of [mount, join(mount, 'a', 'site')]) {
      try {
        await checkOutputDir(dir);
        assert.unreachable(`${dir} was taken`);
      } catch (error) {
        assert.instance(error, SiteOutputError);
        assert.is((error as SiteOutputError).message, `cannot write ${dir}: the file system is read-only (EROFS)`);
      }
    }
  } finally {
    execFileSync('umount', [mount]);
    await rm(work, { recursive: true, force: true });
  }
});

test.run();

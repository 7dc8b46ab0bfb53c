// A build whose drawing fails part-way: the job pages and the trends pages are drawn at the same
// time by the render workers, so a trends page that cannot be written must still end the build
// with its error (the workers stopped, nothing left waiting), keep the last build's record, and
// leave the next build, once the cause is gone, to finish the job.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { BUILD_MANIFEST } from '../../orchestrator/site/output.js';
import { SiteOutputError } from '../../orchestrator/site/output-error.js';
import { TEST_FIXTURE, writeFixtureSweep } from './fixture-store.js';

/** Temp files of atomic writes (.name.pid.thread.n.tmp) anywhere under `dir`. */
async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.tmp')).map((e) => join(e.parentPath ?? e.path, e.name));
}

test('a trends page that cannot be written fails the build with its path; the last record stays; the next build completes', async () => {
  const work = await mkdtemp(join(tmpdir(), 'site-failure-'));
  try {
    const results = join(work, 'results');
    const out = join(work, 'site');
    for (let i = 0; i < 2; i++) await writeFixtureSweep(results, i, TEST_FIXTURE);
    await buildSite({ resultsDir: results, outDir: out, workers: 2 });
    const manifest = await readFile(join(out, BUILD_MANIFEST));
    await writeFixtureSweep(results, 2, { ...TEST_FIXTURE, throughStore: true });
    // the first host's trends directory replaced by a file: its landing page's files cannot go there
    const host = TEST_FIXTURE.hosts[0]!;
    const trendsDir = join(out, 'trends', `${host.name}--${host.scenarios[0]}`);
    await rm(trendsDir, { recursive: true });
    await writeFile(trendsDir, 'in the way');
    const started = Date.now();
    try {
      await buildSite({ resultsDir: results, outDir: out, workers: 2 });
      assert.unreachable('the build went on');
    } catch (error) {
      // named as the site's file that could not be written, not as a worker's temp file or a stack
      assert.instance(error, SiteOutputError);
      const failed = error as SiteOutputError;
      assert.is(failed.code, 'ENOTDIR');
      assert.ok(failed.path.startsWith(`${trendsDir}/`), failed.path);
      assert.not.match(failed.path, /\.tmp$/);
      assert.match(failed.message, /^cannot write .*: a part of its path is a file, not a directory \(ENOTDIR\)$/);
    }
    assert.ok(Date.now() - started < 60_000, 'it ends (nothing left waiting on a worker)');
    assert.equal(await tempFiles(out), [], 'no temp file left by a page in flight when the build stopped');
    assert.ok((await readFile(join(out, BUILD_MANIFEST))).equals(manifest), 'the last build\u2019s record is kept');
    await rm(trendsDir);
    const next = await buildSite({ resultsDir: results, outDir: out, workers: 2 });
    assert.ok(next.written.some((id) => id.startsWith('trends:')), 'the trends pages are drawn');
    assert.ok(next.written.some((id) => id.startsWith('job:')), 'the new sweep\u2019s job pages are recorded');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test('a job page that cannot be written, while other pages are in flight: the build fails with that file named, leaves no temp file, keeps the last record, and the next build completes', async () => {
  const work = await mkdtemp(join(tmpdir(), 'site-failure-'));
  try {
    const results = join(work, 'results');
    const out = join(work, 'site');
    for (let i = 0; i < 3; i++) await writeFixtureSweep(results, i, TEST_FIXTURE);
    // a first build, so the failing one has a record to keep
    await buildSite({ resultsDir: results, outDir: out, workers: 2 });
    const manifest = await readFile(join(out, BUILD_MANIFEST));
    await writeFixtureSweep(results, 3, { ...TEST_FIXTURE, throughStore: true });
    const sweepId = (await readdir(join(results, 'sweeps'))).sort().at(-1)!;
    const host = TEST_FIXTURE.hosts[0]!;
    const jobDir = join(out, 'jobs', sweepId, `${host.name}--${host.scenarios[0]}`);
    await mkdir(join(out, 'jobs', sweepId), { recursive: true });
    await writeFile(jobDir, 'in the way');
    try {
      await buildSite({ resultsDir: results, outDir: out, workers: 2 });
      assert.unreachable('the build went on');
    } catch (error) {
      assert.instance(error, SiteOutputError);
      assert.ok((error as SiteOutputError).path.startsWith(`${jobDir}/`), (error as SiteOutputError).path);
    }
    assert.equal(await tempFiles(out), [], 'the other job pages in flight were written whole or not at all');
    assert.ok((await readFile(join(out, BUILD_MANIFEST))).equals(manifest), 'the last build’s record is kept');
    await rm(jobDir);
    const next = await buildSite({ resultsDir: results, outDir: out, workers: 2 });
    assert.ok(next.written.includes(`job:${sweepId}/${host.name}--${host.scenarios[0]}`), 'the page is drawn once the file is gone');
    assert.equal(await tempFiles(out), []);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test.run();

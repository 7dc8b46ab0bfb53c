// A build whose drawing fails part-way: the job pages and the trends pages are drawn at the same
// time by the render workers, so a trends page that cannot be written must still end the build
// with its error (the workers stopped, nothing left waiting), keep the last build's record, and
// leave the next build, once the cause is gone, to finish the job.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSite } from '../../orchestrator/site/build.js';
import { BUILD_MANIFEST } from '../../orchestrator/site/output.js';
import { TEST_FIXTURE, writeFixtureSweep } from './fixture-store.js';

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
      assert.instance(error, Error);
      assert.match(String((error as Error).message), /render worker/);
      assert.match(String((error as Error).message), new RegExp(`${host.name}--${host.scenarios[0]}`));
    }
    assert.ok(Date.now() - started < 60_000, 'it ends (nothing left waiting on a worker)');
    assert.ok((await readFile(join(out, BUILD_MANIFEST))).equals(manifest), 'the last build\u2019s record is kept');
    await rm(trendsDir);
    const next = await buildSite({ resultsDir: results, outDir: out, workers: 2 });
    assert.ok(next.written.some((id) => id.startsWith('trends:')), 'the trends pages are drawn');
    assert.ok(next.written.some((id) => id.startsWith('job:')), 'the new sweep\u2019s job pages are recorded');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test.run();

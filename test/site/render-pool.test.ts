// site/render-pool.ts with real worker threads: a worker writes the job pages it draws, and one
// that runs out of its heap cap is replaced by a worker without the cap, which draws its tasks
// again - the pages are the same as drawn in the build's own thread.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanStore, type JobRef } from '../../orchestrator/site/load.js';
import { queuePosition, RenderPool } from '../../orchestrator/site/render-pool.js';
import { TEST_FIXTURE, writeFixtureStore } from './fixture-store.js';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
  return out.sort();
}

/** A one-sweep fixture store, its jobs, and `draw`: every job's page drawn by a pool, which is then closed. */
async function withStore(fn: (store: { work: string; results: string; jobs: JobRef[]; draw: (pool: RenderPool) => Promise<unknown[]> }) => Promise<void>): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'render-pool-'));
  try {
    const results = join(work, 'results');
    await writeFixtureStore(results, 1, TEST_FIXTURE);
    const jobs = (await scanStore(results)).sweeps.flatMap((s) => s.jobs);
    const draw = async (pool: RenderPool) => {
      try {
        return await Promise.all(jobs.map((job) => pool.jobPages({ job, previous: undefined, page: { before: undefined }, compare: undefined })));
      } finally {
        await pool.close();
      }
    };
    await fn({ work, results, jobs, draw });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

test('warm() starts every worker before the first task, and they draw the pages this thread draws', () =>
  withStore(async ({ work, results, draw }) => {
    const local = await draw(new RenderPool({ resultsDir: results, assetPaths: {}, outDir: join(work, 'here') }, 0));
    const pool = new RenderPool({ resultsDir: results, assetPaths: {}, outDir: join(work, 'warm') }, 2);
    assert.is(pool.started, 0, 'no worker before it is asked for');
    pool.warm();
    assert.is(pool.started, 2, 'every worker started by warm()');
    pool.warm();
    assert.is(pool.started, 2, 'warm() twice starts no more');
    assert.equal(await draw(pool), local, 'the same paths, sizes and hashes');
    assert.equal(await filesUnder(join(work, 'warm')), await filesUnder(join(work, 'here')));
    const none = new RenderPool({ resultsDir: results, assetPaths: {} }, 0);
    none.warm();
    assert.is(none.started, 0, 'a pool drawing in this thread starts none');
  }));

test('a worker that runs out of its heap cap is replaced by one without it; the pages are those drawn in this thread', () =>
  withStore(async ({ work, results, jobs, draw }) => {
    assert.ok(jobs.length >= 3);
    const here = join(work, 'here');
    const local = await draw(new RenderPool({ resultsDir: results, assetPaths: {}, outDir: here }, 0));
    const capped = join(work, 'capped');
    // 2 MiB of old generation: not even the worker's modules fit
    const pool = new RenderPool({ resultsDir: results, assetPaths: {}, outDir: capped }, 1, 2);
    const drawn = await draw(pool);
    assert.ok(pool.roomy, 'the capped worker ran out of heap and was replaced');
    assert.equal(drawn, local, 'the same paths, sizes and hashes');
    const files = await filesUnder(here);
    assert.ok(files.some((f) => f.endsWith('.html')));
    assert.equal((await filesUnder(capped)).filter((f) => !f.split('/').pop()!.startsWith('.')), files, 'the same files (temp files of the worker that ran out may be left)');
    for (const f of files) assert.is(await readFile(join(capped, f), 'utf8'), await readFile(join(here, f), 'utf8'), f);
  }));

test('close() while pages are in flight: the tasks the workers hold finish and are written whole, those not handed out are dropped, no temp file is left', () =>
  withStore(async ({ work, results, jobs }) => {
    assert.ok(jobs.length >= 3);
    const out = join(work, 'closing');
    const pool = new RenderPool({ resultsDir: results, assetPaths: {}, outDir: out }, 1);
    // one worker holds at most PER_WORKER tasks; the rest wait in the queue when close() comes
    const tasks = jobs.map((job) => pool.jobPages({ job, previous: undefined, page: { before: undefined }, compare: undefined }));
    const settled = Promise.allSettled(tasks);
    await pool.close();
    let timer: NodeJS.Timeout | undefined;
    const outcomes = await Promise.race([
      settled,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('a task was left unanswered after close()')), 20_000))),
    ]).finally(() => clearTimeout(timer));
    const done = outcomes.filter((o) => o.status === 'fulfilled');
    const dropped = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.ok(done.length >= 1, 'the tasks a worker held were let finish');
    assert.ok(dropped.length >= 1, 'the tasks not handed out were dropped');
    for (const d of dropped) assert.match(String(d.reason), /stopped before this page was drawn/);
    const files = await filesUnder(out);
    assert.equal(files.filter((f) => f.endsWith('.tmp')), [], 'no temp file of a page left behind');
    for (const o of done) {
      const page = (o as PromiseFulfilledResult<Awaited<(typeof tasks)[number]>>).value.page;
      assert.ok(page && !Array.isArray(page));
      for (const f of page.files) assert.ok(files.includes(f.path), `${f.path} written whole`);
    }
    await pool.close(); // twice: harmless
    try {
      await pool.jobPages({ job: jobs[0]!, previous: undefined, page: { before: undefined }, compare: undefined });
      assert.unreachable('a closed pool took a task');
    } catch (error) {
      assert.match(String(error), /closed/);
    }
  }));

test('a task sent ahead waits only behind those sent ahead before it; others join the end', () => {
  const queue: { name: string; ahead: boolean }[] = [];
  const send = (name: string, ahead: boolean) => queue.splice(queuePosition(queue, ahead), 0, { name, ahead });
  send('job 1', false);
  send('job 2', false);
  send('trends big', true);
  send('trends small', true);
  send('job 3', false);
  send('trends smallest', true);
  assert.equal(queue.map((q) => q.name), ['trends big', 'trends small', 'trends smallest', 'job 1', 'job 2', 'job 3']);
  assert.is(queuePosition([], true), 0);
  assert.is(queuePosition([{ ahead: true }], true), 1, 'behind every task sent ahead when nothing else waits');
});

test.run();

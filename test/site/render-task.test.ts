// site/render-task.ts outcomeBytes: how big a drawn unit was (a render worker collects its heap
// after a big one): the bytes of the files written, or sent back, of every unit a task drew.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { scanStore } from '../../orchestrator/site/load.js';
import { pageContext } from '../../orchestrator/site/page-context.js';
import { outcomeBytes, runRenderTask } from '../../orchestrator/site/render-task.js';
import { TEST_FIXTURE, writeFixtureStore } from './fixture-store.js';

test('outcomeBytes: files sent back count their bytes (text by its length), written ones their recorded size', () => {
  assert.is(outcomeBytes({ output: [{ path: 'a.html', data: 'abcd' }, { path: 'b.bin', data: Buffer.alloc(10) }] }), 14);
  assert.is(outcomeBytes({ output: { files: [{ path: 'a.html', hash: 'h', bytes: 100, written: true }, { path: 'b', hash: 'h', bytes: 5, written: false }] } }), 105);
  assert.is(outcomeBytes({ pages: { page: { files: [{ path: 'p', hash: 'h', bytes: 7, written: true }] }, compare: [{ path: 'c', data: 'xyz' }] } }), 10);
  assert.is(outcomeBytes({ pages: { missingThresholds: ['cpu'] } }), 0, 'a comparison that asked for thresholds drew nothing');
  assert.is(outcomeBytes({ missingThresholds: ['cpu'] }), 0);
});

test("outcomeBytes of a job's page and comparison drawn here is the size of the files on disk", async () => {
  const work = await mkdtemp(join(tmpdir(), 'render-task-'));
  try {
    const results = join(work, 'results');
    const out = join(work, 'site');
    await writeFixtureStore(results, 2, TEST_FIXTURE);
    const sweeps = (await scanStore(results)).sweeps;
    const job = sweeps[1]!.jobs[0]!;
    const previous = sweeps[0]!.jobs.find((j) => j.host === job.host && j.scenario === job.scenario);
    assert.ok(previous, 'the fixture has the same host x scenario in both sweeps');
    const ctx = pageContext(results, {});
    // as the build does: the comparison names the metrics it lacks thresholds for, and is asked again with them
    const draw = (metrics: readonly string[]) =>
      runRenderTask(ctx, out, { kind: 'job-pages', job, previous, page: { before: undefined }, compare: { thresholds: { page: DEFAULT_THRESHOLDS, metrics: Object.fromEntries(metrics.map((m) => [m, DEFAULT_THRESHOLDS])) }, before: undefined } });
    const first = await draw([]);
    const outcome = 'pages' in first && first.pages.missingThresholds ? await draw(first.pages.missingThresholds) : first;
    assert.ok('pages' in outcome && outcome.pages.page && outcome.pages.compare, 'the job page and its comparison were drawn');
    const units = [outcome.pages.page, outcome.pages.compare].flatMap((u) => (u && !Array.isArray(u) ? u.files : []));
    let onDisk = 0;
    for (const f of units) onDisk += (await stat(join(out, f.path))).size;
    assert.ok(onDisk > 0);
    assert.is(outcomeBytes(outcome), onDisk);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test.run();

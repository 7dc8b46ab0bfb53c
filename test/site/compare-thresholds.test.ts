// Comparison pages are drawn in the render workers, which cannot call the build's thresholdsFor:
// they get a table per host x scenario made from the histories. A metric a job has that the
// histories lack (a failed job's, which no history holds) is asked back and compared with the
// thresholds configured for it, so the pages are the same as if the table had held it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHistory } from '../../orchestrator/analysis/history.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import type { SeriesKey } from '../../orchestrator/analysis/history.js';
import { buildSite } from '../../orchestrator/site/build.js';
import { TEST_FIXTURE, writeFixtureStore } from './fixture-store.js';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
  return out.sort();
}

test('a metric missing from the thresholds table is asked back and compared with its own thresholds', async () => {
  const work = await mkdtemp(join(tmpdir(), 'compare-thresholds-'));
  try {
    const results = join(work, 'results');
    await writeFixtureStore(results, 3, TEST_FIXTURE);
    const history = await loadHistory(results);
    const missing = history.histories.find((h) => h.key.scenario === 'sysinfo')!.key;
    // a strict threshold for that one metric, so its verdicts show which thresholds were used
    const asked: SeriesKey[] = [];
    const thresholdsFor = (key: SeriesKey) => {
      asked.push(key);
      return key.metric === missing.metric ? { ...DEFAULT_THRESHOLDS, minRelativeChange: 0, pValue: 1 } : DEFAULT_THRESHOLDS;
    };
    const full = join(work, 'full');
    await buildSite({ resultsDir: results, outDir: full, thresholdsFor, workers: 1 });
    // the same store, but the histories the build is given lack the metric on that host x scenario
    const partial = { ...history, histories: history.histories.filter((h) => !(h.key.host === missing.host && h.key.scenario === missing.scenario && h.key.metric === missing.metric)) };
    asked.length = 0;
    const lacking = join(work, 'lacking');
    await buildSite({ resultsDir: results, outDir: lacking, thresholdsFor, workers: 1, history: partial });
    assert.ok(asked.some((k) => k.host === missing.host && k.scenario === missing.scenario && k.metric === missing.metric), 'the missing metric was asked for');

    const compareFiles = await filesUnder(join(full, 'compare'));
    assert.ok(compareFiles.length > 0);
    assert.equal(await filesUnder(join(lacking, 'compare')), compareFiles);
    for (const file of compareFiles) {
      assert.is(await readFile(join(lacking, 'compare', file), 'utf8'), await readFile(join(full, 'compare', file), 'utf8'), file);
    }
    const json = await readFile(join(full, 'compare', compareFiles.find((f) => f.endsWith('.json') && f.includes(missing.host))!), 'utf8');
    assert.match(json, new RegExp(`"metric":"${missing.metric.replace(/\./g, '\\.')}"`), 'the metric is compared');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test.run();

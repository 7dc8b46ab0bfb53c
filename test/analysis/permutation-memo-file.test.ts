// The permutation tests a detection used, kept in a directory (a site's) for the next one: read
// back they answer every test again; missing, damaged or of another version the file is no
// tests, never an error, and the next detection writes it anew with only what it used.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricHistory, SeriesKey } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import { PermutationMemo } from '../../orchestrator/analysis/permutation-memo.js';
import { PERMUTATION_MEMO, readPermutationMemo } from '../../orchestrator/analysis/permutation-memo-file.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';
import { DEFAULT_THRESHOLDS, detectChangesInSlices } from '../../orchestrator/analysis/regressions.js';

let work = '';
test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'permutation-memo-'));
});
test.after(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One sample per sweep, 2% noise, a level per regime: [count, mean] each. */
function history(metric: string, seed: number, ...regimes: [number, number][]): MetricHistory {
  const normal = gaussian(mulberry32(seed));
  const key: SeriesKey = { host: 'mm1', scenario: 'midolman', metric, labels: {} };
  const levels = regimes.flatMap(([count, mean]) => Array.from({ length: count }, () => mean));
  const points = levels.map((mean, i) => ({ sweepId: `s${String(i).padStart(4, '0')}`, jobId: 'mm1-midolman', at: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, value: mean * (1 + 0.02 * normal()) }));
  return { key, keyId: seriesKeyId(key), unit: 'pps', better: 'higher', points };
}

const HISTORIES = [history('throughput', 1, [70, 1000], [30, 850]), history('latency', 2, [50, 10], [40, 12], [30, 10]), history('flat', 3, [90, 50])];
const defaults = () => DEFAULT_THRESHOLDS;

async function detect(dir: string, memo = new PermutationMemo()) {
  const lines: string[] = [];
  const changes = await detectChangesInSlices(HISTORIES, defaults, { memoDir: dir, memo, log: (line) => lines.push(line) });
  return { changes, memo, lines };
}

test('kept tests answer the next detection: none is run again, and the changes are the same', async () => {
  const dir = join(work, 'kept');
  const first = await detect(dir);
  assert.ok(first.memo.computed > 0);
  assert.ok(first.changes.length >= 2, JSON.stringify(first.changes.map((c) => [c.key.metric, c.sweepId])));
  const second = await detect(dir); // a new memo: only the file can answer
  assert.is(second.memo.computed, 0, second.lines.join('\n'));
  assert.ok(second.memo.reused > 0);
  assert.equal(second.changes, first.changes);
  assert.match(second.lines.join('\n'), /0 permutation test\(s\) run, \d+ answered from the memo; memo read \d+/);
  // and what is kept is only what was used: a detection of one history keeps that history's tests
  await detectChangesInSlices(HISTORIES.slice(0, 1), defaults, { memoDir: dir, memo: new PermutationMemo() });
  const kept = readPermutationMemo(dir, new PermutationMemo()).tests;
  assert.ok(kept > 0 && kept < readCount(second), `${kept} kept of ${readCount(second)}`);
});

const readCount = (run: { lines: string[] }) => Number(/memo read (\d+)/.exec(run.lines.join('\n'))![1]);

test('a damaged, truncated or other-version file is no tests, and is written anew', async () => {
  const dir = join(work, 'damaged');
  const good = await detect(dir);
  const text = await readFile(join(dir, PERMUTATION_MEMO), 'utf8');
  const parsed = JSON.parse(text) as { schema: string; scopes: Record<string, string> };
  const [scope, packed] = Object.entries(parsed.scopes)[0]!;
  const records = Buffer.from(packed, 'base64');
  const badHits = Buffer.from(records);
  badHits.writeUInt32LE(0, 12); // hits 0: no p-value is 0
  const damaged: Record<string, string> = {
    'not JSON': 'this is not a memo',
    truncated: text.slice(0, Math.floor(text.length / 2)),
    'empty file': '',
    'another version': JSON.stringify({ ...parsed, schema: 'orchestrate/permutation-memo@99' }),
    'not base64': JSON.stringify({ ...parsed, scopes: { [scope]: `${packed.slice(0, -4)}!!!!` } }),
    'a record cut short': JSON.stringify({ ...parsed, scopes: { [scope]: records.subarray(0, records.length - 4).toString('base64') } }),
    'a p-value of 0': JSON.stringify({ ...parsed, scopes: { [scope]: badHits.toString('base64') } }),
    'not a scope': JSON.stringify({ ...parsed, scopes: { 'two hundred': packed } }),
  };
  for (const [what, content] of Object.entries(damaged)) {
    await writeFile(join(dir, PERMUTATION_MEMO), content);
    const memo = new PermutationMemo();
    assert.is(readPermutationMemo(dir, memo).tests, 0, what);
    assert.is(memo.size, 0, what);
    const again = await detect(dir);
    assert.is(again.memo.computed, good.memo.computed, `${what}: every test run`);
    assert.equal(again.changes, good.changes, what);
    assert.is(await readFile(join(dir, PERMUTATION_MEMO), 'utf8'), text, `${what}: written anew`);
  }
  // a missing file too, and a directory that does not exist yet is made
  await rm(dir, { recursive: true });
  assert.is(readPermutationMemo(dir, new PermutationMemo()).tests, 0);
  assert.equal((await detect(dir)).changes, good.changes);
  assert.is(await readFile(join(dir, PERMUTATION_MEMO), 'utf8'), text);
});

test.run();

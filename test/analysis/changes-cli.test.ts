// `orchestrate changes --csv FILE [--better lower|higher] [--json]` end to end: the real CLI as a
// child process, on CSV files written here; the sweep's detection gives the same answer.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import type { MetricHistory } from '../../orchestrator/analysis/history.js';
import { gaussian, mulberry32 } from '../../orchestrator/analysis/random.js';
import { DEFAULT_THRESHOLDS, detectChanges } from '../../orchestrator/analysis/regressions.js';
import { runCli } from '../e2e/cli-helpers.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrate-changes-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 40 nights at 1000 then 10 at 900 (1% noise), written with 3 decimals. */
function stepValues(): number[] {
  const normal = gaussian(mulberry32(17));
  return Array.from({ length: 50 }, (_, i) => Number(((i < 40 ? 1000 : 900) * (1 + 0.01 * normal())).toFixed(3)));
}
const day = (i: number) => new Date(Date.UTC(2026, 0, 1 + i, 4, 30)).toISOString();

async function csv(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

test('a table of the change points, exit 0; --json one object per change with index, time, before, after, change, p', async () => {
  const values = stepValues();
  const file = await csv('step.csv', `time,value\n${values.map((v, i) => `${day(i)},${v}`).join('\n')}\n`);
  const table = await runCli(['changes', '--csv', file, '--better', 'higher']);
  assert.is(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  assert.match(lines[0]!, /step\.csv: 50 point\(s\), 50 night\(s\), noise 0\.9\d%; thresholds: change >= 5% and >= 2 x noise, p <= 0\.05, holding 3 nights/);
  assert.match(lines[1]!, /^INDEX +TIME +BEFORE +AFTER +CHANGE +P +NIGHTS +KIND$/);
  assert.match(lines[3]!, new RegExp(`^40 +${day(40).replace(/[.]/g, '\\.')} +(999|1000)\\.\\d+ +[89]\\d\\d\\.\\d+ +-10\\.\\d% +0\\.00\\d +10 +regression$`));
  assert.is(lines.length, 4);

  const json = await runCli(['changes', '--csv', file, '--json']);
  assert.is(json.code, 0, json.stderr);
  const changes = json.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.is(changes.length, 1);
  assert.equal(Object.keys(changes[0]).slice(0, 6), ['index', 'time', 'before', 'after', 'change', 'p']);
  assert.is(changes[0].index, 40);
  assert.is(changes[0].time, day(40));
  assert.is(changes[0].kind, 'change'); // no --better

  // The same code path as a sweep's detection: the same numbers from the same values.
  const key = { host: 'h', scenario: 's', metric: 'm', labels: {} };
  const history: MetricHistory = {
    key,
    keyId: seriesKeyId(key),
    unit: 'x',
    better: 'higher',
    points: values.map((value, i) => ({ sweepId: `s${String(i).padStart(3, '0')}`, jobId: 'j', at: day(i), value })),
  };
  const [sweep] = detectChanges([history], () => DEFAULT_THRESHOLDS);
  assert.equal(
    [changes[0].before, changes[0].after, changes[0].change, changes[0].p, changes[0].nights],
    [sweep!.beforeMean, sweep!.afterMean, sweep!.relativeChange, sweep!.pValue, sweep!.nights],
  );
});

test('no change: says so; rows with the same time are one night (3 rows x 2 nights of a new level are not 6 nights)', async () => {
  const flat = await csv('flat.csv', `time,value\n${Array.from({ length: 30 }, (_, i) => `${i},${100 + (i % 3)}`).join('\n')}\n`);
  const none = await runCli(['changes', '--csv', flat]);
  assert.is(none.code, 0, none.stderr);
  assert.match(none.stdout, /\nno change points\n$/);
  const rows = [...Array.from({ length: 30 }, (_, i) => `${i},${100 + (i % 3)}`), '30,130', '30,131', '30,129', '31,130', '31,131', '31,129'];
  const twoNights = await csv('nights.csv', `time,value\n${rows.join('\n')}\n`);
  const json = await runCli(['changes', '--csv', twoNights, '--json']);
  assert.is(json.code, 0, json.stderr);
  assert.is(json.stdout, '');
  const third = await csv('third.csv', `time,value\n${[...rows, '32,130', '32,131'].join('\n')}\n`);
  const found = await runCli(['changes', '--csv', third, '--json']);
  assert.equal(
    found.stdout.trim().split('\n').map((line) => [JSON.parse(line).index, JSON.parse(line).nights]),
    [[30, 3]],
  );
});

test('bad input: FILE:LINE and exit 2 (no header, a value that is not a number, unsorted time, empty, no file, bad --better)', async () => {
  const cases: [string, string, RegExp][] = [
    ['noheader.csv', '1,10\n2,11\n', /noheader\.csv:1: no header/],
    ['value.csv', 'time,value\n1,10\n2,11\n3,abc\n', /value\.csv:4: value "abc" is not a number/],
    ['unsorted.csv', 'time,value\n1,10\n3,11\n2,12\n', /unsorted\.csv:4: time "2" is before "3" on line 3/],
    ['empty.csv', '', /empty\.csv:1: empty/],
  ];
  for (const [name, text, message] of cases) {
    const result = await runCli(['changes', '--csv', await csv(name, text)]);
    assert.is(result.code, 2, name);
    assert.match(result.stderr, message);
    assert.is(result.stdout, '', name);
  }
  const missing = await runCli(['changes', '--csv', join(dir, 'nope.csv')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /nope\.csv: no such file/);
  const better = await runCli(['changes', '--csv', join(dir, 'value.csv'), '--better', 'up']);
  assert.is(better.code, 2);
  assert.match(better.stderr, /Allowed choices are lower, higher/);
});

test.run();

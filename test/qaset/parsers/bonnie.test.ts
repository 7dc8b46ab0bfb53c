import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricSampleSchema } from '../../../orchestrator/results/metrics.js';
import { parse } from '../../../orchestrator/qaset/parsers/bonnie.js';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { all, needsPrograms, one, run, scratchDir } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const read = (f: string) => readFileSync(path.join(FIX, f), 'utf8');

test('bonnie++ 2.00a CSV recorded from a real run: fields, "+++++" skipped with notes, latencies in us', () => {
  const r = parse(read('bonnie-2.00.csv'), 'bonnie-2.00.csv');
  const f = read('bonnie-2.00.csv').trim().split(',');
  assert.is(one(r.samples, 'bonnie.putc').value, Number(f[9]));
  assert.is(one(r.samples, 'bonnie.putc.cpu').value, Number(f[10]));
  assert.is(one(r.samples, 'bonnie.getc').value, Number(f[15]));
  assert.is(one(r.samples, 'bonnie.putc.latency').value, 43709);
  assert.is(one(r.samples, 'bonnie.put_block.latency').value, 1048);
  assert.equal(one(r.samples, 'bonnie.putc').labels, { source: 'bonnie-2.00.csv', bonnie_version: '2.00a', concurrency: '1', file_size: '64M' });
  assert.is(all(r.samples, 'bonnie.put_block').length, 0);
  assert.ok(r.notes?.some((n) => n.startsWith('put_block: "+++++"')));
});

test('bonnie++ 1.03e (QASET layout): table + CSV line per run; every run read once, from its CSV line', () => {
  const single = read('bonnie-1.03.txt');
  const r = parse(single, 'bonnie++-async');
  assert.is(one(r.samples, 'bonnie.put_block').value, 120000);
  assert.is(one(r.samples, 'bonnie.seeks').value, 350.5);
  assert.is(one(r.samples, 'bonnie.seeks').unit, 'seeks/s');
  assert.is(one(r.samples, 'bonnie.seq_del').value, 30000);
  assert.is(one(r.samples, 'bonnie.ran_del.cpu').value, 70);
  assert.is(all(r.samples, 'bonnie.seq_create').length, 0);
  assert.is(r.notes?.length, 4);
  const two = parse(read('bonnie-1.03e-2runs.txt'), 'bonnie++-fsync');
  assert.equal(all(two.samples, 'bonnie.put_block').map((s) => [s.labels['file_size'], s.value]), [['2G', 118000], ['4G', 96000]], 'each run with its own size');
  assert.equal(all(two.samples, 'bonnie.seeks').map((s) => s.value), [340.2, 181.7]);
  const twice = parse(single + single, 'b');
  assert.equal(all(twice.samples, 'bonnie.put_block').map((s) => s.labels['repeat']), ['1', '2'], 'the same run twice is two samples');
  const tableOnly = parse(single.replace(/^guest1,.*$/m, ''), 'b');
  assert.match(tableOnly.notes?.join('\n') ?? '', /1 bonnie\+\+ result tables but 0 CSV line/);
});

test.run();

/** The test's own reading of a bonnie++ 2.00 latency field ("43709us", "1048ms", "2s"). */
function microseconds(v: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(v)!;
  return Number(m[1]) * { us: 1, ms: 1e3, s: 1e6 }[m[2] as 'us' | 'ms' | 's'];
}

const real = suite('bonnie++ 2.00a really run twice, table and CSV line each, concatenated');
const it = guardedSuite(real, await missingRequirement(needsPrograms('bonnie++')), 'the real bonnie++ runs');
let work = '';
real.before(async () => {
  work = await scratchDir('bonnie');
});
real.after(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

it('both runs parsed from their CSV lines (bonnie++ own machine-readable output), field by field', async () => {
  // -f skips the per-character tests (minutes at this size on a busy machine); -n 1: 1024 files
  // created, stat'ed and deleted, which gives numbers; the block tests finish too fast ("+++++").
  const args = ['-d', work, '-s', '8', '-r', '4', '-n', '1', '-f', '-m', 'guest'];
  if (process.getuid?.() === 0) args.push('-u', 'root');
  let text = '';
  for (let i = 0; i < 2; i++) text += await run('bonnie++', args, { cwd: work, timeoutMs: 60_000 });
  const r = parse(text, 'ctcs2/bonnie-x/bonnie++-async');
  const csv = text.split('\n').filter((l) => /^1\.9\d,2\.00/.test(l)).map((l) => l.split(','));
  assert.is(csv.length, 2, 'two CSV lines, one per run');
  const FILE_OPS = ['seq_create', 'seq_stat', 'seq_del', 'ran_create', 'ran_stat', 'ran_del'];
  csv.forEach((f, i) => {
    const run = { repeat: String(i + 1) };
    assert.is(f[21], '1', 'the -n asked for');
    FILE_OPS.forEach((op, k) => {
      const v = f[26 + 2 * k]!;
      const hits = all(r.samples, `bonnie.${op}`).filter((s) => s.labels['repeat'] === run.repeat);
      if (v.startsWith('+')) assert.is(hits.length, 0, `${op} "+++++" gives no sample`);
      else {
        assert.is(hits.length, 1, op);
        assert.is(hits[0]!.value, Number(v));
        assert.is(one(r.samples, `bonnie.${op}.cpu`, run).value, Number(f[27 + 2 * k]));
      }
      const lat = f[44 + k]!;
      if (lat !== '') assert.ok(Math.abs(one(r.samples, `bonnie.${op}.latency`, run).value - microseconds(lat)) < 1e-6, `${op} latency ${lat}`);
    });
    const ofRun = r.samples.filter((s) => s.labels['repeat'] === run.repeat);
    assert.ok(ofRun.length > 0, `run ${run.repeat} gave samples (latencies at least)`);
    for (const s of ofRun) assert.equal(s.labels, { source: 'ctcs2/bonnie-x/bonnie++-async', bonnie_version: '2.00a', concurrency: '1', file_size: '8M', num_files: '1', repeat: run.repeat });
  });
  assert.is(r.samples.length, r.samples.filter((s) => s.labels['repeat'] !== undefined).length, 'every sample says its run');
  for (const s of r.samples) assert.ok(MetricSampleSchema.safeParse(s).success, JSON.stringify(s));
});

real.run();

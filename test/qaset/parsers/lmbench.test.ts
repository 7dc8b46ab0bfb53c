import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/lmbench.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const text = readFileSync(path.join(FIX, 'lmbench.txt'), 'utf8');

test('lmbench summary tables: columns named from the headers, K suffixes, units and directions from the titles', () => {
  const r = parse(text, 'lmbench.txt');
  assert.is(one(r.samples, 'lmbench.null_call').value, 0.05);
  assert.is(one(r.samples, 'lmbench.exec_proc').value, 310);
  assert.is(one(r.samples, 'lmbench.sh_proc').value, 1100);
  assert.is(one(r.samples, 'lmbench.sh_proc').better, 'lower');
  assert.is(one(r.samples, 'lmbench.mem_write').value, 6500);
  assert.is(one(r.samples, 'lmbench.tcp', { table: 'local_communication_bandwidths_in_mb_s' }).unit, 'MB/s');
  assert.is(one(r.samples, 'lmbench.af_unix').better, 'higher');
  assert.is(one(r.samples, 'lmbench.null_call').labels['host'], undefined, 'the host name is not a label');
});

test('a table with one row per run: every row kept, told apart by repeat', () => {
  const row = 'guest1    Linux 6.4.0-1 2800 0.05 0.10 0.40 1.10 2.50 0.12 0.90 95.0 310. 1.1K';
  const r = parse(text.replace(row, `${row}\n${row.replace('0.05', '0.06').replace('guest1', 'guest2')}`), 'lmbench_bench');
  assert.equal(all(r.samples, 'lmbench.null_call').map((s) => [s.labels['repeat'], s.value]), [
    ['1', 0.05],
    ['2', 0.06],
  ]);
});

test.run();

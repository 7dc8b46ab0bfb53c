import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/reaim.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const text = readFileSync(path.join(FIX, 'reaim.txt'), 'utf8');

test('reaim rows per fork count and the maximum jobs per minute', () => {
  const r = parse(text, 'reaim.txt');
  assert.is(one(r.samples, 'reaim.jobs_per_min', { forks: '4' }).value, 2000);
  assert.is(one(r.samples, 'reaim.jti', { forks: '4' }).value, 98);
  assert.is(one(r.samples, 'reaim.max_jobs_per_min').value, 2000);
});

test('a JTI on its own line is joined back; two runs in one file are both kept', () => {
  const wrapped = parse('Num     Parent   Child   Child  Jobs per   Jobs/min/  Std_dev  Std_dev  JTI\n4000    119.97   432.86  47.17   204051.01  51.01      11.52    9.99 \n  90\nMax Jobs per Minute 204051.01\n', 'reaim');
  assert.is(one(wrapped.samples, 'reaim.jti', { forks: '4000' }).value, 90);
  assert.is(one(wrapped.samples, 'reaim.jobs_per_min', { forks: '4000' }).value, 204051.01);
  const two = parse(text + text.replace('Max Jobs per Minute 2000.00', 'Max Jobs per Minute 2100.00'), 'reaim_ioperf');
  assert.equal(all(two.samples, 'reaim.max_jobs_per_min').map((s) => [s.labels['repeat'], s.value]), [
    ['1', 2000],
    ['2', 2100],
  ]);
  assert.is(all(two.samples, 'reaim.jobs_per_min').length, 4);
});

test.run();

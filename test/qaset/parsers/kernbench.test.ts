import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/kernbench.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const text = readFileSync(path.join(FIX, 'kernbench.txt'), 'utf8');

test('kernbench averages with their standard deviations, per load and -j', () => {
  const r = parse(text, 'kernbench.txt');
  assert.is(one(r.samples, 'kernbench.elapsed_time', { load: 'optimal', jobs: '8' }).value, 250.75);
  assert.is(one(r.samples, 'kernbench.elapsed_time.sd', { load: 'half' }).value, 2.25);
  assert.is(one(r.samples, 'kernbench.elapsed_time', { load: 'half', jobs: '2' }).better, 'lower');
});

test('two kernbench runs in one file: both kept, the second a repeat', () => {
  const r = parse(text + text.replace('Elapsed Time 250.75', 'Elapsed Time 251.25'), 'kernbench');
  assert.equal(all(r.samples, 'kernbench.elapsed_time').filter((s) => s.labels['load'] === 'optimal').map((s) => [s.labels['repeat'], s.value]), [
    ['1', 250.75],
    ['2', 251.25],
  ]);
});

test.run();

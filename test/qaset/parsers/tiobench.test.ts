import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/tiobench.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const text = readFileSync(path.join(FIX, 'tiobench.txt'), 'utf8');

test('tiobench sections: rate, CPU and latencies per operation, size, block and threads', () => {
  const r = parse(text, 'tiobench.txt');
  assert.is(one(r.samples, 'tiobench.rate', { op: 'sequential_reads', threads: '4' }).value, 160.25);
  assert.is(one(r.samples, 'tiobench.cpu', { op: 'sequential_reads', threads: '4' }).value, 40);
  assert.is(one(r.samples, 'tiobench.latency_max', { op: 'random_writes' }).value, 3.5);
  assert.equal(one(r.samples, 'tiobench.rate', { op: 'random_writes' }).labels, { source: 'tiobench.txt', op: 'random_writes', file_mb: '1024', block: '4096', threads: '1' });
});

test('the kernel-release identifier is no label: a new kernel continues the same series; a second run is a repeat', () => {
  const newKernel = parse(text.replaceAll('6.4.0-150600.23-default', '6.4.0-150600.24-default'), 't');
  const old = parse(text, 't');
  assert.equal(newKernel.samples.map((s) => s.labels), old.samples.map((s) => s.labels));
  const two = parse(text + text.replace(' 85.50 12.50%', ' 86.75 12.50%'), 'tiobench_doublemem_async');
  assert.equal(all(two.samples, 'tiobench.rate').filter((s) => s.labels['op'] === 'sequential_reads' && s.labels['threads'] === '1').map((s) => [s.labels['repeat'], s.value]), [
    ['1', 85.5],
    ['2', 86.75],
  ]);
});

test.run();

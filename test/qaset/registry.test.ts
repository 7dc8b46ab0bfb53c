import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOutput } from '../../orchestrator/qaset/registry.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'qaset');
const read = (f: string) => readFileSync(path.join(FIX, f), 'utf8');

test('content sniffing when the name says nothing', () => {
  assert.is(parseOutput(read('dbench.txt'), 'x', 'stdout-1').benchmark, 'dbench');
  assert.is(parseOutput(read('fio.json'), 'x', 'out.json').benchmark, 'fio');
  assert.is(parseOutput(read('iozone.txt'), 'x', 'out').benchmark, 'iozone');
  assert.is(parseOutput(read('sysbench-0.4.8/sysbench-cpu'), 'x', 'out').benchmark, 'sysbench', "0.4.8's 'v' banner");
  assert.is(parseOutput(read('netperf-2.6-loop.txt'), 'x', 'loop4').benchmark, 'netperf');
});

test('unknown output is reported with a reason, never dropped; a name pointing at a parser that finds nothing says why', () => {
  const u = parseOutput(read('unknown.txt'), 'unknown.txt');
  assert.is(u.samples.length, 0);
  assert.match(u.unparsed ?? '', /no parser recognizes/);
  const b = parseOutput('bonnie++ crashed\n', 'bonnie++-async');
  assert.is(b.benchmark, 'bonnie');
  assert.match(b.unparsed ?? '', /CSV/);
});

test('a misleading name falls back to the content', () => {
  const r = parseOutput(read('dbench.txt'), 'x', 'sysbench-cpu');
  assert.is(r.benchmark, 'dbench');
  assert.ok(r.samples.length > 0);
});

test.run();

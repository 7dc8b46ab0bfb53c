import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseTestResults } from '../../../orchestrator/qaset/parsers/ctcs2.js';
import { one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const text = readFileSync(path.join(FIX, 'test_results'), 'utf8');

test('test_results: a counts line per test, old five-number lines too', () => {
  const r = parse(text, 'test_results');
  assert.is(one(r.samples, 'ctcs2.fail', { test: 'iozone-doublemem' }).value, 1);
  assert.is(one(r.samples, 'ctcs2.time', { test: 'kernbench' }).value, 1200);
  assert.is(one(r.samples, 'ctcs2.skipped', { test: 'kernbench' }).value, 1);
  const old = parseTestResults('sysbench-cpu\n0 1 1 10 0\n');
  assert.equal(old.tests, [{ name: 'sysbench-cpu', fail: 0, succeed: 1, count: 1, time: 10, interr: 0, skipped: 0 }]);
  const bad = parse('orphan name\nsysbench-cpu\n0 1 1 10 0 0\n', 'test_results');
  assert.match(bad.notes?.[0] ?? '', /orphan name/);
});

test.run();

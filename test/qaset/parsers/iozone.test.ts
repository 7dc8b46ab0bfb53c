import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/iozone.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const text = readFileSync(path.join(FIX, 'iozone.txt'), 'utf8');

test('iozone -R report blocks: one sample per file size and record size', () => {
  const r = parse(text, 'iozone.txt');
  assert.is(one(r.samples, 'iozone.writer', { file_kb: '128', record_kb: '8' }).value, 130000);
  assert.is(one(r.samples, 'iozone.reader', { file_kb: '64', record_kb: '4' }).value, 400000);
  assert.is(one(r.samples, 'iozone.random_write', { file_kb: '128', record_kb: '4' }).value, 91000);
  assert.is(all(r.samples, 'iozone.random_write').length, 3, 'a short row gives the cells it has');
  assert.is(one(r.samples, 'iozone.writer', { file_kb: '64', record_kb: '4' }).unit, 'KiB/s');
});

test('two iozone runs in one file: every cell of both, the second run marked as a repeat', () => {
  const r = parse(text + text.replace('"64"   100000', '"64"   100500'), 'iozone_doublemem');
  assert.equal(all(r.samples, 'iozone.writer').filter((s) => s.labels['file_kb'] === '64' && s.labels['record_kb'] === '4').map((s) => [s.labels['repeat'], s.value]), [
    ['1', 100000],
    ['2', 100500],
  ]);
  assert.is(all(r.samples, 'iozone.reader').length, 8);
  const ops = parse(text.replace('Output is in kBytes/sec', 'OPS Mode. Output is in operations per second.'), 'i');
  assert.is(ops.samples[0]!.unit, 'ops/s');
});

test.run();

import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/dbench.js';
import { parseOutput } from '../../../orchestrator/qaset/registry.js';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { all, needsPrograms, one, run, scratchDir } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const recorded = readFileSync(path.join(FIX, 'dbench.txt'), 'utf8');

test('a recorded dbench 4.00 run: throughput and max latency with its clients and procs', () => {
  const r = parse(recorded, 'dbench.txt');
  assert.is(one(r.samples, 'dbench.throughput', { clients: '1', procs: '1' }).value, 402.139);
  assert.is(one(r.samples, 'dbench.max_latency').value, 4.699);
  assert.is(one(r.samples, 'dbench.max_latency').better, 'lower');
  assert.is(parseOutput(recorded, 'x', 'stdout-1').benchmark, 'dbench', 'recognised by its content');
});

test('seven runs in one file (QASET dbench4 layout): seven samples, none collapsed; a run without its result line is noted', () => {
  const clients = [1, 2, 4, 8, 16, 32, 64];
  const text = clients.map((c, i) => recorded.replace(/Throughput [\d.]+ MB\/sec  1 clients  1 procs/, `Throughput ${100 + i}.5 MB/sec  ${c} clients  ${c} procs`)).join('');
  const r = parse(text, 'dbench4_async');
  assert.equal(all(r.samples, 'dbench.throughput').map((s) => [s.labels['clients'], s.value]), clients.map((c, i) => [String(c), 100 + i + 0.5]));
  const same = parse(recorded + recorded, 'dbench');
  assert.equal(all(same.samples, 'dbench.throughput').map((s) => s.labels['repeat']), ['1', '2'], 'two runs with the same clients stay two');
  const cut = parse(recorded + recorded.replace(/^Throughput.*$/m, ''), 'dbench');
  assert.match(cut.notes?.[0] ?? '', /2 dbench runs started, 1 printed a "Throughput" line/);
});

test.run();

const real = suite('dbench 4.0 really run with 1 and 2 clients, concatenated');
const it = guardedSuite(real, await missingRequirement(needsPrograms('dbench')), 'the real dbench runs');
let work = '';
real.before(async () => {
  work = await scratchDir('dbench');
});
real.after(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

it('both runs parsed, each with the client count asked for, throughput and latency as dbench printed them', async () => {
  let text = '';
  for (const clients of [1, 2]) text += await run('dbench', ['-t', '2', '-D', work, String(clients)], { cwd: work, timeoutMs: 40_000 });
  const r = parseOutput(text, 'ctcs2/dbench4-x/dbench-4_0-async', 'dbench-4_0-async');
  assert.is(r.benchmark, 'dbench');
  const own = [...text.matchAll(/^Throughput ([\d.]+) MB\/sec\s+(\d+) clients\s+(\d+) procs\s+max_latency=([\d.]+) ms$/gm)].map((m) => ({ mbs: Number(m[1]), clients: m[2]!, procs: m[3]!, maxLat: Number(m[4]) }));
  assert.equal(own.map((o) => o.clients), ['1', '2'], 'the clients the test asked for');
  assert.is(all(r.samples, 'dbench.throughput').length, 2);
  for (const o of own) {
    assert.is(one(r.samples, 'dbench.throughput', { clients: o.clients, procs: o.procs }).value, o.mbs);
    assert.is(one(r.samples, 'dbench.max_latency', { clients: o.clients }).value, o.maxLat);
    assert.ok(o.mbs > 0, 'dbench moved data');
  }
});

real.run();

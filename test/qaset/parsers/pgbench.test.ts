import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricSampleSchema } from '../../../orchestrator/results/metrics.js';
import { parse } from '../../../orchestrator/qaset/parsers/pgbench.js';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { PostgresServer, needsPostgres } from './postgres-server.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');

/** pgbench 9.3's summary (QASET's version): two tps lines, no latency line. */
function run93(clients: number, tps: number): string {
  return [
    'starting vacuum...end.',
    'transaction type: TPC-B (sort of)',
    'scaling factor: 10',
    'query mode: simple',
    `number of clients: ${clients}`,
    'number of threads: 1',
    'duration: 60 s',
    `number of transactions actually processed: ${tps * 60}`,
    `tps = ${(tps * 0.99).toFixed(6)} (including connections establishing)`,
    `tps = ${tps.toFixed(6)} (excluding connections establishing)`,
    '',
  ].join('\n');
}

test('several runs in one file (9.3 layout): each run its own clients label, never all clients=1', () => {
  const r = parse([1, 2, 4, 8].map((c) => run93(c, 100 * c)).join(''), 'pgbench_small_rw');
  const excl = all(r.samples, 'pgbench.tps').filter((s) => s.labels['connections'] === 'excluding');
  assert.equal(excl.map((s) => [s.labels['clients'], s.value]), [
    ['1', 100],
    ['2', 200],
    ['4', 400],
    ['8', 800],
  ]);
  assert.is(one(r.samples, 'pgbench.tps', { clients: '4', connections: 'including' }).value, 396);
  assert.is(one(r.samples, 'pgbench.transactions', { clients: '8' }).value, 48000);
  assert.equal(one(r.samples, 'pgbench.transactions', { clients: '8' }).labels, { source: 'pgbench_small_rw', transaction_type: 'tpc_b_sort_of', scale: '10', query_mode: 'simple', clients: '8', threads: '1' });
  assert.not.ok(r.samples.some((s) => 'repeat' in s.labels));
});

test('the hand-written 10+ fixture: latency lines with "="; an aborted run is noted', () => {
  const r = parse(readFileSync(path.join(FIX, 'pgbench.txt'), 'utf8'), 'pgbench.txt');
  assert.is(one(r.samples, 'pgbench.tps', { connections: 'excluding', clients: '4' }).value, 2001.234567);
  assert.is(one(r.samples, 'pgbench.latency_avg').value, 2);
  assert.is(one(r.samples, 'pgbench.latency_stddev').value, 0.5);
  const aborted = parse(`${run93(1, 50)}transaction type: TPC-B (sort of)\nnumber of clients: 2\nclient 1 aborted in command 4 of script 0\n`, 'p');
  assert.is(all(aborted.samples, 'pgbench.tps').length, 2);
  assert.match(aborted.notes?.[0] ?? '', /run 2 of 2 \(2 clients\): no "tps = N" line/);
  assert.match(parse('nothing\n', 'p').unparsed ?? '', /tps/);
});

test.run();

// ------------------------------------------------------------ pgbench 15 against a real server

const real = suite('pgbench (PostgreSQL 15) against its own server: 1 and 2 clients, then select-only');
const it = guardedSuite(real, await missingRequirement(needsPostgres), 'the real pgbench runs');
let pg: PostgresServer | null = null;
real.before(async () => {
  pg = await PostgresServer.start();
  await pg.exec('pgbench', ['-h', pg.socketDir, '-i', '-s', '1', '-q', 'postgres']);
});
real.after(async () => {
  await pg?.stop();
});

it('every run parsed with its own clients, threads and transaction type; tps, latency and counts as pgbench printed them', async () => {
  const server = pg!;
  const runs = [
    ['-c', '1', '-j', '1'],
    ['-c', '2', '-j', '2'],
    ['-S', '-c', '2', '-j', '1'],
  ];
  let text = '';
  for (const args of runs) text += await server.exec('pgbench', ['-h', server.socketDir, ...args, '-T', '1', 'postgres']);
  const r = parse(text, 'pgbench_small_rw');
  assert.is(r.notes, undefined);
  // the test's own reading of each run's summary
  const own = text
    .split(/^(?=transaction type:)/m)
    .filter((b) => b.startsWith('transaction type:'))
    .map((b) => ({
      type: /^transaction type: (.*)$/m.exec(b)![1],
      clients: /^number of clients: (\d+)$/m.exec(b)![1],
      threads: /^number of threads: (\d+)$/m.exec(b)![1],
      tps: Number(/^tps = ([\d.]+)/m.exec(b)![1]),
      latency: Number(/^latency average = ([\d.]+) ms$/m.exec(b)![1]),
      processed: Number(/^number of transactions actually processed: (\d+)$/m.exec(b)![1]),
    }));
  assert.equal(own.map((o) => [o.clients, o.threads]), [['1', '1'], ['2', '2'], ['2', '1']], 'the clients and threads the test asked for');
  assert.equal(own.map((o) => o.type), ['<builtin: TPC-B (sort of)>', '<builtin: TPC-B (sort of)>', '<builtin: select only>']);
  const tps = all(r.samples, 'pgbench.tps');
  assert.is(tps.length, 3, 'one tps per run');
  const labelsOf = (o: (typeof own)[number]) => ({ clients: o.clients!, threads: o.threads!, transaction_type: o.type === '<builtin: select only>' ? 'select_only' : 'tpc_b_sort_of' });
  for (const o of own) {
    assert.is(one(r.samples, 'pgbench.tps', labelsOf(o)).value, o.tps);
    assert.is(one(r.samples, 'pgbench.tps', labelsOf(o)).labels['connections'], 'excluding', '"without initial connection time"');
    assert.is(one(r.samples, 'pgbench.latency_avg', labelsOf(o)).value, o.latency);
    assert.is(one(r.samples, 'pgbench.transactions', labelsOf(o)).value, o.processed);
    assert.is(one(r.samples, 'pgbench.failed_transactions', labelsOf(o)).value, 0);
    assert.ok(o.tps > 0);
  }
  for (const s of r.samples) assert.ok(MetricSampleSchema.safeParse(s).success, JSON.stringify(s));
});

real.run();

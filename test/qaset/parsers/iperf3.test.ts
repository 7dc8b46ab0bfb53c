// The iperf3 parser on iperf3's own JSON: reports captured from Debian's iperf 3.12 on loopback
// (./iperf3/: TCP, TCP reversed, UDP at 100 Mbit/s, a refused connection), and a live run of the
// real program on loopback (server started and stopped by PID) checked against the human-readable
// summary the same client prints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from '../../../orchestrator/qaset/parsers/iperf3.js';
import { parseOutput } from '../../../orchestrator/qaset/registry.js';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { all, one } from './real-programs.js';

const run = promisify(execFile);
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'iperf3');
const read = (f: string) => readFileSync(path.join(DIR, f), 'utf8');
const json = (f: string) => JSON.parse(read(f)) as { end: Record<string, Record<string, number>> };

test('TCP: received throughput, sent throughput, retransmits and both ends\' CPU, in Mbit/s and %', () => {
  const r = parse(read('tcp.json'), 'tcp.json');
  const end = json('tcp.json').end;
  assert.is(r.benchmark, 'iperf3');
  const labels = { protocol: 'tcp', direction: 'send', peer: '127.0.0.1' };
  assert.is(one(r.samples, 'iperf3.throughput', labels).value, end.sum_received!.bits_per_second! / 1e6);
  assert.is(one(r.samples, 'iperf3.throughput').unit, 'Mbit/s');
  assert.is(one(r.samples, 'iperf3.throughput').better, 'higher');
  assert.is(one(r.samples, 'iperf3.sent_throughput', labels).value, end.sum_sent!.bits_per_second! / 1e6);
  assert.is(one(r.samples, 'iperf3.retransmits', labels).value, end.sum_sent!.retransmits);
  assert.is(one(r.samples, 'iperf3.retransmits').better, 'lower');
  assert.is(one(r.samples, 'iperf3.cpu.local', labels).value, end.cpu_utilization_percent!.host_total);
  assert.is(one(r.samples, 'iperf3.cpu.remote', labels).value, end.cpu_utilization_percent!.remote_total);
});

test('-R is the receive direction; UDP gives throughput, jitter and loss', () => {
  const rev = parse(read('tcp-reverse.json'), 'r');
  assert.ok(one(rev.samples, 'iperf3.throughput', { direction: 'receive' }).value > 0);
  const udp = parse(read('udp.json'), 'u');
  const sum = json('udp.json').end.sum!;
  assert.is(one(udp.samples, 'iperf3.throughput', { protocol: 'udp' }).value, sum.bits_per_second! / 1e6);
  assert.is(one(udp.samples, 'iperf3.jitter', { protocol: 'udp' }).value, sum.jitter_ms);
  assert.is(one(udp.samples, 'iperf3.lost', { protocol: 'udp' }).value, sum.lost_percent);
  assert.is(all(udp.samples, 'iperf3.retransmits').length, 0);
});

test('several reports in one file are runs of their own (repeat label); a refused connection is unparsed with iperf3\'s error', () => {
  const two = parse(`${read('tcp.json')}\n${read('tcp.json')}`, 'two');
  assert.equal(all(two.samples, 'iperf3.throughput').map((s) => s.labels['repeat']), ['1', '2']);
  const refused = parse(read('refused.json'), 'refused');
  assert.is(refused.samples.length, 0);
  assert.match(refused.unparsed ?? '', /iperf3 reported an error: unable to connect to server/);
  const mixed = parse(`${read('refused.json')}\n${read('tcp.json')}`, 'mixed');
  assert.is(all(mixed.samples, 'iperf3.throughput').length, 1);
  assert.match((mixed.notes ?? []).join(' '), /unable to connect/);
});

test('hostile or foreign input: wrong types are rejected, never read as numbers; other JSON is not iperf3', () => {
  const bad = parse('{"start": {}, "intervals": [], "end": {"sum_received": {"bits_per_second": "fast"}}}', 'bad');
  assert.is(bad.samples.length, 0);
  assert.match(bad.unparsed ?? '', /no iperf3 report: end\.sum_received\.bits_per_second/);
  assert.match(parse('not json at all', 'x').unparsed ?? '', /no iperf3 JSON report/);
  assert.is(parseOutput('{"fio version": "fio-3.33", "jobs": []}', 'x', 'out.json').benchmark === 'iperf3', false);
});

test('the registry picks it by name (the stand-in\'s iperf3-fiber-tcp) and by content', () => {
  assert.is(parseOutput(read('tcp.json'), 'x', 'iperf3-fiber-tcp').benchmark, 'iperf3');
  assert.is(parseOutput(read('tcp.json'), 'x', 'stdout-1').benchmark, 'iperf3');
});

const missing = await missingRequirement(() => run('sh', ['-c', 'command -v iperf3']).then(() => null, () => 'iperf3 not installed (bash test/install-deps.sh)'));
const live = guardedSuite(test, missing, 'the live iperf3 run');

live('a real iperf3 run on loopback: the parsed throughput is what the client\'s own summary prints', async () => {
  const port = String(20000 + (process.pid % 20000));
  const server = spawn('iperf3', ['-s', '-B', '127.0.0.1', '-p', port], { stdio: 'ignore' });
  try {
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) {
      ready = await run('ss', ['-Hltn', `sport = :${port}`]).then((o) => o.stdout.trim() !== '', () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(ready, 'the server listens');
    const { stdout } = await run('iperf3', ['-c', '127.0.0.1', '-p', port, '-t', '1', '-J']);
    const r = parse(stdout, 'live');
    const parsed = one(r.samples, 'iperf3.throughput', { protocol: 'tcp', direction: 'send' }).value;
    assert.ok(parsed > 0);
    // the same figure as iperf3 prints it for people: "[SUM]"/"[  5]" ... receiver, in its own units
    const text = (await run('iperf3', ['-c', '127.0.0.1', '-p', port, '-t', '1', '-f', 'm'])).stdout;
    const m = /([\d.]+) Mbits\/sec\s+receiver/.exec(text);
    assert.ok(m, `a receiver line in ${text}`);
    // two runs on a shared machine: the same order of magnitude, not the same number
    const ratio = parsed / Number(m![1]);
    assert.ok(ratio > 0.2 && ratio < 5, `parsed ${parsed} vs printed ${m![1]} Mbit/s`);
  } finally {
    server.kill('SIGTERM');
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MetricSample } from '../../orchestrator/results/metrics.js';
import { MetricSampleSchema } from '../../orchestrator/results/metrics.js';
import { parseOutput } from '../../orchestrator/qaset/registry.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'qaset');
const read = (f: string) => readFileSync(path.join(FIX, f), 'utf8');

function one(samples: MetricSample[], metric: string, labels: Record<string, string> = {}): MetricSample {
  const hits = samples.filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.is(hits.length, 1, `${metric} ${JSON.stringify(labels)}: ${hits.length} matches`);
  return hits[0]!;
}
function parseFixture(f: string, name = f) {
  const r = parseOutput(read(f), f, name);
  for (const s of r.samples) assert.ok(MetricSampleSchema.safeParse(s).success, JSON.stringify(s));
  return r;
}

// ---------------------------------------------------------------- real program output

test('bonnie++ 2.00a CSV (real run): fields, +++++ skipped with notes, latencies in us', () => {
  const r = parseFixture('bonnie-2.00.csv');
  assert.is(r.benchmark, 'bonnie');
  const f = read('bonnie-2.00.csv').trim().split(',');
  assert.is(one(r.samples, 'bonnie.putc').value, Number(f[9]));
  assert.is(one(r.samples, 'bonnie.putc.cpu').value, Number(f[10]));
  assert.is(one(r.samples, 'bonnie.getc').value, Number(f[15]));
  assert.is(one(r.samples, 'bonnie.putc.latency').value, Number(f[38]!.replace('us', '')));
  assert.is(one(r.samples, 'bonnie.putc').unit, 'KiB/s');
  assert.is(one(r.samples, 'bonnie.putc').labels['bonnie_version'], '2.00a');
  // put_block was "+++++" in this run: no sample, a note
  assert.is(r.samples.filter((s) => s.metric === 'bonnie.put_block').length, 0);
  assert.ok(r.notes?.some((n) => n.startsWith('put_block: "+++++"')));
});

test('dbench 4 (real run)', () => {
  const r = parseFixture('dbench.txt');
  assert.is(one(r.samples, 'dbench.throughput', { clients: '1', procs: '1' }).value, 402.139);
  assert.is(one(r.samples, 'dbench.max_latency').value, 4.699);
  assert.is(one(r.samples, 'dbench.max_latency').better, 'lower');
});

test('sysbench 1.0 cpu and memory (real runs)', () => {
  const cpu = parseFixture('sysbench-cpu.txt');
  assert.is(one(cpu.samples, 'sysbench.cpu.events_per_sec', { threads: '1' }).value, 4659.65);
  assert.is(one(cpu.samples, 'sysbench.cpu.latency_p95').value, 0.25);
  const mem = parseFixture('sysbench-memory.txt');
  assert.is(one(mem.samples, 'sysbench.memory.throughput').value, 4323.11);
  assert.is(one(mem.samples, 'sysbench.memory.ops_per_sec').value, 4426869.23);
});

test('fio JSON (real run): read/write IOPS, bandwidth and latency equal the JSON values', () => {
  const json = JSON.parse(read('fio.json'));
  const job = json.jobs[0];
  const r = parseFixture('fio.json');
  assert.is(one(r.samples, 'fio.iops', { rw: 'read' }).value, job.read.iops);
  assert.is(one(r.samples, 'fio.iops', { rw: 'write' }).value, job.write.iops);
  assert.is(one(r.samples, 'fio.bw', { rw: 'read' }).value, job.read.bw);
  assert.is(one(r.samples, 'fio.lat_mean', { rw: 'read' }).value, job.read.lat_ns.mean / 1000);
  assert.is(one(r.samples, 'fio.clat_p99', { rw: 'write' }).value, job.write.clat_ns.percentile['99.000000'] / 1000);
  assert.is(r.samples.filter((s) => s.labels['rw'] === 'trim').length, 0, 'no samples for an idle direction');
});

test('fio 3.x text (real run)', () => {
  const r = parseFixture('fio.txt');
  assert.is(one(r.samples, 'fio.iops', { rw: 'read', job: 'randrw' }).value, 10200);
  assert.is(one(r.samples, 'fio.bw', { rw: 'write' }).value, 40 * 1024);
  assert.is(one(r.samples, 'fio.lat_mean', { rw: 'read' }).value, 78.81);
  assert.is(one(r.samples, 'fio.lat_mean', { rw: 'write' }).value, 4.46);
});

// ---------------------------------------------------------------- hand-written documented formats

test('bonnie++ 1.03 CSV line after the table', () => {
  const r = parseFixture('bonnie-1.03.txt');
  assert.is(one(r.samples, 'bonnie.put_block').value, 120000);
  assert.is(one(r.samples, 'bonnie.seeks').value, 350.5);
  assert.is(one(r.samples, 'bonnie.seeks').unit, 'seeks/s');
  assert.is(one(r.samples, 'bonnie.seq_del').value, 30000);
  assert.is(one(r.samples, 'bonnie.ran_del.cpu').value, 70);
  assert.is(r.samples.filter((s) => s.metric === 'bonnie.seq_create').length, 0);
  assert.is(r.notes?.length, 4);
});

test('iozone -R blocks', () => {
  const r = parseFixture('iozone.txt');
  assert.is(one(r.samples, 'iozone.writer', { file_kb: '128', record_kb: '8' }).value, 130000);
  assert.is(one(r.samples, 'iozone.reader', { file_kb: '64', record_kb: '4' }).value, 400000);
  assert.is(one(r.samples, 'iozone.random_write', { file_kb: '128', record_kb: '4' }).value, 91000);
  assert.is(r.samples.filter((s) => s.metric === 'iozone.random_write').length, 3);
});

test('tiobench sections', () => {
  const r = parseFixture('tiobench.txt');
  assert.is(one(r.samples, 'tiobench.rate', { op: 'sequential_reads', threads: '4' }).value, 160.25);
  assert.is(one(r.samples, 'tiobench.cpu', { op: 'sequential_reads', threads: '4' }).value, 40);
  assert.is(one(r.samples, 'tiobench.latency_max', { op: 'random_writes' }).value, 3.5);
});

test('kernbench averages with sd', () => {
  const r = parseFixture('kernbench.txt');
  assert.is(one(r.samples, 'kernbench.elapsed_time', { load: 'optimal', jobs: '8' }).value, 250.75);
  assert.is(one(r.samples, 'kernbench.elapsed_time.sd', { load: 'half' }).value, 2.25);
});

test('reaim rows', () => {
  const r = parseFixture('reaim.txt');
  assert.is(one(r.samples, 'reaim.jobs_per_min', { forks: '4' }).value, 2000);
  assert.is(one(r.samples, 'reaim.jti', { forks: '4' }).value, 98);
  assert.is(one(r.samples, 'reaim.max_jobs_per_min').value, 2000);
});

test('netperf TCP_STREAM, UDP_STREAM, TCP_RR', () => {
  const r = parseFixture('netperf.txt');
  assert.is(one(r.samples, 'netperf.tcp_stream.throughput').value, 9876.54);
  assert.is(one(r.samples, 'netperf.udp_stream.send_throughput', { msg_size: '1024' }).value, 819.2);
  assert.is(one(r.samples, 'netperf.udp_stream.recv_throughput').value, 811.01);
  assert.is(one(r.samples, 'netperf.tcp_rr.trans_per_sec').value, 45678.9);
});

test('lmbench summary tables', () => {
  const r = parseFixture('lmbench.txt');
  assert.is(one(r.samples, 'lmbench.null_call').value, 0.05);
  assert.is(one(r.samples, 'lmbench.exec_proc').value, 310);
  assert.is(one(r.samples, 'lmbench.sh_proc').value, 1100);
  assert.is(one(r.samples, 'lmbench.sh_proc').better, 'lower');
  assert.is(one(r.samples, 'lmbench.mem_write').value, 6500);
  assert.is(one(r.samples, 'lmbench.tcp', { table: 'local_communication_bandwidths_in_mb_s' }).unit, 'MB/s');
  assert.is(one(r.samples, 'lmbench.af_unix').better, 'higher');
});

test('pgbench tps', () => {
  const r = parseFixture('pgbench.txt');
  assert.is(one(r.samples, 'pgbench.tps', { connections: 'excluding', clients: '4' }).value, 2001.234567);
  assert.is(one(r.samples, 'pgbench.latency_avg').value, 2);
});

test('sysbench oltp', () => {
  const r = parseFixture('sysbench-oltp.txt');
  assert.is(one(r.samples, 'sysbench.oltp.tps', { threads: '8' }).value, 333.25);
  assert.is(one(r.samples, 'sysbench.oltp.latency_p95').value, 40.37);
});

test('ctcs2 test_results', () => {
  const r = parseFixture('test_results');
  assert.is(one(r.samples, 'ctcs2.fail', { test: 'iozone-doublemem' }).value, 1);
  assert.is(one(r.samples, 'ctcs2.time', { test: 'kernbench' }).value, 1200);
  assert.is(one(r.samples, 'ctcs2.skipped', { test: 'kernbench' }).value, 1);
});

test('content sniffing when the name says nothing; unknown output reported, not dropped', () => {
  assert.is(parseOutput(read('dbench.txt'), 'x', 'stdout-1').benchmark, 'dbench');
  assert.is(parseOutput(read('fio.json'), 'x', 'out.json').benchmark, 'fio');
  assert.is(parseOutput(read('iozone.txt'), 'x', 'out').benchmark, 'iozone');
  const u = parseOutput(read('unknown.txt'), 'unknown.txt');
  assert.is(u.samples.length, 0);
  assert.ok(u.unparsed);
  // a name that points at a parser which finds nothing says why
  const b = parseOutput('bonnie++ crashed\n', 'bonnie++-async');
  assert.is(b.benchmark, 'bonnie');
  assert.match(b.unparsed ?? '', /CSV/);
});

test.run();

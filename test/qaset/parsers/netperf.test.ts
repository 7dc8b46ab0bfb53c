import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '../../../orchestrator/qaset/parsers/netperf.js';
import { all, one } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const read = (f: string) => readFileSync(path.join(FIX, f), 'utf8');

test('TCP_STREAM, UDP_STREAM and TCP_RR tables', () => {
  const r = parse(read('netperf.txt'), 'netperf.txt');
  assert.is(one(r.samples, 'netperf.tcp_stream.throughput').value, 9876.54);
  assert.is(one(r.samples, 'netperf.tcp_stream.throughput').unit, 'Mbit/s');
  assert.is(one(r.samples, 'netperf.udp_stream.send_throughput', { msg_size: '1024' }).value, 819.2);
  assert.is(one(r.samples, 'netperf.udp_stream.recv_throughput').value, 811.01);
  assert.is(one(r.samples, 'netperf.tcp_rr.trans_per_sec', { req_size: '1', resp_size: '1' }).value, 45678.9);
});

test('netperf 2.6 loop file: one sample per test and message size; a size repeated gets a repeat label', () => {
  const r = parse(read('netperf-2.6-loop.txt'), 'netperf_loop4-tcp');
  assert.equal(all(r.samples, 'netperf.tcp_stream.throughput').map((s) => [s.labels['msg_size'], s.labels['repeat'], s.value]), [
    ['64', undefined, 812.35],
    ['1024', undefined, 6420.1],
    ['16384', '1', 18233.77],
    ['16384', '2', 18190.02],
  ]);
  assert.equal(all(r.samples, 'netperf.udp_stream.recv_throughput').map((s) => [s.labels['msg_size'], s.value]), [['64', 41.8], ['1024', 669.01]]);
  assert.is(one(r.samples, 'netperf.udp_stream.send_errors', { msg_size: '64' }).value, 0);
  assert.match(parse('MIGRATED TCP STREAM TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to 127.0.0.1 () port 0 AF_INET\nnetperf: send_omni: connect_data_socket failed: Connection refused\n', 'n').unparsed ?? '', /no result row/);
});

test.run();

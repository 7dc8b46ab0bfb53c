// netperf classic output. Each test starts with a banner such as
//   MIGRATED TCP STREAM TEST from 0.0.0.0 (0.0.0.0) port 0 AF_INET to 127.0.0.1 () port 0 AF_INET
// followed by a header whose units line names the throughput unit (10^6bits/sec, KBytes/sec...).
//   TCP_STREAM row:  recv_sock send_sock msg_size elapsed throughput [cpu columns...]
//   UDP_STREAM rows: sock msg_size elapsed msgs_ok errors throughput   (sending side)
//                    sock elapsed msgs_ok throughput                    (receiving side)
//   *_RR row:        send_sock recv_sock req_size resp_size elapsed trans_per_sec
// A file holds one test per banner (QASET's netperf 2.6 cases run several tests and message sizes
// into one file); a test's message/request sizes are labels, tests repeated with the same sizes get
// a `repeat` label.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num } from '../sample-builder.js';

const BANNER = /\b(TCP|UDP|SCTP)\s+(STREAM|MAERTS|REQUEST\/RESPONSE|RR|CONNECT\/REQUEST\/RESPONSE)\s+TEST\b/;

function unitOf(block: string): { unit: string; factor: number } {
  const m = /10\^(\d)bits\/s(?:ec)?/.exec(block);
  if (m) return { unit: 'Mbit/s', factor: 10 ** Number(m[1]) / 1e6 };
  const b = /(K|M|G)Bytes\/s(?:ec)?/.exec(block);
  if (b) return { unit: 'MiB/s', factor: { K: 1 / 1024, M: 1, G: 1024 }[b[1] as 'K' | 'M' | 'G'] };
  return { unit: 'Mbit/s', factor: 1 };
}

function numericRows(block: string): number[][] {
  const out: number[][] = [];
  for (const l of lines(block)) {
    const t = l.trim().split(/\s+/);
    if (t.length < 2) continue;
    const v = t.map(num);
    if (v.every((x) => x !== null)) out.push(v as number[]);
  }
  return out;
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const ls = lines(text);
  const starts: number[] = [];
  ls.forEach((l, i) => {
    if (BANNER.test(l)) starts.push(i);
  });
  let tests = 0;
  starts.forEach((start, k) => {
    const block = ls.slice(start, starts[k + 1] ?? ls.length).join('\n');
    const b = BANNER.exec(ls[start]!)!;
    const proto = b[1]!.toLowerCase();
    const kind = b[2] === 'STREAM' || b[2] === 'MAERTS' ? b[2].toLowerCase() : 'rr';
    const test = `${proto}_${kind}`;
    const rows = numericRows(block);
    const u = unitOf(block);
    const labels = { test };
    s.newRun();
    if (kind === 'rr') {
      const r = rows.find((x) => x.length >= 6);
      if (!r) return;
      tests++;
      s.add(`netperf.${test}.trans_per_sec`, r[5], 'transactions/s', 'higher', { ...labels, req_size: String(r[2]), resp_size: String(r[3]) });
    } else if (proto === 'udp') {
      const send = rows.find((x) => x.length >= 6);
      if (!send) return;
      tests++;
      const l = { ...labels, msg_size: String(send[1]) };
      s.add(`netperf.${test}.send_throughput`, send[5]! * u.factor, u.unit, 'higher', l);
      s.add(`netperf.${test}.send_errors`, send[4], 'count', 'lower', l);
      const recv = rows.find((x) => x !== send && x.length >= 4 && x.length < 6);
      if (recv) s.add(`netperf.${test}.recv_throughput`, recv[3]! * u.factor, u.unit, 'higher', l);
    } else {
      const r = rows.find((x) => x.length >= 5);
      if (!r) return;
      tests++;
      s.add(`netperf.${test}.throughput`, r[4]! * u.factor, u.unit, 'higher', { ...labels, msg_size: String(r[2]) });
    }
  });
  if (starts.length === 0) return none('netperf', 'no netperf "... TCP/UDP STREAM/RR TEST ..." banner found');
  if (tests === 0) return none('netperf', 'netperf banner(s) found but no result row (test failed?)');
  return { benchmark: 'netperf', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'netperf',
  name: /netperf/i,
  sniff: (t) => BANNER.test(t),
  parse,
};

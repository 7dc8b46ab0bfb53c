// iperf3's JSON report (`iperf3 -c HOST -J`; iperf 3.x): one document per run, several may share a
// file (a case's raw output), each validated. From `end`:
//   TCP  sum_received.bits_per_second (what arrived: the throughput), sum_sent.bits_per_second,
//        sum_sent.retransmits (Linux senders), cpu_utilization_percent host_total / remote_total
//   UDP  sum.bits_per_second, sum.jitter_ms, sum.lost_percent, and the CPU figures
// Labels: protocol (tcp/udp), direction (send: the client sends; receive: -R, the server sends),
// peer (the server's address, from start.connected), streams (-P) when above 1. A run that reports an error ("unable to connect to server...") has no
// samples; a file of nothing but errors is unparsed with the first error.
import * as z from 'zod';
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, none } from '../sample-builder.js';

const Num = z.number().finite();

const Sum = z
  .object({
    seconds: Num.optional(),
    bytes: Num.optional(),
    bits_per_second: Num.nonnegative(),
    retransmits: Num.nonnegative().optional(),
    jitter_ms: Num.nonnegative().optional(),
    lost_percent: Num.nonnegative().optional(),
    lost_packets: Num.nonnegative().optional(),
    packets: Num.nonnegative().optional(),
  })
  .passthrough();

const Report = z
  .object({
    start: z
      .object({
        version: z.string().max(100).optional(),
        connected: z.array(z.object({ remote_host: z.string().max(100).optional() }).passthrough()).optional(),
        test_start: z
          .object({
            protocol: z.string().max(20).optional(),
            num_streams: Num.optional(),
            duration: Num.optional(),
            reverse: Num.optional(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough(),
    intervals: z.array(z.unknown()),
    end: z
      .object({
        sum_sent: Sum.optional(),
        sum_received: Sum.optional(),
        sum: Sum.optional(),
        cpu_utilization_percent: z.object({ host_total: Num.optional(), remote_total: Num.optional() }).passthrough().optional(),
      })
      .passthrough(),
    error: z.string().optional(),
  })
  .passthrough();
type Report = z.infer<typeof Report>;

/** The balanced top-level JSON objects of text, in order (strings honoured). */
function documents(text: string): string[] {
  const docs: string[] = [];
  let i = 0;
  while ((i = text.indexOf('{', i)) !== -1) {
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    if (j >= text.length) break;
    docs.push(text.slice(i, j + 1));
    i = j + 1;
  }
  return docs;
}

function reports(text: string): { reports: Report[]; invalid: string[] } {
  const out: Report[] = [];
  const invalid: string[] = [];
  for (const doc of documents(text)) {
    let value: unknown;
    try {
      value = JSON.parse(doc);
    } catch (error) {
      invalid.push(`not JSON: ${(error as Error).message}`);
      continue;
    }
    const parsed = Report.safeParse(value);
    if (parsed.success) out.push(parsed.data);
    else invalid.push(parsed.error.issues.slice(0, 2).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return { reports: out, invalid };
}

const MBIT = 1e6;

export function parse(text: string, source: string): ParseResult {
  const { reports: runs, invalid } = reports(text);
  if (runs.length === 0) return none('iperf3', invalid.length > 0 ? `no iperf3 report: ${invalid[0]}` : 'no iperf3 JSON report (iperf3 -J) in this output');
  const s = new Samples({ source });
  const errors: string[] = [];
  for (const r of runs) {
    if (r.error !== undefined) {
      errors.push(r.error.slice(0, 200));
      continue;
    }
    const t = r.start.test_start ?? {};
    const protocol = (t.protocol ?? (r.end.sum?.jitter_ms !== undefined ? 'UDP' : 'TCP')).toLowerCase();
    const labels: Record<string, string> = { protocol, direction: t.reverse ? 'receive' : 'send' };
    if (t.num_streams !== undefined && t.num_streams > 1) labels['streams'] = String(t.num_streams);
    // the server measured against (an address only: host text is not a label)
    const peer = r.start.connected?.[0]?.remote_host;
    if (peer !== undefined && /^[0-9a-fA-F.:]{2,45}$/.test(peer)) labels['peer'] = peer;
    s.newRun();
    if (protocol === 'udp') {
      const sum = r.end.sum ?? r.end.sum_received;
      if (!sum) continue;
      s.add('iperf3.throughput', sum.bits_per_second / MBIT, 'Mbit/s', 'higher', labels);
      s.add('iperf3.jitter', sum.jitter_ms, 'ms', 'lower', labels);
      s.add('iperf3.lost', sum.lost_percent, '%', 'lower', labels);
    } else {
      const received = r.end.sum_received;
      const sent = r.end.sum_sent;
      if (!received && !sent) continue;
      s.add('iperf3.throughput', (received ?? sent)!.bits_per_second / MBIT, 'Mbit/s', 'higher', labels);
      if (sent) s.add('iperf3.sent_throughput', sent.bits_per_second / MBIT, 'Mbit/s', 'higher', labels);
      if (sent?.retransmits !== undefined) s.add('iperf3.retransmits', sent.retransmits, 'count', 'lower', labels);
    }
    const cpu = r.end.cpu_utilization_percent;
    if (cpu) {
      s.add('iperf3.cpu.local', cpu.host_total, '%', 'lower', labels);
      s.add('iperf3.cpu.remote', cpu.remote_total, '%', 'lower', labels);
    }
  }
  const samples = s.list;
  if (samples.length === 0) return none('iperf3', errors.length > 0 ? `iperf3 reported an error: ${errors[0]}` : 'the iperf3 reports hold no end summary');
  const notes = [...errors.map((e) => `a run reported an error: ${e}`), ...invalid.map((e) => `a document is not an iperf3 report: ${e}`)];
  return { benchmark: 'iperf3', samples, ...(notes.length > 0 ? { notes } : {}) };
}

export const parser: OutputParser = {
  benchmark: 'iperf3',
  name: /iperf3/i,
  sniff: (text) => /^\s*\{/.test(text) && text.includes('"intervals"') && text.includes('"end"') && /"(sum_sent|sum_received|sum)"\s*:/.test(text),
  parse,
};

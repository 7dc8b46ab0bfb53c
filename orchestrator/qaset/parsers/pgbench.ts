// pgbench: "tps = 1234.567890 (including connections establishing)" / "(excluding ...)" /
// "(without initial connection time)" (PostgreSQL 14+), "latency average = 3.245 ms".
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, none } from '../sample-builder.js';

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const base: Record<string, string> = {};
  const clients = /number of clients:\s*(\d+)/.exec(text);
  if (clients) base['clients'] = clients[1]!;
  const scale = /scaling factor:\s*(\d+)/.exec(text);
  if (scale) base['scale'] = scale[1]!;
  for (const m of text.matchAll(/^tps = ([\d.]+)(?:\s+\((including|excluding|without)[^)]*\))?/gm)) {
    const conn: Record<string, string> = m[2] === undefined ? {} : { connections: m[2] === 'including' ? 'including' : 'excluding' };
    s.add('pgbench.tps', Number(m[1]), 'transactions/s', 'higher', { ...base, ...conn });
  }
  const lat = /^latency average\s*=\s*([\d.]+)\s*ms/m.exec(text);
  if (lat) s.add('pgbench.latency_avg', Number(lat[1]), 'ms', 'lower', base);
  const sd = /^latency stddev\s*=\s*([\d.]+)\s*ms/m.exec(text);
  if (sd) s.add('pgbench.latency_stddev', Number(sd[1]), 'ms', 'lower', base);
  if (s.list.length === 0) return none('pgbench', 'no "tps = N" line found');
  return { benchmark: 'pgbench', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'pgbench',
  name: /pgbench/i,
  sniff: (t) => /^tps = [\d.]+/m.test(t),
  parse,
};

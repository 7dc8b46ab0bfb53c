// dbench: "Throughput 402.139 MB/sec  1 clients  1 procs  max_latency=4.699 ms" (dbench 4),
// "Throughput 123.4 MB/sec 4 procs" (dbench 3).
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, none } from '../sample-builder.js';

const RE = /Throughput\s+([\d.]+)\s+MB\/sec(?:\s+(\d+)\s+clients)?(?:\s+(\d+)\s+procs)?(?:\s+max_latency=([\d.]+)\s*ms)?/g;

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  let n = 0;
  for (const m of text.matchAll(RE)) {
    n++;
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) labels['clients'] = m[2];
    if (m[3] !== undefined) labels['procs'] = m[3];
    s.add('dbench.throughput', Number(m[1]), 'MB/s', 'higher', labels);
    if (m[4] !== undefined) s.add('dbench.max_latency', Number(m[4]), 'ms', 'lower', labels);
  }
  if (n === 0) return none('dbench', 'no "Throughput X MB/sec" line found (dbench did not finish?)');
  return { benchmark: 'dbench', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'dbench',
  name: /dbench/i,
  sniff: (t) => /Throughput\s+[\d.]+\s+MB\/sec\s+\d+\s+(clients|procs)/.test(t),
  parse,
};

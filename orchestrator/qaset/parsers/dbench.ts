// dbench. A file holds one or more runs (QASET's dbench 4.0 files hold seven); each run ends with
// its result line, whose client and process counts become labels:
//   "Throughput 402.139 MB/sec  1 clients  1 procs  max_latency=4.699 ms"   (dbench 4)
//   "Throughput 123.4 MB/sec 4 procs"                                        (dbench 3)
// A run that started ("dbench version ..." banner) but printed no result line is noted.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, none, num } from '../sample-builder.js';

const RESULT = /Throughput\s+([\d.]+)\s+MB\/sec(?:\s+(\d+)\s+clients)?(?:\s+(\d+)\s+procs)?(?:\s+max_latency=([\d.]+)\s*ms)?/g;
const BANNER = /^dbench version \S+/gm;

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  let results = 0;
  for (const m of text.matchAll(RESULT)) {
    results++;
    s.newRun();
    const labels: Record<string, string> = {};
    if (m[2] !== undefined) labels['clients'] = m[2];
    if (m[3] !== undefined) labels['procs'] = m[3];
    s.add('dbench.throughput', num(m[1]), 'MB/s', 'higher', labels);
    if (m[4] !== undefined) s.add('dbench.max_latency', num(m[4]), 'ms', 'lower', labels);
  }
  const started = [...text.matchAll(BANNER)].length;
  const notes = started > results ? [`${started} dbench runs started, ${results} printed a "Throughput" line`] : [];
  if (results === 0) {
    const r = none('dbench', 'no "Throughput X MB/sec" line found (dbench did not finish?)');
    return notes.length > 0 ? { ...r, notes } : r;
  }
  const r: ParseResult = { benchmark: 'dbench', samples: s.list };
  if (notes.length > 0) r.notes = notes;
  return r;
}

export const parser: OutputParser = {
  benchmark: 'dbench',
  name: /dbench/i,
  sniff: (t) => /Throughput\s+[\d.]+\s+MB\/sec\s+\d+\s+(clients|procs)/.test(t),
  parse,
};

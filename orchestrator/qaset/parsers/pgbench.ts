// pgbench (9.3 as QASET ships it, 15 as Debian does). A file holds one or more runs (QASET runs
// several client counts into one file); each run's summary starts with "transaction type:" and
// carries its own parameters, which become labels:
//   transaction type: <builtin: TPC-B (sort of)>      (9.3: "TPC-B (sort of)", "SELECT only")
//   scaling factor: 10 / query mode: simple / number of clients: 4 / number of threads: 2
// then the results:
//   number of transactions actually processed: 120000
//   number of failed transactions: 0 (0.000%)                         (15)
//   latency average = 2.000 ms  (10+; 9.4: "latency average: 2.000 ms"), latency stddev likewise
//   tps = 1999.87 (including connections establishing)                 (<= 13, with "excluding")
//   tps = 2248.72 (without initial connection time)                    (14+: counted as "excluding")
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, none, num, slug, splitRuns } from '../sample-builder.js';

const RUN_START = /^transaction type:/;

function field(run: string, re: RegExp): string | undefined {
  return re.exec(run)?.[1];
}

function runLabels(run: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const type = field(run, /^transaction type:\s*(.+?)\s*$/m);
  if (type !== undefined) labels['transaction_type'] = slug(type.replace(/^<builtin:\s*/, '').replace(/>$/, ''));
  const scale = field(run, /^scaling factor:\s*(\d+)/m);
  if (scale !== undefined) labels['scale'] = scale;
  const mode = field(run, /^query mode:\s*(\w+)/m);
  if (mode !== undefined) labels['query_mode'] = mode;
  const clients = field(run, /^number of clients:\s*(\d+)/m);
  if (clients !== undefined) labels['clients'] = clients;
  const threads = field(run, /^number of threads:\s*(\d+)/m);
  if (threads !== undefined) labels['threads'] = threads;
  return labels;
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const notes: string[] = [];
  const runs = splitRuns(text, RUN_START);
  runs.forEach((run, i) => {
    const labels = runLabels(run);
    s.newRun();
    const before = s.size;
    for (const m of run.matchAll(/^tps = ([\d.]+)(?:\s+\((including|excluding|without)[^)]*\))?/gm)) {
      const conn: Record<string, string> = m[2] === undefined ? {} : { connections: m[2] === 'including' ? 'including' : 'excluding' };
      s.add('pgbench.tps', num(m[1]), 'transactions/s', 'higher', { ...labels, ...conn });
    }
    if (s.size === before) {
      if (RUN_START.test(run.trimStart())) notes.push(`run ${i + 1} of ${runs.length}${labels['clients'] ? ` (${labels['clients']} clients)` : ''}: no "tps = N" line (aborted?)`);
      return;
    }
    s.add('pgbench.latency_avg', num(field(run, /^latency average\s*[=:]\s*([\d.]+)\s*ms/m)), 'ms', 'lower', labels);
    s.add('pgbench.latency_stddev', num(field(run, /^latency stddev\s*[=:]\s*([\d.]+)\s*ms/m)), 'ms', 'lower', labels);
    s.add('pgbench.transactions', num(field(run, /^number of transactions actually processed:\s*(\d+)/m)), 'count', 'none', labels);
    s.add('pgbench.failed_transactions', num(field(run, /^number of failed transactions:\s*(\d+)/m)), 'count', 'lower', labels);
  });
  if (s.size === 0) {
    const r = none('pgbench', 'no "tps = N" line found');
    return notes.length > 0 ? { ...r, notes } : r;
  }
  const r: ParseResult = { benchmark: 'pgbench', samples: s.list };
  if (notes.length > 0) r.notes = notes;
  return r;
}

export const parser: OutputParser = {
  benchmark: 'pgbench',
  name: /pgbench/i,
  sniff: (t) => /^tps = [\d.]+/m.test(t),
  parse,
};

// sysbench 1.0 (and the 0.4/0.5 wording where it differs): cpu "events per second: N",
// memory "X MiB transferred (Y MiB/sec)", oltp "transactions: N (X per sec.)" and the latency
// block ("Latency (ms):" in 1.0, "per-request statistics:" with ms suffixes in 0.4).
// A file may hold several runs: each starts with a "sysbench <version>" banner.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, none } from '../sample-builder.js';

function splitRuns(text: string): string[] {
  const parts = text.split(/^(?=sysbench \d)/m).filter((p) => /\S/.test(p));
  return parts.length > 0 ? parts : [text];
}

function modeOf(run: string): string | null {
  if (/Prime numbers limit|events per second:/.test(run)) return 'cpu';
  if (/memory speed test|MiB transferred|MB transferred/.test(run)) return 'memory';
  if (/transactions:\s+\d+\s+\(/.test(run)) return 'oltp';
  if (/File operations:|Operations performed:/.test(run)) return 'fileio';
  return null;
}

function field(run: string, re: RegExp): number | null {
  const m = re.exec(run);
  return m ? Number(m[1]) : null;
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const runs = splitRuns(text);
  let understood = 0;
  runs.forEach((run, i) => {
    const mode = modeOf(run);
    if (mode === null) return;
    understood++;
    const labels: Record<string, string> = {};
    const threads = /Number of threads:\s*(\d+)/.exec(run);
    if (threads) labels['threads'] = threads[1]!;
    if (runs.length > 1) labels['run'] = String(i + 1);
    const p = `sysbench.${mode}`;
    if (mode === 'cpu') {
      s.add(`${p}.events_per_sec`, field(run, /events per second:\s*([\d.]+)/), 'events/s', 'higher', labels);
      s.add(`${p}.total_time`, field(run, /total time:\s*([\d.]+)s/), 's', 'none', labels);
    } else if (mode === 'memory') {
      const m = /([\d.]+)\s+(MiB|MB) transferred \(([\d.]+) (?:MiB|MB)\/sec\)/.exec(run);
      if (m) s.add(`${p}.throughput`, Number(m[3]), 'MiB/s', 'higher', labels);
      s.add(`${p}.ops_per_sec`, field(run, /Total operations:\s*\d+\s+\(\s*([\d.]+) per second\)/), 'ops/s', 'higher', labels);
    } else if (mode === 'oltp') {
      s.add(`${p}.tps`, field(run, /transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/), 'transactions/s', 'higher', labels);
      s.add(`${p}.qps`, field(run, /queries:\s+\d+\s+\(([\d.]+) per sec\.\)/), 'queries/s', 'higher', labels);
    } else {
      s.add(`${p}.reads_per_sec`, field(run, /reads\/s:\s*([\d.]+)/), 'ops/s', 'higher', labels);
      s.add(`${p}.writes_per_sec`, field(run, /writes\/s:\s*([\d.]+)/), 'ops/s', 'higher', labels);
      s.add(`${p}.read_mib_per_sec`, field(run, /read, MiB\/s:\s*([\d.]+)/), 'MiB/s', 'higher', labels);
      s.add(`${p}.written_mib_per_sec`, field(run, /written, MiB\/s:\s*([\d.]+)/), 'MiB/s', 'higher', labels);
    }
    s.add(`${p}.latency_avg`, field(run, /^\s*avg:\s*([\d.]+)(?:ms)?\s*$/m), 'ms', 'lower', labels);
    s.add(`${p}.latency_max`, field(run, /^\s*max:\s*([\d.]+)(?:ms)?\s*$/m), 'ms', 'lower', labels);
    s.add(`${p}.latency_p95`, field(run, /95(?:th)? percentile:\s*([\d.]+)(?:ms)?\s*$/m), 'ms', 'lower', labels);
  });
  if (understood === 0) return none('sysbench', 'no sysbench cpu/memory/oltp/fileio result block found');
  if (s.list.length === 0) return none('sysbench', 'sysbench run(s) found without any result numbers (interrupted?)');
  return { benchmark: 'sysbench', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'sysbench',
  name: /sysbench/i,
  sniff: (t) => /^sysbench \d/m.test(t) && modeOf(t) !== null,
  parse,
};

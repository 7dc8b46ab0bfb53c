// sysbench, the versions QASET and Debian ship. A file holds one or more runs (QASET's
// sysbench-{cpu,threads,memory,mutex,oltp} files hold about nine, one per thread count); each run
// starts with its banner:
//   0.4.8 (QASET):  "sysbench v0.4.8:  multi-threaded system evaluation benchmark"
//   0.4.10-0.5:     "sysbench 0.4.12:  multi-threaded system evaluation benchmark"
//   1.0 (Debian):   "sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)"
// and says "Number of threads: N" (a label, so runs at different thread counts stay apart).
//
// The test a run did is read from its text ("Doing CPU performance benchmark", "Prime numbers
// limit:", "Doing mutex performance test"...); sysbench 1.0 prints nothing that tells threads from
// mutex, so the file name (sysbench-threads, sysbench-mutex) decides when the text does not.
//
// Numbers per run:
//   - general statistics: "total time: 2.0003s", "total number of events: 9325";
//   - per-event latency: 1.0 prints "Latency (ms):" then bare numbers in ms; 0.4 prints
//     "per-request statistics:" with a unit on every value: 0.4.8 in seconds ("0.4121s"),
//     0.4.10+ in milliseconds ("2.81ms"); the percentile line is "95th percentile:" (1.0) or
//     "approx.  95 percentile:" (0.4). All are converted to ms;
//   - cpu: "events per second:" (1.0); 0.4 prints none, so it is events / total time (which is
//     how 1.0 computes it); "Prime numbers limit" / "Maximum prime number checked" is a label;
//   - memory: "Total operations: N (X per second)" + "X MiB transferred (Y MiB/sec)" (1.0),
//     "Operations performed: N (X ops/sec)" + "X MB transferred (Y MB/sec)" (0.4, MB = 2^20 bytes);
//     block size and operation are labels;
//   - oltp: "transactions: N (X per sec.)", "queries: N (X per sec.)" (1.0) or
//     "read/write requests: N (X per sec.)" (0.4);
//   - fileio: 1.0's "reads/s:" ... block, 0.4's "Requests/sec executed".
// threads and mutex print no rate: they get events_per_sec too (events / total time).
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, durationMs, lines, none, num, splitRuns } from '../sample-builder.js';

const BANNER = /^\s*sysbench\s+v?\d+\.\d+/;

type Mode = 'cpu' | 'memory' | 'threads' | 'mutex' | 'oltp' | 'fileio';

const MODE_TEXT: [Mode, RegExp][] = [
  ['cpu', /Doing CPU performance benchmark|Prime numbers limit:|Maximum prime number checked|events per second:/],
  ['memory', /Doing memory operations speed test|memory speed test|i?B transferred \(/],
  ['threads', /Doing thread subsystem performance test|Thread yields per test/],
  ['mutex', /Doing mutex performance test/],
  ['oltp', /Doing OLTP test|OLTP test statistics|SQL statistics:|transactions:\s+\d+\s+\(/],
  ['fileio', /Doing file operations|File operations:|Extra file open flags|Requests\/sec executed/],
];

function modeOf(run: string, source: string): Mode | null {
  for (const [mode, re] of MODE_TEXT) if (re.test(run)) return mode;
  const base = source.split(/[/!]/).pop() ?? '';
  const m = /sysbench[-_.]?(cpu|memory|threads|mutex|oltp|fileio)/i.exec(base);
  return m ? (m[1]!.toLowerCase() as Mode) : null;
}

function field(run: string, re: RegExp): string | undefined {
  return re.exec(run)?.[1];
}

/** The latency block of a run, in ms: min/avg/max and the percentile line(s). */
function latencies(run: string): { stat: string; ms: number }[] {
  const out: { stat: string; ms: number }[] = [];
  let bare: 'ms' | null = null;
  let inBlock = false;
  for (const line of lines(run)) {
    if (/^\s*Latency \(ms\):/.test(line)) {
      inBlock = true;
      bare = 'ms';
      continue;
    }
    if (/^\s*per-request statistics:/.test(line)) {
      inBlock = true;
      bare = null; // 0.4: every value carries its unit
      continue;
    }
    if (!inBlock) continue;
    const m = /^\s*(min|avg|max|approx\.\s+(\d+)\s+percentile|(\d+)th percentile):\s*(\S+)\s*$/.exec(line);
    if (!m) {
      if (/^\s*sum:/.test(line)) continue;
      if (line.trim() === '' || /^\S/.test(line)) inBlock = false;
      continue;
    }
    const ms = durationMs(m[4], bare);
    if (ms === null) continue;
    const pct = m[2] ?? m[3];
    out.push({ stat: pct !== undefined ? `p${pct}` : m[1]!, ms });
  }
  return out;
}

function runLabels(run: string, mode: Mode): Record<string, string> {
  const labels: Record<string, string> = {};
  const threads = field(run, /Number of threads:\s*(\d+)/);
  if (threads !== undefined) labels['threads'] = threads;
  if (mode === 'cpu') {
    const prime = field(run, /(?:Prime numbers limit|Maximum prime number checked in CPU test):\s*(\d+)/);
    if (prime !== undefined) labels['max_prime'] = prime;
  } else if (mode === 'memory') {
    const block = field(run, /(?:^\s*block size|Memory block size):\s*(\d+\s*[KMG]?i?B?)\s*$/m);
    if (block !== undefined) labels['block_size'] = block.replace(/\s+/g, '').replace(/^(\d+[KMG])i?B?$/, '$1');
    const op = field(run, /(?:^\s*operation|Memory operations type):\s*(\w+)/m);
    if (op !== undefined) labels['operation'] = op;
  }
  return labels;
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const notes: string[] = [];
  const runs = splitRuns(text, BANNER);
  let understood = 0;
  runs.forEach((run, i) => {
    const mode = modeOf(run, source);
    const before = s.size;
    const where = runs.length > 1 ? `run ${i + 1} of ${runs.length}` : 'the run';
    if (mode === null) {
      if (BANNER.test(run)) notes.push(`${where}: no sysbench test recognised, no samples`);
      return;
    }
    understood++;
    s.newRun();
    const labels = runLabels(run, mode);
    const p = `sysbench.${mode}`;
    const totalTime = num(field(run, /total time:\s*([\d.]+)s/));
    const events = num(field(run, /total number of events:\s*(\d+)/));
    const derivedRate = totalTime !== null && totalTime > 0 && events !== null ? events / totalTime : null;
    if (mode === 'cpu') {
      s.add(`${p}.events_per_sec`, num(field(run, /events per second:\s*([\d.]+)/)) ?? derivedRate, 'events/s', 'higher', labels);
    } else if (mode === 'memory') {
      const m = /([\d.]+)\s+(?:MiB|MB) transferred \(([\d.]+) (?:MiB|MB)\/sec\)/.exec(run);
      if (m) s.add(`${p}.throughput`, num(m[2]), 'MiB/s', 'higher', labels);
      const ops = field(run, /Total operations:\s*\d+\s+\(\s*([\d.]+) per second\)/) ?? field(run, /Operations performed:\s*\d+\s+\(\s*([\d.]+) ops\/sec\)/);
      s.add(`${p}.ops_per_sec`, num(ops), 'ops/s', 'higher', labels);
    } else if (mode === 'oltp') {
      s.add(`${p}.tps`, num(field(run, /transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/)), 'transactions/s', 'higher', labels);
      s.add(`${p}.qps`, num(field(run, /queries:\s+\d+\s+\(([\d.]+) per sec\.\)/)), 'queries/s', 'higher', labels);
      s.add(`${p}.rw_requests_per_sec`, num(field(run, /read\/write requests:\s+\d+\s+\(([\d.]+) per sec\.\)/)), 'requests/s', 'higher', labels);
    } else if (mode === 'fileio') {
      s.add(`${p}.reads_per_sec`, num(field(run, /reads\/s:\s*([\d.]+)/)), 'ops/s', 'higher', labels);
      s.add(`${p}.writes_per_sec`, num(field(run, /writes\/s:\s*([\d.]+)/)), 'ops/s', 'higher', labels);
      s.add(`${p}.read_mib_per_sec`, num(field(run, /read, MiB\/s:\s*([\d.]+)/)), 'MiB/s', 'higher', labels);
      s.add(`${p}.written_mib_per_sec`, num(field(run, /written, MiB\/s:\s*([\d.]+)/)), 'MiB/s', 'higher', labels);
      s.add(`${p}.requests_per_sec`, num(field(run, /([\d.]+)\s+Requests\/sec executed/)), 'requests/s', 'higher', labels);
    }
    if (mode === 'threads' || mode === 'mutex') s.add(`${p}.events_per_sec`, derivedRate, 'events/s', 'higher', labels);
    s.add(`${p}.total_time`, totalTime, 's', 'none', labels);
    s.add(`${p}.events`, events, 'count', 'none', labels);
    for (const { stat, ms } of latencies(run)) {
      if (stat === 'min') continue;
      s.add(`${p}.latency_${stat}`, ms, 'ms', 'lower', labels);
    }
    if (s.size === before) {
      const fatal = /^(?:FATAL|ALERT): .*$/m.exec(run)?.[0];
      notes.push(`${where} (${mode}${labels['threads'] ? `, ${labels['threads']} threads` : ''}): no result numbers${fatal ? ` (${fatal.slice(0, 160)})` : ' (interrupted?)'}`);
    }
  });
  if (understood === 0) return none('sysbench', 'no sysbench run (cpu, memory, threads, mutex, oltp or fileio) found');
  if (s.size === 0) {
    const r = none('sysbench', 'sysbench run(s) found without any result numbers (interrupted?)');
    return notes.length > 0 ? { ...r, notes } : r;
  }
  const r: ParseResult = { benchmark: 'sysbench', samples: s.list };
  if (notes.length > 0) r.notes = notes;
  return r;
}

export const parser: OutputParser = {
  benchmark: 'sysbench',
  name: /sysbench/i,
  sniff: (t) => lines(t).some((l) => BANNER.test(l)) && MODE_TEXT.some(([, re]) => re.test(t)),
  parse,
};

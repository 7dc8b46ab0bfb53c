// tiobench.pl: sections "Sequential Reads", "Random Reads", "Sequential Writes", "Random Writes",
// each a table whose rows end in: file_size(MB) block(bytes) threads rate(MB/s) cpu% avg_lat(ms)
// max_lat(ms) lat%>2s lat%>10s cpu_eff. The identifier (first columns) is free text, by default the
// kernel release: not a label, or a new kernel would start a new history instead of showing as a
// change (the manifest records the kernel). A file holding several tiobench runs (QASET's doublemem
// cases) repeats rows with the same size, block and threads: those get a `repeat` label.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num, slug } from '../sample-builder.js';

const SECTION = /^\s*(Sequential|Random)\s+(Reads|Writes)\s*$/;

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  let section: string | null = null;
  let rows = 0;
  for (const line of lines(text)) {
    const sec = SECTION.exec(line);
    if (sec) {
      section = slug(`${sec[1]} ${sec[2]}`);
      continue;
    }
    if (section === null) continue;
    const tok = line.trim().split(/\s+/);
    if (tok.length < 11) continue;
    const t = tok.slice(-10);
    const [size, blk, thr, rate, cpu, avg, max, l2, l10] = t;
    if (num(size) === null || num(blk) === null || num(thr) === null || num(rate) === null) continue;
    rows++;
    const labels = { op: section, file_mb: size!, block: blk!, threads: thr! };
    s.add('tiobench.rate', num(rate), 'MB/s', 'higher', labels);
    s.add('tiobench.cpu', num(cpu!.replace(/%$/, '')), '%', 'lower', labels);
    s.add('tiobench.latency_avg', num(avg), 'ms', 'lower', labels);
    s.add('tiobench.latency_max', num(max), 'ms', 'lower', labels);
    s.add('tiobench.lat_over_2s', num(l2), '%', 'lower', labels);
    s.add('tiobench.lat_over_10s', num(l10), '%', 'lower', labels);
  }
  if (rows === 0) return none('tiobench', 'no tiobench result row under a "Sequential/Random Reads/Writes" heading');
  return { benchmark: 'tiobench', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'tiobench',
  name: /tiobench/i,
  sniff: (t) => /^\s*Sequential\s+(Reads|Writes)\s*$/m.test(t) && /Identifier/.test(t),
  parse,
};

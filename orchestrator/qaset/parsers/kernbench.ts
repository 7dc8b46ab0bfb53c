// kernbench: blocks of
//   Average Optimal load -j 16 Run (std deviation):
//   Elapsed Time 110.33 (0.45)
//   User Time 190.12 (0.22) ... Percent CPU, Context Switches, Sleeps
// (older versions print no "(sd)" part).
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, slug } from '../sample-builder.js';

const HEAD = /^\s*Average\s+(\w+)\s+load\s+-j\s+(\d+)\s+Run/i;
const ROW = /^\s*(Elapsed Time|User Time|System Time|Percent CPU|Context Switches|Sleeps)\s+([\d.]+)(?:\s+\(([\d.]+)\))?/i;
const META: Record<string, { unit: string; better: 'higher' | 'lower' | 'none' }> = {
  elapsed_time: { unit: 's', better: 'lower' },
  user_time: { unit: 's', better: 'lower' },
  system_time: { unit: 's', better: 'lower' },
  percent_cpu: { unit: '%', better: 'none' },
  context_switches: { unit: 'count', better: 'none' },
  sleeps: { unit: 'count', better: 'none' },
};

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  let labels: Record<string, string> | null = null;
  for (const line of lines(text)) {
    const h = HEAD.exec(line);
    if (h) {
      labels = { load: h[1]!.toLowerCase(), jobs: h[2]! };
      continue;
    }
    const r = ROW.exec(line);
    if (!r || labels === null) continue;
    const key = slug(r[1]!);
    const meta = META[key]!;
    s.add(`kernbench.${key}`, Number(r[2]), meta.unit, meta.better, labels);
    if (r[3] !== undefined) s.add(`kernbench.${key}.sd`, Number(r[3]), meta.unit, 'lower', labels);
  }
  if (s.list.length === 0) return none('kernbench', 'no "Average <load> load -j N Run" block with an "Elapsed Time" line found');
  return { benchmark: 'kernbench', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'kernbench',
  name: /kernbench/i,
  sniff: (t) => /^\s*Average\s+\w+\s+load\s+-j\s+\d+/im.test(t) && /Elapsed Time\s+[\d.]+/.test(t),
  parse,
};

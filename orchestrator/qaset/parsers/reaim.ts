// reaim: result rows of 9 numbers
//   Forks  ParentTime  ChildSysTime  ChildUTime  JobsPerMinute  JobsPerMinPerChild  StdDevTime  StdDevPercent  JTI
// plus "Max Jobs per Minute N". A row whose JTI went onto the next line (as in reaim results
// quoted on mailing lists) is joined back. A file holding several reaim runs (QASET's
// reaim_ioperf / reaim_allworks cases) repeats fork counts: those rows get a `repeat` label.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num } from '../sample-builder.js';

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  let rows = 0;
  const ls = lines(text);
  for (let i = 0; i < ls.length; i++) {
    let t = ls[i]!.trim().split(/\s+/);
    if (t.length === 8 && /^\d+$/.test(t[0]!) && /^\s*\d+\s*$/.test(ls[i + 1] ?? '')) t = [...t, ls[++i]!.trim()];
    if (t.length !== 9 || !/^\d+$/.test(t[0]!)) continue;
    const v = t.map(num);
    if (v.some((x) => x === null)) continue;
    rows++;
    const labels = { forks: t[0]! };
    s.add('reaim.parent_time', v[1], 's', 'lower', labels);
    s.add('reaim.child_systime', v[2], 's', 'lower', labels);
    s.add('reaim.child_utime', v[3], 's', 'lower', labels);
    s.add('reaim.jobs_per_min', v[4], 'jobs/min', 'higher', labels);
    s.add('reaim.jobs_per_min_per_child', v[5], 'jobs/min', 'higher', labels);
    s.add('reaim.stddev_time', v[6], 's', 'lower', labels);
    s.add('reaim.stddev_percent', v[7], '%', 'lower', labels);
    s.add('reaim.jti', v[8], '%', 'higher', labels);
  }
  let maxes = 0;
  for (const m of text.matchAll(/Max Jobs per Minute\s+([\d.]+)/gi)) {
    maxes++;
    s.add('reaim.max_jobs_per_min', num(m[1]), 'jobs/min', 'higher');
  }
  if (rows === 0 && maxes === 0) return none('reaim', 'no 9-column reaim result row and no "Max Jobs per Minute" line found');
  return { benchmark: 'reaim', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'reaim',
  name: /re-?aim/i,
  sniff: (t) => /Jobs per Minute|Jobs\/min\/child/i.test(t) && /JTI/.test(t),
  parse,
};

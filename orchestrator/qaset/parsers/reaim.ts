// reaim: result rows of 9 numbers
//   Forks  ParentTime  ChildSysTime  ChildUTime  JobsPerMinute  JobsPerMinPerChild  StdDevTime  StdDevPercent  JTI
// plus "Max Jobs per Minute N".
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num } from '../sample-builder.js';

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  let rows = 0;
  for (const line of lines(text)) {
    const t = line.trim().split(/\s+/);
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
  const max = /Max Jobs per Minute\s+([\d.]+)/i.exec(text);
  if (max) s.add('reaim.max_jobs_per_min', Number(max[1]), 'jobs/min', 'higher');
  if (rows === 0 && !max) return none('reaim', 'no 9-column reaim result row and no "Max Jobs per Minute" line found');
  return { benchmark: 'reaim', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'reaim',
  name: /re-?aim/i,
  sniff: (t) => /Jobs per Minute|Jobs\/min\/child/i.test(t) && /JTI/.test(t),
  parse,
};

// lmbench summary tables ("make see" / getsummary): a title line ending in "smaller is better" or
// "bigger is better", a rule line, header lines, then a ruler of dash groups ("--------- ----")
// whose groups give the column spans, then data rows until a blank line. '|' characters, where a
// table uses them as column separators, are treated as spaces. Values may end in K (thousands).
// Each data row is one run (lmbench's summary lists every result file); the host name column is not
// a label (who ran, not what was measured): rows of the same table get a `repeat` label instead.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, numSuffixed, slug } from '../sample-builder.js';

const TITLE = /^\s*(.*?)\s*-?\s*(smaller|bigger) is better\s*$/i;
const RULER = /^[\s|]*-{2,}(?:[\s|]+-{2,})+[\s|]*$/;
const TEXT_COLUMNS = new Set(['host', 'os', 'description', 'os_description']);

function unitOf(title: string): string {
  if (/microseconds/i.test(title)) return 'us';
  if (/nanoseconds/i.test(title)) return 'ns';
  if (/MB\/s/i.test(title)) return 'MB/s';
  return '';
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const ls = lines(text).map((l) => l.replace(/\|/g, ' '));
  let tables = 0;
  for (let i = 0; i < ls.length; i++) {
    const t = TITLE.exec(ls[i]!);
    if (!t) continue;
    const title = t[1]!.replace(/\s*-\s*times in.*$/i, '').replace(/\s*in (micro|nano)seconds.*$/i, '');
    const better = t[2]!.toLowerCase() === 'smaller' ? 'lower' : 'higher';
    const unit = unitOf(t[1]!);
    // find the ruler
    let r = i + 1;
    while (r < ls.length && r < i + 12 && !RULER.test(ls[r]!)) r++;
    if (r >= ls.length || !RULER.test(ls[r]!)) continue;
    const ruler = ls[r]!;
    const spans: [number, number][] = [];
    for (const m of ruler.matchAll(/-+/g)) spans.push([m.index!, m.index! + m[0].length]);
    // header lines: between the first full-width rule (if any) and the ruler
    const headers: string[] = [];
    for (let h = i + 1; h < r; h++) if (!/^\s*-+\s*$/.test(ls[h]!)) headers.push(ls[h]!);
    const names = spans.map(([a, b], k) => {
      const end = k + 1 < spans.length ? spans[k + 1]![0] : Infinity;
      return slug(headers.map((h) => h.slice(a, Math.max(b, end)).trim()).filter((x) => x !== '').join(' '));
    });
    tables++;
    for (let d = r + 1; d < ls.length && ls[d]!.trim() !== ''; d++) {
      const row = ls[d]!;
      spans.forEach(([a], k) => {
        const name = names[k] || `col${k + 1}`;
        if (TEXT_COLUMNS.has(name) || name === 'mhz') return;
        const end = k + 1 < spans.length ? spans[k + 1]![0] : row.length;
        const cell = row.slice(a, end).trim();
        const v = numSuffixed(cell.replace(/\.$/, ''));
        s.add(`lmbench.${name}`, v, unit, better, { table: slug(title) });
      });
    }
  }
  if (tables === 0) return none('lmbench', 'no lmbench summary table ("... smaller/bigger is better" + dash ruler) found');
  if (s.list.length === 0) return none('lmbench', 'lmbench table(s) found but without numeric cells');
  return { benchmark: 'lmbench', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'lmbench',
  name: /lmbench/i,
  sniff: (t) => /L M B E N C H/.test(t) || (/(smaller|bigger) is better/i.test(t) && /^Host\s/m.test(t)),
  parse,
};

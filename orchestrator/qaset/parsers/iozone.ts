// iozone -R: Excel-style report blocks.
//   "Writer report"
//           "4"  "8"  "16"        <- record sizes (KiB)
//   "64"   123456  234567  ...    <- file size (KiB), then one value per record size
// Values are kBytes/sec unless iozone said "Output is in operations per second" (-O).
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num, slug } from '../sample-builder.js';

const TITLE = /^\s*"([^"]+) report"\s*$/;
const QUOTED = /"([^"]*)"/g;

export function parse(text: string, source: string): ParseResult {
  const ops = /Output is in (?:operations|ops)/i.test(text);
  const unit = ops ? 'ops/s' : 'KiB/s';
  const s = new Samples({ source });
  const ls = lines(text);
  let blocks = 0;
  for (let i = 0; i < ls.length; i++) {
    const t = TITLE.exec(ls[i]!);
    if (!t) continue;
    const metric = `iozone.${slug(t[1]!)}`;
    const header = ls[i + 1] ?? '';
    const records = [...header.matchAll(QUOTED)].map((m) => m[1]!);
    if (records.length === 0 || !/^\s/.test(header)) continue;
    blocks++;
    let j = i + 2;
    for (; j < ls.length; j++) {
      const row = /^\s*"(\d+)"\s+(.*)$/.exec(ls[j]!);
      if (!row) break;
      const vals = row[2]!.trim().split(/\s+/).filter((v) => v !== '');
      vals.forEach((v, k) => {
        const rec = records[k];
        if (rec === undefined) return;
        s.add(metric, num(v), unit, 'higher', { file_kb: row[1]!, record_kb: rec });
      });
    }
    i = j - 1;
  }
  if (blocks === 0) return none('iozone', 'no iozone -R report block ("<name> report" + quoted record sizes) found');
  return { benchmark: 'iozone', samples: s.list };
}

export const parser: OutputParser = {
  benchmark: 'iozone',
  name: /iozone/i,
  sniff: (t) => /^\s*"(Writer|Reader|Re-writer|Re-reader|Random read|Random write) report"/m.test(t),
  parse,
};

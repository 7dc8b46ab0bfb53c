// bonnie++ CSV lines (the machine-readable line printed after the table, or alone with -q).
//  1.0x (27 fields): name,size, 6 x (speed,cpu) for putc put_block rewrite getc get_block seeks,
//                    num_files, 6 x (speed,cpu) for seq_create seq_stat seq_del ran_create ran_stat ran_del
//  1.9x/2.00 (format_version 1.9x first): format_version,bonnie_version,name,concurrency,seed,
//                    file_size,chunk_size,seeks,seek_proc_count, the 6 IO pairs (9..20), num_files,
//                    max_size,min_size,num_dirs,file_chunk_size (21..25), the 6 file pairs (26..37),
//                    6 IO latencies (38..43), 6 file latencies (44..49).
// "+++++" means the operation finished too fast to measure: no sample, a note instead.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num } from '../sample-builder.js';

const IO = ['putc', 'put_block', 'rewrite', 'getc', 'get_block', 'seeks'] as const;
const FILES = ['seq_create', 'seq_stat', 'seq_del', 'ran_create', 'ran_stat', 'ran_del'] as const;

function ioUnit(op: string): string {
  return op === 'seeks' ? 'seeks/s' : 'KiB/s';
}

/** "43709us" / "1048ms" / "2s" -> microseconds. */
function latencyUs(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s)$/.exec(v.trim());
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'us' ? 1 : m[2] === 'ms' ? 1e3 : 1e6);
}

type Layout = { kind: '1.0x' | '1.9x'; name: string; labels: Record<string, string>; io: number; files: number; lat: number | null };

function layoutOf(f: string[]): Layout | null {
  if (f.length >= 38 && /^1\.9\d$/.test(f[0]!) && /^\d+\.\d+\w*$/.test(f[1]!)) {
    const labels: Record<string, string> = { bonnie_version: f[1]!, machine: f[2]!, concurrency: f[3]!, file_size: f[5]! };
    if (f[21]) labels['num_files'] = f[21];
    return { kind: '1.9x', name: f[2]!, labels, io: 9, files: 26, lat: f.length >= 50 ? 38 : null };
  }
  if (f.length >= 27 && f.length <= 30 && /^\d+[KMGT]?(:\d+[kKmMgG]?)?$/.test(f[1]!) && !/^\d+\.\d+$/.test(f[0]!)) {
    const labels: Record<string, string> = { bonnie_version: '1.0x', machine: f[0]!, file_size: f[1]! };
    if (f[14]) labels['num_files'] = f[14];
    return { kind: '1.0x', name: f[0]!, labels, io: 2, files: 15, lat: null };
  }
  return null;
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const notes: string[] = [];
  let rows = 0;
  for (const line of lines(text)) {
    if (!line.includes(',')) continue;
    const f = line.trim().split(',');
    const lay = layoutOf(f);
    if (!lay) continue;
    rows++;
    const labels = { ...lay.labels, ...(rows > 1 ? { row: String(rows) } : {}) };
    const pair = (start: number, ops: readonly string[], unit: (op: string) => string) => {
      ops.forEach((op, i) => {
        const v = f[start + 2 * i] ?? '';
        const cpu = f[start + 2 * i + 1] ?? '';
        if (v.startsWith('+++')) {
          notes.push(`${op}: "+++++" (too fast to measure) on row ${rows}, no sample`);
          return;
        }
        s.add(`bonnie.${op}`, num(v), unit(op), 'higher', labels);
        s.add(`bonnie.${op}.cpu`, num(cpu), '%', 'lower', labels);
      });
    };
    pair(lay.io, IO, ioUnit);
    pair(lay.files, FILES, () => 'files/s');
    if (lay.lat !== null) {
      [...IO, ...FILES].forEach((op, i) => {
        const v = f[lay.lat! + i] ?? '';
        if (v !== '') s.add(`bonnie.${op}.latency`, latencyUs(v), 'us', 'lower', labels);
      });
    }
  }
  if (rows === 0) return none('bonnie', 'no bonnie++ CSV line (1.0x 27-field or 1.9x/2.00 format) found');
  const r: ParseResult = { benchmark: 'bonnie', samples: s.list };
  if (notes.length > 0) r.notes = notes;
  if (s.list.length === 0) r.unparsed = 'bonnie++ CSV line(s) found but every field was empty or "+++++"';
  return r;
}

export const parser: OutputParser = {
  benchmark: 'bonnie',
  name: /bonnie/i,
  sniff: (t) => lines(t).some((l) => l.includes(',') && layoutOf(l.trim().split(',')) !== null),
  parse,
};

// bonnie++ CSV lines (the machine-readable line printed after the table, or alone with -q). Every
// line is one run (a file may hold several: QASET's bonnie++ 1.03e files repeat table + CSV line);
// the run's parameters (file size, number of files, concurrency) are labels, runs with the same
// parameters get a `repeat` label. The human-readable table is not read: its numbers are the CSV
// line's, and reading both would count every run twice.
//  1.0x (27 fields): name,size, 6 x (speed,cpu) for putc put_block rewrite getc get_block seeks,
//                    num_files, 6 x (speed,cpu) for seq_create seq_stat seq_del ran_create ran_stat ran_del
//  1.9x/2.00 (format_version 1.9x first): format_version,bonnie_version,name,concurrency,seed,
//                    file_size,chunk_size,seeks,seek_proc_count, the 6 IO pairs (9..20), num_files,
//                    max_size,min_size,num_dirs,file_chunk_size (21..25), the 6 file pairs (26..37),
//                    6 IO latencies (38..43), 6 file latencies (44..49).
// "+++++" means the operation finished too fast to measure: no sample, a note instead.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num, shiftDecimal } from '../sample-builder.js';

const IO = ['putc', 'put_block', 'rewrite', 'getc', 'get_block', 'seeks'] as const;
const FILES = ['seq_create', 'seq_stat', 'seq_del', 'ran_create', 'ran_stat', 'ran_del'] as const;

function ioUnit(op: string): string {
  return op === 'seeks' ? 'seeks/s' : 'KiB/s';
}

/** "43709us" / "1048ms" / "2s" -> microseconds (exactly as written, no binary rounding). */
function latencyUs(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s)$/.exec(v.trim());
  if (!m) return null;
  return shiftDecimal(m[1]!, m[2] === 'us' ? 0 : m[2] === 'ms' ? 3 : 6);
}

// The machine name (-m, the host name by default) is not a label: it is who ran, not what was
// measured, and a renamed guest must not start a new history.
type Layout = { kind: '1.0x' | '1.9x'; labels: Record<string, string>; io: number; files: number; lat: number | null };

function layoutOf(f: string[]): Layout | null {
  if (f.length >= 38 && /^1\.9\d$/.test(f[0]!) && /^\d+\.\d+\w*$/.test(f[1]!)) {
    const labels: Record<string, string> = { bonnie_version: f[1]!, concurrency: f[3]!, file_size: f[5]! };
    if (f[6]) labels['chunk_size'] = f[6];
    if (f[21]) labels['num_files'] = f[21];
    return { kind: '1.9x', labels, io: 9, files: 26, lat: f.length >= 50 ? 38 : null };
  }
  if (f.length >= 27 && f.length <= 30 && /^\d+[KMGT]?(:\d+[kKmMgG]?)?$/.test(f[1]!) && !/^\d+\.\d+$/.test(f[0]!)) {
    const labels: Record<string, string> = { bonnie_version: '1.0x', file_size: f[1]! };
    if (f[14]) labels['num_files'] = f[14];
    return { kind: '1.0x', labels, io: 2, files: 15, lat: null };
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
    s.newRun();
    const labels = lay.labels;
    const pair = (start: number, ops: readonly string[], unit: (op: string) => string) => {
      ops.forEach((op, i) => {
        const v = f[start + 2 * i] ?? '';
        const cpu = f[start + 2 * i + 1] ?? '';
        if (v.startsWith('+++')) {
          notes.push(`${op}: "+++++" (too fast to measure) in run ${rows}, no sample`);
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
  const tables = lines(text).filter((l) => /^Version\s+\d+\.\d+\w*\s+-+Sequential Output/.test(l)).length;
  if (tables > rows) notes.push(`${tables} bonnie++ result tables but ${rows} CSV line(s): a run without its CSV line is not read`);
  if (rows === 0) {
    const r = none('bonnie', 'no bonnie++ CSV line (1.0x 27-field or 1.9x/2.00 format) found');
    return notes.length > 0 ? { ...r, notes } : r;
  }
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

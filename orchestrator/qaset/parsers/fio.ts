// fio: JSON (--output-format=json, preferred; several documents may share a file and text may
// precede them) or the normal text report:
//   3.x: "  read: IOPS=19.8k, BW=77.3MiB/s (81.0MB/s)(80.0MiB/2001msec)" then "     lat (usec): ... avg=78.81, ..."
//   2.x: "  read : io=1024.0KB, bw=36571KB/s, iops=9142, runt=    28msec"
// Samples: fio.iops, fio.bw (KiB/s), fio.lat_mean (us), fio.clat_p99 (us, JSON only), per job and
// direction, with the job's bs, iodepth and numjobs as labels; a job repeated with the same name
// and options (several runs in one file) gets a `repeat` label.
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none, num, numSuffixed } from '../sample-builder.js';

const DIRS = ['read', 'write', 'trim'] as const;

/** Balanced top-level JSON objects in text (strings honoured). */
function jsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let i = 0;
  while ((i = text.indexOf('{', i)) !== -1) {
    let depth = 0;
    let inStr = false;
    let j = i;
    for (; j < text.length; j++) {
      const c = text[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    if (j >= text.length) break;
    try {
      docs.push(JSON.parse(text.slice(i, j + 1)));
      i = j + 1;
    } catch {
      i++;
    }
  }
  return docs;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function parseJson(docs: unknown[], s: Samples): number {
  let jobs = 0;
  docs.forEach((doc) => {
    if (!isObj(doc) || !Array.isArray(doc['jobs'])) return;
    s.newRun();
    for (const job of doc['jobs']) {
      if (!isObj(job)) continue;
      const name = String(job['jobname'] ?? 'job');
      const opts = isObj(job['job options']) ? job['job options'] : {};
      for (const dir of DIRS) {
        const d = job[dir];
        if (!isObj(d)) continue;
        if ((n(d['total_ios']) ?? 0) === 0 && (n(d['io_bytes']) ?? 0) === 0) continue;
        jobs++;
        const labels: Record<string, string> = { job: name, rw: dir };
        if (typeof opts['bs'] === 'string') labels['bs'] = opts['bs'];
        if (typeof opts['iodepth'] === 'string') labels['iodepth'] = opts['iodepth'];
        if (typeof opts['numjobs'] === 'string') labels['numjobs'] = opts['numjobs'];
        s.add('fio.iops', n(d['iops']), 'IOPS', 'higher', labels);
        s.add('fio.bw', n(d['bw']), 'KiB/s', 'higher', labels);
        const latNs = isObj(d['lat_ns']) ? n(d['lat_ns']['mean']) : null;
        const latUs = isObj(d['lat']) ? n(d['lat']['mean']) : null; // fio 2.x: microseconds
        s.add('fio.lat_mean', latNs !== null ? latNs / 1000 : latUs, 'us', 'lower', labels);
        const clat = isObj(d['clat_ns']) ? d['clat_ns'] : null;
        const pct = clat && isObj(clat['percentile']) ? n(clat['percentile']['99.000000']) : null;
        if (pct !== null) s.add('fio.clat_p99', pct / 1000, 'us', 'lower', labels);
      }
    }
  });
  return jobs;
}

const BW_UNITS: Record<string, number> = { 'B/s': 1 / 1024, 'KiB/s': 1, 'MiB/s': 1024, 'GiB/s': 1024 * 1024, 'TiB/s': 1024 ** 3, 'KB/s': 1000 / 1024, 'MB/s': 1e6 / 1024, 'GB/s': 1e9 / 1024 };
const LAT_UNITS: Record<string, number> = { nsec: 1e-3, usec: 1, msec: 1e3, sec: 1e6 };

function parseText(text: string, s: Samples): number {
  let job = 'job';
  let pending: Record<string, string> | null = null;
  let count = 0;
  for (const line of lines(text)) {
    const head = /^(\S[^:]*): \(groupid=\d+/.exec(line);
    if (head) {
      job = head[1]!;
      continue;
    }
    const v3 = /^\s+(read|write|trim): IOPS=([\d.]+[kMG]?), BW=([\d.]+)([KMGT]?i?B\/s)/.exec(line);
    const v2 = /^\s+(read|write|trim)\s*: io=[^,]+, bw=([\d.]+)([KMG]?B\/s), iops=(\d+)/.exec(line);
    if (v3 || v2) {
      count++;
      const dir = (v3 ?? v2)![1]!;
      pending = { job, rw: dir };
      const iops = v3 ? numSuffixed(v3[2]) : num(v2![4]);
      const bwUnit = v3 ? v3[4]! : v2![3]!.replace(/^([KMG])B/, '$1iB'); // 2.x "KB/s" is KiB/s
      const bw = Number(v3 ? v3[3] : v2![2]) * (BW_UNITS[bwUnit] ?? NaN);
      s.add('fio.iops', iops, 'IOPS', 'higher', pending);
      s.add('fio.bw', bw, 'KiB/s', 'higher', pending);
      continue;
    }
    const lat = /^\s+lat \((nsec|usec|msec|sec)\):.*\bavg=\s*([\d.]+)/.exec(line);
    if (lat && pending) {
      s.add('fio.lat_mean', Number(lat[2]) * LAT_UNITS[lat[1]!]!, 'us', 'lower', pending);
      pending = null;
    }
  }
  return count;
}

export function parse(text: string, source: string): ParseResult {
  const s = new Samples({ source });
  const docs = text.includes('"fio version"') || /^\s*\{/.test(text) ? jsonDocuments(text) : [];
  if (parseJson(docs, s) > 0) return { benchmark: 'fio', samples: s.list };
  if (parseText(text, s) > 0) return { benchmark: 'fio', samples: s.list };
  return none('fio', 'neither fio JSON with jobs nor a fio text report ("read: IOPS=..." lines) found');
}

export const parser: OutputParser = {
  benchmark: 'fio',
  name: /(^|[^a-z])fio([^a-z]|$)/i,
  sniff: (t) => /"fio version"\s*:/.test(t) || (/^fio-\d/m.test(t) && /\(groupid=\d+/.test(t)),
  parse,
};

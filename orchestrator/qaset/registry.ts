// Picks the parser for one benchmark output: by test/file name first, then by content.
import type { OutputParser, ParseResult } from './types.js';
import { parser as bonnie } from './parsers/bonnie.js';
import { parser as ctcs2 } from './parsers/ctcs2.js';
import { parser as dbench } from './parsers/dbench.js';
import { parser as fio } from './parsers/fio.js';
import { parser as iozone } from './parsers/iozone.js';
import { parser as iperf3 } from './parsers/iperf3.js';
import { parser as kernbench } from './parsers/kernbench.js';
import { parser as lmbench } from './parsers/lmbench.js';
import { parser as netperf } from './parsers/netperf.js';
import { parser as pgbench } from './parsers/pgbench.js';
import { parser as reaim } from './parsers/reaim.js';
import { parser as sysbench } from './parsers/sysbench.js';
import { parser as tiobench } from './parsers/tiobench.js';

/** Order matters for name matching: more specific names first. */
export const PARSERS: readonly OutputParser[] = [ctcs2, tiobench, kernbench, pgbench, sysbench, dbench, bonnie, iozone, reaim, netperf, iperf3, lmbench, fio];

export function parserByName(name: string): OutputParser | null {
  return PARSERS.find((p) => p.name.test(name)) ?? null;
}

export function parserBySniff(text: string): OutputParser | null {
  return PARSERS.find((p) => p.sniff(text)) ?? null;
}

/**
 * Parses one output. `name` is the test name or file name (its base name is matched). When the
 * name points at a parser that finds nothing, content sniffing gets a chance; when nothing
 * understands the text, the result has no samples and `unparsed` says why.
 */
export function parseOutput(text: string, source: string, name: string = source): ParseResult {
  const base = name.split('/').pop() ?? name;
  const byName = parserByName(base);
  let first: ParseResult | null = null;
  if (byName) {
    first = byName.parse(text, source);
    if (first.samples.length > 0) return first;
  }
  const bySniff = parserBySniff(text);
  if (bySniff && bySniff !== byName) {
    const r = bySniff.parse(text, source);
    if (r.samples.length > 0) return r;
    first ??= r;
  }
  if (first) return first;
  return { benchmark: 'unknown', samples: [], unparsed: 'no parser recognizes this output (by name or by content)' };
}

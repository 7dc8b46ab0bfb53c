// ctcs2 test_results: pairs of lines, the test name then "fail succeed count time interr [skipped]"
// (old ctcs2 writes five numbers, newer ones add skipped).
import type { OutputParser, ParseResult } from '../types.js';
import { Samples, lines, none } from '../sample-builder.js';

export interface CtcsTestResult {
  name: string;
  fail: number;
  succeed: number;
  count: number;
  time: number;
  interr: number;
  skipped: number;
}

const COUNTS = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+(?:\.\d+)?)\s+(\d+)(?:\s+(\d+))?\s*$/;

export function parseTestResults(text: string): { tests: CtcsTestResult[]; bad: string[] } {
  const ls = lines(text).filter((l) => l.trim() !== '');
  const tests: CtcsTestResult[] = [];
  const bad: string[] = [];
  for (let i = 0; i < ls.length; i++) {
    const name = ls[i]!.trim();
    const m = COUNTS.exec(ls[i + 1] ?? '');
    if (COUNTS.test(name) || !m) {
      bad.push(name);
      continue;
    }
    tests.push({
      name,
      fail: Number(m[1]),
      succeed: Number(m[2]),
      count: Number(m[3]),
      time: Number(m[4]),
      interr: Number(m[5]),
      skipped: m[6] === undefined ? 0 : Number(m[6]),
    });
    i++;
  }
  return { tests, bad };
}

export function parse(text: string, source: string): ParseResult {
  const { tests, bad } = parseTestResults(text);
  if (tests.length === 0) return none('ctcs2', 'no "name" + "fail succeed count time interr skipped" line pairs found');
  const s = new Samples({ source });
  for (const t of tests) {
    const l = { test: t.name };
    s.add('ctcs2.fail', t.fail, 'count', 'lower', l);
    s.add('ctcs2.succeed', t.succeed, 'count', 'higher', l);
    s.add('ctcs2.count', t.count, 'count', 'none', l);
    s.add('ctcs2.time', t.time, 's', 'none', l);
    s.add('ctcs2.interr', t.interr, 'count', 'lower', l);
    s.add('ctcs2.skipped', t.skipped, 'count', 'none', l);
  }
  const r: ParseResult = { benchmark: 'ctcs2', samples: s.list };
  if (bad.length > 0) r.notes = bad.map((b) => `line without a counts line after it: ${JSON.stringify(b.slice(0, 120))}`);
  return r;
}

export const parser: OutputParser = {
  benchmark: 'ctcs2',
  name: /(^|\/)test_results$/,
  sniff: () => false,
  parse,
};

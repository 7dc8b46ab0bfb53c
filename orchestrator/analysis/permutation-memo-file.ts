// The permutation tests a site build used, kept beside the site (<outDir>/.site-permutations.json)
// so that the next night's build answers the tests of every window that did not change from
// them instead of shuffling again (permutation-memo.ts says what a test is keyed by).
//
// One JSON object: its `schema`, and per scope (permutations/alpha/seed/series) the tests as packed
// little-endian 32-bit words in base64, five per test: the segment digest's high and low lanes,
// the split, and the p-value as hits and of (p = hits / of, the same division the test made, so
// the same number). Packed, because a fleet's build keeps tens of thousands of tests and reads
// and writes them every night: as JSON records they cost several times more to parse and make.
//
// Never the only copy of anything: missing, damaged or of another version, it reads as no tests
// (every test is run, and the file is written anew); only the tests the build used are written,
// so it does not grow with every segment a history ever had. Written without fsync: after a
// crash it may be empty, which reads as no tests.
//
// Read and written synchronously: a fleet's file is tens of KiB (about 1,100 tests at 7,300
// jobs), less than a millisecond either way, where an awaited read or write on the build's busy
// thread waited tens or hundreds of milliseconds for its turn.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitStagedSync, stageFileSync } from '../results/atomic-write.js';
import { isRecord } from '../results/json-shape.js';
import { parseScope, type PermutationMemo } from './permutation-memo.js';

export const PERMUTATION_MEMO = '.site-permutations.json';
const PERMUTATION_MEMO_SCHEMA = 'orchestrate/permutation-memo@1';
/** Bytes per test: high, low, split, hits, of. */
const RECORD_BYTES = 20;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface MemoFileFacts {
  /** Tests read (0 when the file was missing, damaged or of another version). */
  tests: number;
  bytes: number;
}

/**
 * Adds the tests of the file in `dir` to `memo` (not counted as used until looked up): all of
 * them, or none when any part of the file is not as written.
 */
export function readPermutationMemo(dir: string, memo: PermutationMemo): MemoFileFacts {
  let text: string;
  try {
    text = readFileSync(join(dir, PERMUTATION_MEMO), 'utf8');
  } catch {
    return { tests: 0, bytes: 0 };
  }
  const scopes = decode(text);
  if (!scopes) return { tests: 0, bytes: text.length };
  let tests = 0;
  for (const [scope, records] of scopes) {
    for (let offset = 0; offset < records.length; offset += RECORD_BYTES) {
      const hits = records.readUInt32LE(offset + 12);
      const of = records.readUInt32LE(offset + 16);
      memo.preload(scope, records.readUInt32LE(offset), records.readUInt32LE(offset + 4), records.readUInt32LE(offset + 8), { hits, of });
      tests++;
    }
  }
  return { tests, bytes: text.length };
}

/** The file's tests by scope, every record checked; undefined when anything is not as written. */
function decode(text: string): Map<string, Buffer> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed['schema'] !== PERMUTATION_MEMO_SCHEMA || !isRecord(parsed['scopes'])) return undefined;
  const scopes = new Map<string, Buffer>();
  for (const [scope, packed] of Object.entries(parsed['scopes'])) {
    const settings = parseScope(scope);
    if (!settings || typeof packed !== 'string' || !BASE64.test(packed)) return undefined;
    const records = Buffer.from(packed, 'base64');
    if (records.length % RECORD_BYTES !== 0) return undefined;
    for (let offset = 0; offset < records.length; offset += RECORD_BYTES) {
      const split = records.readUInt32LE(offset + 8);
      const hits = records.readUInt32LE(offset + 12);
      const of = records.readUInt32LE(offset + 16);
      if (split < 1 || hits < 1 || hits > of || of > settings.permutations + 1) return undefined;
    }
    scopes.set(scope, records);
  }
  return scopes;
}

/** Writes the tests `memo` used since `round` began (atomically); a file that cannot be written only makes the next build slower. */
export function writePermutationMemo(dir: string, memo: PermutationMemo, round: number): MemoFileFacts {
  const scopes: Record<string, string> = {};
  let tests = 0;
  for (const [scope, entries] of memo.usedSince(round)) {
    const records = Buffer.allocUnsafe(entries.length * RECORD_BYTES);
    let offset = 0;
    for (const entry of entries) {
      records.writeUInt32LE(entry.high, offset);
      records.writeUInt32LE(entry.low, offset + 4);
      records.writeUInt32LE(entry.split, offset + 8);
      records.writeUInt32LE(entry.hits, offset + 12);
      records.writeUInt32LE(entry.of, offset + 16);
      offset += RECORD_BYTES;
    }
    scopes[scope] = records.toString('base64');
    tests += entries.length;
  }
  const text = JSON.stringify({ schema: PERMUTATION_MEMO_SCHEMA, scopes });
  try {
    commitStagedSync([stageFileSync(join(dir, PERMUTATION_MEMO), text)]);
  } catch {
    // the next build runs the tests again
  }
  return { tests, bytes: text.length };
}

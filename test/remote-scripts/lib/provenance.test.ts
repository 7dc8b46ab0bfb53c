// remote-scripts/lib/provenance.sh's cache, sourced by real bash: provenance_cached_to reuses the
// host's record only while its key (cache format, boot id, host name, package list) matches and
// the cache is newer than the package database; otherwise it collects afresh and rewrites the
// cache. A stale reuse would label results with the wrong environment, so each part of the key
// is checked to force a new collection. The record is read back through the orchestrator's schema.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvenanceSchema } from '../../../orchestrator/results/provenance.js';
import { sourcedOk } from '../sourced-bash.js';

const LIBS = ['lib/common.sh', 'lib/json.sh', 'lib/events.sh', 'lib/provenance.sh'];
const SENTINEL = '{"sentinel":"reused"}';
const PACKAGE_DB = '/var/lib/dpkg/status';

let dir = '';
let cache = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provenance-cache-'));
  cache = join(dir, 'cache/provenance.cache');
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cached = (env: Record<string, string> = {}) => sourcedOk(LIBS, 'r=; provenance_cached_to r "$1"; printf "%s" "$r"', { args: [cache], env });

/** The cache's key line, with the record replaced by SENTINEL (a reuse then returns SENTINEL). */
async function plantSentinel(): Promise<string> {
  const [key] = (await readFile(cache, 'utf8')).split('\n');
  await writeFile(cache, `${key}\n${SENTINEL}\n`);
  return key!;
}

test('first call: collects, returns a record the orchestrator accepts, and writes the key (format, boot id, host name, package list) then the record', async () => {
  const record = await cached();
  const parsed = ProvenanceSchema.parse(JSON.parse(record));
  const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  const hostname = (await readFile('/proc/sys/kernel/hostname', 'utf8')).trim();
  assert.is(parsed.boot_id, bootId);
  const [key, line, rest] = (await readFile(cache, 'utf8')).split('\n');
  assert.match(key!, new RegExp(`^provenance-cache@1 ${bootId} ${hostname} midolman midonet-api .* qa_testset_automation$`));
  assert.is(line, record);
  assert.is(rest, '', 'two lines, the last ended');
});

test('reused while the key matches and the cache is newer than the package database', async () => {
  await cached();
  await plantSentinel();
  assert.is(await cached(), SENTINEL);
});

test('collected afresh when the package list changes (ORCH_PACKAGES), and the new key is written', async () => {
  await cached();
  await plantSentinel();
  const record = await cached({ ORCH_PACKAGES: 'bash coreutils' });
  assert.is.not(record, SENTINEL);
  assert.ok(ProvenanceSchema.parse(JSON.parse(record)).packages['bash'], 'the added package is recorded');
  assert.match((await readFile(cache, 'utf8')).split('\n')[0]!, / qa_testset_automation bash coreutils$/);
});

test('collected afresh when the packages changed since the cache was written (cache older than the package database)', async () => {
  assert.ok(existsSync(PACKAGE_DB), `${PACKAGE_DB} on this machine`);
  await cached();
  await plantSentinel();
  await utimes(cache, new Date('2001-01-01'), new Date('2001-01-01'));
  assert.is.not(await cached(), SENTINEL);
});

test('collected afresh when the key is of another cache format or another boot, or the record is not an object', async () => {
  await cached();
  const key = await plantSentinel();
  for (const [badKey, badRecord] of [
    [key.replace('provenance-cache@1', 'provenance-cache@0'), SENTINEL],
    [key.replace(/^(\S+) \S+/, '$1 00000000-0000-0000-0000-000000000000'), SENTINEL],
    [key, 'garbage'],
  ] as const) {
    await writeFile(cache, `${badKey}\n${badRecord}\n`);
    const record = await cached();
    assert.is.not(record, SENTINEL, badKey);
    assert.is.not(record, 'garbage');
    assert.ok(ProvenanceSchema.safeParse(JSON.parse(record)).success);
    assert.is((await readFile(cache, 'utf8')).split('\n')[0], key, 'the cache carries the current key again');
  }
});

test.run();

// remote-scripts/lib/provenance.sh's cache, sourced by real bash: provenance_cached_to reuses the
// host's record only while its key (cache format, boot id, host name, package list) matches and
// the cache is newer than the package database; otherwise it collects afresh and rewrites the
// cache. A stale reuse would label results with the wrong environment, so each part of the key
// is checked to force a new collection. The record is read back through the orchestrator's schema.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProvenanceSchema } from '../../../orchestrator/results/provenance.js';
import { SCRIPTS, sourced, sourcedOk } from '../sourced-bash.js';

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

test('the CPU count is what nproc says, for this process and for one limited to a CPU list', async () => {
  const nproc = (await sourcedOk([], 'nproc')).trim();
  assert.is(await sourcedOk(['lib/cpu-count.sh'], 'c=; provenance_cpu_count_to c; printf "%s" "$c"'), nproc);
  const pinned = await sourcedOk([], 'taskset -c 0 bash -c \'. "$1"; c=; provenance_cpu_count_to c; printf "%s" "$c"\' pinned "$1"', { args: [`${SCRIPTS}lib/cpu-count.sh`] });
  assert.is(pinned, '1', 'limited to CPU 0 (Cpus_allowed_list 0)');
});

// The package versions come from one grep of dpkg's status file; dpkg-query (the reference) only
// where the file alone cannot answer.
const viaDpkgQuery = (names: string) =>
  sourcedOk(LIBS, `PROVENANCE_DPKG_DIR=/nonexistent; r=; provenance_packages_to r ${names}; printf "%s" "$r"`);
const viaStatusFile = (names: string, dpkgDir = '/var/lib/dpkg') =>
  sourced(LIBS, `PROVENANCE_DPKG_DIR=$1; r=; provenance_dpkg_status_to r ${names}; printf "{%s}" "$r"`, { args: [dpkgDir] });

test('packages read from dpkg\'s status file are what dpkg-query -W says, for the default list and added names (a multi-arch library, a name that cannot be a package)', async () => {
  assert.ok(existsSync(PACKAGE_DB), `${PACKAGE_DB} on this machine`);
  const defaults = await sourcedOk(LIBS, 'provenance_package_names_to n; printf "%s " "${n[@]}"');
  const names = `${defaults} bash coreutils libc6 zlib1g dpkg no-such-package-here`;
  const fromFile = await viaStatusFile(names);
  assert.is(fromFile.code, 0, fromFile.stderr);
  const reference = await viaDpkgQuery(names);
  assert.is(fromFile.stdout, reference);
  assert.ok(JSON.parse(reference)['libc6'], 'a package that is installed is in both');
  const whole = await sourcedOk(LIBS, 'r=; provenance_packages_to r; printf "%s" "$r"');
  assert.is(whole, await viaDpkgQuery(defaults), 'the default list, through provenance_packages_to');
});

/** A dpkg database directory holding STATUS (and an updates journal directory, empty). */
async function dpkgDir(status: string): Promise<string> {
  const d = join(dir, 'dpkg');
  await mkdir(join(d, 'updates'), { recursive: true });
  await writeFile(join(d, 'status'), status);
  return d;
}

const paragraph = (name: string, status: string, version: string | undefined, extra: string[] = []) =>
  [`Package: ${name}`, `Status: ${status}`, 'Priority: optional', 'Section: net', 'Maintainer: A <a@example.org>', 'Architecture: amd64', ...(version === undefined ? [] : [`Version: ${version}`]), ...extra, 'Description: a package', ' Version: 9.9 (a description line, not the field)', ''].join('\n');

test('status file: installed instances only (not config-files, not-installed, half-installed), with their Version, in the file\'s order', async () => {
  const d = await dpkgDir(
    [
      paragraph('alpha', 'install ok installed', '1.0-1'),
      paragraph('beta', 'deinstall ok config-files', '2.0'),
      paragraph('gamma', 'hold ok installed', '1:3.0~rc1+dfsg'),
      paragraph('delta', 'purge ok not-installed', undefined),
      paragraph('epsilon', 'install reinstreq half-installed', '5'),
      paragraph('zeta', 'install ok installed', '6', ['Depends: alpha']),
    ].join('\n'),
  );
  const r = await viaStatusFile('zeta gamma delta beta epsilon alpha omega', d);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '{"alpha":"1.0-1","gamma":"1:3.0~rc1+dfsg","zeta":"6"}');
  const none = await viaStatusFile('omega', d);
  assert.is(none.stdout, '{}', 'no match: an empty object body');
});

test('status file: left to dpkg-query when dpkg\'s journal holds updates, a name is a pattern or arch-qualified, or a Version is past the fields dpkg writes before it', async () => {
  const d = await dpkgDir(paragraph('alpha', 'install ok installed', '1.0-1'));
  assert.is((await viaStatusFile('alpha', d)).code, 0);
  for (const name of ["'alph*'", 'alpha:amd64', 'Alpha']) assert.is((await viaStatusFile(name, d)).code, 1, name);
  await writeFile(join(d, 'updates', '0001'), 'Package: alpha\n');
  assert.is((await viaStatusFile('alpha', d)).code, 1, 'journal not merged');
  await rm(join(d, 'updates', '0001'));
  const far = Array.from({ length: 14 }, (_, i) => `X-Field-${i}: x`);
  await writeFile(join(d, 'status'), paragraph('alpha', 'install ok installed', undefined, [...far, 'Version: 1.0-1']));
  assert.is((await viaStatusFile('alpha', d)).code, 1, 'Version too far down');
});

test.run();

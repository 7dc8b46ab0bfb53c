// The results store on a real full disk (a small tmpfs): writes are whole or not at all,
// nothing empty or temporary is left, the store tells its owner; sweep ids are ids, not paths.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNoSpaceError, writeFileAtomically, writeJsonAtomically, writeJsonAtomicallySync } from '../../orchestrator/results/atomic-write.js';
import { isSweepId, newSweepId, readSweepManifest, StoreReadError, SweepStore } from '../../orchestrator/results/store.js';
import { SWEEP_SCHEMA, type JobManifest, type SweepManifest } from '../../orchestrator/results/manifest.js';
import { fillUp, mountTmpfs, unmount } from './tmpfs.js';
import { jobManifestFixture } from './job-manifest-fixture.js';
import { fileSizes } from '../support/file-tree.js';

let work: string;
let disk: string;
const sweepId = '20260101T030000Z-ab12';

const sweep = (id = sweepId): SweepManifest => ({
  schema: SWEEP_SCHEMA,
  sweepId: id,
  inventory: { file: '/lab.yaml', sha256: 'x' },
  selection: { limit: [], scenarios: [] },
  startedAt: '2026-01-01T03:00:00.000Z',
  endedAt: null,
  status: 'running',
  jobs: [{ jobId: 'h--sysinfo', host: 'h', scenario: 'sysinfo', status: 'running' }],
  counts: { ok: 0, failed: 0, unreachable: 0, interrupted: 0, skipped: 1 },
  notes: [],
  orchestrator: { version: '0', node: process.version },
});

const job = (status: JobManifest['status']): JobManifest =>
  jobManifestFixture(sweepId, {
    status,
    endedAt: null,
    phases: [{ name: 'provenance', helper: 'provenance', status: 'ok', exitCode: 0, startedAt: null, endedAt: null, durationMs: 5, reattached: 0 }],
  });


const full = suite('the store on a full disk');
full.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'store-'));
  disk = join(work, 'disk');
  await mkdir(disk);
  mountTmpfs(disk, 2 * 1024 ** 2);
});
full.after.each(async () => {
  unmount(disk);
  await rm(work, { recursive: true, force: true });
});

full('an atomic write that hits ENOSPC keeps the old content and leaves no temp file', async () => {
  const target = join(disk, 'sweep.json');
  await writeJsonAtomically(target, { status: 'running' });
  await fillUp(disk);
  const big = { status: 'failed', padding: 'x'.repeat(64 * 1024) };
  const error = await writeJsonAtomically(target, big).then(() => undefined, (e: unknown) => e);
  assert.ok(isNoSpaceError(error), String(error));
  assert.equal(JSON.parse(await readFile(target, 'utf8')), { status: 'running' });
  assert.equal([...(await fileSizes(disk)).keys()].sort(), ['filler', 'sweep.json']);
  assert.throws(() => writeJsonAtomicallySync(target, big), (e: unknown) => isNoSpaceError(e));
  assert.equal([...(await fileSizes(disk)).keys()].sort(), ['filler', 'sweep.json'], 'the sync write cleans up too');
  await rm(join(disk, 'filler'));
  writeJsonAtomicallySync(target, big);
  assert.is(JSON.parse(await readFile(target, 'utf8')).status, 'failed');
});

full('log appends are whole or not at all: no torn line, no empty new file; the store tells its owner', async () => {
  const told: string[] = [];
  const store = new SweepStore(disk, sweepId, { onWriteError: (path, error) => told.push(`${path}: ${(error as { code?: string }).code}`) });
  await store.init();
  await store.appendSweepLog('first line');
  const filler = await fillUp(disk);
  const long = 'y'.repeat(256 * 1024);
  await store.appendSweepLog(long).then(() => assert.unreachable('appended on a full disk'), () => undefined);
  await store.appendJobLog('h--sysinfo', long).then(() => assert.unreachable('appended on a full disk'), () => undefined);
  assert.is(await readFile(join(store.dir, 'sweep.log'), 'utf8'), 'first line\n', 'cut back to the last whole line');
  const left = await fileSizes(disk);
  assert.not.ok(left.has(`sweeps/${sweepId}/jobs/h--sysinfo/orchestrator.log`), 'no empty log left behind');
  for (const [name, size] of left) assert.ok(size > 0, `${name} is empty`);
  assert.ok(told.length >= 2, told.join('\n'));
  assert.match(told[0]!, new RegExp(`sweep\\.log: ENOSPC$`));
  await rm(filler);
  await store.appendSweepLog('after space came back');
  assert.is(await readFile(join(store.dir, 'sweep.log'), 'utf8'), 'first line\nafter space came back\n');
});

full('the reserve set aside at the start is what the final records are written with', async () => {
  const store = new SweepStore(disk, sweepId);
  await store.init();
  await store.reserveSpace(256 * 1024);
  assert.is((await stat(join(disk, 'locks', 'space.reserve'))).size, 256 * 1024, 'one per results directory, outside every sweep');
  assert.equal(await readdir(join(disk, 'sweeps')), [sweepId]);
  await store.writeJobManifest(job('running'));
  await fillUp(disk);
  await store.writeSweepManifest({ ...sweep(), status: 'aborted' }).then(() => assert.unreachable('written on a full disk'), () => undefined);
  await store.releaseSpace();
  await store.closeJobRecord('h--sysinfo', 'failed', { kind: 'results-store', message: 'the results disk is full' }, job('failed'));
  await store.writeSweepManifest({ ...sweep(), status: 'aborted' });
  const closed = JSON.parse(await readFile(join(store.jobDir('h--sysinfo'), 'manifest.json'), 'utf8')) as JobManifest;
  assert.is(closed.status, 'failed');
  assert.ok(closed.endedAt);
  assert.equal(closed.phases.map((p) => p.name), ['provenance'], 'what the job had recorded is kept');
  assert.equal(closed.errors, [{ kind: 'results-store', message: 'the results disk is full' }]);
  assert.is((await readSweepManifest(disk, sweepId)).status, 'aborted');
});

full.run();

const ids = suite('sweep ids, not paths');
ids.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'store-'));
});
ids.after.each(async () => {
  await rm(work, { recursive: true, force: true });
});

ids('what newSweepId makes is a sweep id; paths and near misses are not', () => {
  for (let i = 0; i < 50; i++) assert.ok(isSweepId(newSweepId()));
  for (const bad of ['../../../tmp/x', '/tmp/x', `${sweepId}/..`, `../${sweepId}`, `${sweepId}\n`, '', '.', '20260101T030000Z-', '20260101T030000Z-AB12']) {
    assert.not.ok(isSweepId(bad), JSON.stringify(bad));
  }
  assert.throws(() => new SweepStore(work, '../x'), /not a sweep id/);
});

ids('readSweepManifest refuses a path without reading it, and a record that names another sweep', async () => {
  const outside = join(work, 'outside');
  await mkdir(outside, { recursive: true });
  await writeFile(join(outside, 'sweep.json'), JSON.stringify(sweep()));
  const results = join(work, 'results');
  await mkdir(join(results, 'sweeps', 'a', 'b'), { recursive: true });
  const error = await readSweepManifest(join(results, 'sweeps', 'a', 'b'), '../../../outside').catch((e: unknown) => e);
  assert.instance(error, StoreReadError);
  assert.match((error as Error).message, /not a sweep id/);

  const other = '20260101T030000Z-ffff';
  await mkdir(join(results, 'sweeps', other), { recursive: true });
  await writeFile(join(results, 'sweeps', other, 'sweep.json'), JSON.stringify(sweep('../../../tmp/x')));
  const forged = await readSweepManifest(results, other).catch((e: unknown) => e);
  assert.instance(forged, StoreReadError);
  assert.match((forged as Error).message, /names sweep "\.\.\/\.\.\/\.\.\/tmp\/x", not 20260101T030000Z-ffff/);
});

ids('writes to one path land in order', async () => {
  const target = join(work, 'ordered.json');
  await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomically(target, String(i))));
  assert.is(await readFile(target, 'utf8'), '19');
  assert.equal(await readdir(work), ['ordered.json']);
});

ids.run();

// Retention of raw artifacts: by age, by size budget (oldest first), dry run, crash leftovers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, stat, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rename } from 'node:fs/promises';
import { parseSize } from '../../orchestrator/inventory/sizes.js';
import { pruneResults, sweepStart } from '../../orchestrator/retention/prune-results.js';
import { put } from '../publish/site-fixture.js';
import { SWEEP_SCHEMA, type SweepManifest } from '../../orchestrator/results/manifest.js';

const t = suite('prune results');
let dir: string;
const NOW = new Date('2026-11-30T12:00:00Z');
// Sweeps 20, 10, 5 and 1 days old, and one still running (today).
const SWEEPS = ['20261110T120000Z-aaaa', '20261120T120000Z-bbbb', '20261125T120000Z-cccc', '20261129T120000Z-dddd', '20261130T110000Z-eeee'];
const KEPT = ['manifest.json', 'metrics.json', 'orchestrator.log'];

/** A sweep.json as the store writes it (retention reads it through the store's validated reader). */
function sweepManifest(sweepId: string, status: SweepManifest['status']): string {
  const manifest: SweepManifest = {
    schema: SWEEP_SCHEMA,
    sweepId,
    inventory: { file: '/lab.yaml', sha256: 'x' },
    selection: { limit: [], scenarios: [] },
    startedAt: sweepStart(sweepId).toISOString(),
    endedAt: status === 'running' ? null : sweepStart(sweepId).toISOString(),
    status,
    jobs: [],
    counts: { ok: 0, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 },
    notes: [],
    orchestrator: { version: '0', node: process.version },
  };
  return JSON.stringify(manifest);
}

async function makeStore(): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [i, id] of SWEEPS.entries()) {
    const sweepDir = join(dir, 'sweeps', id);
    await put(sweepDir, 'sweep.json', sweepManifest(id, i === SWEEPS.length - 1 ? 'running' : 'ok'));
    for (const job of ['lab-01--sysinfo', 'lab-02--sysinfo']) {
      for (const f of KEPT) await put(join(sweepDir, 'jobs', job), f, '{}\n');
      await put(join(sweepDir, 'jobs', job), 'raw/artifacts/a.bin', Buffer.alloc(1000));
      await put(join(sweepDir, 'jobs', job), 'raw/phases/run/output.log', Buffer.alloc(24));
    }
  }
}
const hasRaw = async (id: string, job = 'lab-01--sysinfo') => !!(await stat(join(dir, 'sweeps', id, 'jobs', job, 'raw')).catch(() => undefined));

t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prune-test-'));
});
t.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

t('parseSize and sweepStart', () => {
  assert.is(parseSize('50G'), 50 * 1024 ** 3);
  assert.is(parseSize('512m'), 512 * 1024 ** 2);
  assert.is(parseSize('1.5K'), 1536);
  assert.is(parseSize('1000'), 1000);
  assert.throws(() => parseSize('lots'));
  assert.is(sweepStart('20261122T051637Z-c155').toISOString(), '2026-11-22T05:16:37.000Z');
});

t('by age: raw of sweeps older than N days goes, manifests/metrics/logs/sweep.json stay, pruned.json says what went', async () => {
  await makeStore();
  const r = await pruneResults({ resultsDir: dir, keepRawDays: 7, now: NOW });
  assert.is(r.jobs.length, 4);
  assert.is(r.sweeps, 2);
  assert.is(r.files, 8);
  assert.is(r.bytes, 4 * 1024);
  assert.is(r.rawBytesLeft, 6 * 1024);
  for (const id of SWEEPS.slice(0, 2)) {
    assert.not.ok(await hasRaw(id));
    const jobDir = join(dir, 'sweeps', id, 'jobs', 'lab-01--sysinfo');
    assert.equal((await readdir(jobDir)).sort(), [...KEPT, 'pruned.json'].sort());
    const pruned = JSON.parse(await readFile(join(jobDir, 'pruned.json'), 'utf8'));
    assert.equal(pruned, { schema: 'orchestrate/pruned@1', prunedAt: NOW.toISOString(), reason: 'age', removed: { paths: ['raw'], files: 2, bytes: 1024 } });
    assert.ok(await stat(join(dir, 'sweeps', id, 'sweep.json')));
  }
  for (const id of SWEEPS.slice(2)) assert.ok(await hasRaw(id));
  // Idempotent: nothing more to do.
  assert.is((await pruneResults({ resultsDir: dir, keepRawDays: 7, now: NOW })).jobs.length, 0);
});

t('by size: oldest first until the raw artifacts fit; a running sweep is never touched', async () => {
  await makeStore();
  // 10 jobs x 1024 bytes; budget 3100 -> prune oldest until <= 3100 (the running sweep's 2048 count but stay).
  const r = await pruneResults({ resultsDir: dir, maxRawBytes: 3100, now: NOW });
  assert.equal(r.skippedRunning, ['20261130T110000Z-eeee']);
  assert.is(r.jobs.length, 7);
  assert.ok(r.jobs.every((j) => j.reason === 'size'));
  assert.is(r.rawBytesLeft, 3 * 1024);
  assert.not.ok(await hasRaw(SWEEPS[2]!));
  assert.not.ok(await hasRaw(SWEEPS[3]!, 'lab-01--sysinfo'));
  assert.ok(await hasRaw(SWEEPS[3]!, 'lab-02--sysinfo'));
  assert.ok(await hasRaw(SWEEPS[4]!));
});

t('dry run removes nothing and reports the same', async () => {
  await makeStore();
  const r = await pruneResults({ resultsDir: dir, keepRawDays: 7, maxRawBytes: 3100, dryRun: true, now: NOW });
  assert.is(r.dryRun, true);
  assert.is(r.jobs.length, 7);
  for (const id of SWEEPS) assert.ok(await hasRaw(id));
  assert.not.ok(await stat(join(dir, 'sweeps', SWEEPS[0]!, 'jobs', 'lab-01--sysinfo', 'pruned.json')).catch(() => undefined));
});

t('a pruning interrupted after the rename is finished by the next run', async () => {
  await makeStore();
  const jobDir = join(dir, 'sweeps', SWEEPS[3]!, 'jobs', 'lab-01--sysinfo');
  await rename(join(jobDir, 'raw'), join(jobDir, '.raw.pruning'));
  const r = await pruneResults({ resultsDir: dir, keepRawDays: 30, now: NOW });
  assert.equal(r.jobs.map((j) => [j.jobId, j.reason]), [['lab-01--sysinfo', 'resume']]);
  assert.equal((await readdir(jobDir)).sort(), [...KEPT, 'pruned.json'].sort());
  await mkdir(join(dir, 'x'), { recursive: true });
});

t('a sweep whose sweep.json cannot be read is left alone and said so; one without a sweep.json is pruned', async () => {
  await makeStore();
  const [newer, damaged, none] = SWEEPS;
  // a sweep of a newer orchestrator (its sweep.json in a version this one cannot read) may be running
  await put(join(dir, 'sweeps', newer!), 'sweep.json', sweepManifest(newer!, 'running').replace('orchestrate/sweep@1', 'orchestrate/sweep@2'));
  await put(join(dir, 'sweeps', damaged!), 'sweep.json', JSON.stringify({ status: 'ok' }));
  await rm(join(dir, 'sweeps', none!, 'sweep.json'));
  const r = await pruneResults({ resultsDir: dir, keepRawDays: 0, now: NOW });
  assert.equal(r.skippedUnreadable.map((s) => s.sweepId), [newer, damaged]);
  assert.match(r.skippedUnreadable[0]!.problem, /newer orchestrator \(orchestrate\/sweep@2\)/);
  assert.match(r.skippedUnreadable[1]!.problem, /has no schema/);
  assert.ok(await hasRaw(newer!));
  assert.ok(await hasRaw(damaged!));
  assert.not.ok(await hasRaw(none!));
  assert.equal(r.skippedRunning, [SWEEPS[4]]);
});

t.run();

// The store's versioned readers: the current version is read as it is, an older one through its
// upgrade hook(s) to the current type, any other version is a typed UnknownSchemaVersionError that
// says what it is. The hooks registered here are fakes: the store has only version 1 of each kind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { JOB_SCHEMA } from '../../orchestrator/results/manifest.js';
import { jobManifestFile, jobPaths, readJobManifest, StoreReadError, UnknownSchemaVersionError } from '../../orchestrator/results/store.js';
import { VersionedFile } from '../../orchestrator/results/versioned-file.js';
import { jobManifestFixture } from './job-manifest-fixture.js';

// A kind of file in three versions: @0 knew only a name, @1 added a size in KiB, @2 (current) keeps bytes.
const V0 = z.object({ schema: z.literal('orchestrate/widget@0'), name: z.string() });
const V1 = z.object({ schema: z.literal('orchestrate/widget@1'), name: z.string(), sizeKib: z.number() });
const V2 = z.object({ schema: z.literal('orchestrate/widget@2'), name: z.string(), sizeBytes: z.number().int() });
type Widget = z.infer<typeof V2>;

const upgraded: string[] = [];
const from0 = { version: 0, schema: V0, upgrade: (v: z.infer<typeof V0>) => (upgraded.push('0->1'), { schema: 'orchestrate/widget@1', name: v.name, sizeKib: 0 }) };
const from1 = { version: 1, schema: V1, upgrade: (v: z.infer<typeof V1>) => (upgraded.push('1->2'), { schema: 'orchestrate/widget@2', name: v.name, sizeBytes: v.sizeKib * 1024 }) };

const widgets = new VersionedFile<Widget>('orchestrate/widget@2', 'a widget file', V2, [from1]);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

test('the current version is read as it is, no hook runs', () => {
  upgraded.length = 0;
  assert.equal(widgets.decode({ schema: 'orchestrate/widget@2', name: 'w', sizeBytes: 10 }, 'w.json'), { schema: 'orchestrate/widget@2', name: 'w', sizeBytes: 10 });
  assert.equal(upgraded, []);
  assert.is(widgets.kind, 'widget');
  assert.is(widgets.version, 2);
  assert.equal(widgets.readable, [1, 2]);
});

test('an older version goes through its upgrade hook to the current type', () => {
  upgraded.length = 0;
  const widget: Widget = widgets.decode({ schema: 'orchestrate/widget@1', name: 'w', sizeKib: 3 }, 'w.json');
  assert.equal(widget, { schema: 'orchestrate/widget@2', name: 'w', sizeBytes: 3072 });
  assert.equal(upgraded, ['1->2']);
});

test('hooks chain: @0 -> @1 -> @2, each step validated; registering one returns a new reader', () => {
  upgraded.length = 0;
  const all = widgets.withOlderVersion(from0);
  assert.equal(all.readable, [0, 1, 2]);
  assert.equal(all.decode({ schema: 'orchestrate/widget@0', name: 'old' }, 'w.json'), { schema: 'orchestrate/widget@2', name: 'old', sizeBytes: 0 });
  assert.equal(upgraded, ['0->1', '1->2']);
  // the reader it was made from is unchanged: it still has no way from @0
  assert.instance(thrown(() => widgets.decode({ schema: 'orchestrate/widget@0', name: 'old' }, 'w.json')), UnknownSchemaVersionError);
  // an older file that is not valid in its own version is reported as such, its hook never runs
  upgraded.length = 0;
  const bad = thrown(() => all.decode({ schema: 'orchestrate/widget@1', name: 'w', sizeKib: 'big' }, 'w.json')) as StoreReadError;
  assert.instance(bad, StoreReadError);
  assert.is(bad.reason, 'invalid');
  assert.match(bad.message, /^w\.json: not a widget file \(orchestrate\/widget@1\): sizeKib: /);
  assert.equal(upgraded, []);
});

test('an upgrade that does not make a valid current file is an error naming where it came from', () => {
  const broken = new VersionedFile<Widget>('orchestrate/widget@2', 'a widget file', V2, [{ version: 1, schema: V1, upgrade: (v: z.infer<typeof V1>) => ({ ...v, schema: 'orchestrate/widget@2' }) }]);
  const error = thrown(() => broken.decode({ schema: 'orchestrate/widget@1', name: 'w', sizeKib: 1.5 }, 'w.json')) as StoreReadError;
  assert.is(error.reason, 'invalid');
  assert.match(error.detail, /^not a widget file \(upgraded from orchestrate\/widget@1\): sizeBytes: /);
});

test('an unknown version is a typed error saying what it is: newer, too old, another kind, none', () => {
  const newer = thrown(() => widgets.decode({ schema: 'orchestrate/widget@3', name: 'w' }, '/s/w.json')) as UnknownSchemaVersionError;
  assert.instance(newer, UnknownSchemaVersionError);
  assert.instance(newer, StoreReadError);
  assert.is(newer.reason, 'schema-version');
  assert.is(newer.path, '/s/w.json');
  assert.is(newer.kind, 'widget');
  assert.is(newer.found, 'orchestrate/widget@3');
  assert.equal(newer.readable, [1, 2]);
  assert.is(newer.message, '/s/w.json: was written by a newer orchestrator (orchestrate/widget@3); this one reads orchestrate/widget @1, @2: upgrade the orchestrator to read it');
  const old = thrown(() => widgets.decode({ schema: 'orchestrate/widget@0', name: 'w' }, 'w.json')) as UnknownSchemaVersionError;
  assert.match(old.detail, /^is in an old format \(orchestrate\/widget@0\) that this orchestrator has no upgrade for/);
  const other = thrown(() => widgets.decode({ schema: 'orchestrate/job@1' }, 'w.json')) as UnknownSchemaVersionError;
  assert.match(other.detail, /^is not a widget file: its schema is "orchestrate\/job@1" \(expected "orchestrate\/widget@2"\)/);
  for (const json of [{ name: 'w' }, [], null, 'orchestrate/widget@2', { schema: 2 }]) {
    const none = thrown(() => widgets.decode(json, 'w.json')) as UnknownSchemaVersionError;
    assert.instance(none, UnknownSchemaVersionError);
    assert.is(none.found, undefined);
    assert.match(none.detail, /^has no schema \(expected "orchestrate\/widget@2"\)/);
  }
  for (const schema of ['orchestrate/widget@', 'orchestrate/widget@01', 'orchestrate/widget@1.5', 'orchestrate/widget@-1', 'xorchestrate/widget@2']) {
    assert.instance(thrown(() => widgets.decode({ schema, name: 'w', sizeBytes: 1 }, 'w.json')), UnknownSchemaVersionError, schema);
  }
});

test('a reader refuses an older version that is not older, and two hooks for one version', () => {
  assert.throws(() => new VersionedFile('orchestrate/widget@2', 'a widget file', V2, [{ ...from1, version: 2 }]), /below the current @2/);
  assert.throws(() => widgets.withOlderVersion(from1), /two upgrades registered/);
  assert.throws(() => new VersionedFile('widget v2', 'a widget file', V2), /not a schema id/);
});

test('the job manifest reader: a fake job@0 upgraded by a registered hook; the store refuses job@0 and job@2 with the typed error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'versioned-'));
  try {
    const sweepId = '20260101T030000Z-ab12';
    const current = jobManifestFixture(sweepId);
    // job@0: the same manifest before `profile` existed and with the host as a bare name
    const { profile: _, host, ...rest } = current;
    const v0 = { ...rest, schema: 'orchestrate/job@0', host: host.name };
    const V0Job = z.object({ schema: z.literal('orchestrate/job@0'), host: z.string() }).loose();
    const withV0 = jobManifestFile.withOlderVersion({
      version: 0,
      schema: V0Job,
      upgrade: (old: z.infer<typeof V0Job>) => ({ ...old, schema: JOB_SCHEMA, profile: 'default', host: { name: old.host, address: '127.0.0.1', port: 22, user: 'root', roles: [], groups: [] } }),
    });
    const path = jobPaths(dir, sweepId, 'h--sysinfo').manifest;
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, JSON.stringify(v0));
    assert.equal(await withV0.read(path), current);
    const refused = await readJobManifest(dir, sweepId, 'h--sysinfo').then(() => undefined, (e: unknown) => e);
    assert.instance(refused, UnknownSchemaVersionError);
    assert.is((refused as UnknownSchemaVersionError).found, 'orchestrate/job@0');
    await writeFile(path, JSON.stringify({ ...current, schema: 'orchestrate/job@2' }));
    const newer = await readJobManifest(dir, sweepId, 'h--sysinfo').then(() => undefined, (e: unknown) => e);
    assert.instance(newer, UnknownSchemaVersionError);
    assert.match((newer as Error).message, /manifest\.json: was written by a newer orchestrator \(orchestrate\/job@2\); this one reads orchestrate\/job @1/);
    await writeFile(path, JSON.stringify(current));
    assert.equal(await readJobManifest(dir, sweepId, 'h--sysinfo'), current);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('reading from disk: a missing file, an optional missing file, not JSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'versioned-'));
  try {
    const path = join(dir, 'w.json');
    const missing = await widgets.read(path).then(() => undefined, (e: unknown) => e);
    assert.instance(missing, StoreReadError);
    assert.is((missing as StoreReadError).reason, 'missing');
    assert.is(await widgets.readOptional(path), undefined);
    await writeFile(path, '{"schema": "orchestrate/widget@2",');
    const torn = await widgets.readOptional(path).then(() => undefined, (e: unknown) => e);
    assert.is((torn as StoreReadError).reason, 'not-json');
    assert.match((torn as StoreReadError).message, /w\.json: not valid JSON \(/);
    await writeFile(path, JSON.stringify({ schema: 'orchestrate/widget@1', name: 'w', sizeKib: 1 }));
    assert.equal(widgets.readSync(path), { schema: 'orchestrate/widget@2', name: 'w', sizeBytes: 1024 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { buildHelperBundle, projectBundleRoots, BundleSourceError, NOT_BUNDLED } from '../../orchestrator/bundle/build-bundle.js';
import { extractArchive } from '../../orchestrator/results/safe-extract.js';
import { helperSelection } from '../../orchestrator/bundle/helper-selection.js';
import { entryNames } from './bundle-entries.js';

const run = promisify(execFile);

const cleanups: string[] = [];
test.after(async () => {
  for (const d of cleanups) await fsp.rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await fsp.mkdtemp(path.join(os.tmpdir(), 'bundle-test-'));
  cleanups.push(d);
  return d;
}

/** A small fake repo: remote-scripts/ with nested lib/, topologies/ with one file. */
async function fakeRepo(): Promise<string> {
  const repo = await tmp();
  await fsp.mkdir(path.join(repo, 'remote-scripts/lib'), { recursive: true });
  await fsp.mkdir(path.join(repo, 'topologies'), { recursive: true });
  await fsp.writeFile(path.join(repo, 'remote-scripts/run-midolman.sh'), '#!/bin/bash\necho run\n', { mode: 0o755 });
  await fsp.writeFile(path.join(repo, 'remote-scripts/lib/common.sh'), '# sourced\nlog() { echo "$@"; }\n', { mode: 0o644 });
  await fsp.writeFile(path.join(repo, 'remote-scripts/lib/b-tool'), '#!/bin/sh\n', { mode: 0o700 });
  await fsp.writeFile(path.join(repo, 'topologies/reference.sh'), 'setup_topology() { :; }\n', { mode: 0o664 });
  await fsp.mkdir(path.join(repo, 'remote-scripts/empty-dir'));
  return repo;
}

function rootsOf(repo: string): { dir: string; prefix: string }[] {
  return [
    { dir: path.join(repo, 'remote-scripts'), prefix: 'remote-scripts' },
    { dir: path.join(repo, 'topologies'), prefix: 'topologies' },
  ];
}

test('hash is the first 16 hex of the sha256 of the gzip bytes; files are counted', async () => {
  const repo = await fakeRepo();
  const b = await buildHelperBundle(rootsOf(repo));
  assert.match(b.hash, /^[0-9a-f]{16}$/);
  assert.is(b.hash, createHash('sha256').update(b.bytes).digest('hex').slice(0, 16));
  assert.is(b.files, 4);
  assert.is(b.bytes[0], 0x1f);
  assert.is(b.bytes[1], 0x8b);
  assert.is(b.bytes.readUInt32LE(4), 0, 'no mtime in the gzip header');
});

test('deterministic: same tree twice, and a copy with other mtimes, give the same hash', async () => {
  const repo = await fakeRepo();
  const a = await buildHelperBundle(rootsOf(repo));
  const b = await buildHelperBundle(rootsOf(repo));
  assert.is(a.hash, b.hash);
  assert.ok(a.bytes.equals(b.bytes));

  const copy = await tmp();
  await fsp.cp(repo, copy, { recursive: true });
  const old = new Date('2001-02-03T04:05:06Z');
  for (const p of ['remote-scripts', 'remote-scripts/lib', 'remote-scripts/lib/common.sh', 'remote-scripts/run-midolman.sh', 'topologies/reference.sh']) {
    await fsp.utimes(path.join(copy, p), old, old);
  }
  const c = await buildHelperBundle(rootsOf(copy));
  assert.is(c.hash, a.hash);
});

test('a content change or a chmod +x changes the hash; chmod within the same class does not', async () => {
  const repo = await fakeRepo();
  const base = (await buildHelperBundle(rootsOf(repo))).hash;

  const f = path.join(repo, 'remote-scripts/lib/common.sh');
  await fsp.appendFile(f, '# one more line\n');
  const changed = (await buildHelperBundle(rootsOf(repo))).hash;
  assert.is.not(changed, base);

  await fsp.chmod(f, 0o755);
  const exec = (await buildHelperBundle(rootsOf(repo))).hash;
  assert.is.not(exec, changed);

  await fsp.chmod(f, 0o700); // still executable: recorded as 0755 either way
  assert.is((await buildHelperBundle(rootsOf(repo))).hash, exec);

  await fsp.writeFile(path.join(repo, 'topologies/new.sh'), '');
  assert.is.not((await buildHelperBundle(rootsOf(repo))).hash, exec);
});

test('a missing root is treated as empty', async () => {
  const repo = await fakeRepo();
  await fsp.rm(path.join(repo, 'topologies'), { recursive: true });
  const b = await buildHelperBundle(rootsOf(repo));
  assert.is(b.files, 3);
  const empty = await buildHelperBundle([{ dir: path.join(repo, 'nope'), prefix: 'nope' }]);
  assert.is(empty.files, 0);
  assert.is(empty.hash, (await buildHelperBundle([])).hash);
});

test('GNU tar extracts the bundle; files, contents, modes, owner and mtime are as specified', async () => {
  const repo = await fakeRepo();
  const b = await buildHelperBundle(rootsOf(repo));
  const work = await tmp();
  const archive = path.join(work, `${b.hash}.tar.gz`);
  await fsp.writeFile(archive, b.bytes);

  const listing = (await run('tar', ['--numeric-owner', '--full-time', '-tvzf', archive], { env: { ...process.env, TZ: 'UTC' } })).stdout
    .trim()
    .split('\n');
  assert.equal(
    listing.map((l) => l.split(/\s+/).slice(-1)[0]),
    [
      'remote-scripts/',
      'remote-scripts/empty-dir/',
      'remote-scripts/lib/',
      'remote-scripts/lib/b-tool',
      'remote-scripts/lib/common.sh',
      'remote-scripts/run-midolman.sh',
      'topologies/',
      'topologies/reference.sh',
    ],
    'sorted paths, each directory before its contents',
  );
  for (const line of listing) {
    assert.match(line, / 0\/0 /, `uid/gid 0: ${line}`);
    assert.match(line, /1970-01-01 00:00:00/, `mtime 0: ${line}`);
  }

  const out = path.join(work, 'x');
  await fsp.mkdir(out);
  await run('tar', ['-xzpf', archive, '-C', out]);
  const mode = async (p: string): Promise<number> => (await fsp.stat(path.join(out, p))).mode & 0o7777;
  assert.is(await mode('remote-scripts'), 0o755);
  assert.is(await mode('remote-scripts/lib'), 0o755);
  assert.is(await mode('remote-scripts/empty-dir'), 0o755);
  assert.is(await mode('remote-scripts/run-midolman.sh'), 0o755);
  assert.is(await mode('remote-scripts/lib/b-tool'), 0o755);
  assert.is(await mode('remote-scripts/lib/common.sh'), 0o644);
  assert.is(await mode('topologies/reference.sh'), 0o644);
  for (const p of ['remote-scripts/run-midolman.sh', 'remote-scripts/lib/common.sh', 'remote-scripts/lib/b-tool', 'topologies/reference.sh']) {
    assert.ok((await fsp.readFile(path.join(out, p))).equals(await fsp.readFile(path.join(repo, p))), p);
  }
});

test('the bundle also passes the safe extractor with nothing rejected', async () => {
  const repo = await fakeRepo();
  const b = await buildHelperBundle(rootsOf(repo));
  const out = path.join(await tmp(), 'out');
  const r = await extractArchive(Readable.from([b.bytes]), out, { maxBytes: 1 << 20, gzip: true });
  assert.equal(r.rejected, []);
  assert.is(r.files, b.files);
  assert.is(r.directories, 4);
});

test('a symlink in the source is refused with its path in the error', async () => {
  const repo = await fakeRepo();
  const link = path.join(repo, 'remote-scripts/lib/linked.sh');
  await fsp.symlink('common.sh', link);
  const err = await buildHelperBundle(rootsOf(repo)).then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err, BundleSourceError);
  assert.ok((err as Error).message.includes(link), (err as Error).message);
  assert.equal((err as BundleSourceError).paths, [link]);

  await fsp.rm(link);
  const dirLink = path.join(repo, 'topologies/more');
  await fsp.symlink(path.join(repo, 'remote-scripts'), dirLink);
  const err2 = await buildHelperBundle(rootsOf(repo)).then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(err2, BundleSourceError);
  assert.ok((err2 as Error).message.includes(dirLink));
});

test('a name with a control character or a backslash is refused (a host checks its copy one line per path)', async () => {
  for (const name of ['new\nline.sh', 'tab\there.sh', 'back\\slash.sh', 'esc\x1b.sh', 'del\x7f.sh']) {
    const repo = await fakeRepo();
    const bad = path.join(repo, 'remote-scripts/lib', name);
    await fsp.writeFile(bad, '# x\n');
    const err = await buildHelperBundle(rootsOf(repo)).then(
      () => null,
      (e: unknown) => e,
    );
    assert.instance(err, BundleSourceError, JSON.stringify(name));
    assert.match((err as Error).message, /control character or a backslash/);
    assert.equal((err as BundleSourceError).paths, [bad]);
  }
  const repo = await fakeRepo();
  await fsp.writeFile(path.join(repo, 'remote-scripts/lib/spaces and ünïcødé.sh'), '# fine\n');
  await buildHelperBundle(rootsOf(repo));
});

test('bad prefixes are refused', async () => {
  const repo = await fakeRepo();
  for (const prefix of ['', '/abs', '../up', 'a/../../b']) {
    const err = await buildHelperBundle([{ dir: path.join(repo, 'topologies'), prefix }]).then(
      () => null,
      (e: unknown) => e,
    );
    assert.instance(err, Error, prefix);
  }
});

/** The bundle's entry names, without trailing slashes, in archive order. */

test('projectBundleRoots points at remote-scripts/ and topologies/ of this repository', async () => {
  const roots = projectBundleRoots();
  assert.equal(roots.map((r) => r.prefix), ['remote-scripts', 'topologies']);
  const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  assert.equal(roots.map((r) => r.dir), [path.join(repoRoot, 'remote-scripts'), path.join(repoRoot, 'topologies')]);
  assert.ok(existsSync(path.join(path.dirname(roots[0]!.dir), 'package.json')));
  const b = await buildHelperBundle(roots);
  assert.match(b.hash, /^[0-9a-f]{16}$/);
});

test('the project bundle leaves out the scripts that never run from it: the reports host\'s and its own bootstrap', async () => {
  const roots = projectBundleRoots();
  for (const d of NOT_BUNDLED) assert.ok(existsSync(path.join(roots[0]!.dir, d)), `remote-scripts/${d} exists`);
  const names = await entryNames(await buildHelperBundle(roots));
  assert.ok(names.includes('remote-scripts/lib/common.sh'), 'the helpers are in');
  assert.equal(names.filter((n) => /^remote-scripts\/(publish|bundle)(\/|$)/.test(n)), []);
});

test('leaveOut drops top-level entries of its root only', async () => {
  const repo = await fakeRepo();
  await fsp.mkdir(path.join(repo, 'topologies/lib'));
  await fsp.writeFile(path.join(repo, 'topologies/lib/x.sh'), '\n');
  const [scripts, topologies] = rootsOf(repo);
  const names = await entryNames(await buildHelperBundle([{ ...scripts!, leaveOut: ['lib'] }, topologies!]));
  assert.equal(names, ['remote-scripts', 'remote-scripts/empty-dir', 'remote-scripts/run-midolman.sh', 'topologies', 'topologies/lib', 'topologies/lib/x.sh', 'topologies/reference.sh']);
});

test('a selection packs only the files it takes and the directories above them; a root it takes nothing of is left out', async () => {
  const repo = await fakeRepo();
  const all = await buildHelperBundle(rootsOf(repo));
  const selection = helperSelection([['remote-scripts/lib/*.sh', 'remote-scripts/run-midolman.sh']])!;
  // the agent's own helpers are not in this fake tree: only the declared patterns match here
  const some = await buildHelperBundle(rootsOf(repo), selection);
  assert.equal(await entryNames(some), ['remote-scripts', 'remote-scripts/lib', 'remote-scripts/lib/common.sh', 'remote-scripts/run-midolman.sh']);
  assert.is(some.files, 2);
  assert.is.not(some.hash, all.hash);
  assert.is((await buildHelperBundle(rootsOf(repo), helperSelection([['remote-scripts/run-midolman.sh', 'remote-scripts/lib/*.sh']])!)).hash, some.hash, 'the same selection, the same bundle');
  // what a selection leaves out is still checked: a symlink anywhere is refused
  await fsp.symlink('/etc/passwd', path.join(repo, 'topologies/link'));
  const refused = await buildHelperBundle(rootsOf(repo), selection).then(() => undefined, (error: unknown) => error);
  assert.ok(refused instanceof BundleSourceError, 'a symlink outside the selection is refused too');
});

test.run();

// remote-scripts/kvm-build-image without the network: recipe validation, the hashes that key its
// two caches, and the image assembly from a tree. The Debian tree mmdebstrap would download is
// faked here by a small tarball put where the tree cache keeps it (trees/<hash>/rootfs.tar +
// COMPLETE); everything after that is the real builder (tar, mkfs.ext4 -d) and the image is read
// back with debugfs. mmdebstrap itself runs only in the install step (test/kvm-guest/cli.ts prepare).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';
import type { Recipe } from './guest-recipe.js';
import { BUILD_IMAGE, ImageBuildError, runBuildImage, TreeMissingError, writeRecipe } from './image-builder.js';

const run = promisify(execFile);
const t = suite('kvm-build-image');
const missing = await missingRequirement(needsRoot, async () => {
  for (const bin of ['jq', 'mkfs.ext4', 'debugfs', 'flock', 'tar', 'sha256sum']) {
    if (await run('sh', ['-c', `command -v ${bin}`]).then(() => false, () => true)) return `${bin} not installed (bash test/install-deps.sh)`;
  }
  return null;
});
const it = guardedSuite(t, missing, 'the image builder tests');

let dir = '';
let sources = '';
t.before(async () => {
  dir = await fsp.mkdtemp('/tmp/kvm-build-image-');
  sources = path.join(dir, 'test.sources');
  await fsp.writeFile(sources, 'Types: deb\nURIs: http://deb.invalid/debian\nSuites: bookworm\nComponents: main\n');
});
t.after(async () => {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
});

async function setup(name: string, recipe: Partial<Recipe> = {}) {
  const base = path.join(dir, name);
  const cache = path.join(base, 'cache');
  await fsp.mkdir(path.join(base, 'files'), { recursive: true });
  await fsp.writeFile(path.join(base, 'files', 'hello'), '#!/bin/sh\necho hello\n');
  const full: Recipe = {
    suite: 'bookworm',
    packages: ['systemd-sysv', 'bash'],
    size: '128M',
    hostname: 'unit-guest',
    cmdline: 'console=ttyS0 root=/dev/vda rw',
    files: [{ src: 'files/hello', dest: '/usr/local/bin/hello', mode: '0755' }],
    dirs: [{ dest: '/abuild', mode: '0755' }],
    symlinks: [{ dest: '/etc/systemd/system/default.target', target: '/lib/systemd/system/multi-user.target' }],
    remove: ['/usr/share/doc'],
    mask: ['apt-daily.timer'],
    ...recipe,
  };
  const recipeFile = await writeRecipe(full, base);
  return { base, cache, recipeFile, recipe: full };
}

/** A tree as the tree stage leaves it, minus the packages: a kernel, an initrd, a few directories. */
async function fakeTree(cache: string, treeHash: string, opts: { kernels?: string[] } = {}): Promise<{ vmlinuz: Buffer; initrd: Buffer }> {
  const root = path.join(cache, 'fake-root');
  for (const d of ['boot', 'etc/systemd/system', 'lib/systemd/system', 'usr/share/doc/bash', 'var/log', 'root']) await fsp.mkdir(path.join(root, d), { recursive: true });
  await fsp.writeFile(path.join(root, 'usr/share/doc/bash/copyright'), 'doc\n');
  const vmlinuz = Buffer.from(`kernel image ${treeHash}\n`);
  const initrd = Buffer.from(`initramfs ${treeHash}\n`);
  for (const k of opts.kernels ?? ['6.1.0-test-amd64']) {
    await fsp.writeFile(path.join(root, 'boot', `vmlinuz-${k}`), vmlinuz);
    await fsp.writeFile(path.join(root, 'boot', `initrd.img-${k}`), initrd);
  }
  const tree = path.join(cache, 'trees', treeHash);
  await fsp.mkdir(tree, { recursive: true });
  await run('tar', ['-cf', path.join(tree, 'rootfs.tar'), '-C', root, '.']);
  await fsp.writeFile(path.join(tree, 'COMPLETE'), '');
  await fsp.rm(root, { recursive: true });
  return { vmlinuz, initrd };
}

async function leftovers(cache: string): Promise<string[]> {
  const out: string[] = [];
  for (const kind of ['trees', 'images']) {
    for (const e of await fsp.readdir(path.join(cache, kind)).catch(() => [] as string[])) if (e.startsWith('.build-')) out.push(`${kind}/${e}`);
  }
  return out;
}

const debugfsStat = async (image: string, file: string) => (await run('debugfs', ['-R', `stat ${file}`, image])).stdout;
const debugfsCat = async (image: string, file: string) => (await run('debugfs', ['-R', `cat ${file}`, image])).stdout;

it('a bad recipe is refused with every problem at once, before anything is built', async () => {
  const base = path.join(dir, 'bad');
  await fsp.mkdir(base, { recursive: true });
  const file = path.join(base, 'recipe.json');
  await fsp.writeFile(file, JSON.stringify({
    suite: 'Bookworm!', packages: [], size: '2T', colour: 'red',
    files: [{ src: 'x', dest: '/etc/../shadow', mode: '0755' }], mask: ['rm -rf'], symlinks: [{ dest: 'relative', target: '/x' }],
  }));
  const r = await run('bash', [BUILD_IMAGE, 'image', '--recipe', file, '--cache', path.join(base, 'cache')]).then(() => null, (e: { code: number; stderr: string }) => e);
  assert.ok(r, 'refused');
  assert.is(r!.code, 2);
  for (const needle of ["unknown key 'colour'", 'suite:', 'packages:', 'size:', 'files:', 'mask:', 'symlinks:']) assert.match(r!.stderr, needle);
  assert.not.ok(await fsp.stat(path.join(base, 'cache')).then(() => true, () => false), 'nothing created');
  const notJson = path.join(base, 'broken.json');
  await fsp.writeFile(notJson, '{"suite":');
  const b = await run('bash', [BUILD_IMAGE, 'hash', '--recipe', notJson, '--cache', path.join(base, 'cache')]).then(() => null, (e: { stderr: string }) => e);
  assert.match(b!.stderr, /not valid JSON/);
});

it('the tree hash follows suite, packages (any order) and apt sources; the image hash also every laid-in file', async () => {
  const a = await setup('hash-a');
  const h = (recipeFile: string, src = sources) => runBuildImage('hash', { recipeFile, cacheDir: a.cache, sources: src });
  const first = await h(a.recipeFile);
  assert.equal(await h(a.recipeFile), first, 'stable');
  const reordered = await setup('hash-b', { packages: ['bash', 'systemd-sysv', 'bash'] });
  assert.is((await h(reordered.recipeFile)).tree_hash, first.tree_hash);
  const more = await setup('hash-c', { packages: ['systemd-sysv', 'bash', 'fio'] });
  assert.is.not((await h(more.recipeFile)).tree_hash, first.tree_hash);
  const other = path.join(dir, 'other.sources');
  await fsp.writeFile(other, 'Types: deb\nURIs: http://deb.invalid/other\nSuites: bookworm\nComponents: main\n');
  assert.is.not((await h(a.recipeFile, other)).tree_hash, first.tree_hash);
  await fsp.writeFile(path.join(a.base, 'files', 'hello'), '#!/bin/sh\necho changed\n');
  const changed = await h(a.recipeFile);
  assert.is(changed.tree_hash, first.tree_hash, 'a laid-in file is not part of the tree');
  assert.is.not(changed.image_hash, first.image_hash);
  const missingFile = await setup('hash-d', { files: [{ src: 'files/absent', dest: '/x', mode: '0644' }] });
  const e = await h(missingFile.recipeFile).then(() => null, (err: unknown) => err);
  assert.instance(e, ImageBuildError);
  assert.match((e as Error).message, /recipe files not found: .*absent/);
});

it('image without its cached tree: exit 3, TreeMissingError saying to run the install step, nothing downloaded or left', async () => {
  const s = await setup('no-tree');
  const e = await runBuildImage('image', { recipeFile: s.recipeFile, cacheDir: s.cache, sources }).then(() => null, (err: unknown) => err);
  assert.instance(e, TreeMissingError);
  assert.match((e as Error).message, /is not in .*build it first/);
  assert.match((e as Error).message, /bash test\/install-deps\.sh/);
  assert.equal(await fsp.readdir(path.join(s.cache, 'images')).catch(() => []), []);
});

it('image from the cached tree: a raw ext4 with the recipe laid in, the kernel and initrd beside it, COMPLETE last; the second call reuses it', async () => {
  const s = await setup('assemble');
  const hashes = await runBuildImage('hash', { recipeFile: s.recipeFile, cacheDir: s.cache, sources });
  const k = await fakeTree(s.cache, hashes.tree_hash);
  const r = await runBuildImage('image', { recipeFile: s.recipeFile, cacheDir: s.cache, sources });
  assert.is(r.image_hash, hashes.image_hash);
  assert.is(r.image_cached, false);
  assert.is(r.dir, path.join(s.cache, 'images', hashes.image_hash));
  assert.equal((await fsp.readdir(r.dir!)).sort(), ['COMPLETE', 'build.log', 'cmdline', 'initrd.img', 'os-release', 'recipe.json', 'root.img', 'vmlinuz']);
  assert.equal(await fsp.readFile(r.kernel!), k.vmlinuz);
  assert.equal(await fsp.readFile(r.initrd!), k.initrd);
  assert.is(await fsp.readFile(path.join(r.dir!, 'cmdline'), 'utf8'), `${s.recipe.cmdline}\n`);
  const meta = JSON.parse(await fsp.readFile(path.join(r.dir!, 'recipe.json'), 'utf8')) as { hash: string; tree: string; kernel_version: string; recipe: Recipe };
  assert.equal({ hash: meta.hash, tree: meta.tree, kernel: meta.kernel_version, size: meta.recipe.size }, { hash: hashes.image_hash, tree: hashes.tree_hash, kernel: '6.1.0-test-amd64', size: '128M' });
  assert.is((await fsp.stat(r.image!)).size, 128 << 20);
  const img = r.image!;
  assert.match((await run('dumpe2fs', ['-h', img])).stdout, /Filesystem volume name:\s+guest-root/);
  assert.is(await debugfsCat(img, '/etc/hostname'), 'unit-guest\n');
  assert.match(await debugfsCat(img, '/etc/fstab'), /^\/dev\/vda \/ ext4 /m);
  assert.is(await debugfsCat(img, '/usr/local/bin/hello'), '#!/bin/sh\necho hello\n');
  assert.match(await debugfsStat(img, '/usr/local/bin/hello'), /Mode:\s+0755/);
  assert.match(await debugfsStat(img, '/etc/systemd/system/apt-daily.timer'), /Fast link dest: "\/dev\/null"/);
  assert.match(await debugfsStat(img, '/etc/systemd/system/default.target'), /Fast link dest: "\/lib\/systemd\/system\/multi-user.target"/);
  assert.match(await debugfsStat(img, '/abuild'), /Type: directory/);
  assert.match((await run('debugfs', ['-R', 'stat /usr/share/doc', img])).stderr, /File not found/);
  assert.equal(await leftovers(s.cache), []);

  const mtime = (await fsp.stat(img)).mtimeMs;
  const again = await runBuildImage('image', { recipeFile: s.recipeFile, cacheDir: s.cache, sources });
  assert.is(again.image_cached, true);
  assert.is(again.image, img);
  assert.is((await fsp.stat(img)).mtimeMs, mtime, 'not rebuilt');
});

it('a failed assembly leaves no image and no temporary directory, and says why (with the log tail)', async () => {
  const small = await setup('too-small', { size: '64M' });
  const h1 = await runBuildImage('hash', { recipeFile: small.recipeFile, cacheDir: small.cache, sources });
  await fakeTree(small.cache, h1.tree_hash);
  const e1 = await runBuildImage('image', { recipeFile: small.recipeFile, cacheDir: small.cache, sources }).then(() => null, (err: unknown) => err);
  assert.instance(e1, ImageBuildError);
  assert.match((e1 as Error).message, /size \(64 MiB\) is too small/);
  assert.equal(await fsp.readdir(path.join(small.cache, 'images')).then((l) => l.filter((x) => !x.startsWith('.lock-'))), []);

  const two = await setup('two-kernels');
  const h2 = await runBuildImage('hash', { recipeFile: two.recipeFile, cacheDir: two.cache, sources });
  await fakeTree(two.cache, h2.tree_hash, { kernels: ['6.1.0-a', '6.1.0-b'] });
  const e2 = await runBuildImage('image', { recipeFile: two.recipeFile, cacheDir: two.cache, sources }).then(() => null, (err: unknown) => err);
  assert.instance(e2, ImageBuildError);
  assert.match((e2 as Error).message, /extracting the kernel failed/);
  assert.match((e2 as Error).message, /last lines of build\.log[\s\S]*several kernels/);
  assert.equal(await fsp.readdir(path.join(two.cache, 'images')).then((l) => l.filter((x) => !x.startsWith('.lock-'))), []);
  assert.equal(await leftovers(two.cache), []);
});

it('two builders of the same image at once: one assembles, the other waits for it and reuses it', async () => {
  const s = await setup('concurrent');
  const hashes = await runBuildImage('hash', { recipeFile: s.recipeFile, cacheDir: s.cache, sources });
  await fakeTree(s.cache, hashes.tree_hash);
  const [a, b] = await Promise.all([0, 1].map(() => runBuildImage('image', { recipeFile: s.recipeFile, cacheDir: s.cache, sources })));
  assert.is(a!.image, b!.image);
  assert.equal([a!.image_cached, b!.image_cached].sort(), [false, true]);
  assert.equal((await fsp.readdir(path.join(s.cache, 'images'))).filter((e) => !e.startsWith('.lock-')), [hashes.image_hash]);
  assert.equal(await leftovers(s.cache), []);
});

t.run();

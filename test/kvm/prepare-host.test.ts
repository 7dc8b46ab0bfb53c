// remote-scripts/kvm-prepare-host on a sacrificial loop device (a sparse 1 GiB file in a temp
// dir, attached with partition scanning). Every loop device attached here is detached in the
// after hook (by its exact name), after unmounting anything under the temp dir, even on failure.
// The refusal tests run with stub parted/mkfs/wipefs/mount first on PATH, so a check that wrongly
// passed could still not change anything; they assert the device's partition table is unchanged.
import { test } from 'uvu';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmod, mkdir, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const exec = promisify(execFile);
const helper = fileURLToPath(new URL('../../remote-scripts/kvm-prepare-host', import.meta.url));
const missing = await missingRequirement(needsRoot, () =>
  exec('sh', ['-c', 'for c in losetup parted wipefs partx blkid mkfs.xfs mkfs.btrfs mkfs.ext4 findmnt lsblk; do command -v "$c" >/dev/null || { echo "$c"; exit 1; }; done']).then(
    () => null,
    (e: { stdout?: string }) => `${String(e.stdout ?? '').trim() || 'a disk tool'} not installed (bash test/install-deps.sh)`,
  ),
);
const it = guardedSuite(test, missing, 'the host preparation tests (loop devices)');

let dir = '';
let dev = '';
const loops: string[] = [];
let jobCount = 0;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  job: string;
  artifacts: string;
}

async function runHelper(verb: string, env: Record<string, string>, job?: string): Promise<Result> {
  const jobDir = job ?? join(dir, `job${++jobCount}`);
  const artifacts = join(jobDir, 'artifacts');
  try {
    const { stdout, stderr } = await exec(helper, [verb], { env: { PATH: process.env.PATH!, ORCH_JOB_DIR: jobDir, ORCH_ARTIFACTS: artifacts, ...env } });
    return { code: 0, stdout, stderr, job: jobDir, artifacts };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, job: jobDir, artifacts };
  }
}

async function attach(size = '1G'): Promise<string> {
  const file = join(dir, `disk${loops.length}.img`);
  await exec('truncate', ['-s', size, file]);
  const { stdout } = await exec('losetup', ['-f', '--show', '-P', file]);
  const name = stdout.trim();
  loops.push(name);
  return name;
}

/** Hash of the first and last MiB of the device: the primary and backup GPT (or MBR) live there.
 * Where the device cannot be opened (this machine refuses to open its root disk even to root),
 * the kernel's view instead: partitions with start and size from sysfs. */
async function tableHash(device: string): Promise<string> {
  const fh = await open(device, 'r').catch(() => undefined);
  if (!fh) {
    const { stdout } = await exec('lsblk', ['-J', '-b', '-p', '-o', 'NAME,SIZE,TYPE,PTTYPE,PARTUUID', device]);
    const { stdout: starts } = await exec('sh', ['-c', 'for f in /sys/class/block/"$1"/*/start; do [ -e "$f" ] && echo "$f $(cat "$f")"; done; true', 'sh', device.replace(/^\/dev\//, '')]);
    return `kernel:${createHash('sha256').update(stdout).update(starts).digest('hex')}`;
  }
  try {
    const size = Number((await exec('blockdev', ['--getsize64', device])).stdout.trim());
    const buf = Buffer.alloc(1 << 20);
    const h = createHash('sha256');
    await fh.read(buf, 0, buf.length, 0);
    h.update(buf);
    await fh.read(buf, 0, buf.length, size - buf.length);
    h.update(buf);
    return h.digest('hex');
  } finally {
    await fh.close();
  }
}

async function children(device: string): Promise<{ name: string; mountpoints: (string | null)[] }[]> {
  const { stdout } = await exec('lsblk', ['-J', '-p', '-o', 'NAME,MOUNTPOINTS', device]);
  return (JSON.parse(stdout) as { blockdevices: { children?: { name: string; mountpoints: (string | null)[] }[] }[] }).blockdevices[0]!.children ?? [];
}

async function blkidType(device: string): Promise<string> {
  return exec('blkid', ['-p', '-o', 'value', '-s', 'TYPE', device]).then(
    (r) => r.stdout.trim(),
    () => '',
  );
}

async function mountsUnder(prefix: string): Promise<string[]> {
  const { stdout } = await exec('findmnt', ['-rno', 'TARGET']);
  return stdout.split('\n').filter((t) => t.startsWith(prefix));
}

/** A known, non-empty partition table: an msdos label with one partition. */
async function knownTable(device: string) {
  await exec('wipefs', ['-q', '-a', device]);
  await exec('parted', ['--script', device, 'mklabel', 'msdos', 'mkpart', 'primary', '1MiB', '100MiB']);
  await exec('partx', ['-u', device]).catch(() => undefined);
}

/** Stubs for every command that could change a disk: exit 99 and leave a marker. */
async function stubPath(): Promise<string> {
  const stubs = join(dir, 'stubs');
  await mkdir(stubs, { recursive: true });
  for (const name of ['parted', 'wipefs', 'mkfs.xfs', 'mkfs.btrfs', 'mkfs.ext4', 'mount', 'sgdisk', 'sfdisk']) {
    await writeFile(join(stubs, name), `#!/bin/sh\necho "$0 $*" >>'${join(dir, 'stub-called')}'\nexit 99\n`);
    await chmod(join(stubs, name), 0o755);
  }
  return `${stubs}:${process.env.PATH}`;
}

async function assertRefused(env: Record<string, string>, message: RegExp, device = dev) {
  const before = existsSync(device) && (await stat(device)).isBlockDevice() ? await tableHash(device) : '';
  const mountsBefore = await mountsUnder('/');
  const r = await runHelper('prepare', { ...env, PATH: await stubPath() });
  assert.is(r.code, 1, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.not.ok(existsSync(join(dir, 'stub-called')), 'no disk-changing command may run');
  assert.not.ok(existsSync(join(r.job, 'kvm-host.state')), 'no state file');
  assert.not.ok(existsSync(join(r.artifacts, 'kvm-host.json')), 'no result');
  if (before) assert.is(await tableHash(device), before, 'partition table unchanged');
  assert.equal(await mountsUnder('/'), mountsBefore, 'mounts unchanged');
}

test.before(async () => {
  if (missing) return;
  dir = await mkdtemp(join(tmpdir(), 'kvm-prep-'));
  dev = await attach();
});

test.after(async () => {
  if (!dir) return;
  // unmount anything left under the temp dir (deepest first), then detach exactly our loops
  for (const target of (await mountsUnder(dir).catch(() => [] as string[])).sort((a, b) => b.length - a.length)) {
    await exec('umount', ['-l', target]).catch(() => undefined);
  }
  for (const loop of loops) await exec('losetup', ['-d', loop]).catch((e: Error) => console.error(`losetup -d ${loop}: ${e.message}`));
  await rm(dir, { recursive: true, force: true });
});

it('prepare: GPT, one partition per filesystem, mkfs, mounts, tmpfs, kvm-host.json; teardown wipes', async () => {
  const r = await runHelper('prepare', { KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes', KVM_FILESYSTEMS: 'base:xfs btrfs ext4 tmpfs', KVM_TMPFS_SIZE: '64M' });
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(await readFile(join(r.artifacts, 'kvm-host.json'), 'utf8')) as { mode: string; device: string; backings: { name: string; fs: string; source: string; path: string; uuid: string }[] };
  assert.is(result.mode, 'device');
  assert.is(result.device, dev);
  assert.equal(result.backings.map((b) => [b.name, b.fs]), [['base', 'xfs'], ['btrfs', 'btrfs'], ['ext4', 'ext4'], ['tmpfs', 'tmpfs']]);
  const parts = await children(dev);
  assert.is(parts.length, 3);
  assert.is((await exec('blkid', ['-p', '-o', 'value', '-s', 'PTTYPE', dev])).stdout.trim(), 'gpt');
  for (const [i, b] of result.backings.entries()) {
    assert.is(b.path, join(r.job, 'kvm-mounts', b.name));
    const fstype = (await exec('findmnt', ['-no', 'FSTYPE', '--mountpoint', b.path])).stdout.trim();
    assert.is(fstype, b.fs, `${b.name} mounted as ${b.fs}`);
    await writeFile(join(b.path, 'probe'), 'ok');
    if (b.fs === 'tmpfs') continue;
    assert.is(b.source, parts[i]!.name);
    assert.equal(parts[i]!.mountpoints, [b.path]);
    assert.is(await blkidType(b.source), b.fs);
    assert.match(b.uuid, /^[0-9a-f-]{36}$/);
  }
  // one log line per backing store (an event kind the orchestrator knows)
  const events = r.stderr.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { kind: string; message?: string });
  assert.equal(events.filter((e) => e.kind === 'log' && e.message?.startsWith('backing store ')).map((e) => e.message!.split(':')[0]), ['backing store base', 'backing store btrfs', 'backing store ext4', 'backing store tmpfs']);

  const again = await runHelper('prepare', { KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, r.job);
  assert.is(again.code, 1);
  assert.match(again.stderr, /already prepared/);

  const down = await runHelper('teardown', {}, r.job);
  assert.is(down.code, 0, down.stderr);
  assert.equal(await mountsUnder(dir), []);
  assert.equal(await children(dev), [], 'partitions gone');
  assert.is(await blkidType(dev), '', 'no signature left on the disk');
  assert.is((await exec('blkid', ['-p', '-o', 'value', '-s', 'PTTYPE', dev]).catch(() => ({ stdout: '' }))).stdout.trim(), '', 'no partition table left');
  assert.not.ok(existsSync(join(r.job, 'kvm-host.state')));
  assert.not.ok(existsSync(join(r.job, 'kvm-mounts')));
  assert.equal(JSON.parse(await readFile(join(down.artifacts, 'kvm-host-teardown.json'), 'utf8')), { device: dev, device_after: 'wipe', unmounted: 4 });
  const idle = await runHelper('teardown', {}, r.job);
  assert.is(idle.code, 0, 'teardown with nothing prepared succeeds');
});

it('teardown with KVM_DEVICE_AFTER=keep unmounts and leaves partitions and filesystems', async () => {
  const r = await runHelper('prepare', { KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes', KVM_FILESYSTEMS: 'ext4 xfs' });
  assert.is(r.code, 0, r.stderr);
  const down = await runHelper('teardown', { KVM_DEVICE_AFTER: 'keep' }, r.job);
  assert.is(down.code, 0, down.stderr);
  assert.equal(await mountsUnder(dir), []);
  const parts = await children(dev);
  assert.equal(parts.map((p) => p.mountpoints), [[null], [null]]);
  assert.equal(await Promise.all(parts.map((p) => blkidType(p.name))), ['ext4', 'xfs']);
});

it('a failure half way undoes what was done (trap): nothing mounted, device wiped, no state', async () => {
  const blocker = join(dir, 'not-a-dir');
  await writeFile(blocker, 'x');
  const r = await runHelper('prepare', { KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes', KVM_FILESYSTEMS: 'xfs ext4', KVM_MOUNT_ROOT: join(blocker, 'mounts') });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /undoing/);
  assert.equal(await mountsUnder(dir), []);
  assert.equal(await children(dev), []);
  assert.not.ok(existsSync(join(r.job, 'kvm-host.state')));
});

it('refused: no allow flag (device named), nothing changed', async () => {
  await knownTable(dev);
  await assertRefused({ KVM_TEST_DEVICE: dev }, /test device \/dev\/loop\d+ is named but KVM_TEST_DEVICE_ALLOW_WIPE is not 'yes'/);
  await assertRefused({ KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'true' }, /is not 'yes'/);
});

it('refused: bad inventory directories in device mode, before the device is touched', async () => {
  await knownTable(dev);
  await assertRefused({ KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes', KVM_DIRS: `x=${join(dir, 'missing')}` }, /is not a directory/);
});

it('refused: allow flag but no device named', async () => {
  await assertRefused({ KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, /no test device named/);
  await assertRefused({}, /nothing to prepare/);
});

it('refused: not a block device (regular file, character device, missing path)', async () => {
  await knownTable(dev);
  const file = join(dir, 'disk0.img');
  await assertRefused({ KVM_TEST_DEVICE: file, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, /is not a block device/);
  await assertRefused({ KVM_TEST_DEVICE: '/dev/null', KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, /\/dev\/null is not a block device/);
  await assertRefused({ KVM_TEST_DEVICE: join(dir, 'nope'), KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, /does not exist/);
});

// The filesystems are mounted read-only: the refusal is the same for any mount, and a read-write
// ext4 is written by the kernel itself while mounted (its lazy inode-table init, the journal's
// commits), which changes the very bytes assertRefused checks are untouched (its tableHash, the
// device's first and last MiB): seen once in a full suite run, and within seconds of a mount by hand.
it('refused: a mounted loop device, and a device with a mounted partition', async () => {
  const other = await attach('64M');
  await exec('mkfs.ext4', ['-q', '-F', other]);
  const mnt = join(dir, 'mnt-other');
  await mkdir(mnt);
  await exec('mount', ['-o', 'ro', other, mnt]);
  try {
    await assertRefused({ KVM_TEST_DEVICE: other, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, new RegExp(`${other} is mounted on ${mnt}`), other);
  } finally {
    await exec('umount', [mnt]);
  }
  await knownTable(dev);
  const part = (await children(dev))[0]!.name;
  await exec('mkfs.ext4', ['-q', '-F', part]);
  const mnt2 = join(dir, 'mnt-part');
  await mkdir(mnt2);
  await exec('mount', ['-o', 'ro', part, mnt2]);
  try {
    await assertRefused({ KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, new RegExp(`holds a mounted filesystem \\(${part} on ${mnt2}\\)`));
  } finally {
    await exec('umount', [mnt2]);
  }
  await assertRefused({ KVM_TEST_DEVICE: part, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, /is a 'part', not a whole disk/);
});

it('refused: the device holding / (as findmnt names it), and, where / is on a block device here, the real one', async () => {
  // findmnt is the boundary that says which device holds /: a wrapper names our loop device
  const fake = join(dir, 'fake-root');
  await mkdir(fake, { recursive: true });
  const real = (await exec('sh', ['-c', 'command -v findmnt'])).stdout.trim();
  await writeFile(join(fake, 'findmnt'), `#!/bin/sh\nif [ "$*" = "-rno SOURCE /" ]; then echo '${dev}[/@]'; exit 0; fi\nexec ${real} "$@"\n`);
  await chmod(join(fake, 'findmnt'), 0o755);
  const before = await tableHash(dev);
  const r = await runHelper('prepare', { KVM_TEST_DEVICE: dev, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes', PATH: `${fake}:${await stubPath()}` });
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`${dev} holds the root filesystem`));
  assert.not.ok(existsSync(join(dir, 'stub-called')), 'no disk-changing command may run');
  assert.is(await tableHash(dev), before);
  const { stdout } = await exec('findmnt', ['-J', '/']);
  const source = (JSON.parse(stdout) as { filesystems: { source: string }[] }).filesystems[0]!.source.replace(/\[.*$/, '');
  if (existsSync(source) && (await stat(source)).isBlockDevice()) {
    // the device itself, and the disk it sits on (if / is on a partition)
    const disks = (await exec('lsblk', ['-nrpso', 'NAME', source])).stdout.trim().split('\n');
    for (const device of new Set([source, ...disks])) {
      await assertRefused({ KVM_TEST_DEVICE: device, KVM_TEST_DEVICE_ALLOW_WIPE: 'yes' }, new RegExp(`${device} holds the root filesystem`), device);
    }
  } else {
    console.log(`  (/ is on ${source} here, not a block device: only the device findmnt was made to name was tried)`);
  }
});

it('directory mode: the inventory directories are checked and recorded, nothing destructive', async () => {
  const a = join(dir, 'dir-a');
  const b = join(dir, 'dir b');
  await mkdir(a);
  await mkdir(b);
  const r = await runHelper('prepare', { KVM_DIRS: `nvme=${a} ssd=${join(dir, 'dir-a')}`, PATH: await stubPath() });
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(await readFile(join(r.artifacts, 'kvm-host.json'), 'utf8')) as { mode: string; backings: { name: string; source: string; path: string; fs: string }[] };
  assert.is(result.mode, 'directories');
  assert.equal(result.backings.map((x) => [x.name, x.source, x.path]), [['dir.nvme', 'directory', a], ['dir.ssd', 'directory', a]]);
  assert.ok(result.backings[0]!.fs.length > 0);
  assert.not.ok(existsSync(join(dir, 'stub-called')));
  const missing = await runHelper('prepare', { KVM_DIRS: `x=${join(dir, 'missing')}` });
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /is not a directory/);
  const relative = await runHelper('prepare', { KVM_DIRS: 'x=relative/dir' });
  assert.match(relative.stderr, /must be absolute/);
  assert.is((await runHelper('teardown', {}, r.job)).code, 0);
});

test.run();

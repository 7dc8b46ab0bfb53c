// A SLES-12-like btrfs root through real guestfish (libguestfs under TCG here: about a minute per
// appliance launch, so two launches in all). The image: subvolume @, /var/log in its own
// subvolume @/var/log, the root a snapshot subvolume set as the filesystem's default, and an
// fstab that mounts @/var/log on /var/log (as SLES 12 installs it). Mounting the device alone
// shows an empty /var/log (checked with the kernel's own btrfs, no appliance); `guest.root` as
// {device, subvolume, mounts} injects into the right subvolumes; `inspect` collects through the
// guest's fstab.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { guestMounts, GuestRoot } from '../../orchestrator/scenarios/kvm/params.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const exec = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../remote-scripts/', import.meta.url));
const btrfs = suite('kvm: a btrfs root whose /var/log is a subvolume, through guestfish');
const missing = await missingRequirement(needsRoot, () =>
  exec('sh', ['-c', 'for c in mkfs.btrfs btrfs guestfish losetup blkid; do command -v "$c" >/dev/null || { echo "$c"; exit 1; }; done']).then(
    () => null,
    (e: { stdout?: string }) => `${String(e.stdout ?? '').trim() || 'a tool'} not installed (bash test/install-deps.sh)`,
  ),
);
const it = guardedSuite(btrfs, missing, 'the btrfs root tests');

let dir = '';
let image = '';
let mnt = '';
let mounted = false;
const SNAPSHOT = '@/.snapshots/1/snapshot';

async function sh(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const prelude = ['common.sh', 'json.sh', 'events.sh', 'kvm-guest.sh'].map((f) => `. ${JSON.stringify(join(SCRIPTS, 'lib', f))}`).join('\n');
  try {
    const { stdout, stderr } = await exec('bash', ['-c', `set -euo pipefail\n${prelude}\n${script}`], { env: { PATH: process.env.PATH!, KVM_GUEST_FILES: join(SCRIPTS, 'guest'), KVM_RESOLVED_TYPE: 'qemu', ...env }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

btrfs.before(async () => {
  if (missing) return;
  dir = await mkdtemp(join(tmpdir(), 'kvm-btrfs-'));
  image = join(dir, 'sles.img');
  mnt = join(dir, 'mnt');
  await mkdir(mnt);
  await exec('truncate', ['-s', '160M', image]);
  await exec('mkfs.btrfs', ['-q', '-f', image]);
  await exec('mount', ['-o', 'loop', image, mnt]);
  mounted = true;
  await exec('btrfs', ['-q', 'subvolume', 'create', join(mnt, '@')]);
  await mkdir(join(mnt, '@/var'), { recursive: true });
  await mkdir(join(mnt, '@/.snapshots/1'), { recursive: true });
  await exec('btrfs', ['-q', 'subvolume', 'create', join(mnt, '@/var/log')]);
  await exec('btrfs', ['-q', 'subvolume', 'create', join(mnt, SNAPSHOT)]);
  const root = join(mnt, SNAPSHOT);
  for (const d of ['etc', 'bin', 'var/log', 'usr/lib/systemd/system', 'root']) await mkdir(join(root, d), { recursive: true });
  const uuid = (await exec('blkid', ['-s', 'UUID', '-o', 'value', image])).stdout.trim();
  await writeFile(join(root, 'etc/fstab'), `UUID=${uuid} / btrfs defaults 0 0\nUUID=${uuid} /var/log btrfs subvol=@/var/log 0 0\n`);
  await writeFile(join(root, 'etc/os-release'), 'NAME="SLES"\nVERSION="12-SP5"\nVERSION_ID="12.5"\nID="sles"\n');
  await writeFile(join(root, 'usr/lib/systemd/system/qaperf.service'), '[Service]\nType=idle\nExecStart=/usr/share/qa/qaset/qaset-service\n');
  // what an earlier QASET run left in the golden image, in the /var/log subvolume
  await mkdir(join(mnt, '@/var/log/qaset/control'), { recursive: true });
  await writeFile(join(mnt, '@/var/log/qaset/control/DONE'), '2026-11-30-23-59-01\n');
  const id = (await exec('btrfs', ['subvolume', 'list', mnt])).stdout.split('\n').find((l) => l.endsWith(` path ${SNAPSHOT}`))!.split(' ')[1]!;
  await exec('btrfs', ['subvolume', 'set-default', id, mnt]);
  await exec('umount', [mnt]);
  mounted = false;
});

btrfs.after(async () => {
  if (mounted) await exec('umount', [mnt]).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('the device alone (its default subvolume) shows no /var/log/qaset: the seed\'s `root: /dev/sda2` sees nothing', async () => {
  await exec('mount', ['-o', 'loop,ro', image, mnt]);
  mounted = true;
  try {
    assert.ok(existsSync(join(mnt, 'etc/fstab')), 'the default subvolume is the root');
    assert.not.ok(existsSync(join(mnt, 'var/log/qaset')));
  } finally {
    await exec('umount', [mnt]);
    mounted = false;
  }
});

it('root {device, subvolume, mounts}: QASET\'s inputs and reset land in the root and /var/log subvolumes (one appliance); inspect collects them through the fstab (one more)', async () => {
  const root = GuestRoot.parse({ device: '/dev/sda', subvolume: SNAPSHOT, mounts: [{ path: '/var/log', subvolume: '@/var/log' }] });
  const mounts = guestMounts(root)!;
  assert.is(mounts, `/dev/sda:/:subvol=${SNAPSHOT} /dev/sda:/var/log:subvol=@/var/log`);
  const point = join(dir, 'point');
  await mkdir(point);
  await writeFile(join(point, 'list'), 'SQ_TEST_RUN_LIST=(\n  sysbench_sys\n)\n');
  await writeFile(join(point, 'config'), "SQ_TEST_RUN_SET='performance'\n");
  const t0 = Date.now();
  const inject = await sh('kvm_inject "$IMG" raw "$D"; printf "%s" "$KVM_P_QASET_UNIT"', { IMG: image, D: point, KVM_INJECT: 'guestfish', KVM_GUEST_ROOT: '/dev/sda', KVM_GUEST_MOUNTS: mounts });
  const injectMs = Date.now() - t0;
  assert.is(inject.code, 0, inject.stderr);
  assert.is(inject.stdout, '/usr/lib/systemd/system/qaperf.service');
  const out = join(dir, 'collected');
  const t1 = Date.now();
  const collect = await sh('kvm_collect "$IMG" raw "$OUT"', { IMG: image, OUT: out, KVM_INJECT: 'guestfish', KVM_GUEST_ROOT: 'inspect' });
  console.log(`  btrfs: inject ${injectMs} ms, collect ${Date.now() - t1} ms (one guestfish appliance each)`);
  assert.is(collect.code, 0, collect.stderr);
  // the reset reached the /var/log subvolume: the stale DONE is gone, NEXT_RUN blank
  assert.not.ok(existsSync(join(out, 'qaset/control/DONE')));
  assert.is(await readFile(join(out, 'qaset/control/NEXT_RUN'), 'utf8'), '\n');
  for (const d of ['runs', 'calls', 'log', 'set', 'submission']) assert.ok(existsSync(join(out, 'qaset', d)), d);
  // and the subvolumes, read with the kernel's btrfs: the run list in the root, control in @/var/log
  await exec('mount', ['-o', 'loop,ro', image, mnt]);
  mounted = true;
  try {
    assert.is(await readFile(join(mnt, 'root/qaset/list'), 'utf8'), 'SQ_TEST_RUN_LIST=(\n  sysbench_sys\n)\n');
    assert.is(await readlink(join(mnt, 'etc/systemd/system/multi-user.target.wants/qaperf.service')), '/usr/lib/systemd/system/qaperf.service');
  } finally {
    await exec('umount', [mnt]);
    mounted = false;
  }
  await exec('mount', ['-o', 'loop,ro,subvol=@/var/log', image, mnt]);
  mounted = true;
  try {
    assert.is(await readFile(join(mnt, 'qaset/control/NEXT_RUN'), 'utf8'), '\n');
    assert.not.ok(existsSync(join(mnt, 'qaset/control/DONE')));
  } finally {
    await exec('umount', [mnt]);
    mounted = false;
  }
});

btrfs.run();

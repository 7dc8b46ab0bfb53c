// remote-scripts/kvm-prepare-host's checks of what the inventory asks for, sourced by real bash
// (its main does not run; no device is touched): the filesystems to make (KVM_FILESYSTEMS,
// "NAME[:FS] ...", lib/kvm-host.sh) and the directories to use (KVM_DIRS, "NAME=/abs/dir ...").
// A bad entry stops the helper naming the entry; good ones are recorded for the points.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourced } from './sourced-bash.js';

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-prepare-host-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ ORCH_JOB_DIR: join(dir, 'job'), ORCH_ARTIFACTS: join(dir, 'job/artifacts') });

test('kvm_host_parse_filesystems: names and filesystems in order; a bad name, filesystem, repeated name or empty list is refused', async () => {
  const parse = (spec: string) => sourced(['kvm-prepare-host'], 'kvm_host_parse_filesystems "$1"; printf "%s=%s\\n" "${KVM_HOST_NAMES[@]}" "${KVM_HOST_FS[@]}"', { args: [spec], cwd: dir });
  const ok = await parse('a:xfs b.2:btrfs c_3:ext4 mem:tmpfs');
  assert.is(ok.code, 0, ok.stderr);
  assert.is(ok.stdout, 'a=b.2\nc_3=mem\nxfs=btrfs\next4=tmpfs\n');
  const refused: [string, RegExp][] = [
    ['A:xfs', /filesystem entry 'A:xfs': name must match/],
    ['a:zfs', /filesystem entry 'a:zfs': filesystem must be xfs, btrfs, ext4 or tmpfs/],
    ['a;reboot:xfs', /name must match/],
    ['.hidden:xfs', /name must match/],
    ['a:xfs a:ext4', /name 'a' given twice/],
    ['', /no filesystems requested/],
  ];
  for (const [spec, message] of refused) {
    const run = await parse(spec);
    assert.is(run.code, 1, spec);
    assert.match(run.stderr, message);
  }
});

test('kvm_record_dirs: each NAME=/abs/dir recorded as a backing store (kvm-backings.tsv for the points) with its filesystem', async () => {
  await mkdir(join(dir, 'a'));
  await mkdir(join(dir, 'b'));
  await mkdir(join(dir, 'job'));
  const run = await sourced(['kvm-prepare-host'], 'kvm_host_job_paths; kvm_record_dirs; printf "%s\\n" "${KVM_HOST_BACKINGS[@]}"', {
    env: { ...env(), KVM_DIRS: `fast=${join(dir, 'a')} slow.2=${join(dir, 'b')}` },
  });
  assert.is(run.code, 0, run.stderr);
  const backings = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(backings.map((b) => [b.name, b.source, b.path]), [['dir.fast', 'directory', join(dir, 'a')], ['dir.slow.2', 'directory', join(dir, 'b')]]);
  assert.ok(backings.every((b) => typeof b.fs === 'string' && b.fs.length > 0));
  assert.is(await readFile(join(dir, 'job/kvm-backings.tsv'), 'utf8'), `dir.fast\t${join(dir, 'a')}\ndir.slow.2\t${join(dir, 'b')}\n`);
});

test('kvm_record_dirs: an entry without =, a bad name, a relative or missing directory, or a name given twice is refused, naming the entry', async () => {
  await mkdir(join(dir, 'a'));
  await mkdir(join(dir, 'job'));
  const a = join(dir, 'a');
  const refused: [string, RegExp][] = [
    [a, /KVM_DIRS entry '[^']*': want NAME=\/absolute\/dir/],
    [`Big=${a}`, /want NAME=\/absolute\/dir/],
    ['x=relative/dir', /the directory must be absolute/],
    [`x=${join(dir, 'missing')}`, /is not a directory/],
    [`x=${a} x=${a}`, /name 'x' given twice/],
  ];
  for (const [dirs, message] of refused) {
    const run = await sourced(['kvm-prepare-host'], 'kvm_host_job_paths; kvm_record_dirs', { env: { ...env(), KVM_DIRS: dirs } });
    assert.is(run.code, 1, dirs);
    assert.match(run.stderr, message);
  }
});

test('sourced without ORCH_JOB_DIR: the functions are there; the job paths, asked for, name what is missing', async () => {
  const run = await sourced(['kvm-prepare-host'], 'declare -F kvm_prepare kvm_teardown >/dev/null && echo defined; kvm_host_job_paths');
  assert.is(run.stdout, 'defined\n');
  assert.is(run.code, 1);
  assert.match(run.stderr, /ORCH_JOB_DIR is not set/);
});

test.run();

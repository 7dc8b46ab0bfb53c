// guest.install in the inventory: the mmdebstrap recipe and the virt-install way are validated
// (paths, names, sizes, an install tree URL), the virt-install command line is an argument list
// whose every value is checked (nothing for a shell to split, no comma that would split a
// virt-install sub-option), the phases run the install before the matrix, and the image's format
// and kernel come from the install. virt-install itself cannot run here (no install tree): its
// command line is what is tested.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GuestInstall, guestImageIdentity, installEnv, virtInstallArgv, type VirtInstall } from '../../orchestrator/scenarios/kvm/install.js';
import { KvmParams } from '../../orchestrator/scenarios/kvm/params.js';
import { kvmPhases } from '../../orchestrator/scenarios/kvm/phases.js';

const recipe = { suite: 'bookworm', packages: ['systemd-sysv', 'linux-image-amd64', 'iperf3'], size: '2G', files: [{ src: '/srv/guest/unit.service', dest: '/etc/systemd/system/x.service', mode: '0644' }] };
const virt = {
  method: 'virt-install',
  location: 'http://install.example.lab/sles12sp5/',
  unattended: { kind: 'autoyast', file: '/srv/autoyast/perf-guest.xml' },
  os_variant: 'sles12sp5',
  disk_size: '20G',
  cache: '/srv/guest-images',
  timeout: '45m',
};

const params = (guest: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  KvmParams.safeParse({
    matrix: { topologies: [{ vcpus: 1, sockets: 1, cores: 1, threads: 1 }], backing: [{ dir: '/var/tmp/b', name: 'b' }], cache: ['writeback'], io: ['threads'] },
    guest,
    qaset: { run_list: ['sysbench_sys'] },
    ...extra,
  });
const messages = (r: ReturnType<typeof params>) => (r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));

test('mmdebstrap: a recipe with defaults; unsafe paths, names and sizes refused', () => {
  const ok = GuestInstall.parse({ method: 'mmdebstrap', recipe, cache: '/var/tmp/cache' });
  assert.equal([ok.method, ok.method === 'mmdebstrap' && ok.recipe.format, ok.method === 'mmdebstrap' && ok.download], ['mmdebstrap', 'raw', true]);
  const bad = (r: Record<string, unknown>) => GuestInstall.safeParse({ method: 'mmdebstrap', recipe: { ...recipe, ...r }, cache: '/c' }).success;
  assert.not.ok(bad({ packages: ['ok', 'bad name'] }));
  assert.not.ok(bad({ packages: [] }));
  assert.not.ok(bad({ size: '2T' }));
  assert.not.ok(bad({ files: [{ src: 'relative/file', dest: '/x', mode: '0644' }] }));
  assert.not.ok(bad({ files: [{ src: '/a', dest: '/etc/../root/x', mode: '0644' }] }));
  assert.not.ok(bad({ files: [{ src: '/a b', dest: '/x', mode: '0644' }] }));
  assert.not.ok(bad({ remove: ['/'] }));
  assert.not.ok(bad({ mask: ['not-a-unit'] }));
  assert.not.ok(bad({ unknown: 1 }));
});

test('params: base_image or install (not both, not neither); kernel comes from the install; cache names a backing store', () => {
  assert.match(messages(params({ base_image: '/b.img', install: { method: 'mmdebstrap', recipe, cache: '/c' } })), /either base_image .* or install/);
  assert.match(messages(params({})), /either base_image/);
  assert.match(messages(params({ install: { method: 'mmdebstrap', recipe, cache: '/c' }, kernel: '/k', initrd: '/i' })), /kernel comes from guest.install/);
  assert.match(messages(params({ install: { method: 'mmdebstrap', recipe, cache: 'nosuch' } })), /cache nosuch is neither an absolute directory nor a backing store/);
  assert.ok(params({ install: { method: 'mmdebstrap', recipe, cache: 'b' } }).success, 'a backing store the job prepares');
  assert.match(messages(params({ install: { method: 'mmdebstrap', recipe: { ...recipe, format: 'qcow2' }, cache: '/c' }, inject: 'debugfs', base_copy: 'copy' })), /debugfs writes into a raw ext4 image/);
  assert.match(messages(params({ install: virt, inject: 'debugfs', base_copy: 'copy' })), /virt-install image is partitioned/);
});

test('phases: guest-install right after host-prepare, its deadline the install\'s; points boot the installed kernel (host placeholders)', () => {
  const p = params({ install: { method: 'mmdebstrap', recipe: { ...recipe, cmdline: 'console=ttyS0 root=/dev/vda rw quiet' }, cache: '/c', download: false, timeout: '30m' }, inject: 'debugfs', base_copy: 'copy' });
  assert.ok(p.success, messages(p));
  const phases = kvmPhases({ params: p.data!, host: {} as never, profilesDir: '' });
  assert.equal(phases.slice(0, 3).map((ph) => ph.name), ['check', 'host-prepare', 'guest-install']);
  const install = phases[2]!;
  assert.equal([install.args, install.timeoutMs], [['install'], 35 * 60_000]);
  assert.equal(JSON.parse(install.env!['KVM_INSTALL_RECIPE']!).cmdline, 'console=ttyS0 root=/dev/vda rw quiet');
  assert.is(install.env!['KVM_INSTALL_DOWNLOAD'], 'no');
  assert.is(phases[0]!.env!['KVM_GUEST_INSTALL'], 'yes');
  assert.not.ok('KVM_BASE_IMAGE' in phases[0]!.env!);
  const xml = phases.find((ph) => ph.name.startsWith('point-'))!.env!['KVM_POINT_XML']!;
  assert.match(xml, /<kernel>@GUEST_KERNEL@<\/kernel>\s*<initrd>@GUEST_INITRD@<\/initrd>\s*<cmdline>console=ttyS0 root=\/dev\/vda rw quiet<\/cmdline>/);
});

test('virt-install: the argument list (every value one argument; unattended file injected; console to a file; bounded)', () => {
  const v = GuestInstall.parse(virt) as VirtInstall;
  const argv = virtInstallArgv(v, 'qemu:///system');
  const arg = (flag: string) => argv[argv.indexOf(flag) + 1];
  assert.is(arg('--connect'), 'qemu:///system');
  assert.is(arg('--location'), 'http://install.example.lab/sles12sp5/');
  assert.is(arg('--initrd-inject'), '/srv/autoyast/perf-guest.xml');
  assert.is(arg('--extra-args'), 'console=ttyS0,115200n8 autoyast=file:///perf-guest.xml');
  assert.is(arg('--disk'), 'path=@INSTALL_DISK@,size=20,format=qcow2,bus=virtio,cache=unsafe');
  assert.is(arg('--serial'), 'file,path=@INSTALL_CONSOLE@');
  assert.is(arg('--wait'), '45');
  assert.is(arg('--network'), 'none');
  assert.is(arg('--virt-type'), '@DOMAIN_TYPE@');
  assert.ok(argv.includes('--noreboot') && argv.includes('--noautoconsole'));
  const env = installEnv(v, 'qemu:///system');
  assert.equal(JSON.parse(env['KVM_INSTALL_ARGV']!), argv);
  assert.equal([env['KVM_INSTALL_TIMEOUT_S'], env['KVM_INSTALL_UNATTENDED'], env['KVM_INSTALL_FORMAT']], ['2700', '/srv/autoyast/perf-guest.xml', 'qcow2']);
  // preseed: d-i reads /preseed.cfg from its initrd
  const pre = GuestInstall.parse({ ...virt, unattended: { kind: 'preseed', file: '/srv/d-i/preseed.cfg' }, os_variant: 'debian12', network: { type: 'bridge', source: 'br0' }, extra_args: 'hostname=perf domain=lab' }) as VirtInstall;
  const pargv = virtInstallArgv(pre, 'qemu:///system');
  assert.is(pargv[pargv.indexOf('--extra-args') + 1], 'console=ttyS0,115200n8 auto=true priority=critical preseed/file=/preseed.cfg hostname=perf domain=lab');
  assert.is(pargv[pargv.indexOf('--network') + 1], 'bridge=br0,model=virtio');
  assert.throws(() => virtInstallArgv({ ...pre, unattended: { kind: 'preseed', file: '/srv/d-i/other.cfg' } }, 'qemu:///system'), /named preseed.cfg/);
});

test('virt-install: values a shell or virt-install\'s option parser would split are refused', () => {
  const bad = (v: Record<string, unknown>) => GuestInstall.safeParse({ ...virt, ...v }).success;
  assert.not.ok(bad({ location: 'http://x/tree,extra=1' }), 'a comma in the URL');
  assert.not.ok(bad({ location: 'http://x/$(reboot)' }));
  assert.not.ok(bad({ location: 'file:///etc' }), 'only http(s), ftp, nfs or a path');
  assert.not.ok(bad({ unattended: { kind: 'autoyast', file: '/srv/a,b.xml' } }), 'a comma in a path');
  assert.not.ok(bad({ unattended: { kind: 'autoyast', file: "/srv/it's.xml" } }));
  assert.not.ok(bad({ extra_args: 'a "quoted" arg' }));
  assert.not.ok(bad({ extra_args: 'x;reboot' }));
  assert.not.ok(bad({ os_variant: 'SLES 12' }));
  assert.not.ok(bad({ disk_size: '20.5G' }));
  assert.ok(bad({ location: '/srv/install/sles12sp5' }), 'a directory on the hypervisor');
});

test('virt-install on the host: the argument list is read back word for word, the host\'s values filled in, no shell splitting anything', async () => {
  const v = GuestInstall.parse({ ...virt, extra_args: 'hostname=perf domain=lab' }) as VirtInstall;
  const argv = virtInstallArgv(v, 'qemu:///system');
  const lib = fileURLToPath(new URL('../../remote-scripts/lib/', import.meta.url));
  const script = `set -euo pipefail; . ${lib}common.sh; . ${lib}kvm-install.sh; kvm_install_virt_argv out orch-install-x '/imgs/a b/root.qcow2' /imgs/console.log qemu; printf '[%s]\\n' "\${out[@]}"`;
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { env: { PATH: process.env.PATH!, KVM_INSTALL_ARGV: JSON.stringify(argv) } });
  const words = stdout.trim().split('\n').map((w) => w.slice(1, -1));
  assert.is(words.length, argv.length);
  assert.is(words[words.indexOf('--extra-args') + 1], 'console=ttyS0,115200n8 autoyast=file:///perf-guest.xml hostname=perf domain=lab');
  assert.is(words[words.indexOf('--disk') + 1], 'path=/imgs/a b/root.qcow2,size=20,format=qcow2,bus=virtio,cache=unsafe');
  assert.equal([words[words.indexOf('--name') + 1], words[words.indexOf('--virt-type') + 1]], ['orch-install-x', 'qemu']);
  const bad = await promisify(execFile)('bash', ['-c', script], { env: { PATH: process.env.PATH!, KVM_INSTALL_ARGV: JSON.stringify(['--name', 'a\nb']) } }).then(() => '', (e: { stderr: string }) => e.stderr);
  assert.match(bad, /not a list of one-line strings/);
});

test('the job\'s build: the guest image (its OS and recipe hash)', () => {
  const id = guestImageIdentity({ method: 'mmdebstrap', recipe_hash: '0123456789abcdef', image_cached: true, seconds: 1, image: '/c/images/0123456789abcdef/root.img', format: 'raw', os: { id: 'debian', version_id: '12', pretty_name: 'Debian GNU/Linux 12 (bookworm)' } });
  assert.equal(id, { label: 'guest Debian GNU/Linux 12 (bookworm) (mmdebstrap 0123456789abcdef)', package: 'guest-image', version: 'debian 12', revision: '0123456789abcdef' });
});

test.run();

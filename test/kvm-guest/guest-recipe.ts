// The recipe of the lab's Debian 12 test guest for remote-scripts/kvm-build-image: systemd,
// the benchmarks QASET's cases run (sysbench, dbench, bonnie++, PostgreSQL 15 for pgbench; fio),
// the filesystems of QASET's filesystem cases, its own kernel + initramfs, and the QASET stand-in
// (./qaset-standin) installed at QASET's real paths with qaperf.service present but NOT enabled and
// no /root/qaset/list, as after `zypper in qa_testset_automation` on a fresh guest. Boot under TCG
// is trimmed (timers, getty and the PostgreSQL service masked; logind stays: it turns libvirt's ACPI
// shutdown request into a clean poweroff, as on a stock SLES guest); a dummy interface with a
// TEST-NET-1 default route (./guest-files, metric 1000) satisfies QASET's default-route wait when
// the point has no NIC; guest.network NICs (virtio_net, e1000, 8139 drivers kept) get their
// addresses and default routes (metric 100+) from systemd-networkd files the point injects, and
// iperf3 runs QASET's peer case (netperf_fiber4).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const STANDIN_DIR = path.join(HERE, 'qaset-standin');
const GUEST_FILES = path.join(HERE, 'guest-files');

export interface RecipeFile {
  src: string;
  dest: string;
  mode: string;
}

/** The JSON kvm-build-image reads (see its header). */
export interface Recipe {
  name?: string;
  suite: string;
  packages: string[];
  size: string;
  hostname?: string;
  cmdline?: string;
  files?: RecipeFile[];
  dirs?: { dest: string; mode: string }[];
  symlinks?: { dest: string; target: string }[];
  remove?: string[];
  mask?: string[];
}

/**
 * The Debian suite and packages of the lab guest: ./guest-tree.json, which the install step's
 * prepare-tree.sh reads too, so both ask kvm-build-image for the same cached tree.
 */
export const GUEST_TREE = z
  .object({ suite: z.string().regex(/^[a-z][a-z0-9-]*$/), packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/)).min(1) })
  .strict()
  .parse(JSON.parse(readFileSync(path.join(HERE, 'guest-tree.json'), 'utf8')));

/** The kernel command line: serial console, root on the whole /dev/vda, reboot on panic. */
export const GUEST_CMDLINE = 'console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4';

/** Units that do nothing useful in a test guest and cost boot time under TCG. */
export const GUEST_MASKED_UNITS = [
  'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'fstrim.timer',
  'systemd-tmpfiles-clean.timer', 'e2scrub_reap.service', 'getty@tty1.service', 'getty-static.service', 'serial-getty@ttyS0.service',
  'postgresql.service', 'postgresql@.service', 'systemd-networkd-wait-online.service',
  'modprobe@drm.service', 'systemd-pstore.service',
] as const;

const QASET = '/usr/share/qa/qaset';
const TOOLS = '/usr/share/qa/tools';

/** Where each stand-in file goes: QASET's real paths (run scripts under every name QASET uses). */
export function standinFiles(): RecipeFile[] {
  const s = (rel: string) => path.join(STANDIN_DIR, rel);
  const exe = (rel: string, dest: string): RecipeFile => ({ src: s(rel), dest, mode: '0755' });
  const lib = (rel: string, dest: string): RecipeFile => ({ src: s(rel), dest, mode: '0644' });
  const files: RecipeFile[] = [
    exe('qaset', `${QASET}/qaset`),
    exe('qaset-service', `${QASET}/qaset-service`),
    exe('run/run-caller', `${QASET}/run/run-caller`),
    lib('set/performance.set', `${QASET}/set/performance.set`),
    lib('conf/DEB12.conf', `${QASET}/conf/DEB12.conf`),
    lib('misc/qaperf.service', '/usr/lib/systemd/system/qaperf.service'),
    lib('tools/standin-ctcs2.sh', `${TOOLS}/standin-ctcs2.sh`),
    exe('tools/test_sysbench_sys-run', '/usr/lib/ctcs2/tools/test_sysbench_sys-run'),
    exe('tools/netperf-peer-fiber-run', `${TOOLS}/netperf-peer-fiber-run`),
  ];
  for (const m of ['sq-global', 'sq-util', 'sq-mach', 'sq-control', 'sq-execute', 'sq-result']) {
    files.push(lib(`qavm/${m}.sh`, `${QASET}/qavm/${m}.sh`));
  }
  for (const v of ['async', 'fsync', 'osync']) files.push(exe('tools/test_dbench-4_0-run', `${TOOLS}/test_dbench-4_0_${v}-run`));
  for (const v of ['async', 'fsync']) files.push(exe('tools/test_bonnie++-run', `${TOOLS}/test_bonnie++-${v}-run`));
  for (const size of ['small', 'medium', 'large']) {
    for (const mode of ['rw', 'ro']) files.push(exe('tools/test_pgbench-run', `${TOOLS}/test_pgbench_${size}-${mode}-run`));
  }
  return files;
}

export function labGuestRecipe(): Recipe {
  const sd = '/etc/systemd/system';
  return {
    name: 'orchestrate-lab-guest',
    suite: GUEST_TREE.suite,
    packages: [...GUEST_TREE.packages],
    size: '2G',
    hostname: 'qaset-guest',
    cmdline: GUEST_CMDLINE,
    files: [
      ...standinFiles(),
      { src: path.join(GUEST_FILES, '10-qaset-route.netdev'), dest: '/etc/systemd/network/10-qaset-route.netdev', mode: '0644' },
      { src: path.join(GUEST_FILES, '10-qaset-route.network'), dest: '/etc/systemd/network/10-qaset-route.network', mode: '0644' },
      { src: path.join(GUEST_FILES, 'journald-persistent.conf'), dest: '/etc/systemd/journald.conf.d/orchestrate.conf', mode: '0644' },
    ],
    dirs: [
      { dest: '/var/log/journal', mode: '2755' },
      { dest: '/abuild', mode: '0755' },
    ],
    symlinks: [
      { dest: `${QASET}/run/performance-run`, target: 'run-caller' },
      { dest: `${sd}/default.target`, target: '/lib/systemd/system/multi-user.target' },
      { dest: `${sd}/multi-user.target.wants/systemd-networkd.service`, target: '/lib/systemd/system/systemd-networkd.service' },
      { dest: `${sd}/sockets.target.wants/systemd-networkd.socket`, target: '/lib/systemd/system/systemd-networkd.socket' },
    ],
    mask: [...GUEST_MASKED_UNITS],
  };
}

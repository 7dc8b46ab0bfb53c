// The local lab's hypervisor: what a lab host with the `hypervisor` role needs to run the kvm
// scenario on this machine. libvirtd (+ virtlogd) for qemu:///system, started by PID file
// when nothing answers yet (test/kvm-guest/libvirtd.ts); the lab's Debian 12 systemd guest with
// the QASET stand-in (test/kvm-guest/lab-guest.ts: remote-scripts/kvm-build-image assembles it from
// the Debian tree the install step cached; nothing is downloaded here), under
// /var/tmp/orchestrate-kvm-guest; a directory for the guests' images that qemu (running as its
// own user) can reach. Lab hosts are sshd processes on this machine, so they share all of it.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { labGuestRecipe } from '../kvm-guest/guest-recipe.js';
import { CACHE_ROOT, IMAGE_CACHE, labGuest, labGuestTreeMissing } from '../kvm-guest/lab-guest.js';
import { startLibvirtd, type Libvirtd } from '../kvm-guest/libvirtd.js';
import type { Lab } from './lab.js';

const run = promisify(execFile);

export interface HypervisorLab {
  kernel: string;
  initrd: string;
  /** The guest's kernel command line (serial console, root=/dev/vda). */
  cmdline: string;
  /** The golden image (raw ext4, the guest's whole /dev/vda): copy it, never boot it. */
  baseImage: string;
  /** Root of the guests' images (world-traversable). */
  imagesDir: string;
  /** A directory backing store for test disks (world-traversable). */
  backingDir: string;
  libvirtd: Libvirtd;
  /** Stops the daemons this call started (none when libvirtd was already running). */
  stop(): Promise<void>;
}

/** Why this machine cannot run the lab's hypervisor, or null when it can. */
export async function hypervisorMissing(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'not root';
  // the daemons and tools of a hypervisor, and what the image builder's assembly needs
  for (const bin of ['virsh', 'libvirtd', 'virtlogd', 'qemu-system-x86_64', 'qemu-img', 'mkfs.ext4', 'debugfs', 'parted', 'rrdtool', 'bzip2', 'jq', 'flock']) {
    if (await run('sh', ['-c', `command -v ${bin}`]).then(() => false, () => true)) return `${bin} not installed (bash test/install-deps.sh)`;
  }
  return labGuestTreeMissing();
}

export async function hypervisorUp(): Promise<HypervisorLab> {
  const missing = await hypervisorMissing();
  if (missing) throw new Error(`the lab's hypervisor cannot run here: ${missing}`);
  const guest = await labGuest();
  const libvirtd = await startLibvirtd();
  const imagesDir = path.join(CACHE_ROOT, 'images');
  const backingDir = path.join(CACHE_ROOT, 'backing');
  for (const d of [CACHE_ROOT, imagesDir, backingDir]) {
    await fsp.mkdir(d, { recursive: true });
    await fsp.chmod(d, 0o755);
  }
  return {
    kernel: guest.kernel,
    initrd: guest.initrd,
    cmdline: guest.cmdline,
    baseImage: guest.image,
    imagesDir,
    backingDir,
    libvirtd,
    stop: () => libvirtd.stop(),
  };
}

/** Where inventory/lab.yaml finds the lab's guest: stable names for the content-hashed builds. */
export const STABLE_GUEST_DIR = path.join(CACHE_ROOT, 'lab');

/** Points STABLE_GUEST_DIR/{vmlinuz,initrd.img,base.img} at this build (symlinks, replaced atomically). */
export async function linkStableGuest(h: HypervisorLab, dir = STABLE_GUEST_DIR): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  await fsp.chmod(dir, 0o755);
  for (const [name, target] of [['vmlinuz', h.kernel], ['initrd.img', h.initrd], ['base.img', h.baseImage]] as const) {
    const tmp = path.join(dir, `.${name}.${process.pid}`);
    await fsp.rm(tmp, { force: true });
    await fsp.symlink(target, tmp);
    await fsp.rename(tmp, path.join(dir, name));
  }
}

/**
 * kvm params for the smallest useful matrix on the lab: one point (1 vCPU, 256 MiB, no NIC,
 * writeback/threads on a directory backing named `backing`), `repetitions` times, QASET's
 * params and anything else (`extra`) laid over. The guest comes from guest.install (the lab's
 * recipe, built from the cached tree, offline) unless `guestFrom: 'base'` (the built image).
 */
export function smallPointParams(
  h: HypervisorLab,
  opts: { backing: string; inject?: 'debugfs' | 'guestfish'; repetitions?: number; qaset: Record<string, unknown>; extra?: Record<string, unknown>; guestFrom?: 'install' | 'base' },
): Record<string, unknown> {
  return {
    matrix: {
      topologies: [{ vcpus: 1, sockets: 1, cores: 1, threads: 1 }],
      backing: [{ dir: h.backingDir, name: opts.backing }],
      cache: ['writeback'],
      io: ['threads'],
      memory_mib: [256],
      network_model: ['none'],
      repetitions: opts.repetitions ?? 1,
    },
    guest: opts.guestFrom === 'base' ? labGuestParams(h, opts.inject ?? 'debugfs') : labGuestInstallParams(opts.inject ?? 'debugfs'),
    qaset: opts.qaset,
    // QASET's filesystem cases mkfs the test disk: xfs needs 300 MiB at least
    test_disk_size: '512M',
    images_dir: h.imagesDir,
    ...opts.extra,
  };
}

/**
 * An inventory of the lab where each named host is a hypervisor running the kvm scenario with
 * the given params, and nothing else (no sysinfo; no retries, so a failure shows at once).
 */
export function writeKvmInventory(lab: Lab, opts: { file: string; resultsDir: string; kvm: Record<string, Record<string, unknown>> }): Promise<string> {
  return lab.writeInventory({
    file: opts.file,
    hosts: Object.keys(opts.kvm),
    resultsDir: opts.resultsDir,
    scenarios: {},
    defaults: { retries: 0 },
    hostExtra: Object.fromEntries(Object.entries(opts.kvm).map(([host, params]) => [host, { roles: ['hypervisor'], scenarios: { kvm: params } }])),
  });
}

/** The `guest:` params of the kvm scenario for the lab's guest. */
export function labGuestParams(h: HypervisorLab, inject: 'debugfs' | 'guestfish' = 'debugfs'): Record<string, unknown> {
  return {
    base_image: h.baseImage,
    base_format: 'raw',
    base_copy: inject === 'debugfs' ? 'copy' : 'overlay',
    kernel: h.kernel,
    initrd: h.initrd,
    cmdline: h.cmdline,
    inject,
    root: '/dev/sda',
  };
}

/**
 * The `guest:` params of the kvm scenario for the lab's guest built by the job itself: guest.install
 * the mmdebstrap way with the lab guest's recipe (`recipe` to change it), cached in the lab's image
 * cache, offline (download: false: the lab never downloads; the install step cached the tree).
 */
export function labGuestInstallParams(inject: 'debugfs' | 'guestfish' = 'debugfs', recipe: Record<string, unknown> = { ...labGuestRecipe() }): Record<string, unknown> {
  return {
    install: { method: 'mmdebstrap', recipe, cache: IMAGE_CACHE, download: false, timeout: '20m' },
    base_copy: inject === 'debugfs' ? 'copy' : 'overlay',
    inject,
    root: '/dev/sda',
  };
}

/**
 * guest.network for a lab point: one NIC per entry on a bridge the job creates (`bridge`, at most
 * 15 characters, with the NIC index appended when there are several), the guest at 10.<net>.<n>.2/24
 * with its default route through the peer at .1, which lives in a namespace of the job's own
 * running iperf3 -s. `net` is the second octet (the lab's subnets: this engineer's are 80-84).
 */
export function labGuestNetwork(opts: { bridge: string; net: number; nics?: { model?: string }[] }): Record<string, unknown>[] {
  const nics = opts.nics ?? [{}];
  return nics.map((nic, i) => ({
    type: 'bridge',
    source: nics.length > 1 ? `${opts.bridge}${i}` : opts.bridge,
    ...(nic.model ? { model: nic.model } : {}),
    create: true,
    address: `10.${opts.net}.${i + 1}.2/24`,
    gateway: `10.${opts.net}.${i + 1}.1`,
    peer: { address: `10.${opts.net}.${i + 1}.1/24`, namespace: true, tool: 'iperf3' },
  }));
}

// The kvm scenario's params (the inventory's `scenarios: { kvm: {...} }`): the matrix, the guest
// (base image, optional direct kernel boot, how QASET's inputs are injected), QASET's run list and
// config, and how the host's backing stores are prepared (remote-scripts/kvm-prepare-host). A
// test device is only touched when it is named AND allow_wipe is true; without a device the
// inventory's directories are used as they are.
import * as z from 'zod';
import { DurationMs } from '../../inventory/durations.js';
import { parseSize } from '../../inventory/sizes.js';
import { GuestInstall, installFormat } from './install.js';
import { KvmMatrix, backingLabel, expandMatrix } from './matrix.js';
import { GuestNetwork } from './network.js';

/** An absolute path that is safe in a shell word, an XML attribute and a guestfish argument. */
const AbsPath = z
  .string()
  .regex(/^\/[A-Za-z0-9_.+@,:=\/-]*$/, 'an absolute path of letters, digits and _ . + @ , : = / - (no spaces or quotes)')
  .refine((p) => !p.split('/').includes('..'), 'a path without ".." parts');


const Size = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  try {
    const bytes = typeof value === 'number' ? value : parseSize(value);
    if (bytes < 16 << 20) throw new Error(`${JSON.stringify(value)} is below the least test disk (16M)`);
    return bytes;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const GuestDevice = z.string().regex(/^\/dev\/[a-z0-9]+$/, 'a guest device such as /dev/sda2');
const Subvolume = z.string().regex(/^[A-Za-z0-9_.@+-][A-Za-z0-9_.@+\/-]*$/, 'a btrfs subvolume path such as @ or @/var/log').refine((p) => !p.split('/').includes('..'), 'a subvolume without ".." parts');

/**
 * The guest's root filesystem for guestfish, with its btrfs subvolumes: SLES 12's btrfs root keeps
 * /var/log in its own subvolume (@/var/log), so mounting only the root device shows no /var/log/qaset.
 */
export const GuestRoot = z.strictObject({
  device: GuestDevice,
  /** The root's subvolume (e.g. @); the filesystem's default subvolume when left out. */
  subvolume: Subvolume.optional(),
  /** Further mounts under the root, e.g. {path: /var/log, subvolume: '@/var/log'}; the root's device unless `device` says otherwise. */
  mounts: z
    .array(z.strictObject({ path: z.string().regex(/^\/[A-Za-z0-9_.+@\/-]+$/, 'an absolute guest path').refine((p) => !p.split('/').includes('..'), 'a path without ".." parts'), device: GuestDevice.optional(), subvolume: Subvolume.optional() }))
    .default([]),
});
export type GuestRoot = z.infer<typeof GuestRoot>;

/** guestfish -m arguments (DEV:PATH[:OPTIONS]) for an explicit root; undefined for inspect or a plain device. */
export function guestMounts(root: 'inspect' | string | GuestRoot): string | undefined {
  if (typeof root === 'string') return undefined;
  const one = (device: string, path: string, subvolume?: string) => `${device}:${path}${subvolume ? `:subvol=${subvolume}` : ''}`;
  return [one(root.device, '/', root.subvolume), ...root.mounts.map((m) => one(m.device ?? root.device, m.path, m.subvolume))].join(' ');
}

export const KvmGuest = z
  .strictObject({
    /** The golden image the guests start from (on the hypervisor); never written. Not with install. */
    base_image: AbsPath.optional(),
    /** Build the image on the hypervisor before the matrix (cached by its recipe's hash): see install.ts. */
    install: GuestInstall.optional(),
    base_format: z.enum(['raw', 'qcow2']).default('raw'),
    /** overlay: a qcow2 overlay per point backed by base_image; copy: a full (sparse) copy per point. */
    base_copy: z.enum(['overlay', 'copy']).default('overlay'),
    /** Direct kernel boot (kernel + initrd on the hypervisor); without it the guest boots from its disk. */
    kernel: AbsPath.optional(),
    initrd: AbsPath.optional(),
    cmdline: z.string().regex(/^[\x20-\x7e]*$/, 'printable ASCII').max(1024).optional(),
    /**
     * How QASET's inputs go in and its logs come out: guestfish (libguestfs; any image, as in the
     * seed) or debugfs (e2fsprogs; only a raw image that is one ext4 filesystem; much faster).
     */
    inject: z.enum(['guestfish', 'debugfs']).default('guestfish'),
    /**
     * guestfish's mount of the guest's filesystems: "inspect" (guestfish -i: the guest's own fstab,
     * btrfs subvolumes included), a device such as /dev/sda2 (the seed's), or {device, subvolume,
     * mounts} for a btrfs root whose /var/log is a subvolume of its own.
     */
    root: z.union([z.literal('inspect'), GuestDevice, GuestRoot]).default('inspect'),
    /**
     * A deployment script on the hypervisor, copied into the guest's / (as in the seed) and run
     * once at the first boot (a oneshot unit): it must install QASET and start it (e.g.
     * /usr/share/qa/qaset/run/performance-run). Without it, the base image must have QASET
     * installed and its boot service (qaperf.service) is enabled.
     */
    deployment_script: AbsPath.optional(),
    cpu_model: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
    /** The guest's NICs (one, or a list) for the points whose network_model is not none: see network.ts. */
    network: GuestNetwork.optional(),
  })
  .superRefine((g, ctx) => {
    if ((g.base_image === undefined) === (g.install === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['base_image'], message: 'give either base_image (an image that exists) or install (built by the job)' });
    }
    if (g.install) {
      for (const key of ['kernel', 'initrd', 'cmdline'] as const) {
        if (g[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} comes from guest.install (its recipe's cmdline)` });
      }
      if (g.base_format !== 'raw' && g.base_format !== installFormat(g.install)) {
        ctx.addIssue({ code: 'custom', path: ['base_format'], message: `the installed image's format is install's (${installFormat(g.install)})` });
      }
      if (g.install.method === 'virt-install' && g.inject === 'debugfs') {
        ctx.addIssue({ code: 'custom', path: ['inject'], message: 'a virt-install image is partitioned: inject with guestfish' });
      }
    }
    if ((g.kernel === undefined) !== (g.initrd === undefined)) ctx.addIssue({ code: 'custom', path: [g.kernel ? 'initrd' : 'kernel'], message: 'kernel and initrd go together' });
    if (g.cmdline !== undefined && g.kernel === undefined) ctx.addIssue({ code: 'custom', path: ['cmdline'], message: 'cmdline needs a kernel (direct kernel boot)' });
    if (g.inject === 'debugfs' && typeof g.root === 'object') {
      ctx.addIssue({ code: 'custom', path: ['root'], message: 'subvolume mounts need inject guestfish (debugfs reads only ext4)' });
    }
    if (g.inject === 'debugfs' && (g.base_copy !== 'copy' || guestImageFormat(g) !== 'raw')) {
      ctx.addIssue({ code: 'custom', path: ['inject'], message: 'debugfs writes into a raw ext4 image: it needs base_format raw and base_copy copy (use guestfish for qcow2 or overlays)' });
    }
  });
export type KvmGuest = z.infer<typeof KvmGuest>;

/** The base image's format: the installed image's, else base_format. */
export function guestImageFormat(g: Pick<KvmGuest, 'install' | 'base_format'>): 'raw' | 'qcow2' {
  return g.install ? installFormat(g.install) : g.base_format;
}

const ConfigKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a shell variable name');
const ConfigValue = z.union([z.string().regex(/^[^\x00-\x1f\x7f]*$/, 'no control characters'), z.number(), z.boolean()]);

export const KvmQaset = z.strictObject({
  /** SQ_TEST_RUN_LIST entries (QASET test names; "_" entries are its specials such as _reboot_off). */
  run_list: z.array(z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, 'a QASET test name')).min(1),
  /** Extra /root/qaset/config keys (they win over the defaults). */
  config: z.record(ConfigKey, ConfigValue).default({}),
  /** How long a point may run before it is stopped and marked timed out. */
  timeout: DurationMs.default(2 * 3_600_000),
  /** How often the guest's watcher channel is read (and, without it, /var/log/qaset/control from the disk: guestfish reads cost seconds). */
  poll_interval: DurationMs.default(5000),
  /** A point ends `stalled` after this long without progress (no NEXT_RUN, boot, tarball, screenlog or failure change). */
  stall_timeout: DurationMs.default(30 * 60_000),
  /** The image has QASET prepared (its repositories and packages): control/PREPARED is written so QASET skips the SUSE repository setup. */
  prepared: z.boolean().default(false),
  /** QASET's run id (control/RUN_ID, SQ_TEST_RUN_ID=...; in tarball names); default: a stale one is removed and QASET makes one from the date. */
  run_id: z.string().regex(/^[A-Za-z0-9]{1,40}$/, 'letters and digits (QASET separates name parts with "-")').optional(),
});
export type KvmQaset = z.infer<typeof KvmQaset>;

const QasetName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/, 'a QASET test name');

/**
 * Adaptive repetitions of a point (as Phoronix Test Suite does): once the point's QASET run
 * finished, its guest runs `cases` again (their inputs injected anew, QASET's control state reset,
 * one more boot, followed to DONE, the logs collected apart) until the 95% confidence interval of
 * the mean of `metric` over the runs is at most `target_ci` of that mean, or `max` runs (the
 * point's own run counted), or the phase's time limit. Absent (or max 1): the point runs once.
 */
export const KvmRepeat = z
  .strictObject({
    /** Runs a point always makes (default 1: with max > 1 the interval needs a second run anyway). */
    min: z.number().int().min(1).max(100).default(1),
    /** Runs at most, the point's own included (default 5). */
    max: z.number().int().min(1).max(100).default(5),
    /** Relative half-width of the 95% interval of the mean that ends the repetitions (0.02 = +-2%). */
    target_ci: z.number().positive().max(10).default(0.02),
    /**
     * What is judged, read on the host from the case's QASET log tarball of each run: `test` (a
     * ctcs2 test = its raw output file) and `pattern` (an awk extended regular expression whose
     * matches end with the number, e.g. 'events per second: *[0-9.]+'; the mean of the numbers, or
     * the `run`th); without a pattern, the ctcs2 time in seconds of `test` (of every test of the
     * case without one).
     */
    metric: z
      .strictObject({
        case: QasetName,
        test: z.string().regex(/^[A-Za-z0-9_.+-]{1,100}$/, 'a ctcs2 test name (its raw output file), e.g. sysbench-cpu').optional(),
        pattern: z
          .string()
          .min(1)
          .max(200)
          .regex(/^[^\x00-\x1f\x7f]*$/, 'one line, no control characters')
          .refine((p) => {
            try {
              new RegExp(p);
              return true;
            } catch {
              return false;
            }
          }, 'not a valid regular expression')
          .optional(),
        run: z.number().int().min(1).max(10_000).optional(),
      })
      .superRefine((m, ctx) => {
        if (m.pattern !== undefined && m.test === undefined) ctx.addIssue({ code: 'custom', path: ['test'], message: 'a pattern needs the test (raw output file) it reads' });
        if (m.run !== undefined && m.pattern === undefined) ctx.addIssue({ code: 'custom', path: ['run'], message: 'run picks one of the pattern\'s matches: it needs a pattern' });
      }),
    /** The run list of a repetition (default: the metric's case alone); entries of qaset.run_list or QASET's "_" specials. */
    cases: z.array(QasetName).min(1).max(100).optional(),
  })
  .refine((r) => r.max >= r.min, { message: 'max must be at least min', path: ['max'] });
export type KvmRepeat = z.infer<typeof KvmRepeat>;

/** Whether the params ask for repetitions at all (max above 1). */
export function repeatIsOn(repeat: KvmRepeat | undefined): repeat is KvmRepeat {
  return repeat !== undefined && repeat.max > 1;
}

/** The run list of a repetition. */
export function repeatCases(repeat: KvmRepeat): string[] {
  return repeat.cases ?? [repeat.metric.case];
}

const FsEntry = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.]*$/),
  fs: z.enum(['xfs', 'btrfs', 'ext4', 'tmpfs']),
});

export const KvmHostDisk = z.strictObject({
  /** Whole disk to partition, e.g. /dev/sdb. */
  device: z.string().regex(/^\/dev\/[A-Za-z0-9_./-]+$/).optional(),
  /** Must be true for anything to be written to `device`. */
  allow_wipe: z.boolean().default(false),
  /** One partition per non-tmpfs entry (equal sizes), tmpfs entries are tmpfs mounts. Default xfs, btrfs, ext4, tmpfs. */
  filesystems: z.array(FsEntry).min(1).optional(),
  tmpfs_size: z.string().regex(/^\d+[kmgKMG%]?$/).optional(),
  /** Where mounts go; default <job dir>/kvm-mounts. */
  mount_root: z.string().startsWith('/').regex(/^[^\t\n]+$/).optional(),
  /** What teardown leaves on the device: wipe (wipefs -a: no partition table or signatures) or keep. */
  after: z.enum(['wipe', 'keep']).default('wipe'),
});
export type KvmHostDisk = z.infer<typeof KvmHostDisk>;

const DEFAULT_FILESYSTEMS = [
  { name: 'xfs', fs: 'xfs' },
  { name: 'btrfs', fs: 'btrfs' },
  { name: 'ext4', fs: 'ext4' },
  { name: 'tmpfs', fs: 'tmpfs' },
] as const;

export const KvmParams = z
  .strictObject({
    matrix: KvmMatrix,
    guest: KvmGuest,
    qaset: KvmQaset,
    host_disk: KvmHostDisk.optional(),
    /** qemu (TCG), kvm, or auto: kvm where /dev/kvm is usable on the host, qemu otherwise. */
    domain_type: z.enum(['auto', 'qemu', 'kvm']).default('auto'),
    libvirt_uri: z.string().regex(/^[a-z0-9+]+:\/\/[A-Za-z0-9_.@:\/?=&-]*$/, 'a libvirt URI such as qemu:///system').default('qemu:///system'),
    /**
     * Size of each point's test disk (sparse; one GPT partition, the guest's /dev/vdb1, QASET's
     * SQ_ABUILD_PARTITION). Default: four times the largest guest memory of the matrix, at least
     * 10 GiB - QASET's filesystem cases scale their datasets with the guest's memory (iozone and
     * tiobench "doublemem" write twice the RAM, bonnie++ twice the RAM), plus room for the filesystem.
     */
    test_disk_size: Size.optional(),
    /** Where each point's guest disk, serial log and domain XML go; default <job dir>/kvm-images (qemu must be able to reach it). */
    images_dir: AbsPath.optional(),
    /** Keep each point's images after it ran (for debugging); default remove them. */
    keep_images: z.boolean().default(false),
    /** Adaptive repetitions of each point's measured case(s) (default none: one run a point). */
    repeat: KvmRepeat.optional(),
  })
  .superRefine((p, ctx) => {
    // impossible points are refused when the inventory is read, one message each
    // (zod runs this refinement even when a field failed; those failures are already reported)
    const parsedMatrix = KvmMatrix.safeParse(p.matrix);
    if (!parsedMatrix.success) return;
    const { points, errors } = expandMatrix(parsedMatrix.data);
    for (const e of errors) ctx.addIssue({ code: 'custom', path: ['matrix'], message: `impossible point ${e.message}` });
    if (errors.length === 0 && points.length === 0) ctx.addIssue({ code: 'custom', path: ['matrix', 'exclude'], message: 'the exclude rules leave no point to run' });
    // the repeated cases are cases of the run list (checked only when both parsed)
    const repeat = p.repeat === undefined ? undefined : KvmRepeat.safeParse(p.repeat).data;
    const runList = z.array(z.string()).safeParse((p.qaset as { run_list?: unknown } | undefined)?.run_list).data;
    if (repeat && runList) {
      const listed = new Set(runList);
      if (!listed.has(repeat.metric.case)) {
        ctx.addIssue({ code: 'custom', path: ['repeat', 'metric', 'case'], message: `case ${repeat.metric.case} is not in qaset.run_list (${runList.join(' ')})` });
      }
      (repeat.cases ?? []).forEach((c, i) => {
        if (!c.startsWith('_') && !listed.has(c)) ctx.addIssue({ code: 'custom', path: ['repeat', 'cases', i], message: `case ${c} is not in qaset.run_list` });
      });
      if (repeat.cases && !repeat.cases.includes(repeat.metric.case)) {
        ctx.addIssue({ code: 'custom', path: ['repeat', 'cases'], message: `the cases repeated do not include the metric's case ${repeat.metric.case}` });
      }
    }
    const disk = p.host_disk;
    if (disk?.device && !disk.allow_wipe) {
      ctx.addIssue({ code: 'custom', path: ['host_disk', 'allow_wipe'], message: `host_disk.device ${disk.device} is named but allow_wipe is not true: it would be refused` });
    }
    if (disk && !disk.device && disk.allow_wipe) {
      ctx.addIssue({ code: 'custom', path: ['host_disk', 'device'], message: 'allow_wipe is true but no device is named' });
    }
    // every filesystem backing of the matrix must be one the host preparation makes
    const made = new Set((disk?.device ? (disk.filesystems ?? DEFAULT_FILESYSTEMS) : []).map((f) => f.name));
    const installCache = p.guest?.install?.cache;
    if (installCache !== undefined && !installCache.startsWith('/')) {
      const named = new Set([...made, ...p.matrix.backing.flatMap((b) => (typeof b === 'string' ? [] : [b.name]))]);
      if (!named.has(installCache)) {
        ctx.addIssue({ code: 'custom', path: ['guest', 'install', 'cache'], message: `cache ${installCache} is neither an absolute directory nor a backing store the job prepares (${[...named].join(', ') || 'none'})` });
      }
    }
    p.matrix.backing.forEach((b, i) => {
      if (typeof b === 'string' && !made.has(b)) {
        ctx.addIssue({
          code: 'custom',
          path: ['matrix', 'backing', i],
          message: disk?.device
            ? `backing ${backingLabel(b)} is not among host_disk.filesystems (${[...made].join(', ')})`
            : `backing ${backingLabel(b)} needs host_disk.device (with allow_wipe) to be prepared; or give a directory {dir, name}`,
        });
      }
    });
  });
export type KvmParams = z.infer<typeof KvmParams>;

/** The smallest default test disk (10 GiB). */
export const MIN_DEFAULT_TEST_DISK = 10 * 1024 ** 3;

/** The test disk's size: the inventory's, else 4 x the largest guest memory of the matrix, at least MIN_DEFAULT_TEST_DISK. */
export function testDiskBytes(p: Pick<KvmParams, 'test_disk_size' | 'matrix'>): number {
  if (p.test_disk_size !== undefined) return p.test_disk_size;
  const maxMib = Math.max(...p.matrix.memory_mib);
  return Math.max(MIN_DEFAULT_TEST_DISK, 4 * maxMib * 1024 ** 2);
}

/** Environment for remote-scripts/kvm-prepare-host (prepare and teardown). */
export function hostPrepEnv(p: KvmParams): Record<string, string> {
  const env: Record<string, string> = {};
  const disk = p.host_disk;
  if (disk?.device) {
    env.KVM_TEST_DEVICE = disk.device;
    if (disk.allow_wipe) env.KVM_TEST_DEVICE_ALLOW_WIPE = 'yes';
    env.KVM_FILESYSTEMS = (disk.filesystems ?? DEFAULT_FILESYSTEMS).map((f) => (f.name === f.fs ? f.name : `${f.name}:${f.fs}`)).join(' ');
    if (disk.tmpfs_size) env.KVM_TMPFS_SIZE = disk.tmpfs_size;
    if (disk.mount_root) env.KVM_MOUNT_ROOT = disk.mount_root;
  }
  env.KVM_DEVICE_AFTER = disk?.after ?? 'wipe';
  const dirs = p.matrix.backing.flatMap((b) => (typeof b === 'string' ? [] : [`${b.name}=${b.dir}`]));
  if (dirs.length > 0) env.KVM_DIRS = dirs.join(' ');
  return env;
}

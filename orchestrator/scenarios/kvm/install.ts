// guest.install: the kvm scenario builds the guest's image on the hypervisor before the matrix,
// when it is missing or its recipe changed, instead of trusting a base image someone made by hand.
// Two ways:
//   mmdebstrap    a Debian image from packages (remote-scripts/kvm-build-image): a cached root tree
//                 (the one step that downloads, from the hypervisor's apt sources; `download: false`
//                 forbids it) and an image assembled from it; both cached by the hash of what they
//                 are made of, so an unchanged recipe costs a hash and a changed one rebuilds.
//   virt-install  an install tree (a path or URL) with an unattended-install file (AutoYaST or
//                 preseed) injected into the installer's initrd, under a time limit, the installer's
//                 serial console logged. The command line is built here (virtInstallArgv) and run by
//                 the host as an argument list, never through a shell.
// Either way the result is recorded on the host in guest-install.json (recipe hash, cached or
// built, the installed OS from the image's /etc/os-release) and becomes the job's `build` in its
// manifest: another image is another build.
import { join } from 'node:path';
import * as z from 'zod';
import { DurationMs } from '../../inventory/durations.js';
import type { BuildIdentity } from '../../results/manifest.js';
import { readHostJson } from '../../results/host-json.js';
import { rawArtifactsIn } from '../../results/store-layout.js';

/** An absolute path on the hypervisor safe in a shell word and an XML attribute. */
const HostPath = z
  .string()
  .regex(/^\/[A-Za-z0-9_.+@:=\/-]*$/, 'an absolute path of letters, digits and _ . + @ : = / - (no spaces, quotes or commas)')
  .refine((p) => !p.split('/').includes('..'), 'a path without ".." parts');

/** A path inside the guest, as kvm-build-image accepts it. */
const GuestPath = z
  .string()
  .regex(/^\/[A-Za-z0-9._@+:\/-]*$/, 'an absolute guest path of letters, digits and . _ @ + : / -')
  .refine((p) => !/(^|\/)\.\.?(\/|$)/.test(p), 'a guest path without "." or ".." parts');

const Mode = z.string().regex(/^0?[0-7]{3,4}$/, 'an octal mode such as 0644');
const Unit = z.string().regex(/^[A-Za-z0-9:_.@-]+\.(service|timer|socket|target|path|mount)$/, 'a systemd unit name');

/** A host_disk filesystem name (its mount is the "prepared image partition") or a directory. */
const CacheLocation = z.union([HostPath, z.string().regex(/^[a-z0-9][a-z0-9_.]*$/, 'a host_disk filesystem name or an absolute directory')]);

/**
 * kvm-build-image's recipe (see its header): what the image is made of. Every field is hashed
 * (files by content), so any change rebuilds.
 */
export const MmdebstrapRecipe = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  /** Debian suite, e.g. bookworm. */
  suite: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a Debian suite name, e.g. bookworm'),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name')).min(1).max(5000),
  /** Image size, e.g. 2G or 2048M. */
  size: z.string().regex(/^[1-9][0-9]*[MG]$/, 'a size such as 2G or 2048M'),
  format: z.enum(['raw', 'qcow2']).default('raw'),
  hostname: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/).optional(),
  /** The guest kernel's command line (direct kernel boot). */
  cmdline: z.string().regex(/^[\x20-\x7e]*$/, 'one line of printable ASCII').max(1024).optional(),
  /** Files laid into the image: src on the hypervisor, dest in the guest. */
  files: z.array(z.strictObject({ src: HostPath, dest: GuestPath, mode: Mode })).max(10_000).optional(),
  dirs: z.array(z.strictObject({ dest: GuestPath, mode: Mode })).max(10_000).optional(),
  symlinks: z.array(z.strictObject({ dest: GuestPath, target: z.string().regex(/^[A-Za-z0-9._@+:\/-]+$/) })).max(10_000).optional(),
  remove: z.array(GuestPath.refine((p) => p !== '/', 'not / itself')).max(10_000).optional(),
  mask: z.array(Unit).max(1000).optional(),
});
export type MmdebstrapRecipe = z.infer<typeof MmdebstrapRecipe>;

export const DEFAULT_RECIPE_CMDLINE = 'console=ttyS0 root=/dev/vda rw';

export const MmdebstrapInstall = z.strictObject({
  method: z.literal('mmdebstrap'),
  recipe: MmdebstrapRecipe,
  /** Where trees and images are cached: a directory, or a host_disk filesystem name (its mount). */
  cache: CacheLocation,
  /**
   * Whether the tree may be built here (mmdebstrap downloads from the hypervisor's apt sources).
   * false: only the offline assembly runs; a recipe whose tree is not cached fails the job.
   */
  download: z.boolean().default(true),
  timeout: DurationMs.default(60 * 60_000),
});
export type MmdebstrapInstall = z.infer<typeof MmdebstrapInstall>;

/** An install tree: a directory on the hypervisor or an http(s)/ftp/nfs URL. */
const InstallLocation = z.union([
  HostPath,
  z.string().max(2000).regex(/^(https?|ftp|nfs):\/\/[A-Za-z0-9._~:\/?#@!$&*+;=%\[\]-]+$/, 'an http(s), ftp or nfs URL without commas, quotes or spaces'),
]);

export const VirtInstall = z.strictObject({
  method: z.literal('virt-install'),
  /** The install tree (virt-install --location). */
  location: InstallLocation,
  /** The unattended-install file on the hypervisor, injected into the installer's initrd. */
  unattended: z.strictObject({ kind: z.enum(['autoyast', 'preseed']), file: HostPath }),
  /** libosinfo's name of the OS, e.g. sles12sp5, debian12. */
  os_variant: z.string().regex(/^[a-z][a-z0-9.-]{1,40}$/, 'a libosinfo OS name such as sles12sp5'),
  disk_size: z.string().regex(/^[1-9][0-9]*G$/, 'whole GiB, e.g. 20G'),
  format: z.enum(['raw', 'qcow2']).default('qcow2'),
  memory_mib: z.number().int().min(512).max(1 << 20).default(2048),
  vcpus: z.number().int().min(1).max(64).default(2),
  /** The installer's network (it may need the install tree over it); none by default. */
  network: z
    .union([z.strictObject({ type: z.literal('network'), source: z.string().regex(/^[A-Za-z0-9_.-]+$/) }), z.strictObject({ type: z.literal('bridge'), source: z.string().regex(/^[A-Za-z0-9_.-]+$/) })])
    .optional(),
  /** More kernel arguments for the installer (the console and the unattended file's are added). */
  extra_args: z.string().regex(/^[A-Za-z0-9_.:\/=@+-]+( [A-Za-z0-9_.:\/=@+-]+)*$/, 'words of letters, digits and _ . : / = @ + -').max(1000).optional(),
  cache: CacheLocation,
  timeout: DurationMs.default(90 * 60_000),
});
export type VirtInstall = z.infer<typeof VirtInstall>;

export const GuestInstall = z.discriminatedUnion('method', [MmdebstrapInstall, VirtInstall]);
export type GuestInstall = z.infer<typeof GuestInstall>;

/** The image format guest.install produces. */
export function installFormat(install: GuestInstall): 'raw' | 'qcow2' {
  return install.method === 'mmdebstrap' ? install.recipe.format : install.format;
}

/** Host-side values the virt-install command line carries as placeholders (filled by remote-scripts/kvm). */
export const VIRT_INSTALL_TOKENS = { disk: '@INSTALL_DISK@', consoleLog: '@INSTALL_CONSOLE@', name: '@INSTALL_NAME@', virtType: '@DOMAIN_TYPE@' } as const;

/** The file name virt-install's --initrd-inject gives the unattended file in the installer's root. */
function injectedName(install: VirtInstall): string {
  return install.unattended.kind === 'preseed' ? 'preseed.cfg' : install.unattended.file.split('/').pop()!;
}

/**
 * virt-install's arguments (argv, no shell) for an unattended install: the installer's kernel
 * boots from the install tree with the unattended file in its initrd and its console on the
 * serial port, which goes to a file; --wait bounds the install, --noreboot leaves the domain off.
 */
export function virtInstallArgv(install: VirtInstall, libvirtUri: string): string[] {
  const v = install;
  if (v.unattended.kind === 'preseed' && !v.unattended.file.endsWith('/preseed.cfg')) {
    throw new Error(`a preseed file must be named preseed.cfg (debian-installer reads /preseed.cfg from its initrd): ${v.unattended.file}`);
  }
  const size = Number(v.disk_size.slice(0, -1));
  const unattendedArg = v.unattended.kind === 'autoyast' ? `autoyast=file:///${injectedName(v)}` : 'auto=true priority=critical preseed/file=/preseed.cfg';
  const kernelArgs = ['console=ttyS0,115200n8', unattendedArg, ...(v.extra_args ? [v.extra_args] : [])].join(' ');
  const network = v.network ? `${v.network.type}=${v.network.source},model=virtio` : 'none';
  return [
    '--connect', libvirtUri,
    '--name', VIRT_INSTALL_TOKENS.name,
    '--virt-type', VIRT_INSTALL_TOKENS.virtType,
    '--memory', String(v.memory_mib),
    '--vcpus', String(v.vcpus),
    '--os-variant', v.os_variant,
    '--location', v.location,
    '--initrd-inject', v.unattended.file,
    '--extra-args', kernelArgs,
    '--disk', `path=${VIRT_INSTALL_TOKENS.disk},size=${size},format=${v.format},bus=virtio,cache=unsafe`,
    '--network', network,
    '--graphics', 'none',
    '--serial', `file,path=${VIRT_INSTALL_TOKENS.consoleLog}`,
    '--noautoconsole',
    '--noreboot',
    '--wait', String(Math.max(1, Math.ceil(v.timeout / 60_000))),
  ];
}

/** The environment of the `guest-install` phase (remote-scripts/kvm install). */
export function installEnv(install: GuestInstall, libvirtUri: string): Record<string, string> {
  if (install.method === 'mmdebstrap') {
    return {
      KVM_INSTALL_METHOD: 'mmdebstrap',
      KVM_INSTALL_RECIPE: JSON.stringify(install.recipe),
      KVM_INSTALL_CACHE: install.cache,
      KVM_INSTALL_DOWNLOAD: install.download ? 'yes' : 'no',
    };
  }
  return {
    KVM_INSTALL_METHOD: 'virt-install',
    KVM_INSTALL_ARGV: JSON.stringify(virtInstallArgv(install, libvirtUri)),
    KVM_INSTALL_CACHE: install.cache,
    KVM_INSTALL_FORMAT: install.format,
    KVM_INSTALL_TIMEOUT_S: String(Math.ceil(install.timeout / 1000)),
    // what the image is made of, beside the unattended file's content (hashed on the host)
    KVM_INSTALL_UNATTENDED: install.unattended.file,
  };
}

/** What the host recorded about the guest's image (artifacts/guest-install.json). */
export const GuestInstallRecord = z.object({
  method: z.enum(['mmdebstrap', 'virt-install']),
  /** The hash of everything the image is made of: its cache key. */
  recipe_hash: z.string().regex(/^[0-9a-f]{16,64}$/),
  tree_hash: z.string().regex(/^[0-9a-f]{16,64}$/).optional(),
  /** true: the image was there already (no build). */
  image_cached: z.boolean(),
  tree_cached: z.boolean().optional(),
  seconds: z.number().min(0),
  image: z.string().max(4096),
  format: z.enum(['raw', 'qcow2']),
  os: z.object({ id: z.string().max(200).optional(), version_id: z.string().max(200).optional(), pretty_name: z.string().max(200).optional() }),
});
export type GuestInstallRecord = z.infer<typeof GuestInstallRecord>;

export class GuestInstallRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestInstallRecordError';
  }
}

/** artifacts/guest-install.json of a job (validated), or undefined when the job installed nothing. */
export async function readGuestInstall(rawDir: string): Promise<GuestInstallRecord | undefined> {
  const file = join(rawArtifactsIn(rawDir), 'guest-install.json');
  const value = await readHostJson(file, (m) => new GuestInstallRecordError(m));
  if (value === undefined) return undefined;
  const parsed = GuestInstallRecord.safeParse(value);
  if (!parsed.success) throw new GuestInstallRecordError(`${file}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The job's build in its manifest: the guest image (its OS and recipe hash). */
export function guestImageIdentity(r: GuestInstallRecord): BuildIdentity {
  const os = r.os.pretty_name ?? ([r.os.id, r.os.version_id].filter(Boolean).join(' ') || 'unknown OS');
  return {
    label: `guest ${os} (${r.method} ${r.recipe_hash.slice(0, 16)})`.slice(0, 200),
    package: 'guest-image',
    ...(r.os.version_id ? { version: `${r.os.id ?? ''}${r.os.id ? ' ' : ''}${r.os.version_id}` } : {}),
    revision: r.recipe_hash.slice(0, 64),
  };
}

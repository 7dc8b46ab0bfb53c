// Builds the tiny real guest for the kvm end-to-end test: Debian's kernel (linux-image-amd64,
// /boot/vmlinuz-<ver>) plus a gzip'd newc initramfs holding busybox-static, the virtio/ext4
// modules (insmod'ed in modules.dep order) and an /init that mounts the base disk (/dev/vda),
// binds its /var and /root over the initramfs ones, runs /qaset-standin/run.sh from it, unmounts
// and powers off. Output goes to /var/tmp/orchestrate-kvm-guest/<hash>/ and is reused when the
// hash of the inputs (kernel, modules, busybox, /init, this builder's format) matches.
// The cpio archive is written here (no cpio/fakeroot needed, device nodes need no root).
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export const CACHE_ROOT = '/var/tmp/orchestrate-kvm-guest';
const BUSYBOX = '/bin/busybox';
const BUILDER_FORMAT = 'kvm-guest-v1';
/** Modules wanted; their dependencies come from modules.dep. crc32c_generic is ext4's soft dependency. */
const WANTED = ['virtio_pci', 'virtio_blk', 'crc32c_generic', 'ext4'];

export const INIT_SCRIPT = `#!/bin/sh
# /init of the orchestrator's kvm test guest (built by test/kvm-guest/build-guest.ts)
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/load-order); do insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if mount -t ext4 /dev/vda /mnt; then
  mkdir -p /mnt/var /mnt/root
  mount --bind /mnt/var /var
  mount --bind /mnt/root /root
  if [ -f /mnt/qaset-standin/run.sh ]; then sh /mnt/qaset-standin/run.sh; echo "init: run.sh exited $?"; else echo "init: no /qaset-standin/run.sh on vda"; fi
  sync
  umount /root; umount /var; umount /mnt
else
  echo "init: cannot mount /dev/vda"
fi
echo "init: powering off"
poweroff -f
`;

export interface GuestImages {
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** true when the cache was reused. */
  cached: boolean;
  dir: string;
}

/** Newest Debian kernel under /boot that has its modules under /lib/modules. */
export async function findKernel(): Promise<{ version: string; vmlinuz: string; modules: string }> {
  const names = (await fsp.readdir('/boot')).filter((n) => /^vmlinuz-.+/.test(n)).sort().reverse();
  for (const n of names) {
    const version = n.slice('vmlinuz-'.length);
    const modules = `/lib/modules/${version}`;
    if (await fsp.stat(path.join(modules, 'modules.dep')).then(() => true, () => false)) return { version, vmlinuz: `/boot/${n}`, modules };
  }
  throw new Error('no /boot/vmlinuz-<ver> with /lib/modules/<ver>/modules.dep: apt-get install linux-image-amd64');
}

/** Module paths (relative to the modules dir) in load order: dependencies first. */
export function loadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  const byName = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const m = /^([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const file = m[1]!;
    deps.set(file, m[2]!.split(/\s+/).filter(Boolean));
    byName.set(path.basename(file).replace(/\.ko(\.\w+)?$/, '').replace(/-/g, '_'), file);
  }
  const order: string[] = [];
  const visit = (file: string, stack: string[]) => {
    if (order.includes(file)) return;
    if (stack.includes(file)) throw new Error(`module dependency cycle: ${[...stack, file].join(' -> ')}`);
    for (const d of deps.get(file) ?? []) visit(d, [...stack, file]);
    order.push(file);
  };
  for (const w of wanted) {
    const file = byName.get(w.replace(/-/g, '_'));
    if (!file) throw new Error(`module ${w} not in modules.dep (built in? then drop it from the list)`);
    visit(file, []);
  }
  return order;
}

interface Entry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** A newc ("070701") cpio archive. */
export function cpioNewc(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  const pad = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  let ino = 1;
  const add = (e: Entry) => {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const isDir = (e.mode & 0o170000) === 0o040000;
    const header = `070701${[ino++, e.mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0].map(hex).join('')}`;
    parts.push(Buffer.from(header, 'ascii'), name, pad(110 + name.length), data, pad(data.length));
  };
  for (const e of entries) add(e);
  add({ name: 'TRAILER!!!', mode: 0 });
  return Buffer.concat(parts);
}

async function hashFile(h: ReturnType<typeof createHash>, file: string): Promise<void> {
  h.update(`${file}\0`);
  h.update(await fsp.readFile(file));
}

export async function buildGuest(opts: { cacheRoot?: string } = {}): Promise<GuestImages> {
  const root = opts.cacheRoot ?? CACHE_ROOT;
  const k = await findKernel();
  await fsp.access(BUSYBOX).catch(() => {
    throw new Error(`${BUSYBOX} missing: apt-get install busybox-static`);
  });
  const order = loadOrder(await fsp.readFile(path.join(k.modules, 'modules.dep'), 'utf8'), WANTED);
  for (const m of order) if (!m.endsWith('.ko')) throw new Error(`compressed module ${m}: busybox insmod cannot load it; decompress support not built`);

  const h = createHash('sha256');
  h.update(`${BUILDER_FORMAT}\0${INIT_SCRIPT}\0${order.join(' ')}\0`);
  await hashFile(h, k.vmlinuz);
  await hashFile(h, BUSYBOX);
  for (const m of order) await hashFile(h, path.join(k.modules, m));
  const digest = h.digest('hex').slice(0, 16);
  const dir = path.join(root, `guest-${k.version}-${digest}`);
  const kernel = path.join(dir, 'vmlinuz');
  const initrd = path.join(dir, 'initrd.img');
  if (await fsp.stat(path.join(dir, 'COMPLETE')).then(() => true, () => false)) {
    return { kernel, initrd, kernelVersion: k.version, cached: true, dir };
  }

  const names = order.map((m) => path.basename(m).replace(/\.ko$/, ''));
  const entries: Entry[] = [];
  for (const d of ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'mnt', 'var', 'root', 'tmp', 'lib', 'lib/modules']) {
    entries.push({ name: d, mode: 0o040755 });
  }
  entries.push({ name: 'dev/console', mode: 0o020600, rdev: [5, 1] });
  entries.push({ name: 'dev/null', mode: 0o020666, rdev: [1, 3] });
  entries.push({ name: 'bin/busybox', mode: 0o100755, data: await fsp.readFile(BUSYBOX) });
  entries.push({ name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') });
  entries.push({ name: 'init', mode: 0o100755, data: Buffer.from(INIT_SCRIPT) });
  for (let i = 0; i < order.length; i++) {
    entries.push({ name: `lib/modules/${names[i]}.ko`, mode: 0o100644, data: await fsp.readFile(path.join(k.modules, order[i]!)) });
  }
  entries.push({ name: 'lib/modules/load-order', mode: 0o100644, data: Buffer.from(`${names.join('\n')}\n`) });

  await fsp.mkdir(root, { recursive: true, mode: 0o755 });
  await fsp.chmod(root, 0o755);
  const tmp = await fsp.mkdtemp(path.join(root, '.build-'));
  try {
    await fsp.writeFile(path.join(tmp, 'initrd.img'), gzipSync(cpioNewc(entries), { level: 6 }), { mode: 0o644 });
    await fsp.copyFile(k.vmlinuz, path.join(tmp, 'vmlinuz'));
    await fsp.chmod(path.join(tmp, 'vmlinuz'), 0o644);
    await fsp.writeFile(path.join(tmp, 'COMPLETE'), `${k.version}\n${order.join('\n')}\n`);
    await fsp.chmod(tmp, 0o755);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.rename(tmp, dir);
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { kernel, initrd, kernelVersion: k.version, cached: false, dir };
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const t0 = Date.now();
  const g = await buildGuest();
  process.stdout.write(`${JSON.stringify(g)} in ${Date.now() - t0} ms\n`);
}

// Lab helper: a libvirtd (+ virtlogd) for qemu:///system without systemd, as in
// /work/shared/reference/qaset-and-libvirt.md. Idempotent: when qemu:///system already answers,
// nothing is started and stop() does nothing. Daemons started here write their own pid files
// (under /run/orchestrate-kvm-lab/) and stop() signals exactly those PIDs.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const URI = 'qemu:///system';
const PID_DIR = '/run/orchestrate-kvm-lab';

export interface Libvirtd {
  /** PIDs of the daemons this helper started (empty when an existing libvirtd was reused). */
  started: { name: string; pid: number }[];
  stop(): Promise<void>;
}

async function answers(): Promise<boolean> {
  return run('virsh', ['-q', '-c', URI, 'uri'], { timeout: 10_000 }).then(() => true, () => false);
}

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(() => true, () => false);
}

async function ensureAccount(): Promise<void> {
  const has = async (db: string, name = 'libvirt-qemu') => run('getent', [db, name]).then(() => true, () => false);
  if (!(await has('group'))) await run('groupadd', ['-r', 'libvirt-qemu']);
  if (!(await has('passwd'))) await run('useradd', ['-r', '-g', 'libvirt-qemu', '-d', '/var/lib/libvirt', '-s', '/usr/sbin/nologin', 'libvirt-qemu']);
  // In the kvm group, as Debian's package sets it up: libvirt probes QEMU as root (where
  // /dev/kvm opens) and checks its cached capabilities as this account; when the two disagree
  // it throws the cache away and probes every QEMU binary again at each define (~50 s here).
  if (await has('group', 'kvm')) {
    const groups = (await run('id', ['-nG', 'libvirt-qemu'])).stdout.split(/\s+/);
    if (!groups.includes('kvm')) await run('usermod', ['-a', '-G', 'kvm', 'libvirt-qemu']);
  }
}

/** security_driver = "none" in /etc/libvirt/qemu.conf (the lab's containers have no AppArmor/SELinux to drive). */
async function ensureQemuConf(): Promise<void> {
  const file = '/etc/libvirt/qemu.conf';
  const text = await fsp.readFile(file, 'utf8').catch(() => '');
  if (/^\s*security_driver\s*=\s*"none"\s*$/m.test(text)) return;
  const rest = text.split('\n').filter((l) => !/^\s*security_driver\s*=/.test(l)).join('\n');
  await fsp.writeFile(file, `${rest.replace(/\n*$/, '\n')}security_driver = "none"\n`.replace(/^\n/, ''));
}

async function readPid(file: string, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = await fsp.readFile(file, 'utf8').catch(() => '');
    const pid = Number.parseInt(text.trim(), 10);
    if (pid > 0) return pid;
    if (Date.now() > end) throw new Error(`no pid in ${file} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopPid(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export async function startLibvirtd(): Promise<Libvirtd> {
  const started: Libvirtd['started'] = [];
  const handle: Libvirtd = {
    started,
    async stop() {
      for (const s of [...started].reverse()) await stopPid(s.pid);
      started.length = 0;
    },
  };
  if (await answers()) return handle;
  for (const d of ['/var/log/libvirt', '/var/run/libvirt', '/var/lib/libvirt', PID_DIR]) await fsp.mkdir(d, { recursive: true });
  await ensureAccount();
  await ensureQemuConf();
  try {
    for (const name of ['virtlogd', 'libvirtd']) {
      const pidFile = `${PID_DIR}/${name}.pid`;
      const old = Number.parseInt((await fsp.readFile(pidFile, 'utf8').catch(() => '')).trim(), 10);
      if (old > 0 && alive(old)) continue; // ours from an earlier run, still there
      await fsp.rm(pidFile, { force: true });
      await run(name, ['-d', '-p', pidFile], { timeout: 30_000 });
      started.push({ name, pid: await readPid(pidFile, 10_000) });
    }
    for (let i = 0; i < 100; i++) {
      if (await answers()) return handle;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${URI} does not answer after starting ${started.map((s) => s.name).join(', ')}`);
  } catch (err) {
    await handle.stop();
    throw err;
  }
}

/**
 * Stops, from any process, daemons startLibvirtd started (the `started` list of its handle,
 * saved by the caller): each PID only while /proc shows it still runs that daemon.
 */
export async function stopStartedLibvirtd(started: readonly { name: string; pid: number }[]): Promise<number[]> {
  const stopped: number[] = [];
  for (const { name, pid } of [...started].reverse()) {
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) continue;
    const comm = (await fsp.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (comm !== name) continue;
    await stopPid(pid);
    await fsp.rm(`${PID_DIR}/${name}.pid`, { force: true });
    stopped.push(pid);
  }
  return stopped;
}

export { exists };

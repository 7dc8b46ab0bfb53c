// Running the lab's Debian guest without the orchestrator, for the guest's own end-to-end test:
// a copy of the golden image, QASET's inputs written into it with debugfs (the image is a raw ext4
// filesystem: no partition table, no appliance), a test disk with one GPT partition (/dev/vdb1),
// a libvirt domain (qemu:///system, the orchestrator's buildDomainXml) that runs until the guest
// powers itself off, and files read back from the disk afterwards.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildDomainXml } from '../../orchestrator/scenarios/kvm/domain-xml.js';
import type { MatrixPoint } from '../../orchestrator/scenarios/kvm/matrix.js';
import { URI } from './libvirtd.js';

const run = promisify(execFile);
const HARNESS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'e2e-harness');
const UNITS = '/etc/systemd/system';

/** Shell-quotes a value for QASET's config (a bash file QASET sources). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** /root/qaset/list as QASET reads it: a bash array. */
export function runListFile(entries: readonly string[]): string {
  for (const e of entries) if (!/^[A-Za-z0-9_+.-]+$/.test(e)) throw new Error(`run list entry ${JSON.stringify(e)}: letters, digits, _ + . - only`);
  return `SQ_TEST_RUN_LIST=(\n${entries.map((e) => `  ${e}\n`).join('')})\n`;
}

/** /root/qaset/config: KEY='value' lines. */
export function configFile(config: Record<string, string | number>): string {
  return Object.entries(config)
    .map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`config key ${JSON.stringify(k)} is not a shell variable name`);
      return `${k}=${shellQuote(String(v))}\n`;
    })
    .join('');
}

/** Runs debugfs commands (one per line) against an image; debugfs's own output, checked for errors. */
export async function debugfs(image: string, commands: readonly string[], opts: { write?: boolean; allowErrors?: RegExp } = {}): Promise<string> {
  for (const c of commands) if (/[\n\r]/.test(c)) throw new Error(`debugfs command with a newline: ${JSON.stringify(c)}`);
  const dir = await fsp.mkdtemp('/tmp/orchestrate-debugfs-');
  try {
    const script = path.join(dir, 'commands');
    await fsp.writeFile(script, `${commands.join('\n')}\n`);
    const { stdout, stderr } = await run('debugfs', [...(opts.write ? ['-w'] : []), '-f', script, image], { maxBuffer: 64 << 20 });
    // debugfs exits 0 even when a command fails: its complaints are on stderr after the banner
    const complaints = stderr
      .split('\n')
      .filter((l) => l.trim() !== '' && !/^debugfs [\d.]+ \(/.test(l) && !(opts.allowErrors?.test(l) ?? false));
    if (complaints.length > 0) throw new Error(`debugfs on ${image}: ${complaints.join('; ')}`);
    return stdout;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** The content of one file in the image, or null when it is not there. */
export async function readImageFile(image: string, file: string): Promise<string | null> {
  const { stdout, stderr } = await run('debugfs', ['-R', `cat ${file}`, image], { maxBuffer: 64 << 20 });
  return /File not found|not found by ext2_lookup/.test(stderr) ? null : stdout;
}

/** Copies a directory tree out of the image (debugfs rdump) into outDir/<basename>. */
export async function dumpImageDir(image: string, dir: string, outDir: string): Promise<string> {
  await fsp.mkdir(outDir, { recursive: true });
  await debugfs(image, [`rdump ${dir} ${outDir}`]);
  return path.join(outDir, path.basename(dir));
}

export interface QasetInputs {
  /** /root/qaset/list entries; none: no list (as in the golden image). */
  list?: readonly string[];
  config?: Record<string, string | number>;
  /** The symlinks `systemctl enable qaperf.service` makes (WantedBy multi-user, Alias sqperf). */
  enableQaperf?: boolean;
  /** The e2e harness unit (powers the guest off once QASET is idle). */
  harness?: boolean;
  /** Control files to write (name -> content) under /var/log/qaset/control, e.g. a stale DONE. */
  control?: Record<string, string>;
  /** `qaset reset` done from outside: STOP, DONE, SYSTEM_DIRTY, lock.d removed, NEXT_RUN blank. */
  reset?: boolean;
}

/** Writes QASET's inputs into a (stopped) guest image with debugfs, and reads them back. */
export async function injectQaset(image: string, work: string, inputs: QasetInputs): Promise<void> {
  await fsp.mkdir(work, { recursive: true });
  const cmds: string[] = [];
  const mkdirs = (...dirs: string[]) => dirs.forEach((d) => cmds.push(`mkdir ${d}`));
  const put = async (dest: string, content: string, name: string) => {
    const local = path.join(work, name);
    await fsp.writeFile(local, content, { mode: 0o644 });
    cmds.push(`rm ${dest}`, `write ${local} ${dest}`);
  };
  const written: [string, string][] = [];
  // QASET creates runs/ calls/ log/ set/ submission/ only when /var/log/qaset does not exist yet:
  // whoever creates /var/log/qaset (here: for control/) creates them all
  mkdirs('/root/qaset', '/var/log/qaset', ...['control', 'runs', 'calls', 'log', 'set', 'submission'].map((d) => `/var/log/qaset/${d}`));
  if (inputs.list) {
    const text = runListFile(inputs.list);
    await put('/root/qaset/list', text, 'list');
    written.push(['/root/qaset/list', text]);
  }
  if (inputs.config) {
    const text = configFile(inputs.config);
    await put('/root/qaset/config', text, 'config');
    written.push(['/root/qaset/config', text]);
  }
  if (inputs.reset) {
    cmds.push('rm /var/log/qaset/control/STOP', 'rm /var/log/qaset/control/DONE', 'rm /var/log/qaset/control/SYSTEM_DIRTY', 'rmdir /var/log/qaset/lock.d');
    await put('/var/log/qaset/control/NEXT_RUN', '\n', 'NEXT_RUN');
  }
  for (const [name, content] of Object.entries(inputs.control ?? {})) {
    if (!/^[A-Z_]+$/.test(name)) throw new Error(`control file name ${name}`);
    await put(`/var/log/qaset/control/${name}`, content, `control-${name}`);
    written.push([`/var/log/qaset/control/${name}`, content]);
  }
  if (inputs.enableQaperf) {
    mkdirs(`${UNITS}/multi-user.target.wants`);
    cmds.push(
      `rm ${UNITS}/multi-user.target.wants/qaperf.service`,
      `symlink ${UNITS}/multi-user.target.wants/qaperf.service /usr/lib/systemd/system/qaperf.service`,
      `rm ${UNITS}/sqperf.service`,
      `symlink ${UNITS}/sqperf.service /usr/lib/systemd/system/qaperf.service`,
    );
  }
  if (inputs.harness) {
    mkdirs('/usr/local/sbin', `${UNITS}/multi-user.target.wants`);
    cmds.push('rm /usr/local/sbin/orchestrate-e2e-harness', `write ${path.join(HARNESS_DIR, 'orchestrate-e2e-harness')} /usr/local/sbin/orchestrate-e2e-harness`);
    cmds.push(`rm ${UNITS}/orchestrate-e2e-harness.service`, `write ${path.join(HARNESS_DIR, 'orchestrate-e2e-harness.service')} ${UNITS}/orchestrate-e2e-harness.service`);
    cmds.push(`rm ${UNITS}/multi-user.target.wants/orchestrate-e2e-harness.service`, `symlink ${UNITS}/multi-user.target.wants/orchestrate-e2e-harness.service ${UNITS}/orchestrate-e2e-harness.service`);
  }
  // "already exists" / "not found" are expected for mkdir and rm of what is or is not there
  await debugfs(image, cmds, { write: true, allowErrors: /already exists|File not found by ext2_lookup|^(mkdir|rm|rmdir): / });
  if (inputs.harness) await debugfs(image, ['sif /usr/local/sbin/orchestrate-e2e-harness mode 0100755'], { write: true });
  for (const [file, content] of written) {
    const back = await readImageFile(image, file);
    if (back !== content) throw new Error(`${file} in ${image} reads back ${JSON.stringify(back)}, not what was written`);
  }
}

/** A raw test disk with a GPT label and one partition (the guest's /dev/vdb1). */
export async function makeTestDisk(file: string, bytes: number): Promise<void> {
  await fsp.writeFile(file, '');
  await fsp.truncate(file, bytes);
  await run('parted', ['-s', file, 'mklabel', 'gpt', 'mkpart', 'abuild', '1MiB', '100%']);
}

export interface BootInput {
  label: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  image: string;
  testImage: string;
  serialLog: string;
  topology: MatrixPoint['topology'];
  memoryMib: number;
  timeoutMs: number;
}

export interface BootResult {
  uuid: string;
  /** From `virsh start` until libvirt reports the domain shut off. */
  seconds: number;
  /** Host seconds from start until each "multi-user reached" line of the harness showed on the console. */
  multiUserSeconds: number[];
  serial: string;
}

/** Domains this process defined (for the test's after-hook). */
export const definedDomains = new Set<string>();

export async function destroyDomain(uuid: string): Promise<void> {
  await run('virsh', ['-q', '-c', URI, 'destroy', uuid]).catch(() => {});
  await run('virsh', ['-q', '-c', URI, 'undefine', uuid]).catch(() => {});
  definedDomains.delete(uuid);
}

/** Defines and starts the domain, follows the serial log, waits until the guest is shut off. */
export async function bootUntilOff(b: BootInput): Promise<BootResult> {
  const uuid = randomUUID();
  const { xml } = buildDomainXml({
    name: `orchestrate-guest-e2e-${b.label}-${uuid.slice(0, 8)}`,
    uuid,
    domainType: 'qemu',
    point: { topology: b.topology, format: 'raw', cache: 'writeback', io: 'threads', bus: 'virtio-blk', memoryMib: b.memoryMib, networkModel: 'none' },
    kernel: b.kernel,
    initrd: b.initrd,
    cmdline: b.cmdline,
    baseImage: b.image,
    testImage: b.testImage,
    serialLog: b.serialLog,
    onReboot: 'restart',
  });
  const xmlFile = `${b.serialLog}.domain.xml`;
  await fsp.writeFile(xmlFile, xml);
  await run('virsh', ['-q', '-c', URI, 'define', xmlFile]);
  definedDomains.add(uuid);
  const t0 = Date.now();
  await run('virsh', ['-q', '-c', URI, 'start', uuid]);
  const multiUserSeconds: number[] = [];
  let state = '';
  let seen = 0;
  try {
    while (Date.now() - t0 < b.timeoutMs) {
      const serial = await fsp.readFile(b.serialLog, 'utf8').catch(() => '');
      const ups = serial.match(/orchestrate-e2e: up /g)?.length ?? 0;
      for (; seen < ups; seen++) multiUserSeconds.push((Date.now() - t0) / 1000);
      state = (await run('virsh', ['-q', '-c', URI, 'domstate', uuid])).stdout.trim();
      if (state === 'shut off') break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    if (state !== 'shut off') await run('virsh', ['-q', '-c', URI, 'destroy', uuid]).catch(() => {});
  }
  const seconds = (Date.now() - t0) / 1000;
  const serial = await fsp.readFile(b.serialLog, 'utf8').catch(() => '');
  await destroyDomain(uuid);
  if (state !== 'shut off') throw new Error(`${b.label}: guest still "${state}" after ${b.timeoutMs} ms; serial tail:\n${serial.slice(-4000)}`);
  return { uuid, seconds, multiUserSeconds, serial };
}

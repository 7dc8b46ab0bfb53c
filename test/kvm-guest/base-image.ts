// Builds the base disk (vda) of the kvm end-to-end test guest: a raw ext4 filesystem image (no
// partition table; mkfs.ext4 -d, no journal) holding
//   /qaset-standin/run.sh              the QASET stand-in (0755)
//   /root/qaset/  /var/log/  /var/tmp/ empty; the test injects /root/qaset/{list,config} into a
//                                      copy with debugfs (its "write" refuses to overwrite)
//   /opt/bench/bin/{fio,sysbench}      the host's real programs
//   /opt/bench/lib/*                   every shared library they need (ldd), real files under their
//                                      sonames, the dynamic loader (ld-linux-x86-64.so.2) included
// The busybox guest has no libc: the stand-in runs them as
//   <base>/opt/bench/lib/ld-linux-x86-64.so.2 --library-path <base>/opt/bench/lib <base>/opt/bench/bin/fio
// The image has the content plus ~48 MiB free. It is cached under CACHE_ROOT/base-<hash>/base.img
// (hash of run.sh, the programs, the libraries and this builder's format) and built atomically:
// in a temporary directory, renamed into place, COMPLETE written last inside it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CACHE_ROOT } from './build-guest.js';

const run = promisify(execFile);

export const STANDIN_RUN_SH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'qaset-standin', 'run.sh');

export interface BaseImage {
  path: string;
  format: 'raw';
  bytes: number;
  /** true when the cache was reused. */
  cached: boolean;
}

const BASE_FORMAT = 'kvm-base-v1';
const PROGRAMS = ['fio', 'sysbench'] as const;
const LOADER = 'ld-linux-x86-64.so.2';
/** Loaded with dlopen by glibc (pthread_cancel/pthread_exit unwinding), so ldd may not list it. */
const DLOPENED = ['libgcc_s.so.1'];
const FREE_BYTES = 48 << 20;
const MKFS_ARGS = ['-q', '-F', '-b', '4096', '-O', '^has_journal', '-L', 'qaset-base'];

interface BenchFile {
  /** Name in the image (soname for libraries). */
  name: string;
  /** Real file on the host (symlinks resolved). */
  source: string;
}

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(() => true, () => false);
}

async function which(prog: string): Promise<string> {
  for (const dir of (process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, prog);
    if (await fsp.access(p, fsp.constants.X_OK).then(() => true, () => false)) return p;
  }
  throw new Error(`${prog} not installed: apt-get install fio sysbench (test/install-deps.sh)`);
}

/** Libraries ldd lists for one program: soname -> path; the loader under LOADER. */
async function lddLibs(program: string): Promise<Map<string, string>> {
  const { stdout } = await run('ldd', [program]).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`ldd ${program} failed: ${(err.stderr || err.stdout || err.message).trim()}`);
  });
  const libs = new Map<string, string>();
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('linux-vdso') || line.startsWith('linux-gate')) continue;
    const arrow = /^(\S+)\s+=>\s+(.*?)(?:\s+\(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === 'not found' || !arrow[2]!.startsWith('/')) throw new Error(`ldd ${program}: ${arrow[1]} not found`);
      libs.set(path.basename(arrow[1]!) === LOADER ? LOADER : arrow[1]!, arrow[2]!);
      continue;
    }
    const direct = /^(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
    if (direct) {
      libs.set(path.basename(direct[1]!), direct[1]!);
      continue;
    }
    if (/statically linked|not a dynamic executable/.test(line)) continue;
    throw new Error(`ldd ${program}: unexpected line ${JSON.stringify(line)}`);
  }
  if (libs.size > 0 && !libs.has(LOADER)) throw new Error(`ldd ${program}: no ${LOADER} (not an x86-64 glibc program?)`);
  return libs;
}

/** The programs and the libraries to copy, sorted by name. */
async function benchFiles(): Promise<{ bins: BenchFile[]; libs: BenchFile[] }> {
  const bins: BenchFile[] = [];
  const libs = new Map<string, string>();
  for (const prog of PROGRAMS) {
    const p = await which(prog);
    bins.push({ name: prog, source: await fsp.realpath(p) });
    for (const [name, lib] of await lddLibs(p)) {
      const real = await fsp.realpath(lib);
      const had = libs.get(name);
      if (had !== undefined && had !== real) throw new Error(`library ${name} resolves to both ${had} and ${real}`);
      libs.set(name, real);
    }
  }
  const libc = libs.get('libc.so.6');
  if (libc) {
    for (const name of DLOPENED) {
      const p = path.join(path.dirname(libc), name);
      if (!libs.has(name) && (await exists(p))) libs.set(name, await fsp.realpath(p));
    }
  }
  const sorted = [...libs].map(([name, source]) => ({ name, source })).sort((a, b) => a.name.localeCompare(b.name));
  return { bins, libs: sorted };
}

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Builds (or reuses) the cached base image; see the header for its content. */
export async function buildBaseImage(opts: { cacheRoot?: string } = {}): Promise<BaseImage> {
  const root = opts.cacheRoot ?? CACHE_ROOT;
  const runSh = await fsp.readFile(STANDIN_RUN_SH);
  const { bins, libs } = await benchFiles();

  const h = createHash('sha256');
  h.update(`${BASE_FORMAT}\0${FREE_BYTES}\0${MKFS_ARGS.join(' ')}\0`);
  h.update(`run.sh\0${runSh.length}\0`);
  h.update(runSh);
  for (const [kind, files] of [['bin', bins], ['lib', libs]] as const) {
    for (const f of files) {
      const data = await fsp.readFile(f.source);
      h.update(`${kind}/${f.name}\0${data.length}\0`);
      h.update(data);
    }
  }
  const digest = h.digest('hex').slice(0, 16);
  const dir = path.join(root, `base-${digest}`);
  const image = path.join(dir, 'base.img');
  if (await exists(path.join(dir, 'COMPLETE'))) {
    return { path: image, format: 'raw', bytes: (await fsp.stat(image)).size, cached: true };
  }

  await fsp.mkdir(root, { recursive: true, mode: 0o755 });
  await fsp.chmod(root, 0o755);
  const tmp = await fsp.mkdtemp(path.join(root, '.build-base-'));
  try {
    const stage = path.join(tmp, 'stage');
    const mkdir = async (rel: string, mode = 0o755) => {
      await fsp.mkdir(path.join(stage, rel), { recursive: true });
      await fsp.chmod(path.join(stage, rel), mode);
    };
    await mkdir('.');
    for (const d of ['qaset-standin', 'root', 'root/qaset', 'var', 'var/log', 'opt', 'opt/bench', 'opt/bench/bin', 'opt/bench/lib']) await mkdir(d);
    await mkdir('root', 0o700);
    await mkdir('var/tmp', 0o1777);
    const put = async (rel: string, data: Buffer | string, mode: number) => {
      await fsp.writeFile(path.join(stage, rel), data);
      await fsp.chmod(path.join(stage, rel), mode);
    };
    await put('qaset-standin/run.sh', runSh, 0o755);
    let bytes = 0;
    for (const f of bins) {
      await fsp.copyFile(f.source, path.join(stage, 'opt/bench/bin', f.name));
      await fsp.chmod(path.join(stage, 'opt/bench/bin', f.name), 0o755);
      bytes += roundUp((await fsp.stat(f.source)).size, 4096);
    }
    for (const f of libs) {
      await fsp.copyFile(f.source, path.join(stage, 'opt/bench/lib', f.name));
      await fsp.chmod(path.join(stage, 'opt/bench/lib', f.name), f.name === LOADER ? 0o755 : 0o644);
      bytes += roundUp((await fsp.stat(f.source)).size, 4096);
    }
    bytes += roundUp(runSh.length, 4096) + 16 * 4096;
    // ext4 metadata (inode tables, bitmaps, group descriptors, lost+found) on top: ~6% + 8 MiB
    const size = roundUp(Math.ceil((bytes + FREE_BYTES) * 1.06) + (8 << 20), 1 << 20);
    const img = path.join(tmp, 'base.img');
    await run('mkfs.ext4', [...MKFS_ARGS, '-d', stage, img, `${size / 1024}k`]);
    const free = await freeBytes(img);
    if (free < FREE_BYTES) throw new Error(`base image ${img}: ${free} bytes free, fewer than ${FREE_BYTES}`);
    await fsp.chmod(img, 0o644);
    await fsp.rm(stage, { recursive: true, force: true });
    const manifest = [`${BASE_FORMAT} ${digest}`, `size ${size} free ${free}`, ...bins.map((f) => `bin/${f.name} ${f.source}`), ...libs.map((f) => `lib/${f.name} ${f.source}`)];
    await fsp.writeFile(path.join(tmp, 'COMPLETE'), `${manifest.join('\n')}\n`, { mode: 0o644 });
    await fsp.chmod(tmp, 0o755);
    if (!(await exists(path.join(dir, 'COMPLETE')))) await fsp.rm(dir, { recursive: true, force: true });
    try {
      await fsp.rename(tmp, dir);
    } catch (err) {
      // another builder got there first with the same content
      if (!(await exists(path.join(dir, 'COMPLETE')))) throw err;
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { path: image, format: 'raw', bytes: (await fsp.stat(image)).size, cached: false };
}

/** Free bytes of an ext4 image (dumpe2fs -h: "Free blocks" x "Block size"). */
async function freeBytes(img: string): Promise<number> {
  const { stdout } = await run('dumpe2fs', ['-h', img], { maxBuffer: 4 << 20 });
  const field = (name: string) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(stdout)?.[1] ?? NaN);
  return field('Free blocks') * field('Block size');
}

if (process.argv[1] && import.meta.url === new URL(`file://${path.resolve(process.argv[1])}`).href) {
  const t0 = Date.now();
  const b = await buildBaseImage();
  process.stdout.write(`${JSON.stringify(b)} in ${Date.now() - t0} ms\n`);
}

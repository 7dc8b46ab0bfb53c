// The lab's agent, packaged: a real Debian package `midolman` built with dpkg-deb from the stand-in
// JVM (test/lab/jvm-standin/MidolmanStandin.java), in two good versions and one broken one, plus a
// flat apt repository of the three (dpkg-scanpackages) for the apt build source.
//
// Built from local files only (javac, jar, dpkg-deb, dpkg-scanpackages; never the network), cached
// by the content hash of every input under /var/tmp/orchestrate-agent-package/<hash>/ and built
// atomically (a temp directory renamed into place), so labUp and the tests can ask for it every time.
// The layout of each package is described in test/lab/agent-package/README.md.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FILES = path.join(HERE, 'files');
const STANDIN_SOURCE = path.join(HERE, '..', 'jvm-standin', 'MidolmanStandin.java');
/** Where built packages are kept (outlives labs; one directory per input hash). */
export const AGENT_PACKAGE_ROOT = process.env['ORCHESTRATE_AGENT_PACKAGE_ROOT'] ?? '/var/tmp/orchestrate-agent-package';

export const AGENT_PACKAGE = 'midolman';

export interface AgentVersionSpec {
  /** Debian version of the package. */
  version: string;
  /** Mean simulated latency of the stand-in's pipeline (JMX histogram), ns: versions differ observably. */
  latencyNs: number;
  /** Set for the broken build: the agent logs this as an ERROR at startup and exits 1. */
  startupFailure?: string;
}

/** The versions the lab builds: v1 and v2 work, `broken` fails at startup. */
export const AGENT_VERSIONS = {
  v1: { version: '1.0.0-lab1', latencyNs: 40_000 },
  v2: { version: '2.0.0-lab1', latencyNs: 32_000 },
  broken: {
    version: '2.1.0-lab1',
    latencyNs: 32_000,
    startupFailure: 'cannot bind the datapath: this build of the lab stand-in is broken on purpose',
  },
} as const satisfies Record<string, AgentVersionSpec>;
export type AgentVersionName = keyof typeof AGENT_VERSIONS;

export interface BuiltAgentPackage {
  name: AgentVersionName;
  version: string;
  /** The git-like revision the jar carries (git.properties: git.commit.id, as MidoNet's git.gradle). */
  revision: string;
  /** Absolute path of the .deb. */
  deb: string;
  /** sha256 of the .deb. */
  sha256: string;
  /** md5 of /usr/share/midolman/midolman.jar in this package (dpkg's md5sums). */
  jarMd5: string;
  broken: boolean;
}

export interface AgentPackages {
  /** The cache directory of this build: <root>/<hash>. */
  dir: string;
  hash: string;
  packages: Record<AgentVersionName, BuiltAgentPackage>;
  /** The flat apt repository: the three .debs, Packages, Packages.gz, Release. */
  repoDir: string;
  /** Whether this call built it (false: it came from the cache). */
  built: boolean;
}

const CONFFILES = ['/etc/midolman/midolman.conf', '/etc/midolman/midolman-env.sh', '/etc/midolman/logback.xml', '/etc/init.d/midolman'];

/** Files of the package tree: template in files/ -> path in the package, mode. */
const TREE: { from: string; to: string; mode: number }[] = [
  { from: 'midolman.conf', to: 'etc/midolman/midolman.conf', mode: 0o644 },
  { from: 'midolman-env.sh', to: 'etc/midolman/midolman-env.sh', mode: 0o644 },
  { from: 'logback.xml', to: 'etc/midolman/logback.xml', mode: 0o644 },
  { from: 'midolman.init', to: 'etc/init.d/midolman', mode: 0o755 },
  { from: 'midolman.service', to: 'lib/systemd/system/midolman.service', mode: 0o644 },
  { from: 'midolman-start', to: 'usr/share/midolman/midolman-start', mode: 0o755 },
];
const MAINTAINER_SCRIPTS = ['postinst', 'prerm', 'postrm'];

function sha(algo: 'sha256' | 'md5' | 'sha1', data: Buffer | string): string {
  return createHash(algo).update(data).digest('hex');
}

/** The content hash of every input: stand-in source, templates, versions, this builder, javac. */
async function inputHash(): Promise<string> {
  const h = createHash('sha256');
  const add = (label: string, data: Buffer | string) => h.update(`${label}\0${data.length}\0`).update(data);
  add('standin', await readFile(STANDIN_SOURCE));
  add('builder', await readFile(fileURLToPath(import.meta.url)));
  for (const name of (await readdir(FILES)).sort()) {
    const file = path.join(FILES, name);
    add(`file:${name}:${(await stat(file)).mode & 0o111 ? 'x' : '-'}`, await readFile(file));
  }
  add('versions', JSON.stringify(AGENT_VERSIONS));
  const javac = await execa('javac', ['-version'], { all: true, reject: false });
  add('javac', javac.all ?? '');
  return h.digest('hex').slice(0, 16);
}

/** A git-like 40-hex revision of a version of the stand-in (stable for the same sources). */
function revisionOf(version: string, sourceHash: string): string {
  return sha('sha1', `midolman-standin\0${version}\0${sourceHash}`);
}

async function writeMode(file: string, text: string | Buffer, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  await chmod(file, mode);
}

function controlText(spec: AgentVersionSpec, installedKb: number): string {
  return [
    `Package: ${AGENT_PACKAGE}`,
    `Version: ${spec.version}`,
    'Architecture: all',
    'Maintainer: orchestrate lab <lab@localhost>',
    'Depends: openjdk-17-jre-headless | java17-runtime-headless',
    'Section: net',
    'Priority: optional',
    `Installed-Size: ${installedKb}`,
    'Homepage: https://github.com/midonet/midonet',
    `Description: MidoNet agent stand-in of the orchestrate lab${spec.startupFailure ? ' (BROKEN build)' : ''}`,
    ' Not MidoNet: a JVM that exposes midolman-shaped MBeans over JMX (127.0.0.1:7200),',
    ' laid out as the midolman package (/usr/share/midolman, /etc/midolman conffiles,',
    ' /var/log/midolman, a SysV init script and a systemd unit). Its maintainer scripts',
    ' never restart a running agent.',
    '',
  ].join('\n');
}

/**
 * The jar as MidoNet's gradle build makes it: MANIFEST `Implementation-Title: Midolman Java daemon`
 * and `Implementation-Version` = the project version (a snapshot such as "2.0.0-SNAPSHOT", NOT the
 * package's dated version - midonet's debVersion is the snapshot with the timestamp and git revision
 * put in), and the git revision in a `git.properties` resource (git.gradle), not in the MANIFEST.
 */
export function jarVersionOf(packageVersion: string): string {
  return `${packageVersion.replace(/-[^-]*$/, '')}-SNAPSHOT`;
}

async function buildJar(classes: string, spec: AgentVersionSpec, revision: string, out: string, manifestFile: string): Promise<void> {
  const manifest = [
    'Manifest-Version: 1.0',
    'Main-Class: MidolmanStandin',
    'Implementation-Title: Midolman Java daemon',
    `Implementation-Version: ${jarVersionOf(spec.version)}`,
    `Standin-Simulation-Latency-Ns: ${spec.latencyNs}`,
    ...(spec.startupFailure ? [`Standin-Startup-Failure: ${spec.startupFailure}`] : []),
    '',
  ].join('\n');
  await writeFile(manifestFile, `${manifest}\n`);
  await writeFile(path.join(classes, 'git.properties'), `git.commit.id.describe=${jarVersionOf(spec.version)}\ngit.commit.id=${revision}\ngit.branch=master\n`);
  await mkdir(path.dirname(out), { recursive: true });
  // --date: the same timestamp on every entry, so the jar's bytes depend on its inputs only
  await execa('jar', ['--create', '--file', out, '--manifest', manifestFile, '--date', '2024-01-01T00:00:00Z', '-C', classes, '.']);
  await rm(manifestFile);
}

async function buildDeb(work: string, classes: string, name: AgentVersionName, sourceHash: string, outDir: string): Promise<BuiltAgentPackage> {
  const spec: AgentVersionSpec = AGENT_VERSIONS[name];
  const root = path.join(work, `pkg-${name}`);
  const revision = revisionOf(spec.version, sourceHash);
  const jar = path.join(root, 'usr/share/midolman/midolman.jar');
  await buildJar(classes, spec, revision, jar, path.join(work, `MANIFEST-${name}.MF`));
  await chmod(jar, 0o644);
  for (const f of TREE) await writeMode(path.join(root, f.to), await readFile(path.join(FILES, f.from)), f.mode);
  for (const dir of ['var/log/midolman', 'var/lib/midolman']) await mkdir(path.join(root, dir), { recursive: true });
  // md5sums of every file but the conffiles (as dh_md5sums); dpkg keeps them for `dpkg --verify`
  // and the scenario compares the jar the running JVM holds with them.
  const sums: string[] = [];
  let bytes = 0;
  let jarMd5 = '';
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        const rel = path.relative(root, full);
        const data = await readFile(full);
        bytes += data.length;
        const md5 = sha('md5', data);
        if (rel === 'usr/share/midolman/midolman.jar') jarMd5 = md5;
        if (!CONFFILES.includes(`/${rel}`)) sums.push(`${md5}  ${rel}`);
      }
    }
  };
  await walk(root);
  const debian = path.join(root, 'DEBIAN');
  await writeMode(path.join(debian, 'control'), controlText(spec, Math.ceil(bytes / 1024)), 0o644);
  await writeMode(path.join(debian, 'conffiles'), `${CONFFILES.join('\n')}\n`, 0o644);
  await writeMode(path.join(debian, 'md5sums'), `${sums.join('\n')}\n`, 0o644);
  for (const script of MAINTAINER_SCRIPTS) await writeMode(path.join(debian, script), await readFile(path.join(FILES, script)), 0o755);
  const deb = path.join(outDir, `${AGENT_PACKAGE}_${spec.version}_all.deb`);
  await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  return {
    name,
    version: spec.version,
    revision,
    deb,
    sha256: sha('sha256', await readFile(deb)),
    jarMd5,
    broken: spec.startupFailure !== undefined,
  };
}

/** A flat repository (`deb [trusted=yes] URL ./`): the .debs, Packages(.gz) and an unsigned Release. */
async function buildRepo(debs: string[], repoDir: string): Promise<void> {
  await mkdir(repoDir, { recursive: true });
  for (const deb of debs) await link(deb, path.join(repoDir, path.basename(deb))).catch(() => copyFile(deb, path.join(repoDir, path.basename(deb))));
  const { stdout } = await execa('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repoDir });
  const packages = Buffer.from(`${stdout.trimEnd()}\n`);
  const gz = gzipSync(packages, { level: 9 });
  await writeFile(path.join(repoDir, 'Packages'), packages);
  await writeFile(path.join(repoDir, 'Packages.gz'), gz);
  const entry = (algo: 'md5' | 'sha256', name: string, data: Buffer) => ` ${sha(algo, data)} ${data.length} ${name}`;
  const release = [
    'Origin: orchestrate-lab',
    'Label: orchestrate lab agent stand-in',
    'Suite: lab',
    'Codename: lab',
    `Date: ${new Date(0).toUTCString()}`,
    'Architectures: all amd64',
    'Description: the lab agent stand-in packages (test/lab/agent-package)',
    'MD5Sum:',
    entry('md5', 'Packages', packages),
    entry('md5', 'Packages.gz', gz),
    'SHA256:',
    entry('sha256', 'Packages', packages),
    entry('sha256', 'Packages.gz', gz),
    '',
  ].join('\n');
  await writeFile(path.join(repoDir, 'Release'), release);
}

const INDEX = 'packages.json';

async function readIndex(dir: string): Promise<AgentPackages | undefined> {
  try {
    const index = JSON.parse(await readFile(path.join(dir, INDEX), 'utf8')) as Omit<AgentPackages, 'built'>;
    for (const p of Object.values(index.packages)) if (!existsSync(p.deb)) return undefined;
    return { ...index, built: false };
  } catch {
    return undefined;
  }
}

/** The lab's agent packages: from the cache when their inputs did not change, else built now. */
export async function buildAgentPackages(options: { root?: string } = {}): Promise<AgentPackages> {
  const root = options.root ?? AGENT_PACKAGE_ROOT;
  const hash = await inputHash();
  const dir = path.join(root, hash);
  const cached = await readIndex(dir);
  if (cached) return cached;

  await mkdir(root, { recursive: true });
  if (existsSync(dir)) {
    // An incomplete or damaged build with this hash (no readable index): move it aside first.
    const stale = path.join(root, `.${hash}.stale.${process.pid}`);
    await rename(dir, stale);
    await rm(stale, { recursive: true, force: true });
  }
  const tmp = path.join(root, `.${hash}.tmp.${process.pid}.${Math.random().toString(36).slice(2, 8)}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    const work = path.join(tmp, 'work');
    const classes = path.join(work, 'classes');
    await mkdir(classes, { recursive: true });
    await execa('javac', ['-nowarn', '--release', '17', '-d', classes, STANDIN_SOURCE]);
    const sourceHash = sha('sha256', await readFile(STANDIN_SOURCE));
    const built = {} as Record<AgentVersionName, BuiltAgentPackage>;
    for (const name of Object.keys(AGENT_VERSIONS) as AgentVersionName[]) {
      built[name] = await buildDeb(work, classes, name, sourceHash, tmp);
    }
    await buildRepo(Object.values(built).map((p) => p.deb), path.join(tmp, 'repo'));
    await rm(work, { recursive: true, force: true });
    // Paths in the index are those after the rename.
    const packages = Object.fromEntries(
      Object.entries(built).map(([k, p]) => [k, { ...p, deb: path.join(dir, path.basename(p.deb)) }]),
    ) as Record<AgentVersionName, BuiltAgentPackage>;
    const index: Omit<AgentPackages, 'built'> = { dir, hash, packages, repoDir: path.join(dir, 'repo') };
    await writeFile(path.join(tmp, INDEX), `${JSON.stringify(index, null, 2)}\n`);
    try {
      await rename(tmp, dir);
    } catch (error) {
      // Another process won the race with the same inputs: use its build.
      const other = await readIndex(dir);
      if (!other) throw error;
      await rm(tmp, { recursive: true, force: true });
      return other;
    }
    return { ...index, built: true };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

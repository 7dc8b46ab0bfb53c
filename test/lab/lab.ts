// The local lab: real lab hosts on this machine for the tests, the benchmarks and the README quick start.
//
// Each lab host is a real /usr/sbin/sshd with its own sshd_config, its own ed25519 host key and its
// own loopback address 127.66.<subnet>.<10+i>, port 2222. The reports host is one more sshd on
// 127.66.<subnet>.2:2222 plus a static web server on 127.66.<subnet>.2:8080 (static-server.ts).
// One client key pair, authorized for root on every host. Only loopback addresses are used
// (Linux routes all of 127.0.0.0/8 to `lo`, so no address has to be added).
//
// Every process the lab starts is stopped by its PID (sshd's PidFile, the web server's child PID),
// after /proc shows that the PID still runs this lab's config; never by name.
//
// State lives in <dir>/lab.json (written atomically), so `labAttach(dir)` and `lab down` work from
// another process, and labUp on the same dir reuses what is running.

import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { spawnStaticServer } from './static-server-process.js';
import {
  childMap,
  descendantsOf,
  exePath,
  findByArgPairs,
  hasArgPair,
  isAlive,
  kill,
  procRef,
  refAlive,
  sleep,
  terminate,
  type ProcRef,
} from './proc.js';
import { agentRepoAttach, agentRepoDown, agentRepoUp, type AgentRepo } from './agent-package/repo-server.js';

export interface LabHost {
  name: string;
  address: string;
  port: number;
  dir: string;
  hostKeyFile: string;
  /** 'ssh-ed25519 AAAA...' (read from the key file, so it follows rotateHostKey). */
  hostPublicKey: string;
  pidFile: string;
  logFile: string;
  /** Whether the host's sshd listener is alive now (checked at each read). */
  running: boolean;
  /** The host's sshd_config. */
  configFile: string;
  /** The clean HOME that sshd gives sessions on this host (and where they start). */
  home: string;
}

export interface LabReportsHost extends LabHost {
  /** 'http://127.66.K.2:8080/' */
  httpUrl: string;
  /** The web server serves <wwwDir>/current. wwwDir is a symlink to publishPath. */
  wwwDir: string;
  /** Where publishing writes on the reports host: <dir>/reports/site. */
  publishPath: string;
  /** Whether the web server is alive now. */
  httpRunning: boolean;
  httpLogFile: string;
}

export interface LabOptions {
  /** Default <repo>/test/lab/.run/<subnet>. */
  dir?: string;
  /** 0..255, default 0 (or what the dir's lab.json says). */
  subnet?: number;
  /** Default 5 (or what the dir's lab.json says); at most 245. */
  hosts?: number;
  /** Default 'lab' -> lab-01, lab-02, ... */
  namePrefix?: string;
  /** Default true. */
  reports?: boolean;
  /**
   * Also build the packaged agent (test/lab/agent-package/, cached) and serve its apt repository on
   * 127.66.<subnet>.3:8080. Default false, or what the dir's lab had.
   */
  agentRepo?: boolean;
}

export interface InventoryOptions {
  /** Default <labDir>/inventory.yaml. */
  file?: string;
  /** Lab hosts to include (default all); the reports host is always included when the lab has one. */
  hosts?: string[];
  /** defaults.scenarios; default { sysinfo: {} }. */
  scenarios?: Record<string, unknown>;
  /** Default <labDir>/results. */
  resultsDir?: string;
  /** Keys merged over the generated `defaults:` (shallow), e.g. { retries: 0, vars: {...} }. */
  defaults?: Record<string, unknown>;
  /** Per-host keys merged over the generated host entries (shallow), by host name. */
  hostExtra?: Record<string, Record<string, unknown>>;
  /** Top-level keys merged over the generated ones (shallow). */
  extra?: Record<string, unknown>;
}

export interface KillSessionsOptions {
  /**
   * Also kill the commands the sessions run. Default false: only the sshd processes die, as on a
   * cut connection, and the remote commands live on (they are still killed by stopHost and down).
   */
  commands?: boolean;
}

export interface Lab {
  dir: string;
  subnet: number;
  hosts: LabHost[];
  reports?: LabReportsHost;
  /** The packaged agent's apt repository, when the lab was brought up with `agentRepo`. */
  agentRepo?: AgentRepo;
  /** Private key path (the public key is clientKey + '.pub'). */
  clientKey: string;
  /** known_hosts with every host's key as `[addr]:2222 ssh-ed25519 ...`. */
  knownHostsFile: string;
  writeInventory(opts?: InventoryOptions): Promise<string>;
  /** Stop that host's sshd and everything running in its sessions: the host is down. */
  stopHost(name: string): Promise<void>;
  startHost(name: string): Promise<void>;
  /** New host key, sshd restarted, known_hosts NOT updated; returns the new public key. */
  rotateHostKey(name: string): Promise<string>;
  /** PIDs of the host's per-connection sshd processes (children of its listener). */
  sessionPids(name: string): number[];
  /** SIGKILL those (a cut connection); returns how many sessions were killed. */
  killSessions(name: string, opts?: KillSessionsOptions): Promise<number>;
  /**
   * Make a host's own tools misbehave, as a broken or hostile host does: each entry of `tools` is a
   * bash script installed as <home>/shadow-bin/<name>, first on the PATH of every later session
   * (helpers and the commands they run inherit it). `null` removes them all.
   */
  shadowTools(name: string, tools: Record<string, string> | null): Promise<void>;
  /** Stop everything this lab started, by PID; removes no file. */
  down(): Promise<void>;
}

export const SSH_PORT = 2222;
export const HTTP_PORT = 8080;
export const MAX_HOSTS = 245;
export const SSHD = '/usr/sbin/sshd';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATE_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// State (lab.json)

interface HostState {
  name: string;
  address: string;
  port: number;
  dir: string;
  configFile: string;
  hostKeyFile: string;
  pidFile: string;
  logFile: string;
  home: string;
  /** Processes of this host that are no longer under its listener (sessions of a restarted sshd, commands of killed sessions). */
  orphans: ProcRef[];
}

interface ReportsState extends HostState {
  httpUrl: string;
  httpPort: number;
  wwwDir: string;
  publishPath: string;
  httpPidFile: string;
  httpLogFile: string;
}

interface LabState {
  version: number;
  dir: string;
  subnet: number;
  namePrefix: string;
  hostCount: number;
  clientKey: string;
  authorizedKeysFile: string;
  knownHostsFile: string;
  hosts: HostState[];
  reports?: ReportsState;
}

export function defaultLabDir(subnet = 0): string {
  return path.join(REPO_ROOT, 'test', 'lab', '.run', String(subnet));
}

export function labAddress(subnet: number, index: number): string {
  return `127.66.${subnet}.${10 + index}`;
}

export function reportsAddress(subnet: number): string {
  return `127.66.${subnet}.2`;
}

function hostName(prefix: string, index: number, count: number): string {
  const width = Math.max(2, String(count).length);
  return `${prefix}-${String(index + 1).padStart(width, '0')}`;
}

function hostState(dir: string, name: string, address: string): HostState {
  return {
    name,
    address,
    port: SSH_PORT,
    dir,
    configFile: path.join(dir, 'sshd_config'),
    hostKeyFile: path.join(dir, 'ssh_host_ed25519_key'),
    pidFile: path.join(dir, 'sshd.pid'),
    logFile: path.join(dir, 'sshd.log'),
    home: path.join(dir, 'home'),
    orphans: [],
  };
}

function planState(dir: string, subnet: number, count: number, prefix: string, reports: boolean): LabState {
  const hosts = Array.from({ length: count }, (_, i) =>
    hostState(path.join(dir, 'hosts', hostName(prefix, i, count)), hostName(prefix, i, count), labAddress(subnet, i)),
  );
  let rep: ReportsState | undefined;
  if (reports) {
    const rdir = path.join(dir, 'reports');
    const address = reportsAddress(subnet);
    rep = {
      ...hostState(rdir, 'reports', address),
      httpUrl: `http://${address}:${HTTP_PORT}/`,
      httpPort: HTTP_PORT,
      wwwDir: path.join(rdir, 'www'),
      publishPath: path.join(rdir, 'site'),
      httpPidFile: path.join(rdir, 'http.pid'),
      httpLogFile: path.join(rdir, 'http.log'),
    };
  }
  return {
    version: STATE_VERSION,
    dir,
    subnet,
    namePrefix: prefix,
    hostCount: count,
    clientKey: path.join(dir, 'client', 'id_ed25519'),
    authorizedKeysFile: path.join(dir, 'client', 'authorized_keys'),
    knownHostsFile: path.join(dir, 'known_hosts'),
    hosts,
    ...(rep ? { reports: rep } : {}),
  };
}

async function writeAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, file);
}

async function saveState(state: LabState): Promise<void> {
  await writeAtomic(path.join(state.dir, 'lab.json'), `${JSON.stringify(state, null, 2)}\n`);
}

function readState(dir: string): LabState | undefined {
  const file = path.join(dir, 'lab.json');
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
  if (state.version !== STATE_VERSION) throw new Error(`${file}: unknown lab state version ${String(state.version)}`);
  return state;
}

function allHosts(state: LabState): HostState[] {
  return state.reports ? [...state.hosts, state.reports] : [...state.hosts];
}

// ---------------------------------------------------------------------------------------------
// Keys and files

async function keygen(file: string, comment: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.new`;
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', tmp], { stdin: 'ignore' });
  await rename(`${tmp}.pub`, `${file}.pub`);
  await rename(tmp, file);
}

async function ensureKey(file: string, comment: string): Promise<void> {
  if (existsSync(file) && existsSync(`${file}.pub`)) return;
  await keygen(file, comment);
}

/** 'ssh-ed25519 AAAA...' without the comment. */
function publicKey(privateKeyFile: string): string {
  const [type, blob] = readFileSync(`${privateKeyFile}.pub`, 'utf8').trim().split(/\s+/);
  if (!type || !blob) throw new Error(`${privateKeyFile}.pub: not an OpenSSH public key`);
  return `${type} ${blob}`;
}

function sshdConfig(h: HostState, state: LabState): string {
  return [
    `# generated by test/lab for lab host ${h.name}; labUp rewrites it`,
    `ListenAddress ${h.address}:${h.port}`,
    'AddressFamily inet',
    `HostKey ${h.hostKeyFile}`,
    `PidFile ${h.pidFile}`,
    `AuthorizedKeysFile ${state.authorizedKeysFile}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'StrictModes no',
    'UsePAM no',
    'UseDNS no',
    'PermitUserEnvironment no',
    'PermitUserRC no',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'MaxStartups 200:30:400',
    'MaxSessions 50',
    'ClientAliveInterval 15',
    'LogLevel VERBOSE',
    // Clean HOME: root's own ~/.bashrc (pyenv init, cargo) would run in every `ssh host cmd`.
    // sshd applies SetEnv after its own HOME=pw_dir, so this wins; bash then sources <home>/.bashrc.
    `SetEnv HOME=${h.home}`,
    // sftp starts in the lab home too (sshd itself always starts sessions in root's passwd home).
    `Subsystem sftp internal-sftp -d ${h.home}`,
    '',
  ].join('\n');
}

const HOME_BASHRC = `# generated by test/lab: the clean HOME of a lab host.
# sshd sets HOME to this directory (SetEnv in sshd_config) and Debian's bash sources $HOME/.bashrc for
# every \`ssh host cmd\`, so root's own ~/.bashrc is not run. sshd starts sessions in root's passwd
# home (/root); start in this HOME instead, as a login on a real host does, so relative paths stay
# per host.
cd "$HOME" 2>/dev/null || true
# Tools a test shadows on purpose (Lab.shadowTools) come first.
if [ -d "$HOME/shadow-bin" ]; then PATH=$HOME/shadow-bin:$PATH; export PATH; fi
`;

const HOME_PROFILE = `# generated by test/lab: login shells of a lab host read the lab .bashrc too.
if [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
`;

/** Write a file only when its content changes; returns whether it changed. */
async function writeIfChanged(file: string, text: string, mode = 0o644): Promise<boolean> {
  try {
    if ((await readFile(file, 'utf8')) === text) return false;
  } catch {
    // missing: write it
  }
  await writeAtomic(file, text, mode);
  return true;
}

function knownHostsText(state: LabState): string {
  return allHosts(state)
    .map((h) => `[${h.address}]:${h.port} ${publicKey(h.hostKeyFile)}\n`)
    .join('');
}

// ---------------------------------------------------------------------------------------------
// Processes

/** The listener PID of the host's sshd when it runs (PidFile, checked against /proc), else undefined. */
function listenerPid(h: HostState): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(h.pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  return isAlive(pid) && hasArgPair(pid, '-f', h.configFile) ? pid : undefined;
}

function httpPid(r: ReportsState): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(r.httpPidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  return isAlive(pid) && hasArgPair(pid, '--root', r.wwwDir) ? pid : undefined;
}

function isSshd(pid: number): boolean {
  return exePath(pid) === SSHD;
}

/** The last lines of a log, from byte `from` on (what one start attempt wrote). */
async function logTail(file: string, from = 0, lines = 8): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(from).toString('utf8').trimEnd();
    return text === '' ? '(nothing in its log)' : text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Connect until the port accepts. With `ssh`, also wait for the SSH banner and answer with an
 * identification line, so sshd sees an ordinary short-lived client.
 */
function probe(address: string, port: number, ssh: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    let done = false;
    let buf = '';
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      if (ok && ssh) sock.end('SSH-2.0-lab-probe\r\n');
      else sock.destroy();
      setTimeout(() => sock.destroy(), 1000).unref();
      resolve(ok);
    };
    sock.setTimeout(2000, () => finish(false));
    sock.on('error', () => finish(false));
    sock.on('connect', () => {
      if (!ssh) finish(true);
    });
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes('\n')) finish(buf.startsWith('SSH-'));
    });
    sock.on('close', () => finish(false));
  });
}

async function waitReady(
  what: string,
  address: string,
  port: number,
  ssh: boolean,
  alive: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe(address, port, ssh)) return;
    if (!alive()) throw new Error(`${what} exited before ${address}:${port} accepted connections`);
    if (Date.now() > deadline) throw new Error(`${what}: ${address}:${port} not accepting connections after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Wait until the address refuses connections (the listener is gone). */
async function waitRefused(address: string, port: number, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await probe(address, port, false)) {
    if (Date.now() > deadline) throw new Error(`${address}:${port} still accepts connections`);
    await sleep(25);
  }
}

let runDirReady = false;

async function startSshd(h: HostState, strays: number[]): Promise<number> {
  const running = listenerPid(h);
  if (running) return running;
  // Left-over processes running this host's config but not in its PidFile (stale state).
  if (strays.length > 0) await terminate(strays);
  await rm(h.pidFile, { force: true });
  if (!runDirReady) {
    await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation dir
    runDirReady = true;
  }
  // `-D`: sshd stays a child of this process instead of daemonizing to PID 1. PID 1 of these machines
  // (and of many CI containers) reaps orphans late, so a daemonized sshd lingers as a zombie after
  // it stops; a child is reaped by Node at once while the process that started it lives. Detached:
  // own session and process group, so a terminal's Ctrl-C on the caller does not reach it.
  const logFrom = fileSize(h.logFile);
  const child = spawn(SSHD, ['-D', '-f', h.configFile, '-E', h.logFile], { detached: true, stdio: 'ignore' });
  let exit: string | undefined;
  child.on('error', (err) => (exit = err.message));
  child.on('exit', (code, sig) => (exit = `exit ${String(code ?? sig)}`));
  child.unref();
  // sshd checks its config and binds before it writes the PidFile.
  const deadline = Date.now() + 5000;
  let pid = listenerPid(h);
  while (!pid) {
    if (exit !== undefined || Date.now() > deadline) {
      if (exit === undefined && child.pid) await terminate([child.pid]);
      throw new Error(`sshd of ${h.name} did not start (${exit ?? 'no PidFile after 5 s'}):\n${await logTail(h.logFile, logFrom)}`);
    }
    await sleep(10);
    pid = listenerPid(h);
  }
  const p = pid;
  await waitReady(`sshd of ${h.name}`, h.address, h.port, true, () => isAlive(p), 10_000);
  return pid;
}

/** Every process belonging to the host now: listener, its whole session tree, recorded orphans. */
function hostProcesses(h: HostState, map = childMap()): number[] {
  const pids: number[] = [];
  const listener = listenerPid(h);
  if (listener) pids.push(listener, ...descendantsOf(listener, map));
  for (const ref of h.orphans) {
    if (refAlive(ref)) pids.push(ref.pid, ...descendantsOf(ref.pid, map));
  }
  return [...new Set(pids)];
}

async function startHttp(r: ReportsState, strays: number[]): Promise<number> {
  const running = httpPid(r);
  if (running) return running;
  if (strays.length > 0) await terminate(strays);
  if (await probe(r.address, r.httpPort, false)) {
    throw new Error(`reports web server: ${r.address}:${r.httpPort} is already in use by a process that is not this lab's`);
  }
  await rm(r.httpPidFile, { force: true });
  const pid = await spawnStaticServer({
    what: 'reports web server',
    root: r.wwwDir,
    address: r.address,
    port: r.httpPort,
    pidFile: r.httpPidFile,
    logFile: r.httpLogFile,
    runningPid: () => httpPid(r),
  });
  const p = pid;
  await waitReady('reports web server', r.address, r.httpPort, false, () => isAlive(p), 5000);
  return pid;
}

// ---------------------------------------------------------------------------------------------
// The lab object

function hostView(h: HostState): LabHost {
  return {
    name: h.name,
    address: h.address,
    port: h.port,
    dir: h.dir,
    hostKeyFile: h.hostKeyFile,
    get hostPublicKey() {
      return publicKey(h.hostKeyFile);
    },
    pidFile: h.pidFile,
    logFile: h.logFile,
    get running() {
      return listenerPid(h) !== undefined;
    },
    configFile: h.configFile,
    home: h.home,
  };
}

function reportsView(r: ReportsState): LabReportsHost {
  const view = hostView(r) as LabReportsHost;
  Object.assign(view, {
    httpUrl: r.httpUrl,
    wwwDir: r.wwwDir,
    publishPath: r.publishPath,
    httpLogFile: r.httpLogFile,
  });
  Object.defineProperty(view, 'httpRunning', { enumerable: true, get: () => httpPid(r) !== undefined });
  return view;
}

class LocalLab implements Lab {
  readonly dir: string;
  readonly subnet: number;
  readonly hosts: LabHost[];
  readonly reports?: LabReportsHost;
  readonly agentRepo?: AgentRepo;
  readonly clientKey: string;
  readonly knownHostsFile: string;

  constructor(private readonly state: LabState) {
    this.dir = state.dir;
    this.subnet = state.subnet;
    this.hosts = state.hosts.map(hostView);
    if (state.reports) this.reports = reportsView(state.reports);
    const repo = agentRepoAttach(state.dir);
    if (repo) this.agentRepo = repo;
    this.clientKey = state.clientKey;
    this.knownHostsFile = state.knownHostsFile;
  }

  /**
   * Take in the orphans another Lab object (another process, or labUp again) recorded in lab.json,
   * so that whichever object stops the lab stops them too.
   */
  private sync(): void {
    let disk: LabState | undefined;
    try {
      disk = readState(this.dir);
    } catch {
      return;
    }
    if (!disk) return;
    for (const h of allHosts(this.state)) {
      const d = allHosts(disk).find((x) => x.name === h.name && x.configFile === h.configFile);
      if (!d) continue;
      const refs = [...h.orphans, ...d.orphans].filter(refAlive);
      h.orphans = refs.filter((r, i) => refs.findIndex((x) => x.pid === r.pid && x.start === r.start) === i);
    }
  }

  private host(name: string): HostState {
    this.sync();
    const h = allHosts(this.state).find((x) => x.name === name);
    if (!h) throw new Error(`no lab host named ${name} (have ${allHosts(this.state).map((x) => x.name).join(', ')})`);
    return h;
  }

  async writeInventory(opts: InventoryOptions = {}): Promise<string> {
    const file = path.resolve(opts.file ?? path.join(this.dir, 'inventory.yaml'));
    const names = opts.hosts ?? this.state.hosts.map((h) => h.name);
    const chosen = names
      .filter((n) => !(this.state.reports && n === this.state.reports.name))
      .map((n) => {
        const h = this.state.hosts.find((x) => x.name === n);
        if (!h) throw new Error(`writeInventory: no lab host named ${n}`);
        return h;
      });
    const rep = this.state.reports;
    const doc = new YAML.Document({
      results_dir: path.resolve(opts.resultsDir ?? path.join(this.dir, 'results')),
      known_hosts: this.knownHostsFile,
      ssh_config: 'none',
      profiles_dir: path.join(REPO_ROOT, 'inventory', 'profiles.d'),
      concurrency: 20,
      ...(rep ? { reports: { host: rep.name, path: rep.publishPath, url: rep.httpUrl } } : {}),
      defaults: {
        user: 'root',
        port: SSH_PORT,
        identity_file: this.clientKey,
        scenarios: opts.scenarios ?? { sysinfo: {} },
        ...(opts.defaults ?? {}),
      },
      hosts: Object.fromEntries([
        ...chosen.map((h) => [h.name, { address: h.address, roles: ['midolman'], ...(opts.hostExtra?.[h.name] ?? {}) }] as const),
        ...(rep ? [[rep.name, { address: rep.address, roles: ['reports'], scenarios: { sysinfo: false } }] as const] : []),
      ]),
      groups: { lab: { hosts: chosen.map((h) => h.name) } },
      ...(opts.extra ?? {}),
    });
    doc.commentBefore = ' generated by test/lab — the local lab\'s inventory';
    // Flow style for the small maps, as in inventory/ examples: `lab-01: { address: ..., roles: [midolman] }`.
    const flow = (p: Array<string>): void => {
      const node = doc.getIn(p, true);
      if (YAML.isCollection(node)) node.flow = true;
    };
    flow(['defaults', 'scenarios']);
    for (const h of chosen) flow(['hosts', h.name]);
    if (rep) flow(['hosts', rep.name]);
    flow(['groups', 'lab']);
    await mkdir(path.dirname(file), { recursive: true });
    await writeAtomic(file, doc.toString({ lineWidth: 0 }));
    return file;
  }

  async stopHost(name: string): Promise<void> {
    const h = this.host(name);
    await terminate(hostProcesses(h));
    h.orphans = [];
    await rm(h.pidFile, { force: true }); // sshd removes it on SIGTERM, not on SIGKILL
    await waitRefused(h.address, h.port);
    await saveState(this.state);
  }

  async startHost(name: string): Promise<void> {
    const h = this.host(name);
    await startSshd(h, findByArgPairs([['-f', h.configFile]]).get(h.configFile) ?? []);
  }

  async rotateHostKey(name: string): Promise<string> {
    const h = this.host(name);
    await keygen(h.hostKeyFile, `${h.name} lab host key (rotated)`);
    const pid = listenerPid(h);
    if (pid) {
      // Live sessions outlive the listener; keep track of them so killSessions and down still reach them.
      h.orphans.push(...this.sessionPids(name).flatMap((p) => procRef(p) ?? []));
      await terminate([pid]);
      await rm(h.pidFile, { force: true });
      await saveState(this.state);
      await startSshd(h, []);
    }
    return publicKey(h.hostKeyFile);
  }

  sessionPids(name: string): number[] {
    const h = this.host(name);
    const map = childMap();
    const listener = listenerPid(h);
    const pids = listener ? [...(map.get(listener) ?? [])] : [];
    for (const ref of h.orphans) if (refAlive(ref) && isSshd(ref.pid)) pids.push(ref.pid);
    return [...new Set(pids)].sort((a, b) => a - b);
  }

  async killSessions(name: string, opts: KillSessionsOptions = {}): Promise<number> {
    const h = this.host(name);
    const sessions = this.sessionPids(name);
    if (sessions.length === 0) return 0;
    const map = childMap();
    const tree = [...new Set(sessions.flatMap((p) => [p, ...descendantsOf(p, map)]))];
    const victims = opts.commands ? tree : tree.filter(isSshd);
    const survivors = tree.filter((p) => !victims.includes(p));
    await kill(victims);
    // The commands live on, out of the listener's tree: remember them so stopHost and down stop them.
    const keep = h.orphans.filter((r) => refAlive(r) && !victims.includes(r.pid));
    h.orphans = [...keep, ...survivors.flatMap((p) => procRef(p) ?? [])];
    await saveState(this.state);
    return sessions.length;
  }

  async shadowTools(name: string, tools: Record<string, string> | null): Promise<void> {
    const dir = path.join(this.host(name).home, 'shadow-bin');
    await rm(dir, { recursive: true, force: true });
    if (tools === null) return;
    await mkdir(dir, { recursive: true });
    for (const [tool, script] of Object.entries(tools)) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(tool)) throw new Error(`shadowTools: bad tool name ${JSON.stringify(tool)}`);
      await writeAtomic(path.join(dir, tool), `#!/bin/bash\n${script}\n`, 0o755);
    }
  }

  async down(): Promise<void> {
    this.sync();
    const hosts = allHosts(this.state);
    const map = childMap();
    const strays = findByArgPairs([
      ...hosts.map((h) => ['-f', h.configFile] as [string, string]),
      ...(this.state.reports ? [['--root', this.state.reports.wwwDir] as [string, string]] : []),
    ]);
    const pids = new Set<number>();
    for (const h of hosts) for (const p of hostProcesses(h, map)) pids.add(p);
    for (const list of strays.values()) for (const p of list) pids.add(p);
    if (this.state.reports) {
      const hp = httpPid(this.state.reports);
      if (hp) pids.add(hp);
    }
    await terminate([...pids]);
    for (const h of hosts) {
      h.orphans = [];
      await rm(h.pidFile, { force: true });
    }
    if (this.state.reports) await rm(this.state.reports.httpPidFile, { force: true });
    await agentRepoDown(this.dir);
    await saveState(this.state);
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

function checkInt(what: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`lab: ${what} must be an integer ${min}..${max}, got ${v}`);
  return v;
}

/** Bring a lab up (or reuse the one running in the same dir). */
export async function labUp(options: LabOptions = {}): Promise<Lab> {
  const firstSubnet = options.subnet ?? 0;
  const dir = path.resolve(options.dir ?? defaultLabDir(checkInt('subnet', firstSubnet, 0, 255)));
  if (/[\s"'\\#%]/.test(dir)) throw new Error(`lab: the lab dir may not contain spaces, quotes, '#', '%' or '\\': ${dir}`);
  let old: LabState | undefined;
  try {
    old = readState(dir);
  } catch {
    old = undefined; // unreadable state: rebuilt below; strays found by /proc scan
  }
  // What is not asked for keeps the value of the lab already in this dir.
  const subnet = checkInt('subnet', options.subnet ?? old?.subnet ?? 0, 0, 255);
  const count = checkInt('hosts', options.hosts ?? old?.hostCount ?? 5, 0, MAX_HOSTS);
  const prefix = options.namePrefix ?? old?.namePrefix ?? 'lab';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) throw new Error(`lab: bad namePrefix ${prefix}`);
  const withReports = options.reports ?? (old ? old.reports !== undefined : true);
  const state = planState(dir, subnet, count, prefix, withReports);

  if (old) {
    const same =
      old.subnet === subnet && old.hostCount === count && old.namePrefix === prefix && !!old.reports === withReports;
    if (same) {
      // Keep track of what the old state knew about (orphans of killed sessions, restarted listeners).
      for (const h of allHosts(state)) {
        const o = allHosts(old).find((x) => x.name === h.name);
        if (o) h.orphans = o.orphans.filter(refAlive);
      }
    } else {
      await new LocalLab(old).down(); // another shape: stop the old lab first
    }
  }

  // Files: dirs, keys, configs, known_hosts. Existing keys are kept so known_hosts stays valid.
  await mkdir(path.join(dir, 'client'), { recursive: true, mode: 0o700 });
  await ensureKey(state.clientKey, 'orchestrator@local-lab');
  await writeIfChanged(state.authorizedKeysFile, `${publicKey(state.clientKey)} orchestrator@local-lab\n`, 0o600);
  const hosts = allHosts(state);
  const changed = new Map<string, boolean>();
  await Promise.all(
    hosts.map(async (h) => {
      await mkdir(h.home, { recursive: true });
      await ensureKey(h.hostKeyFile, `${h.name} lab host key`);
      changed.set(h.name, await writeIfChanged(h.configFile, sshdConfig(h, state)));
      await writeIfChanged(path.join(h.home, '.bashrc'), HOME_BASHRC);
      await writeIfChanged(path.join(h.home, '.profile'), HOME_PROFILE);
    }),
  );
  if (state.reports) {
    const r = state.reports;
    await mkdir(r.publishPath, { recursive: true });
    // The web server serves <wwwDir>/current and wwwDir -> site (publishPath): a publisher that swaps
    // <publishPath>/current atomically publishes the site in one step.
    const st = await lstat(r.wwwDir).catch(() => undefined);
    if (!st) await symlink('site', r.wwwDir);
    else if (!st.isSymbolicLink() || (await readlink(r.wwwDir)) !== 'site') {
      throw new Error(`lab: ${r.wwwDir} exists and is not the symlink www -> site; move it away`);
    }
  }
  await writeIfChanged(state.knownHostsFile, knownHostsText(state));
  await saveState(state); // before starting anything, so `lab down` can always find what starts next

  // Processes: restart hosts whose config changed, start the dead ones, all in parallel.
  const strays = findByArgPairs([
    ...hosts.map((h) => ['-f', h.configFile] as [string, string]),
    ...(state.reports ? [['--root', state.reports.wwwDir] as [string, string]] : []),
  ]);
  const results = await Promise.allSettled([
    ...hosts.map(async (h) => {
      const pid = listenerPid(h);
      if (pid && changed.get(h.name)) {
        h.orphans.push(...(childMap().get(pid) ?? []).flatMap((p) => procRef(p) ?? []));
        await terminate([pid]);
      }
      const mine = listenerPid(h);
      await startSshd(h, (strays.get(h.configFile) ?? []).filter((p) => p !== mine));
    }),
    ...(state.reports
      ? [
          (async () => {
            const r = state.reports!;
            const mine = httpPid(r);
            await startHttp(r, (strays.get(r.wwwDir) ?? []).filter((p) => p !== mine));
          })(),
        ]
      : []),
  ]);
  await saveState(state);
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error)?.message ?? r.reason)] : []));
  if (failed.length > 0) {
    const busy = failed.some((f) => /already in use/i.test(f))
      ? `\n(each lab that runs at the same time needs its own subnet: is another lab up on subnet ${subnet}?)`
      : '';
    throw new Error(
      `${failed.length} part(s) of the lab did not start (\`lab down --dir ${dir}\` stops the rest):\n${failed.join('\n')}${busy}`,
    );
  }
  if (options.agentRepo ?? agentRepoAttach(dir) !== undefined) await agentRepoUp(dir, subnet);
  else if (options.agentRepo === false) await agentRepoDown(dir, { forget: true });
  return new LocalLab(state);
}

/** The lab described by <dir>/lab.json, without starting anything. */
export async function labAttach(dir: string): Promise<Lab> {
  const state = readState(path.resolve(dir));
  if (!state) throw new Error(`no lab in ${path.resolve(dir)} (no lab.json)`);
  return new LocalLab(state);
}

// The lab's apt repository of the agent packages: the flat repository that build.ts makes, served
// over HTTP by test/lab/static-server.ts on the lab's own loopback address 127.66.<subnet>.3:8080,
// for the midolman scenario's apt build source (`deb [trusted=yes] http://127.66.K.3:8080/ ./`).
//
// State lives in <labDir>/agent-repo/state.json (written atomically); the web server serves
// <labDir>/agent-repo/www/current, a symlink to the build's repo/ that is swapped atomically when the
// packages change. Stopped by its PID after /proc shows it still serves this lab's www dir.
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { findByArgPairs, hasArgPair, isAlive, sleep, terminate } from '../proc.js';
import { buildAgentPackages, type AgentPackages } from './build.js';
import { spawnStaticServer } from '../static-server-process.js';

export const AGENT_REPO_PORT = 8080;

export function agentRepoAddress(subnet: number): string {
  return `127.66.${subnet}.3`;
}

interface RepoState {
  address: string;
  port: number;
  url: string;
  wwwDir: string;
  pidFile: string;
  logFile: string;
  packages: Omit<AgentPackages, 'built'>;
}

export interface AgentRepo {
  /** 'http://127.66.K.3:8080/': the repository's root (a flat repository: suite './'). */
  url: string;
  address: string;
  port: number;
  /** The packages it serves (and their .deb files on this machine). */
  packages: Omit<AgentPackages, 'built'>;
  /** Whether its web server runs now. */
  readonly running: boolean;
}

function stateFile(labDir: string): string {
  return path.join(labDir, 'agent-repo', 'state.json');
}

function readState(labDir: string): RepoState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(labDir), 'utf8')) as RepoState;
  } catch {
    return undefined;
  }
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

function serverPid(s: RepoState): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(s.pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  return isAlive(pid) && hasArgPair(pid, '--root', s.wwwDir) ? pid : undefined;
}

function view(s: RepoState): AgentRepo {
  return {
    url: s.url,
    address: s.address,
    port: s.port,
    packages: s.packages,
    get running() {
      return serverPid(s) !== undefined;
    },
  };
}

function portAnswers(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** Point www/current at `target` in one step (a new symlink renamed over the old one). */
async function swapCurrent(wwwDir: string, target: string): Promise<void> {
  await mkdir(wwwDir, { recursive: true });
  const tmp = path.join(wwwDir, `.current.${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(target, tmp);
  await rename(tmp, path.join(wwwDir, 'current'));
}

async function startServer(s: RepoState): Promise<void> {
  if (serverPid(s) !== undefined) return;
  const strays = findByArgPairs([['--root', s.wwwDir]]).get(s.wwwDir) ?? [];
  if (strays.length > 0) await terminate(strays);
  if (await portAnswers(s.address, s.port)) {
    throw new Error(`agent repository: ${s.address}:${s.port} is already in use by a process that is not this lab's`);
  }
  await rm(s.pidFile, { force: true });
  await spawnStaticServer({
    what: 'agent repository web server',
    root: s.wwwDir,
    address: s.address,
    port: s.port,
    pidFile: s.pidFile,
    logFile: s.logFile,
    runningPid: () => serverPid(s),
  });
  const deadline = Date.now() + 5_000;
  while (!(await portAnswers(s.address, s.port))) {
    if (Date.now() > deadline) throw new Error(`agent repository: ${s.address}:${s.port} does not answer`);
    await sleep(25);
  }
}

/** Build (or take from the cache) the agent packages and serve their repository; idempotent. */
export async function agentRepoUp(labDir: string, subnet: number): Promise<AgentRepo> {
  const packages = await buildAgentPackages();
  const address = agentRepoAddress(subnet);
  const dir = path.join(labDir, 'agent-repo');
  await mkdir(dir, { recursive: true });
  const { built: _built, ...kept } = packages;
  const state: RepoState = {
    address,
    port: AGENT_REPO_PORT,
    url: `http://${address}:${AGENT_REPO_PORT}/`,
    wwwDir: path.join(dir, 'www'),
    pidFile: path.join(dir, 'http.pid'),
    logFile: path.join(dir, 'http.log'),
    packages: kept,
  };
  await swapCurrent(state.wwwDir, packages.repoDir);
  await writeAtomic(stateFile(labDir), `${JSON.stringify(state, null, 2)}\n`);
  await startServer(state);
  return view(state);
}

/** The repository of the lab in labDir, without starting anything; undefined when it has none. */
export function agentRepoAttach(labDir: string): AgentRepo | undefined {
  const state = readState(labDir);
  return state ? view(state) : undefined;
}

/** Stop the repository's web server (by PID); keeps its files unless `forget` (the lab has no repository then). */
export async function agentRepoDown(labDir: string, options: { forget?: boolean } = {}): Promise<void> {
  const state = readState(labDir);
  if (!state) return;
  const pids = new Set(findByArgPairs([['--root', state.wwwDir]]).get(state.wwwDir) ?? []);
  const pid = serverPid(state);
  if (pid) pids.add(pid);
  await terminate([...pids]);
  await rm(state.pidFile, { force: true });
  if (options.forget) await rm(stateFile(labDir), { force: true });
}

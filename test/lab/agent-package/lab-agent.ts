// The quick start's agent: `cli.ts up --agent-package` links the built packages at a stable path
// for inventory/lab.yaml (/var/tmp/orchestrate-agent-package/lab/midolman_<version>_all.deb) and
// puts "yesterday's build" in place: v1 installed (apt-get, as the scenario installs) and running
// (`service midolman restart`). The sweep then installs v2 on lab-01, restarts the agent and checks
// that v2 is what runs, so install, restart and the running-build check happen on every quick start.
//
// What `up` started is recorded in <labDir>/agent-package/started.json (PID + start time);
// `down` stops exactly that process, by PID, when it still runs (a sweep usually stopped it already).
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { procRef, refAlive, terminate, sleep, type ProcRef } from '../proc.js';
import { AGENT_PACKAGE_ROOT, type AgentPackages, type AgentVersionName } from './build.js';
import { withAgentInstallLock } from './install-lock.js';

/** A stable path to the current build's packages (a symlink swapped atomically). */
export const STABLE_AGENT_DIR = path.join(AGENT_PACKAGE_ROOT, 'lab');
const AGENT_PID_FILE = '/run/midolman/midolman.pid';

export async function linkStablePackages(packages: Pick<AgentPackages, 'dir'>): Promise<string> {
  const tmp = `${STABLE_AGENT_DIR}.${process.pid}.tmp`;
  await rm(tmp, { force: true });
  await symlink(packages.dir, tmp);
  await rename(tmp, STABLE_AGENT_DIR);
  return STABLE_AGENT_DIR;
}

function agentPid(): number | undefined {
  try {
    const pid = Number(readFileSync(AGENT_PID_FILE, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function startedFile(labDir: string): string {
  return path.join(labDir, 'agent-package', 'started.json');
}

/** apt-get install of one package file, downgrades allowed, the conffiles kept as they are. */
export async function aptInstallDeb(deb: string): Promise<void> {
  const r = await execa(
    'apt-get',
    ['install', '-y', '-q', '--no-install-recommends', '--allow-downgrades', '-o', 'DPkg::Lock::Timeout=120', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', deb],
    { env: { DEBIAN_FRONTEND: 'noninteractive' }, all: true, reject: false },
  );
  if (r.exitCode !== 0) throw new Error(`apt-get install ${deb} failed (exit ${r.exitCode}):\n${(r.all ?? '').split('\n').slice(-10).join('\n')}`);
}

/**
 * Install one version of the lab's agent package on this machine and (re)start it through its init
 * script; returns the agent's PID once its pid file names a live process.
 */
export async function installLabAgent(labDir: string, packages: Pick<AgentPackages, 'packages'>, version: AgentVersionName): Promise<number> {
  return withAgentInstallLock(async () => {
    await aptInstallDeb(packages.packages[version].deb);
    const r = await execa('service', ['midolman', 'restart'], { all: true, reject: false });
    if (r.exitCode !== 0) throw new Error(`service midolman restart failed (exit ${r.exitCode}): ${r.all ?? ''}`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const pid = agentPid();
      const ref = pid === undefined ? undefined : procRef(pid);
      if (ref && refAlive(ref)) {
        await mkdir(path.dirname(startedFile(labDir)), { recursive: true });
        await writeFile(`${startedFile(labDir)}.tmp`, `${JSON.stringify({ ...ref, version: packages.packages[version].version })}\n`);
        await rename(`${startedFile(labDir)}.tmp`, startedFile(labDir));
        return ref.pid;
      }
      if (Date.now() > deadline) throw new Error(`the agent did not start: no live process in ${AGENT_PID_FILE} after 20 s (see /var/log/midolman/)`);
      await sleep(100);
    }
  });
}

/** Stop the agent `installLabAgent` started for this lab, by its PID, if that process still runs. */
export async function stopLabAgent(labDir: string): Promise<number | undefined> {
  let ref: ProcRef | undefined;
  try {
    ref = JSON.parse(await readFile(startedFile(labDir), 'utf8')) as ProcRef;
  } catch {
    return undefined;
  }
  const alive = refAlive(ref);
  if (alive) await terminate([ref.pid]);
  await rm(startedFile(labDir), { force: true });
  return alive ? ref.pid : undefined;
}

// One packaged agent at a time on this machine. Lab hosts are sshd processes on this machine: they
// share its dpkg database, /etc/midolman, /run/midolman and the agent's JMX port 127.0.0.1:7200,
// so at most one lab host may install and run the packaged agent at a time. Whatever installs it
// (the quick start's lab-up, the end-to-end tests, the benchmark) holds this lock meanwhile;
// others wait for it. The lock is a directory lock (proper-lockfile), refreshed while held and
// stale 30 s after its holder died, so a crashed test never blocks the next one.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { AGENT_PACKAGE_ROOT } from './build.js';

export const AGENT_INSTALL_LOCK = path.join(AGENT_PACKAGE_ROOT, 'install');

/** Wait (up to `waitMs`) for the machine's packaged-agent lock; resolves to its release function. */
export async function acquireAgentInstallLock(waitMs = 15 * 60_000): Promise<() => Promise<void>> {
  await mkdir(AGENT_PACKAGE_ROOT, { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await lockfile.lock(AGENT_INSTALL_LOCK, { realpath: false, stale: 30_000, update: 10_000 });
    } catch (error) {
      if ((error as { code?: string }).code !== 'ELOCKED') throw error;
      if (Date.now() > deadline) throw new Error(`the packaged agent is in use by another test or lab (lock ${AGENT_INSTALL_LOCK}) for more than ${Math.round(waitMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function withAgentInstallLock<T>(fn: () => Promise<T>): Promise<T> {
  const release = await acquireAgentInstallLock();
  try {
    return await fn();
  } finally {
    await release();
  }
}

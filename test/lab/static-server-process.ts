// Starts test/lab/static-server.ts (the lab's web servers: the reports host's and the agent
// package repository's) as a detached child of this process, bound to one loopback address, and
// waits until the PID file it writes once bound names that child. Stopped by PID, never by name.
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep, terminate } from './proc.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STATIC_SERVER = path.join(REPO_ROOT, 'test', 'lab', 'static-server.ts');

export interface StaticServerStart {
  /** What it is, for errors: "reports web server". */
  what: string;
  root: string;
  address: string;
  port: number;
  pidFile: string;
  logFile: string;
  /** The PID its PID file names when that process runs this server (checked against /proc). */
  runningPid: () => number | undefined;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Spawn the server; resolves with its PID once its PID file names it. */
export async function spawnStaticServer(s: StaticServerStart): Promise<number> {
  const logFrom = fileSize(s.logFile);
  const log = openSync(s.logFile, 'a');
  let exit: string | undefined;
  let pid: number | undefined;
  try {
    // Detached (own session): it outlives the CLI that starts it and a terminal's Ctrl-C.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', STATIC_SERVER, '--root', s.root, '--host', s.address, '--port', String(s.port), '--pid-file', s.pidFile],
      { cwd: REPO_ROOT, detached: true, stdio: ['ignore', log, log] },
    );
    child.on('error', (err) => (exit = err.message));
    child.on('exit', (code, sig) => (exit = `exit ${String(code ?? sig)}`));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(log);
  }
  // The server writes its PID file once it is bound.
  const deadline = Date.now() + 20_000;
  while (pid === undefined || s.runningPid() !== pid) {
    if (exit !== undefined || pid === undefined || Date.now() > deadline) {
      if (pid !== undefined) await terminate([pid]);
      const text = (await readFile(s.logFile).catch(() => Buffer.alloc(0))).subarray(logFrom).toString('utf8').trimEnd();
      const tail = text === '' ? '(nothing in its log)' : text.split('\n').slice(-8).join('\n');
      throw new Error(`${s.what} did not start (${exit ?? 'no PID file after 20 s'}):\n${tail}`);
    }
    await sleep(20);
  }
  return pid;
}

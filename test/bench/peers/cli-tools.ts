// Running a peer's command line under /usr/bin/time (Debian package `time`), so its CPU time
// covers the whole client-side process tree it waited for (parallel-ssh and its ssh children,
// ansible-playbook and its forks), which process.cpuUsage() of this process cannot see.
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Lab } from '../../lab/lab.js';

export const TIME_BIN = '/usr/bin/time';

export interface TimedResult {
  wallS: number;
  /** user + system of the command and every descendant it reaped. */
  cpuS: number;
  userS: number;
  systemS: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  /** PID of the /usr/bin/time process: the root of the client's process tree. */
  pid: number;
}

export async function timed(
  argv: string[],
  options: { timeFile: string; inputFile?: string; env?: Record<string, string>; extendEnv?: boolean; cwd?: string },
): Promise<TimedResult> {
  const started = performance.now();
  const subprocess = execa(TIME_BIN, ['-f', '%U %S', '-o', options.timeFile, ...argv], {
    reject: false,
    stdin: options.inputFile ? { file: options.inputFile } : 'ignore',
    ...(options.env ? { env: options.env } : {}),
    extendEnv: options.extendEnv ?? true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    maxBuffer: 64 * 1024 * 1024,
  });
  const pid = subprocess.pid ?? -1;
  const result = await subprocess;
  const wallS = (performance.now() - started) / 1000;
  // /usr/bin/time writes "Command exited with non-zero status N" before the format line.
  const lines = (await readFile(options.timeFile, 'utf8')).trim().split('\n');
  const [user, system] = (lines[lines.length - 1] ?? '').split(' ').map(Number);
  if (!Number.isFinite(user) || !Number.isFinite(system)) {
    throw new Error(`could not read ${TIME_BIN} output for ${argv[0]}: ${lines.join(' | ')}\n${result.stderr}`);
  }
  return {
    wallS,
    cpuS: user! + system!,
    userS: user!,
    systemS: system!,
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    pid,
  };
}

/** OpenSSH client options every CLI peer uses: the lab key, strict checking against the lab's known_hosts, no user config. */
export function sshOptions(lab: Lab): string[] {
  return [
    '-F', '/dev/null',
    '-i', lab.clientKey,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'BatchMode=yes',
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
  ];
}

/** The same as one string for `-x` of parallel-ssh / parallel-scp (they split it like a shell). */
export function sshOptionsText(lab: Lab): string {
  return sshOptions(lab).map((o) => (/[\s'"\\]/.test(o) ? `'${o}'` : o)).join(' ');
}

/** parallel-ssh / parallel-scp end with one "[i] time [SUCCESS] host:port" line per host that succeeded. */
export function countPsshSuccess(stdout: string): number {
  return stdout.split('\n').filter((l) => /\[SUCCESS\]/.test(l)).length;
}

/** The shell text a peer runs on a host once the bundle is there: the trivial phase. */
export const TRIVIAL_PHASE = "bash -c 'true'";

// Methods 3 and 4: parallel-ssh (pssh 2.3) from Debian.
//   pssh-I:     parallel-ssh -I, the bundle on stdin to every host, extracted and the trivial phase run in one ssh.
//   pscp+pssh:  parallel-scp of the .tar.gz, then parallel-ssh to extract it and run the trivial phase.
// Both with -p N (all hosts at once), -t 0 (no timeout), strict host keys against the lab's known_hosts.
// Wall time and the CPU of the whole client process tree (/usr/bin/time).
import path from 'node:path';
import type { FleetTarget, Method, MethodRun } from './types.js';
import { countPsshSuccess, sshOptionsText, timed, TRIVIAL_PHASE } from './cli-tools.js';

function check(what: string, target: FleetTarget, r: { exitCode: number; stdout: string; stderr: string }): void {
  const ok = countPsshSuccess(r.stdout);
  if (r.exitCode !== 0 || ok !== target.n) {
    throw new Error(`${what}: exit ${r.exitCode}, ${ok}/${target.n} hosts succeeded\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  }
}

export const psshStdin: Method = {
  id: 'pssh-I',
  label: 'parallel-ssh -I (bundle on stdin)',
  bundleDir: (remoteDir) => remoteDir,
  async run(target: FleetTarget, remoteDir: string): Promise<MethodRun> {
    const r = await timed(
      [
        'parallel-ssh', '-I', '-h', target.hostsFile, '-p', String(target.n), '-t', '0', '-l', 'root',
        '-x', sshOptionsText(target.lab),
        `mkdir -p ${remoteDir} && tar -xzf - -C ${remoteDir} && ${TRIVIAL_PHASE}`,
      ],
      { timeFile: path.join(target.work, 'time-pssh.txt'), inputFile: target.bundleFile },
    );
    check('parallel-ssh -I', target, r);
    return { wallS: r.wallS, cpuS: r.cpuS, cpuOf: 'client process tree (/usr/bin/time)', detail: { userS: r.userS, systemS: r.systemS } };
  },
};

export const pscpThenPssh: Method = {
  id: 'pscp+pssh',
  label: 'parallel-scp, then parallel-ssh',
  bundleDir: (remoteDir) => remoteDir,
  async run(target: FleetTarget, remoteDir: string): Promise<MethodRun> {
    const remoteTgz = `${remoteDir}.tgz`;
    const copy = await timed(
      [
        'parallel-scp', '-h', target.hostsFile, '-p', String(target.n), '-t', '0', '-l', 'root',
        '-x', sshOptionsText(target.lab),
        target.bundleFile, remoteTgz,
      ],
      { timeFile: path.join(target.work, 'time-pscp.txt') },
    );
    check('parallel-scp', target, copy);
    const extract = await timed(
      [
        'parallel-ssh', '-h', target.hostsFile, '-p', String(target.n), '-t', '0', '-l', 'root',
        '-x', sshOptionsText(target.lab),
        `mkdir -p ${remoteDir} && tar -xzf ${remoteTgz} -C ${remoteDir} && ${TRIVIAL_PHASE}`,
      ],
      { timeFile: path.join(target.work, 'time-pssh2.txt') },
    );
    check('parallel-ssh (extract)', target, extract);
    return {
      wallS: copy.wallS + extract.wallS,
      cpuS: copy.cpuS + extract.cpuS,
      cpuOf: 'client process tree (/usr/bin/time)',
      detail: { copy: { wallS: copy.wallS, cpuS: copy.cpuS }, extract: { wallS: extract.wallS, cpuS: extract.cpuS } },
    };
  },
};

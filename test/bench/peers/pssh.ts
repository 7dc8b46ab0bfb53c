// Methods 3 and 4: parallel-ssh (pssh 2.3) from Debian.
//   pssh-I:     parallel-ssh -I, the bundle on stdin to every host, extracted and the trivial phase run in one ssh.
//   pscp+pssh:  parallel-scp of the .tar.gz, then parallel-ssh to extract it and run the trivial phase.
//   pssh-facts: (section "cli") parallel-ssh gathering the system facts orchestrate's sysinfo gathers,
//               each host's output saved to its own file (-o DIR).
// All with -p N (all hosts at once), -t 0 (no timeout), strict host keys against the lab's known_hosts.
// Wall time and the CPU of the whole client process tree (/usr/bin/time).
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FactsMethod, FactsRun, FactsTarget, FleetTarget, Method, MethodRun } from './types.js';
import { countPsshSuccess, sshOptionsText, timed, TRIVIAL_PHASE } from './cli-tools.js';

function check(what: string, target: { n: number }, r: { exitCode: number; stdout: string; stderr: string }): void {
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

/** The facts a user gathers with parallel-ssh to get what `orchestrate --scenario sysinfo` records. */
export const FACTS_COMMAND = 'lscpu -J; lsblk -J; findmnt -J; cat /proc/meminfo; uptime; uname -a';

/** What each command of FACTS_COMMAND leaves in a host's output: all of them must be there. */
const FACTS_MARKERS: Array<[what: string, pattern: RegExp]> = [
  ['lscpu -J', /"lscpu"\s*:/],
  ['lsblk -J', /"blockdevices"\s*:/],
  ['findmnt -J', /"filesystems"\s*:/],
  ['/proc/meminfo', /^MemTotal:\s+\d+ kB$/m],
  ['uptime', /load average:/],
  ['uname -a', /^Linux \S+ /m],
];

export const psshFacts: FactsMethod = {
  id: 'pssh',
  label: 'parallel-ssh (-o DIR)',
  async run(target: FactsTarget, runDir: string): Promise<FactsRun> {
    const out = path.join(runDir, 'out');
    const err = path.join(runDir, 'err');
    await mkdir(runDir, { recursive: true });
    const r = await timed(
      [
        'parallel-ssh', '-h', target.hostsFile, '-p', String(target.n), '-t', '0', '-l', 'root',
        '-o', out, '-e', err,
        '-x', sshOptionsText(target.lab),
        FACTS_COMMAND,
      ],
      { timeFile: path.join(runDir, 'time.txt') },
    );
    check('parallel-ssh (facts)', target, r);
    return { wallS: r.wallS, cpuS: r.cpuS, cpuOf: 'client process tree (/usr/bin/time)', clientPid: r.pid, detail: { userS: r.userS, systemS: r.systemS } };
  },
  async verify(target: FactsTarget, runDir: string): Promise<void> {
    const problems: string[] = [];
    await Promise.all(
      target.hosts.map(async (host) => {
        // parallel-ssh names each output file after the host line: address:port.
        const file = path.join(runDir, 'out', `${host.address}:${host.port}`);
        const text = await readFile(file, 'utf8').catch(() => '');
        if (text === '') problems.push(`${host.name}: no output in ${file}`);
        else for (const [what, pattern] of FACTS_MARKERS) if (!pattern.test(text)) problems.push(`${host.name}: no ${what} output`);
      }),
    );
    if (problems.length > 0) throw new Error(`parallel-ssh did not gather every host's facts (${problems.length} problem(s)): ${problems.slice(0, 8).join('; ')}`);
  },
};

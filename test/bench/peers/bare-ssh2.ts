// Method 2, the floor: one Node process, a plain ssh2 Client per host, all at once. Connect
// (host key compared with the lab's known key, ed25519 only, as the orchestrator restricts it to
// the types known_hosts has), one exec that extracts the bundle streamed on stdin and runs the
// trivial phase, close. Wall time and this process's CPU (process.cpuUsage).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import type { FleetTarget, Method, MethodRun } from './types.js';
import { TRIVIAL_PHASE } from './cli-tools.js';
import type { LabHost } from '../../lab/lab.js';

export interface Ssh2Exec {
  command: string;
  stdin?: Buffer;
}

/**
 * One plain ssh2 connection to a lab host: connect (host key compared with the lab's key), run
 * `execs` one after the other (each with its stdin, then EOF), end. Resolves with the exit codes.
 */
export function ssh2Session(host: LabHost, key: Buffer, execs: Ssh2Exec[], noDelay = false): Promise<(number | null)[]> {
  const expected = Buffer.from(host.hostPublicKey.split(' ')[1] ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const codes: (number | null)[] = [];
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(new Error(`${host.name}: ${error.message}`));
    };
    const next = () => {
      const step = execs[codes.length];
      if (!step) {
        settled = true;
        client.end();
        resolve(codes);
        return;
      }
      client.exec(step.command, (error, stream) => {
        if (error) return fail(error);
        let code: number | null = null;
        stream.on('exit', (c: number | null) => {
          code = c;
        });
        stream.on('close', () => {
          codes.push(code);
          next();
        });
        stream.stderr.resume();
        stream.resume();
        stream.end(step.stdin ?? '');
      });
    };
    client.on('error', fail);
    client.on('ready', () => {
      if (noDelay) client.setNoDelay(true);
      next();
    });
    client.connect({
      host: host.address,
      port: host.port,
      username: 'root',
      privateKey: key,
      readyTimeout: 30_000,
      algorithms: { serverHostKey: ['ssh-ed25519'] },
      hostVerifier: ((presented: Buffer) => presented.equals(expected)) as never,
    });
  });
}

export const bareSsh2: Method = {
  id: 'bare-ssh2',
  label: 'bare ssh2 floor (1 exec, bundle on stdin)',
  bundleDir: (remoteDir) => remoteDir,
  async run(target: FleetTarget, remoteDir: string): Promise<MethodRun> {
    const key = await readFile(target.lab.clientKey);
    const remoteCommand = `mkdir -p ${remoteDir} && tar -xzf - -C ${remoteDir} && ${TRIVIAL_PHASE}`;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const codes = (await Promise.all(target.hosts.map((h) => ssh2Session(h, key, [{ command: remoteCommand, stdin: target.bundle.bytes }])))).flat();
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const failed = codes.filter((c) => c !== 0).length;
    if (failed > 0) throw new Error(`bare ssh2: ${failed}/${target.n} host(s) exited non-zero`);
    return { wallS, cpuS: (cpu.user + cpu.system) / 1e6, cpuOf: 'bench process (process.cpuUsage)', detail: { userS: cpu.user / 1e6, systemS: cpu.system / 1e6 } };
  },
};

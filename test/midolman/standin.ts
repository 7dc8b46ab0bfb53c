// Starts the lab's stand-in for the midolman agent (test/lab/jvm-standin/MidolmanStandin.java,
// a real JVM with midolman-shaped MBeans) with JMX on a free port of 127.0.0.1 only. Stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STANDIN = fileURLToPath(new URL('../lab/jvm-standin/MidolmanStandin.java', import.meta.url));

export interface Standin {
  pid: number;
  port: number;
  pidFile: string;
  jmxUrl: string;
  stop(): Promise<void>;
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startStandin(dir: string, name: string): Promise<Standin> {
  const port = await freeLoopbackPort();
  const pidFile = join(dir, `${name}.standin.pid`);
  const child: ChildProcess = spawn(
    'java',
    [
      '-Xmx64m',
      `-Dcom.sun.management.jmxremote.port=${port}`,
      `-Dcom.sun.management.jmxremote.rmi.port=${port}`,
      '-Dcom.sun.management.jmxremote.host=127.0.0.1',
      '-Dcom.sun.management.jmxremote.authenticate=false',
      '-Dcom.sun.management.jmxremote.ssl=false',
      '-Djava.rmi.server.hostname=127.0.0.1',
      STANDIN,
      '--pid-file',
      pidFile,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  while (!existsSync(pidFile)) {
    if (child.exitCode !== null) throw new Error(`stand-in JVM exited with ${child.exitCode}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('stand-in JVM did not start in 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (pid !== child.pid) throw new Error(`stand-in pid file says ${pid}, child is ${child.pid}`);
  return {
    pid,
    port,
    pidFile,
    jmxUrl: `service:jmx:rmi:///jndi/rmi://127.0.0.1:${port}/jmxrmi`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

// A throwaway PostgreSQL 15 server for the pgbench tests: initdb into a temp directory, started by
// pg_ctl listening only on a unix socket in that directory (listen_addresses=''), stopped by the
// PID in its postmaster.pid. PostgreSQL refuses to run as root: as root, everything runs as the
// `postgres` account through runuser.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Check } from '../../support/requirements.js';
import { run, scratchDir } from './real-programs.js';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

const asRoot = () => process.getuid?.() === 0;

async function postgresAccount(): Promise<{ uid: number; gid: number } | null> {
  const passwd = await fsp.readFile('/etc/passwd', 'utf8').catch(() => '');
  const m = /^postgres:[^:]*:(\d+):(\d+):/m.exec(passwd);
  return m ? { uid: Number(m[1]), gid: Number(m[2]) } : null;
}

export const needsPostgres: Check = async () => {
  for (const p of ['initdb', 'pg_ctl', 'postgres', 'pgbench']) {
    if (!(await fsp.access(path.join(PG_BIN, p)).then(() => true, () => false))) return `PostgreSQL 15 is not installed (${PG_BIN}/${p})`;
  }
  if (asRoot() && (await postgresAccount()) === null) return 'running as root and there is no postgres account to run PostgreSQL as';
  return null;
};

export class PostgresServer {
  private constructor(readonly dir: string) {}

  get socketDir(): string {
    return this.dir;
  }

  /** Runs one of PostgreSQL's programs as the server's owner; returns its stdout. */
  async exec(program: string, args: string[], timeoutMs = 60_000): Promise<string> {
    const bin = path.join(PG_BIN, program);
    return asRoot() ? run('runuser', ['-u', 'postgres', '--', bin, ...args], { cwd: this.dir, timeoutMs }) : run(bin, args, { cwd: this.dir, timeoutMs });
  }

  static async start(): Promise<PostgresServer> {
    const dir = await scratchDir('pg');
    if (asRoot()) {
      const acct = (await postgresAccount())!;
      await fsp.chown(dir, acct.uid, acct.gid);
    }
    const server = new PostgresServer(dir);
    try {
      await server.exec('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
      await server.exec('pg_ctl', ['-D', path.join(dir, 'data'), '-o', `-c listen_addresses='' -k ${dir} -c fsync=off`, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start']);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Stops the server by the PID in postmaster.pid (fast shutdown, then SIGKILL) and removes its directory. */
  async stop(): Promise<void> {
    const pidText = await fsp.readFile(path.join(this.dir, 'data', 'postmaster.pid'), 'utf8').catch(() => null);
    const pid = pidText === null ? NaN : Number(pidText.split('\n')[0]);
    if (Number.isInteger(pid) && pid > 1) {
      const alive = () => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      if (alive()) process.kill(pid, 'SIGINT');
      for (let i = 0; i < 200 && alive(); i++) await new Promise((r) => setTimeout(r, 50));
      if (alive()) process.kill(pid, 'SIGKILL');
    }
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}

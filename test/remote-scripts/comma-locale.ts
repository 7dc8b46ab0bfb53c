// A locale whose decimal separator is a comma (de_DE.UTF-8), compiled once with localedef into a
// private LOCPATH, so a test can run a helper as it runs on a host installed in German: bash
// writes EPOCHREALTIME and printf's %f with the locale's separator. Nothing system-wide changes.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
let built: Promise<Record<string, string>> | undefined;

/** LOCPATH and LC_ALL of a de_DE.UTF-8 locale; rejects (the test fails) when it cannot be built. */
export function commaLocaleEnv(): Promise<Record<string, string>> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comma-locale-'));
    // exit 1 with a usable locale means warnings only; the check below is what counts
    await run('localedef', ['-i', 'de_DE', '-f', 'UTF-8', join(dir, 'de_DE.UTF-8')]).catch((error: { code?: number }) => {
      if (error.code !== 1) throw new Error(`localedef cannot build de_DE.UTF-8 (apt-get install locales; bash test/install-deps.sh): ${String(error)}`);
    });
    const env = { LOCPATH: dir, LC_ALL: 'de_DE.UTF-8' };
    const { stdout } = await run('bash', ['-c', 'printf "%s" "$EPOCHREALTIME"'], { env: { ...env, PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
    if (!/^\d+,\d+$/.test(stdout)) throw new Error(`the de_DE locale did not take: EPOCHREALTIME is ${stdout}`);
    return env;
  })();
  return built;
}

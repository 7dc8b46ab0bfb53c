// Every bash file under remote-scripts/ can be sourced by a test without side effects: sourcing
// runs no verb (an executable's `main` runs only when it is executed), prints nothing, sets no
// trap, writes no file, needs none of the job's variables, and changes the caller's shell options
// only by the strict mode the helpers' functions are written for (set -euo pipefail; the guest's
// QASET watcher also its nullglob and LC_ALL=C). Libraries change no option at all. Each file is
// sourced alone by a non-strict bash with only PATH and HOME set, in an empty directory.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { SCRIPTS } from './sourced-bash.js';

const exec = promisify(execFile);

/** The reports host's POSIX sh libraries: sourced by dash in test/publish/host-calls.test.ts. */
const ELSEWHERE = ['publish/'];
const GUARD = /^if \[\[ "?\$\{BASH_SOURCE\[0\][^\]]*\}"? == "\$0" \]\]; then main "\$@"; fi$/m;

const STRICT = ['set -o errexit', 'set -o nounset', 'set -o pipefail'];
/** What sourcing a file may change beyond nothing (libraries) or strict mode (executables). */
const EXTRA: Record<string, { options?: string[]; env?: string[] }> = {
  'guest/qaset-watch': { options: ['shopt -s nullglob'], env: ['declare -x LC_ALL="C"'] },
};

/** Bash files under DIR (shebang or shellcheck directive), as paths relative to remote-scripts/. */
async function bashFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await bashFiles(path)));
    else if (entry.isFile() && (await stat(path)).size < 1 << 20) {
      const head = (await readFile(path, 'utf8')).slice(0, 200);
      if (/^#!.*\bbash\b/.test(head) || /^# shellcheck shell=bash/m.test(head)) found.push(relative(SCRIPTS, path));
    }
  }
  return found.sort();
}

const files = (await bashFiles(SCRIPTS)).filter((f) => !ELSEWHERE.some((d) => f.startsWith(d)));
const executables = files.filter((f) => !f.startsWith('lib/'));

/** Lines of AFTER that BEFORE does not hold. */
const added = (before: string, after: string) => {
  const had = new Set(before.split('\n'));
  return after.split('\n').filter((line) => line && !had.has(line)).sort();
};

test('the files are found: the libraries and every executable', () => {
  assert.ok(files.includes('lib/json.sh') && files.includes('lib/common.sh'), files.join(' '));
  for (const f of ['sysinfo', 'provenance', 'midolman', 'kvm', 'kvm-prepare-host', 'kvm-build-image', 'guest/qaset-watch', 'guest/deploy-once']) {
    assert.ok(executables.includes(f), `${f} among ${executables.join(' ')}`);
  }
});

for (const file of files) {
  const executable = !file.startsWith('lib/');
  test(`${file}: sourced, it runs nothing, prints nothing, sets no trap, writes no file${executable ? ', and defines main' : ''}; options: ${executable ? 'strict mode only' : 'unchanged'}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sourceable-'));
    try {
      const script = `
snap() { { shopt -po; shopt -p; } >"$1.options"; export -p >"$1.env"; }
snap "$0/../before"
. "$1"
snap "$0/../after"
trap -p >"$0/../traps"
if declare -F main >/dev/null; then printf yes >"$0/../main"; else printf no >"$0/../main"; fi`;
      const work = join(dir, 'work');
      await exec('mkdir', [work]);
      const run = await exec('bash', ['--norc', '--noprofile', '-c', script, work, join(SCRIPTS, file)], { cwd: work, env: { PATH: process.env['PATH']!, HOME: work }, encoding: 'utf8' }).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      assert.is((run as { code?: number }).code ?? 0, 0, `sourcing failed: ${run.stderr}`);
      assert.is(run.stdout, '', 'nothing on stdout');
      assert.is(run.stderr, '', 'nothing on stderr (no event, no warning)');
      assert.equal(await readdir(work), [], 'no file written in the working directory or HOME');
      assert.is(await readFile(join(dir, 'traps'), 'utf8'), '', 'no trap');
      const read = (name: string) => readFile(join(dir, name), 'utf8');
      const options = added(await read('before.options'), await read('after.options'));
      assert.equal(options, [...(executable ? STRICT : []), ...(EXTRA[file]?.options ?? [])].sort(), 'shell options changed by sourcing');
      assert.equal(added(await read('before.env'), await read('after.env')), EXTRA[file]?.env ?? [], 'variables exported by sourcing');
      if (executable) assert.is(await read('main'), 'yes', 'an executable has a main (run only when executed)');
      if (executable) assert.match(await readFile(join(SCRIPTS, file), 'utf8'), GUARD, 'main runs behind the executed-not-sourced guard');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test.run();

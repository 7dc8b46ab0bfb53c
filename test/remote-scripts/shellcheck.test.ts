import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

async function bashFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.run')) continue;
      found.push(...(await bashFiles(path)));
    } else if (entry.isFile() && (await stat(path)).size < 1 << 20) {
      const head = (await readFile(path, 'utf8')).slice(0, 200);
      if (/^#!.*\b(ba)?sh\b/.test(head) || /^# shellcheck shell=(ba)?sh/m.test(head)) found.push(path);
    }
  }
  return found;
}

test('every bash helper, topology and test script is shellcheck clean (warnings and up)', async () => {
  const files = [
    ...(await bashFiles(join(root, 'remote-scripts'))),
    ...(await bashFiles(join(root, 'topologies'))),
    ...(await bashFiles(join(root, 'test'))),
    join(root, '.ci/run'),
  ];
  assert.ok(files.length >= 5, `expected the helpers to be found, got ${files.length}`);
  const result = await run('shellcheck', ['-x', '-S', 'warning', ...files.map((f) => relative(root, f))], { cwd: root }).catch((error: { stdout: string; code: number }) => error);
  assert.is((result as { code?: number }).code ?? 0, 0, (result as { stdout: string }).stdout);
});

test('every bash helper runs with set -euo pipefail', async () => {
  const files = (await bashFiles(join(root, 'remote-scripts'))).filter((f) => !f.includes('/lib/'));
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    assert.ok(/^set -euo pipefail$/m.test(text), `${relative(root, file)} lacks set -euo pipefail`);
  }
});

/** test/shellcheck.sh's strict check, sourced, in a copy of the tree where `spoil` has changed the scripts. */
async function strictCheck(spoil: (copy: string) => Promise<void>): Promise<{ code: number; output: string }> {
  const copy = await mkdtemp(join(tmpdir(), 'shellcheck-sh-'));
  try {
    await mkdir(join(copy, 'test'));
    await cp(join(root, 'test/shellcheck.sh'), join(copy, 'test/shellcheck.sh'));
    for (const dir of ['remote-scripts/publish', 'remote-scripts/bundle']) await cp(join(root, dir), join(copy, dir), { recursive: true });
    await spoil(copy);
    return await run('bash', ['-c', '. test/shellcheck.sh; check_strict_dirs'], { cwd: copy }).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

test('test/shellcheck.sh passes the reports host and bundle scripts as they are', async () => {
  const r = await strictCheck(async () => undefined);
  assert.is(r.code, 0, r.output);
  assert.match(r.output, /file\(s\) under remote-scripts\/publish remote-scripts\/bundle clean/);
});

test('test/shellcheck.sh fails on a warning, or a style note, in a reports host script', async () => {
  const warning = await strictCheck((copy) => appendFile(join(copy, 'remote-scripts/publish/lib/drop-off.sh'), '\nnever_used=1\n'));
  assert.is.not(warning.code, 0, warning.output);
  assert.match(warning.output, /SC2034/);
  const style = await strictCheck((copy) => appendFile(join(copy, 'remote-scripts/publish/lib/releases.sh'), '\nunquoted() { echo $1; }\n'));
  assert.is.not(style.code, 0, style.output);
  assert.match(style.output, /SC2086/);
});

test('test/shellcheck.sh fails when a strict directory has no scripts, even if the other has', async () => {
  const r = await strictCheck((copy) => rm(join(copy, 'remote-scripts/bundle'), { recursive: true }));
  assert.is.not(r.code, 0, r.output);
  assert.match(r.output, /no scripts under remote-scripts\/bundle/);
});

test.run();

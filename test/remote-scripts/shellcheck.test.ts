import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdir, readFile, stat } from 'node:fs/promises';
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

test.run();

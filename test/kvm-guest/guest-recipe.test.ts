// The lab guest's recipe: every stand-in file is laid in at QASET's paths, the golden image leaves
// QASET unstarted, and the install step's prepare-tree.sh asks for the very tree the recipe needs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { guardedSuite, missingRequirement } from '../support/requirements.js';
import { GUEST_TREE, labGuestRecipe, STANDIN_DIR } from './guest-recipe.js';
import { runBuildImage, writeRecipe } from './image-builder.js';

const run = promisify(execFile);
const t = suite('lab guest recipe');

t('every file of the stand-in (but its README) is laid into the image, run scripts under all their real names', async () => {
  const recipe = labGuestRecipe();
  const srcs = new Set((recipe.files ?? []).map((f) => f.src));
  const walk = async (dir: string): Promise<string[]> =>
    (await fsp.readdir(dir, { withFileTypes: true })).flatMap((e) => (e.isDirectory() ? [] : [path.join(dir, e.name)])).concat(
      ...(await Promise.all((await fsp.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => walk(path.join(dir, e.name))))),
    );
  const files = (await walk(STANDIN_DIR)).filter((f) => !f.endsWith('README.md') && !f.endsWith('run/performance-run'));
  for (const f of files) assert.ok(srcs.has(f), `${path.relative(STANDIN_DIR, f)} is not in the recipe`);
  const dests = (recipe.files ?? []).map((f) => f.dest);
  for (const d of [
    '/usr/share/qa/qaset/qaset', '/usr/share/qa/qaset/qaset-service', '/usr/share/qa/qaset/run/run-caller', '/usr/share/qa/qaset/set/performance.set',
    '/usr/lib/systemd/system/qaperf.service', '/usr/lib/ctcs2/tools/test_sysbench_sys-run', '/usr/share/qa/tools/test_dbench-4_0_osync-run',
    '/usr/share/qa/tools/test_bonnie++-fsync-run', '/usr/share/qa/tools/test_pgbench_large-ro-run',
  ]) assert.ok(dests.includes(d), d);
  assert.ok(recipe.symlinks?.some((s) => s.dest === '/usr/share/qa/qaset/run/performance-run' && s.target === 'run-caller'));
});

t('the golden image leaves QASET unstarted: qaperf.service is not enabled, no /root/qaset', () => {
  const recipe = labGuestRecipe();
  assert.not.ok(recipe.symlinks?.some((s) => /qaperf|sqperf/.test(s.dest)), 'no enable links');
  assert.not.ok([...(recipe.files ?? []), ...(recipe.dirs ?? [])].some((f) => f.dest.startsWith('/root/qaset') || f.dest.startsWith('/var/log/qaset')));
  assert.ok(recipe.mask?.includes('postgresql.service'), 'no PostgreSQL service at boot');
  assert.match(recipe.cmdline ?? '', /console=ttyS0/);
  assert.match(recipe.cmdline ?? '', /root=\/dev\/vda/);
  for (const p of ['systemd-sysv', 'screen', 'fio', 'sysbench', 'dbench', 'bonnie++', 'postgresql-15', 'linux-image-amd64', 'xfsprogs', 'btrfs-progs']) {
    assert.ok(GUEST_TREE.packages.includes(p), p);
  }
});

const install = suite('lab guest recipe and the install step');
const jq = guardedSuite(install, await missingRequirement(async () =>
  (await run('sh', ['-c', 'command -v jq']).then(() => null, () => 'jq not installed (bash test/install-deps.sh)'))), 'the recipe hash test');
jq('prepare-tree.sh (the install step) and the lab recipe ask for the same Debian tree', async () => {
  const dir = await fsp.mkdtemp('/tmp/guest-recipe-');
  try {
    const lab = await runBuildImage('hash', { recipeFile: await writeRecipe(labGuestRecipe(), dir), cacheDir: dir });
    const install = path.join(dir, 'install.json');
    await fsp.writeFile(install, (await run('jq', ['. + {size: "2G"}', path.join(path.dirname(STANDIN_DIR), 'guest-tree.json')])).stdout);
    const prepared = await runBuildImage('hash', { recipeFile: install, cacheDir: dir });
    assert.is(prepared.tree_hash, lab.tree_hash);
    assert.is.not(prepared.image_hash, lab.image_hash);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

t.run();
install.run();

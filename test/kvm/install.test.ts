// `remote-scripts/kvm install` (guest.install, the mmdebstrap way) on this machine, with the real
// image builder and the lab's cached Debian tree, offline (download: false, as the lab runs it):
// a recipe not built yet is built (the OS read from the image's /etc/os-release), the same recipe
// again costs a hash, a changed recipe builds another image, a broken recipe fails with its log's
// tail and leaves no half image, and a recipe whose tree is not cached fails saying so (nothing is
// downloaded). The images this file builds are removed at the end, by their hashes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GuestInstallRecord, guestImageIdentity } from '../../orchestrator/scenarios/kvm/install.js';
import { labGuestRecipe, type Recipe } from '../kvm-guest/guest-recipe.js';
import { IMAGE_CACHE } from '../kvm-guest/lab-guest.js';
import { hypervisorMissing } from '../lab/hypervisor.js';
import { guardedSuite, missingRequirement } from '../support/requirements.js';

const exec = promisify(execFile);
const KVM = fileURLToPath(new URL('../../remote-scripts/kvm', import.meta.url));
const missing = await missingRequirement(hypervisorMissing);
const it = guardedSuite(test, missing, 'guest.install (mmdebstrap) with the lab tree');

let dir = '';
let jobs = 0;
const built = new Set<string>();

interface Run {
  code: number;
  stderr: string;
  record?: GuestInstallRecord;
  ms: number;
}

async function install(recipe: Recipe): Promise<Run> {
  const job = join(dir, `job${++jobs}`);
  const env = {
    PATH: process.env.PATH!,
    ORCH_JOB_DIR: job,
    ORCH_ARTIFACTS: join(job, 'artifacts'),
    ORCH_JOB_ID: `install-test-${jobs}`,
    KVM_INSTALL_METHOD: 'mmdebstrap',
    KVM_INSTALL_RECIPE: JSON.stringify(recipe),
    KVM_INSTALL_CACHE: IMAGE_CACHE,
    KVM_INSTALL_DOWNLOAD: 'no',
  };
  const t0 = Date.now();
  try {
    const { stderr } = await exec('bash', [KVM, 'install'], { env, maxBuffer: 16 << 20, timeout: 10 * 60_000 });
    const record = GuestInstallRecord.parse(JSON.parse(await readFile(join(job, 'artifacts', 'guest-install.json'), 'utf8')));
    if (!record.image_cached) built.add(record.recipe_hash);
    return { code: 0, stderr, record, ms: Date.now() - t0 };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr, ms: Date.now() - t0 };
  }
}

/** The lab guest's recipe plus one file whose content is `marker`: another image for each marker. */
async function recipeWith(marker: string, extra: Partial<Recipe> = {}): Promise<Recipe> {
  const file = join(dir, `marker-${marker}`);
  await writeFile(file, `${marker}\n`);
  const base = labGuestRecipe();
  return { ...base, files: [...(base.files ?? []), { src: file, dest: '/etc/orchestrate-install-test', mode: '0644' }], ...extra };
}

const leftovers = () => readdirSync(join(IMAGE_CACHE, 'images')).filter((n) => n.startsWith('.build-'));

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-install-'));
});

test.after(async () => {
  for (const hash of built) {
    await rm(join(IMAGE_CACHE, 'images', hash), { recursive: true, force: true });
    await rm(join(IMAGE_CACHE, 'images', `.lock-${hash}`), { force: true });
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('a new recipe is built (the OS from the image), the same recipe again is cached, a changed recipe rebuilds', async () => {
  const tag = `${process.pid}-${Date.now()}`;
  const first = await install(await recipeWith(`a-${tag}`));
  assert.is(first.code, 0, first.stderr);
  const r1 = first.record!;
  assert.is(r1.image_cached, false);
  assert.is(r1.tree_cached, true, 'the tree came from the cache (offline)');
  assert.is(r1.format, 'raw');
  assert.is(r1.os.id, 'debian');
  assert.is(r1.os.version_id, '12');
  assert.match(r1.os.pretty_name ?? '', /^Debian GNU\/Linux 12/);
  assert.ok(existsSync(r1.image));
  // the file the recipe laid in is in the image (debugfs reads the raw ext4 image)
  const { stdout } = await exec('debugfs', ['-R', 'cat /etc/orchestrate-install-test', r1.image]);
  assert.is(stdout.trim(), `a-${tag}`);
  const identity = guestImageIdentity(r1);
  assert.is(identity.revision, r1.recipe_hash);
  assert.match(identity.label, /Debian GNU\/Linux 12/);

  const again = await install(await recipeWith(`a-${tag}`));
  assert.is(again.code, 0, again.stderr);
  assert.is(again.record!.image_cached, true);
  assert.is(again.record!.recipe_hash, r1.recipe_hash);
  assert.ok(again.ms < first.ms, `cached ${again.ms} ms < built ${first.ms} ms`);

  const changed = await install(await recipeWith(`b-${tag}`));
  assert.is(changed.code, 0, changed.stderr);
  assert.is(changed.record!.image_cached, false);
  assert.is.not(changed.record!.recipe_hash, r1.recipe_hash);
  assert.equal(leftovers(), []);
  console.log(`      guest image: built ${first.ms} ms, cached ${again.ms} ms, rebuilt ${changed.ms} ms`);
});

it('a broken recipe (an image too small for its packages) fails with the log tail and leaves no half image', async () => {
  const before = new Set(readdirSync(join(IMAGE_CACHE, 'images')));
  const broken = await install(await recipeWith(`small-${process.pid}`, { size: '300M' }));
  assert.is.not(broken.code, 0);
  assert.match(broken.stderr, /guest install \(mmdebstrap\) failed/);
  assert.match(broken.stderr, /too small/);
  const after = readdirSync(join(IMAGE_CACHE, 'images')).filter((n) => !n.startsWith('.lock-'));
  assert.equal(after.filter((n) => !before.has(n)), [], 'no new image entry');
  assert.equal(leftovers(), []);
});

it('a recipe whose tree is not cached fails offline, saying what to do; nothing is downloaded', async () => {
  const base = await recipeWith(`tree-${process.pid}`);
  const r = await install({ ...base, packages: [...base.packages, 'no-such-package-orchestrate'] });
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /not cached .*download is false/);
  assert.not.ok(existsSync(join(IMAGE_CACHE, 'trees')) && readdirSync(join(IMAGE_CACHE, 'trees')).some((n) => n.startsWith('.build-')));
});

it('an invalid recipe is refused before anything is built', async () => {
  const r = await install({ ...(await recipeWith('x')), suite: 'Bad Suite' } as Recipe);
  assert.is.not(r.code, 0);
  assert.match(r.stderr, /suite: a Debian suite name/);
});

test.run();

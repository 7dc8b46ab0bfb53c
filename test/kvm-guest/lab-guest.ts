// The lab's Debian test guest, built by remote-scripts/kvm-build-image from labGuestRecipe() into
// /var/tmp/orchestrate-kvm-guest/image-cache. prepareLabGuest() (the install step) may download
// Debian packages; labGuest() (tests, the lab) only assembles from the cached tree and fails with
// TreeMissingError ("run bash test/install-deps.sh") when it is not there.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { labGuestRecipe } from './guest-recipe.js';
import { runBuildImage, writeRecipe, type BuildResult } from './image-builder.js';

export const CACHE_ROOT = '/var/tmp/orchestrate-kvm-guest';
export const IMAGE_CACHE = path.join(CACHE_ROOT, 'image-cache');

export interface LabGuest {
  /** The golden image: raw ext4, the guest's whole /dev/vda. Never write to it: copy it. */
  image: string;
  kernel: string;
  initrd: string;
  cmdline: string;
  /** The image's cache directory (recipe.json, COMPLETE). */
  dir: string;
  treeHash: string;
  imageHash: string;
  cached: boolean;
}

async function recipeFile(): Promise<string> {
  return writeRecipe(labGuestRecipe(), path.join(IMAGE_CACHE, 'recipes', 'lab'));
}

function toGuest(r: BuildResult): LabGuest {
  if (!r.image || !r.kernel || !r.initrd || !r.dir) throw new Error(`kvm-build-image ${r.verb}: no image in its result`);
  return { image: r.image, kernel: r.kernel, initrd: r.initrd, cmdline: r.cmdline, dir: r.dir, treeHash: r.tree_hash, imageHash: r.image_hash, cached: r.image_cached === true };
}

/** Install step: the Debian tree (downloads once, cached) and the image. Idempotent. */
export async function prepareLabGuest(): Promise<LabGuest> {
  await fsp.mkdir(IMAGE_CACHE, { recursive: true, mode: 0o755 });
  return toGuest(await runBuildImage('build', { recipeFile: await recipeFile(), cacheDir: IMAGE_CACHE }));
}

/** Tests and the lab: the image from the cached tree (no network); TreeMissingError without it. */
export async function labGuest(): Promise<LabGuest> {
  await fsp.mkdir(IMAGE_CACHE, { recursive: true, mode: 0o755 });
  await fsp.chmod(CACHE_ROOT, 0o755);
  return toGuest(await runBuildImage('image', { recipeFile: await recipeFile(), cacheDir: IMAGE_CACHE }));
}

/** Why labGuest() would fail for want of the cached tree (a requirement check), or null. */
export async function labGuestTreeMissing(): Promise<string | null> {
  const r = await runBuildImage('hash', { recipeFile: await recipeFile(), cacheDir: IMAGE_CACHE });
  const tree = path.join(IMAGE_CACHE, 'trees', r.tree_hash, 'COMPLETE');
  return (await fsp.stat(tree).then(() => true, () => false)) ? null : `the lab guest's Debian tree ${r.tree_hash} is not built: run \`bash test/install-deps.sh\``;
}

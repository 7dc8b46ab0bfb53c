// Runs remote-scripts/kvm-build-image (the product's image builder) on this machine for the
// tests and the lab: `tree` (downloads Debian packages: only from the install step), `image`
// (local, never downloads) and `hash`. Its last stdout line is one JSON object, validated here.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { Recipe } from './guest-recipe.js';

const run = promisify(execFile);
export const BUILD_IMAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'remote-scripts', 'kvm-build-image');

const ResultSchema = z.object({
  verb: z.enum(['hash', 'tree', 'image']),
  tree_hash: z.string().regex(/^[0-9a-f]{16}$/),
  image_hash: z.string().regex(/^[0-9a-f]{16}$/),
  cmdline: z.string(),
  format: z.enum(['raw', 'qcow2']).optional(),
  tree: z.string().optional(),
  tree_cached: z.boolean().optional(),
  dir: z.string().optional(),
  image: z.string().optional(),
  kernel: z.string().optional(),
  initrd: z.string().optional(),
  image_cached: z.boolean().optional(),
  os: z.object({ id: z.string().optional(), version_id: z.string().optional(), pretty_name: z.string().optional() }).optional(),
});
export type BuildResult = z.infer<typeof ResultSchema>;

/** The cached Debian tree the recipe needs is not there: only the install step downloads it. */
export class TreeMissingError extends Error {
  constructor(readonly detail: string) {
    super(`${detail.trim()}\nthe lab guest's Debian tree is built by the install step: run \`bash test/install-deps.sh\` (or \`node --import tsx test/kvm-guest/cli.ts prepare\`)`);
    this.name = 'TreeMissingError';
  }
}

/** kvm-build-image failed: its exit status and what it said (the log tail included). */
export class ImageBuildError extends Error {
  constructor(readonly verb: string, readonly status: number | null, readonly stderr: string) {
    super(`kvm-build-image ${verb} failed (exit ${status ?? 'signal'}):\n${stderr.trim()}`);
    this.name = 'ImageBuildError';
  }
}

/** Writes the recipe as JSON into dir (atomically) and returns its path. */
export async function writeRecipe(recipe: Recipe, dir: string): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'recipe.json');
  const tmp = `${file}.${process.pid}.tmp`;
  await fsp.writeFile(tmp, `${JSON.stringify(recipe, null, 2)}\n`);
  await fsp.rename(tmp, file);
  return file;
}

export async function runBuildImage(
  verb: 'hash' | 'tree' | 'image' | 'build',
  opts: { recipeFile: string; cacheDir: string; timeoutMs?: number; sources?: string },
): Promise<BuildResult> {
  const args = [BUILD_IMAGE, verb, '--recipe', opts.recipeFile, '--cache', opts.cacheDir];
  if (opts.sources) args.push('--sources', opts.sources);
  let stdout: string;
  try {
    ({ stdout } = await run('bash', args, { timeout: opts.timeoutMs ?? 30 * 60_000, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { code?: number | string; stderr?: string; message: string };
    const status = typeof e.code === 'number' ? e.code : null;
    if (status === 3) throw new TreeMissingError(e.stderr ?? e.message);
    throw new ImageBuildError(verb, status, e.stderr || e.message);
  }
  const last = stdout.trim().split('\n').pop() ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    throw new ImageBuildError(verb, 0, `its last line is not JSON: ${JSON.stringify(last.slice(0, 200))}`);
  }
  return ResultSchema.parse(json);
}

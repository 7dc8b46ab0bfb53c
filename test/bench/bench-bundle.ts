// The bundle every method of the fleet transport benchmark pushes: the project's real helper
// bundle (buildHelperBundle over projectBundleRoots()) plus the benchmark's trivial helper
// bench-helpers/bench-noop in remote-scripts/.
//
// buildHelperBundle refuses two roots with the same prefix ("prefix 'remote-scripts' is used by
// two roots"; even without that check the second root's 'remote-scripts/' directory entry would be
// refused as a duplicate path), so the project's roots are copied into a staging directory and the
// bench helpers are added to the staged remote-scripts/. The orchestrator's code is not changed.
import { cp, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { buildHelperBundle, projectBundleRoots, type BundleRoot, type HelperBundle } from '../../orchestrator/bundle/build-bundle.js';

export const BENCH_HELPERS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bench-helpers');

export interface BundleEntryInfo {
  path: string;
  type: 'file' | 'directory';
  size: number;
}

export interface BenchBundle {
  bundle: HelperBundle;
  /** Every entry of the archive, as extracted relative to the bundle directory. */
  entries: BundleEntryInfo[];
  /** What the project's own bundle is (for the report). */
  projectBundle: { hash: string; bytes: number; files: number };
  /** Whether buildHelperBundle accepted [project roots..., {bench-helpers, 'remote-scripts'}]. */
  twoRootsSamePrefix: { accepted: boolean; error?: string };
}

export async function buildBenchBundle(stagingDir: string): Promise<BenchBundle> {
  const projectRoots = projectBundleRoots();
  const project = await buildHelperBundle(projectRoots);

  let twoRootsSamePrefix: BenchBundle['twoRootsSamePrefix'];
  try {
    await buildHelperBundle([...projectRoots, { dir: BENCH_HELPERS_DIR, prefix: 'remote-scripts' }]);
    twoRootsSamePrefix = { accepted: true };
  } catch (error) {
    twoRootsSamePrefix = { accepted: false, error: (error as Error).message };
  }

  const staged: BundleRoot[] = [];
  for (const root of projectRoots) {
    const dir = path.join(stagingDir, root.prefix.replaceAll('/', '__'));
    const present = await stat(root.dir).then(() => true, () => false);
    if (present) await cp(root.dir, dir, { recursive: true, preserveTimestamps: false });
    else await mkdir(dir, { recursive: true });
    if (root.prefix === 'remote-scripts') {
      for (const name of await readdir(BENCH_HELPERS_DIR)) {
        await cp(path.join(BENCH_HELPERS_DIR, name), path.join(dir, name));
      }
    }
    // A root that was missing stays missing (buildHelperBundle treats it as empty).
    staged.push({ dir: present || root.prefix === 'remote-scripts' ? dir : path.join(stagingDir, 'missing', root.prefix), prefix: root.prefix });
  }
  const bundle = await buildHelperBundle(staged);
  return {
    bundle,
    entries: await listEntries(bundle.bytes),
    projectBundle: { hash: project.hash, bytes: project.bytes.length, files: project.files },
    twoRootsSamePrefix,
  };
}

function listEntries(gz: Buffer): Promise<BundleEntryInfo[]> {
  return new Promise((resolve, reject) => {
    const entries: BundleEntryInfo[] = [];
    const ex = tarExtract();
    ex.on('entry', (header, stream, next) => {
      const name = header.name.replace(/\/+$/, '');
      if (header.type === 'file' || header.type === 'directory') {
        entries.push({ path: name, type: header.type, size: header.type === 'file' ? (header.size ?? 0) : 0 });
      }
      stream.on('end', next);
      stream.resume();
    });
    ex.on('finish', () => resolve(entries));
    ex.on('error', reject);
    ex.end(gunzipSync(gz));
  });
}

// Where the package's own files are (package.json, remote-scripts/, topologies/, report-site/), for
// the modules that read them at run time. The orchestrator runs two ways: from its sources
// (orchestrator/*.ts under tsx: the tests, `node --import tsx`) and compiled (the `orchestrate`
// bin: orchestrator/bin/build.js bundles this module into dist/cli.js or a chunk beside it, never
// deeper). Either way this code sits one level below the package root, so the root is its
// parent directory. Every module that needs the root asks here.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, with a trailing separator. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A path inside the package: packagePath('report-site', 'templates'). */
export function packagePath(...segments: string[]): string {
  return join(PACKAGE_ROOT, ...segments);
}

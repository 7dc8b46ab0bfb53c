#!/usr/bin/env node
// `npm run build` (also run by `npm ci`/`npm install` through `prepare`, by `npm test`, by
// `npm run orchestrate` and by the quick start): compiles the CLI (orchestrator/cli.ts and what
// it imports) into dist/ with esbuild, so the `orchestrate` bin runs plain JavaScript.
//
// - Entries dist/cli.js and dist/<name>-worker.js (worker threads, see entryPoints) and, for
//   every `await import()` of the sources, a chunk beside them (code splitting): a command loads
//   only its own code. Everything sits directly in dist/, one level below the package root like
//   the sources in orchestrator/ (see package-root.ts).
// - Bundled: our code, and the packages every command loads at start, whose many small files
//   cost more to find and load than to run (START_PACKAGES). Every other package stays in
//   node_modules, imported as is (native addons, packages that read their own files).
// - dist/meta.json is esbuild's metafile: which source modules each output file holds
//   (test/cli/module-trace/loaded-modules.ts reads it to name the modules a command loaded).
// - Nothing to do when dist/ is current (dist-state.js): exits 0 at once. `--clean` rebuilds
//   from nothing; `--quiet` says nothing when there is nothing to do; `--install` see below.
// - dist/.build-stamp is written last, dated when the build started, so a source saved during
//   the build leaves dist/ stale. Output files an older build left are removed once they are a
//   day old (a sweep that started before a rebuild may still import its chunks).
//
// No type checking here (esbuild strips types): `npm run typecheck`, which `npm test` runs.
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { BUILD_STAMP, DIST_DIR, PACKAGE_ROOT, distState } from './dist-state.js';

/**
 * dist/<name>.js <- source: the CLI, and every worker script (a NAME-worker.ts anywhere under orchestrator/).
 * A worker is started by its URL, not imported: site/render-pool.ts starts
 * `new URL('./render-worker.js', import.meta.url)`, which from a chunk in dist/ is
 * dist/render-worker.js. Two workers with the same file name are refused.
 */
export function entryPoints() {
  const entries = { cli: 'orchestrator/cli.ts' };
  const walk = (dir) => {
    for (const entry of readdirSync(join(PACKAGE_ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('-worker.ts')) {
        const name = entry.name.slice(0, -'.ts'.length);
        if (entries[name]) throw new Error(`two worker scripts would both be dist/${name}.js: ${entries[name]} and ${path}`);
        entries[name] = path;
      }
    }
  };
  walk('orchestrator');
  return entries;
}

/** Bundled into dist/: pure JavaScript, loaded by every command (the inventory's parser and schema). */
export const START_PACKAGES = ['zod', 'yaml'];
const LEFTOVER_MAX_AGE_MS = 24 * 60 * 60 * 1000;

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** esbuild plugin: every bare import stays external unless its package is in START_PACKAGES. */
const externalPackages = {
  name: 'external-packages',
  setup(build) {
    const builtins = new Set(builtinModules);
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:') || builtins.has(args.path)) return { path: args.path, external: true };
      return START_PACKAGES.includes(packageName(args.path)) ? undefined : { path: args.path, external: true };
    });
  },
};

function removeLeftovers(outputs, now) {
  for (const name of readdirSync(DIST_DIR)) {
    const file = join(DIST_DIR, name);
    if (outputs.has(file) || name.startsWith('.') || name === 'meta.json') continue;
    if (now - statSync(file).mtimeMs > LEFTOVER_MAX_AGE_MS) rmSync(file, { recursive: true, force: true });
  }
}

async function main(argv) {
  const quiet = argv.includes('--quiet');
  if (argv.includes('--clean')) rmSync(DIST_DIR, { recursive: true, force: true });
  const before = distState();
  if (before.state === 'current') {
    if (!quiet) process.stderr.write('build: dist/ is up to date\n');
    return 0;
  }
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write('build: esbuild is not installed: run npm ci in the checkout\n');
    return 1;
  }
  const started = new Date();
  process.stderr.write(`build: compiling orchestrator/ into dist/ (${before.state === 'stale' ? `${before.newer} changed` : 'no build yet'})\n`);
  mkdirSync(DIST_DIR, { recursive: true });
  let result;
  try {
    result = await esbuild.build({
      absWorkingDir: PACKAGE_ROOT,
      entryPoints: entryPoints(),
      outdir: DIST_DIR,
      // Flat: every output directly in dist/ (package-root.ts relies on it).
      entryNames: '[name]',
      chunkNames: '[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'warning',
      plugins: [externalPackages],
      // yaml is CommonJS and requires node builtins; an ES module has no `require` of its own.
      banner: { js: "import { createRequire as __orchestrateRequire } from 'node:module'; const require = __orchestrateRequire(import.meta.url);" },
    });
  } catch (error) {
    process.stderr.write(`build: esbuild failed (${error.errors?.length ?? '?'} error(s) above); dist/ is not marked current\n`);
    return 1;
  }
  writeFileSync(join(DIST_DIR, 'meta.json'), `${JSON.stringify(result.metafile)}\n`);
  const outputs = new Set(Object.keys(result.metafile.outputs).map((file) => join(PACKAGE_ROOT, file)));
  removeLeftovers(outputs, started.getTime());
  closeSync(openSync(BUILD_STAMP, 'w'));
  utimesSync(BUILD_STAMP, started, started);
  const files = [...outputs].filter((file) => file.endsWith('.js')).length;
  process.stderr.write(`build: ${files} file(s) in ${relative(PACKAGE_ROOT, DIST_DIR)}/ in ${((Date.now() - started.getTime()) / 1000).toFixed(1)} s\n`);
  return 0;
}

/**
 * `--install` (the `prepare` script, run by npm ci/install): a failed build is reported but does
 * not fail the install (adding a dependency while a source does not compile yet still works); the
 * bin then refuses to run until `npm run build` succeeds. Everywhere else (npm test, the quick
 * start, npm run orchestrate) a failed build fails.
 */
const argv = process.argv.slice(2);
const status = await main(argv);
if (status !== 0 && argv.includes('--install')) {
  process.stderr.write('build: the compiled CLI was not built; the install goes on, and `orchestrate` will ask for `npm run build`\n');
  process.exitCode = 0;
} else {
  process.exitCode = status;
}

// Runs the compiled `orchestrate` bin (plain node, as users run it) with module-trace/register.mjs
// and names what it loaded: our source modules (dist/ outputs mapped back to their inputs through
// esbuild's metafile, dist/meta.json) and packages ('package:vega'), whether bundled into dist/
// or imported from node_modules. Shared by test/cli/compiled-bin.test.ts and the cli-start bench.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const BIN = join(REPO, 'orchestrator/bin/orchestrate.js');
const BUILD = join(REPO, 'orchestrator/bin/build.js');
const REGISTER = fileURLToPath(new URL('./register.mjs', import.meta.url));
const STALE = /older than .*run `npm run build`/;

export interface BinRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run build` (nothing to do when dist/ is current); throws when it fails. */
export function buildDist(): void {
  const build = spawnSync(process.execPath, [BUILD, '--quiet'], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed (${build.status}):\n${build.stderr}`);
}

function spawnBin(nodeArgs: string[], args: string[], env: NodeJS.ProcessEnv): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Build, then run the bin. Others may save a source between the two (the bin then refuses a
 * stale dist/): build and run again, up to three times.
 */
export async function runBuiltBin(args: string[], options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<BinRun> {
  let run: BinRun | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    buildDist();
    run = await spawnBin(options.nodeArgs ?? [], args, options.env ?? {});
    if (!(run.code === 2 && STALE.test(run.stderr))) return run;
  }
  return run!;
}

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

/** 'node_modules/vega-lite/build/index.js' -> 'package:vega-lite'; our sources stay as they are. */
function moduleName(path: string): string {
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return m ? `package:${m[1]}` : path;
}

/** What the bin loaded for `args`: 'orchestrator/site/build.ts', 'package:vega', ... */
export async function loadedModules(args: string[]): Promise<BinRun & { modules: Set<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'orchestrate-trace-'));
  try {
    const traceFile = join(dir, 'modules.txt');
    const run = await runBuiltBin(args, { nodeArgs: ['--import', pathToFileURL(REGISTER).href], env: { MODULE_TRACE_FILE: traceFile } });
    const meta = JSON.parse(await readFile(join(REPO, 'dist/meta.json'), 'utf8')) as Metafile;
    const urls = (await readFile(traceFile, 'utf8').catch(() => '')).split('\n').filter((url) => url.startsWith('file:'));
    const modules = new Set<string>();
    for (const url of urls) {
      const path = fileURLToPath(url);
      if (!path.startsWith(REPO)) continue;
      const rel = path.slice(REPO.length);
      if (rel.startsWith('dist/')) {
        const output = meta.outputs[rel];
        if (!output) throw new Error(`${rel} was loaded but is not in dist/meta.json (a leftover of an older build?)`);
        for (const input of Object.keys(output.inputs)) modules.add(moduleName(input));
      } else {
        modules.add(moduleName(rel));
      }
    }
    return { ...run, modules };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

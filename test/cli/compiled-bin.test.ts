// The `orchestrate` bin as users run it: plain node on the compiled CLI in dist/ (npm run build),
// no tsx. --version and --plan work; a missing or stale build is refused, never run; and --plan
// and --help load none of the heavy modules (Vega, the site builder, SSH, publishing, the
// sweep's machinery), so lazy loading cannot regress silently. A positive control (report on an
// empty store) shows the trace sees those modules when a command does load them, and report on a
// small store renders its charts (Vega, in the site's render workers, which the build must ship).
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isTempName } from '../../orchestrator/results/atomic-write.js';
import { TEST_FIXTURE, writeFixtureStore } from '../site/fixture-store.js';
import { BIN, REPO, buildDist, loadedModules, runBuiltBin } from './module-trace/loaded-modules.js';

let dir = '';
let inventory = '';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrate-bin-'));
  inventory = join(dir, 'inventory.yaml');
  await writeFile(
    inventory,
    [
      'results_dir: ./results',
      'ssh_config: none',
      'defaults:',
      '  user: root',
      '  port: 2222',
      '  scenarios:',
      '    sysinfo: { sample_seconds: 0 }',
      'hosts:',
      '  alpha: { address: 127.0.0.1 }',
      '  beta: { address: 127.0.0.2 }',
      '',
    ].join('\n'),
  );
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Whatever of `modules` is one of `heavy` (a source path prefix or 'package:name'). */
function heavyIn(modules: Set<string>, heavy: string[]): string[] {
  return [...modules].filter((m) => heavy.some((h) => (h.startsWith('package:') ? m === h : m.startsWith(h))));
}

/** Never for --plan: the site and its charts, SSH, publishing, retention, alerts, the sweep run. */
const HEAVY_FOR_PLAN = [
  'package:vega',
  'package:vega-lite',
  'package:vega-embed',
  'package:eta',
  'package:ssh2',
  'package:node-ssh',
  'package:log-update',
  'package:p-queue',
  'package:execa',
  'package:proper-lockfile',
  'orchestrator/site/',
  'orchestrator/publish/',
  'orchestrator/connectors/ssh/',
  'orchestrator/retention/',
  'orchestrator/alerts/',
  'orchestrator/analysis/regressions.ts',
  'orchestrator/fleet/sweep.ts',
  'orchestrator/fleet/run-sweep.ts',
  'orchestrator/fleet/finish-sweep.ts',
  'orchestrator/cli/execute-sweep.ts',
];
/** --help needs no inventory either. */
const HEAVY_FOR_HELP = [...HEAVY_FOR_PLAN, 'package:yaml', 'orchestrator/inventory/load.ts', 'orchestrator/scenarios/'];

test('--version prints the package version, through the compiled bin', async () => {
  const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const run = await runBuiltBin(['--version']);
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, `${version}\n`);
});

test('--plan lists every job of a small inventory and contacts nothing', async () => {
  const run = await runBuiltBin(['--inventory', inventory, '--plan']);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^alpha--sysinfo +alpha +root@127\.0\.0\.1:2222 +sysinfo +default +\{"sample_seconds":0\}$/m);
  assert.match(run.stdout, /^beta--sysinfo +beta +root@127\.0\.0\.2:2222 /m);
  assert.match(run.stdout, /^2 job\(s\) on 2 host\(s\), 20 host\(s\) at a time; results would go to .*results$/m);
});

test('--plan loads the inventory and the plan, and none of the heavy modules', async () => {
  const run = await loadedModules(['--inventory', inventory, '--plan']);
  assert.is(run.code, 0, run.stderr);
  for (const needed of ['orchestrator/cli/command-run.ts', 'orchestrator/inventory/load.ts', 'orchestrator/fleet/plan.ts', 'package:commander', 'package:yaml']) {
    assert.ok(run.modules.has(needed), `the trace should show ${needed}; it has ${[...run.modules].join(', ')}`);
  }
  assert.equal(heavyIn(run.modules, HEAVY_FOR_PLAN), [], 'modules --plan should not load');
});

test("the compiled CLI carries zod's English messages only, not its other locales (import * as z from 'zod')", async () => {
  // `import { z } from 'zod'` takes zod's namespace object whole, with z.locales: some 60 locales,
  // about half of zod's bundled bytes, compiled by every command and every render worker.
  buildDist();
  const meta = JSON.parse(await readFile(join(REPO, 'dist/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> };
  // what the outputs hold (esbuild lists every module it read under `inputs`, shaken out or not)
  const bundled = Object.values(meta.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, use]) => use.bytesInOutput > 0).map(([input]) => input));
  const locales = bundled.filter((input) => /^node_modules\/zod\/.*\/locales\//.test(input));
  assert.ok(bundled.some((input) => input.startsWith('node_modules/zod/')), 'zod should be bundled into dist/');
  assert.equal(locales.map((input) => input.replace(/.*\//, '')), ['en.js'], `zod locales in dist/: ${locales.join(', ')}`);
});

test('--help loads no inventory and none of the heavy modules', async () => {
  const run = await loadedModules(['--help']);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^Usage: orchestrate /);
  assert.ok(run.modules.has('orchestrator/cli.ts'));
  assert.equal(heavyIn(run.modules, HEAVY_FOR_HELP), [], 'modules --help should not load');
});

test('the trace does see the heavy modules when a command loads them (report: the site builder and eta)', async () => {
  const run = await loadedModules(['report', '--inventory', inventory, '--out', join(dir, 'site'), '--quiet']);
  assert.is(run.code, 0, run.stderr);
  for (const heavy of ['orchestrator/site/build.ts', 'orchestrator/analysis/regressions.ts', 'package:eta']) {
    assert.ok(run.modules.has(heavy), `report should load ${heavy}; the trace has ${[...run.modules].join(', ')}`);
  }
});

test('report through the compiled bin renders job pages with their charts (the render workers are built beside the CLI)', async () => {
  const resultsDir = join(dir, 'results');
  await writeFixtureStore(resultsDir, 2, { hosts: [{ name: 'alpha', scenarios: ['sysinfo'] }], start: new Date('2026-11-01T02:00:00Z'), seriesPoints: 20 });
  const site = join(dir, 'site-with-jobs');
  const run = await runBuiltBin(['report', '--inventory', inventory, '--out', site, '--quiet']);
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stderr, '');
  const jobPages = (await readdir(join(site, 'jobs'), { recursive: true })).filter((file) => file.endsWith('.html'));
  assert.is(jobPages.length, 2, `job pages: ${jobPages.join(', ')}`);
  for (const page of jobPages) assert.match(await readFile(join(site, 'jobs', page), 'utf8'), /<svg[\s>]/, `${page} has a chart`);
});

test('a reader that goes away (orchestrate report | head -1) ends the output, not the command: the site is built, exit 0, no stack trace', async () => {
  buildDist();
  const site = join(dir, 'site-closed-reader');
  const child = spawn(process.execPath, [BIN, 'report', '--inventory', inventory, '--out', site], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  // the read end is closed before the CLI has written anything: its first line meets EPIPE
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  assert.is(code, 0, stderr);
  assert.not.match(stderr, /EPIPE|Unhandled|internal error/);
  assert.ok((await readFile(join(site, 'index.html'), 'utf8')).includes('<html'), 'the site was built all the same');
});

test('report --out naming a file, or a job page with a file in the way of its directory: exit 1 with the file named in words, no stack, nothing of the file touched', async () => {
  const resultsDir = join(dir, 'results');
  await writeFixtureStore(resultsDir, 2, { hosts: [{ name: 'alpha', scenarios: ['sysinfo'] }], start: new Date('2026-11-01T02:00:00Z'), seriesPoints: 20 });
  const file = join(dir, 'not-a-directory');
  await writeFile(file, 'keep me');
  const refused = await runBuiltBin(['report', '--inventory', inventory, '--out', file, '--quiet']);
  assert.is(refused.code, 1, refused.stderr);
  assert.is(refused.stderr, `report: cannot write ${file}: it is a file, not a directory (ENOTDIR)\nreport: nothing was written, and the results store is untouched\n`);
  assert.is(await readFile(file, 'utf8'), 'keep me');
  // mid-build: one job page's directory taken by a file; the render worker's error reaches the user as that file
  const site = join(dir, 'site-blocked');
  const sweepId = (await readdir(join(resultsDir, 'sweeps'))).sort().at(-1)!;
  const jobDir = join(site, 'jobs', sweepId, 'alpha--sysinfo');
  await mkdir(join(site, 'jobs', sweepId), { recursive: true });
  await writeFile(jobDir, 'in the way');
  const failed = await runBuiltBin(['report', '--inventory', inventory, '--out', site, '--quiet']);
  assert.is(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, new RegExp(`^report: cannot write ${jobDir}/[a-z.-]+: a part of its path is a file, not a directory \\(ENOTDIR\\)\nreport: the results store is untouched; `));
  assert.not.match(failed.stderr, /internal error|\.tmp|\n\s+at /);
});

test('a report killed mid-build (SIGKILL): the next report removes the temp files it left, draws the rest and takes its mark away; the one after has nothing new', async () => {
  const killDir = join(dir, 'killed');
  const resultsDir = join(killDir, 'results');
  await writeFixtureStore(resultsDir, 12, { ...TEST_FIXTURE, start: new Date('2026-10-01T02:00:00Z'), seriesPoints: 300 });
  const inv = join(killDir, 'inventory.yaml');
  await writeFile(inv, 'results_dir: ./results\nhosts:\n  alpha: { address: 127.0.0.1 }\n');
  const site = join(killDir, 'site');
  buildDist();
  const child = spawn(process.execPath, [BIN, 'report', '--inventory', inv, '--out', site, '--quiet'], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  const ended = new Promise<NodeJS.Signals | null>((done) => child.on('close', (_code, signal) => done(signal)));
  // killed once it draws: its mark is there and a first job page's directory has files
  const started = Date.now();
  const drawing = async () => (await readdir(join(site, 'jobs'), { recursive: true }).catch(() => [])).some((f) => f.endsWith('charts.js'));
  while (!(await drawing()) && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 20));
  process.kill(child.pid!, 'SIGKILL');
  assert.is(await ended, 'SIGKILL', 'the build was still running when it was killed (a bigger store would keep it longer)');
  const marker = JSON.parse(await readFile(join(site, '.site-building.json'), 'utf8')) as { pid: number };
  assert.is(marker.pid, child.pid, 'the killed build left its mark');
  // a temp file in the killed build's name where it was writing, beside whatever the kill itself left
  const lastSweep = (await readdir(join(resultsDir, 'sweeps'))).sort().at(-1)!;
  const planted = join(site, 'jobs', lastSweep, 'node-a--sysinfo', `.charts.js.${child.pid}.1.zz.tmp`);
  await mkdir(join(planted, '..'), { recursive: true });
  await writeFile(planted, 'half a page');
  const temps = async () => (await readdir(site, { recursive: true })).filter((f) => isTempName(basename(f)));
  const left = await temps();
  const next = await runBuiltBin(['report', '--inventory', inv, '--out', site]);
  assert.is(next.code, 0, next.stderr);
  assert.match(next.stdout, new RegExp(`and ${left.length} temp file\\(s\\) a killed build left`), next.stdout);
  assert.equal(await temps(), [], `the temp files are gone (${left.length} before: ${left.join(', ')})`);
  assert.is(await stat(join(site, '.site-building.json')).catch(() => 'gone'), 'gone', 'the mark is taken away');
  const again = await runBuiltBin(['report', '--inventory', inv, '--out', site]);
  assert.is(again.code, 0, again.stderr);
  assert.match(again.stdout, /nothing new since the last build/);
});

/** A copy of the bin beside a package of its own: sources, dist/ with a stub CLI, a build stamp. */
async function binCopy(): Promise<{ root: string; bin: string; source: string; stamp: string }> {
  const root = await mkdtemp(join(dir, 'package-'));
  await mkdir(join(root, 'orchestrator/bin'), { recursive: true });
  for (const file of ['orchestrate.js', 'dist-state.js']) await copyFile(join(REPO, 'orchestrator/bin', file), join(root, 'orchestrator/bin', file));
  const source = join(root, 'orchestrator/cli.ts');
  await writeFile(source, '// the sources\n');
  await mkdir(join(root, 'dist'));
  await writeFile(join(root, 'dist/cli.js'), "process.stdout.write('the compiled CLI ran\\n');\n");
  const stamp = join(root, 'dist/.build-stamp');
  await writeFile(stamp, '');
  const past = new Date(Date.now() - 60_000);
  await utimes(source, past, past);
  return { root, bin: join(root, 'orchestrator/bin/orchestrate.js'), source, stamp };
}

function runNode(file: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [file], { encoding: 'utf8' });
}

test('the bin runs dist/ when it is current, and refuses it (exit 2, run npm run build) when a source is newer or it is missing', async () => {
  const copy = await binCopy();
  const current = runNode(copy.bin);
  assert.is(current.status, 0, current.stderr);
  assert.is(current.stdout, 'the compiled CLI ran\n');

  await utimes(copy.source, new Date(), new Date(Date.now() + 5_000));
  const stale = runNode(copy.bin);
  assert.is(stale.status, 2);
  assert.is(stale.stdout, '');
  assert.match(stale.stderr, /^orchestrate: the compiled CLI \(dist\/, built .*\) is older than orchestrator\/cli\.ts: run `npm run build` in the checkout, then try again\. Nothing was run\.\n$/);

  await rm(copy.stamp);
  const unfinished = runNode(copy.bin);
  assert.is(unfinished.status, 2);
  assert.match(unfinished.stderr, /has not been built: run `npm run build`/);

  await rm(join(copy.root, 'dist'), { recursive: true });
  const missing = runNode(copy.bin);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /^orchestrate: the compiled CLI \(dist\/\) has not been built: run `npm run build`/);
});

test('an installed copy without the sources runs its dist/ as it is', async () => {
  const copy = await binCopy();
  await rm(copy.source);
  await rm(copy.stamp);
  const run = runNode(copy.bin);
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout, 'the compiled CLI ran\n');
});

test('the bin in package.json is this one', async () => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.is(join(REPO, pkg.bin.orchestrate!), BIN);
});

test.run();

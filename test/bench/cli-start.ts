// Bench section `cli-start`: what starting the `orchestrate` bin costs, as users run it (plain
// node on the compiled dist/, `npm run build`), against the targets of issue 13: `--plan` on the
// lab inventory (inventory/lab.yaml: 5 hosts, 7 jobs; nothing is contacted, no lab needed: a copy
// of it names a client key and known_hosts of the bench's own, see labInventoryCopy) <= 0.3 s wall
// and <= 80 MiB max RSS. Also `--help`, `--plan` on the sources through tsx (today's
// sources compiled at start, as the tests run them; the bin before issue 13 did that and loaded
// every command's modules too: about 0.9 s, 1.4 s CPU, 160 MiB on a quiet machine) and
// `node -e 0` (node's own start, the floor).
//
// Each repeat runs every method once, interleaved, after one unmeasured warm-up of each. Wall time
// is measured here around the child; CPU (user + sys) and max RSS come from /usr/bin/time. The
// median of each is reported, with the machine's load average: on a busy machine the wall time
// grows while the CPU time stays, so the CPU column is the one to compare across machines. Then
// how many modules each bin command loaded (module-trace), and whether any heavy one was among
// them. Every run's exit status and output are checked; the section fails when one is wrong.
// Knobs: BENCH_REPEATS (default 15).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, REPO, buildDist, loadedModules } from '../cli/module-trace/loaded-modules.js';
import { fixed, markdownTable, median } from './stats.js';

export const name = 'cli-start';
export const description = 'orchestrate --plan and --help start-up through the compiled bin: median wall, CPU, max RSS (targets 0.3 s, 80 MiB)';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const LAB_INVENTORY = join(REPO, 'inventory/lab.yaml');
const TARGET_WALL_S = 0.3;
const TARGET_RSS_MIB = 80;
const STALE = /older than .*run `npm run build`/;

interface Method {
  id: string;
  label: string;
  argv: string[];
  /** The run did its work: exit status and output. */
  check(run: Run): string | undefined;
  target?: boolean;
}

interface Run {
  wallS: number;
  cpuS: number;
  maxRssMiB: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

const planOk = (run: Run) =>
  run.code === 0 && /^\d+ job\(s\) on 5 host\(s\), \d+ host\(s\) at a time; results would go to /m.test(run.stdout) ? undefined : `exit ${run.code}, no plan summary in: ${run.stdout.slice(-300)}${run.stderr.slice(-300)}`;
const helpOk = (run: Run) => (run.code === 0 && /^Usage: orchestrate /.test(run.stdout) ? undefined : `exit ${run.code}, no usage in: ${run.stdout.slice(0, 300)}${run.stderr.slice(-300)}`);

/** The methods, `--plan` reading `inventory` (the copy labInventoryCopy made). */
function methodsFor(inventory: string): Method[] {
  return [
    { id: 'plan', label: 'orchestrate --plan (bin, dist/)', argv: [process.execPath, BIN, '--inventory', inventory, '--plan'], check: planOk, target: true },
    { id: 'help', label: 'orchestrate --help (bin, dist/)', argv: [process.execPath, BIN, '--help'], check: helpOk },
    {
      id: 'plan-tsx',
      label: '--plan, sources through tsx (no build)',
      argv: [process.execPath, '--import', 'tsx', join(REPO, 'orchestrator/cli.ts'), '--inventory', inventory, '--plan'],
      check: planOk,
    },
    { id: 'node', label: 'node -e 0 (floor)', argv: [process.execPath, '-e', '0'], check: (run) => (run.code === 0 ? undefined : `exit ${run.code}`) },
  ];
}

/** One run under /usr/bin/time (CPU and max RSS written to `timeFile`), wall time measured here. */
function timed(argv: string[], timeFile: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', ...argv], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', async (code) => {
      const wallS = (performance.now() - started) / 1000;
      try {
        const fields = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number);
        const [user, sys, rssKiB] = fields as [number, number, number];
        resolve({ wallS, cpuS: user + sys, maxRssMiB: rssKiB / 1024, code, stdout, stderr });
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** A run of the bin, rebuilt and run again when someone saved a source in between (the bin refuses a stale dist/). */
async function runMethod(method: Method, timeFile: string): Promise<Run> {
  for (let attempt = 0; ; attempt++) {
    const run = await timed(method.argv, timeFile);
    if (!(run.code === 2 && STALE.test(run.stderr)) || attempt === 3) return run;
    buildDist();
  }
}

/**
 * inventory/lab.yaml as the bench reads it: the same hosts, jobs and settings, in `dir`, with its
 * relative paths made absolute and its client key and known_hosts the bench's own (a key made
 * here, an empty known_hosts). The inventory checks that the key exists, and the lab makes its own
 * only when it is brought up; --plan contacts nothing, so it needs the file, not the lab. A
 * line the copy expects and does not find fails the bench, so an edit of lab.yaml is seen here.
 */
async function labInventoryCopy(dir: string): Promise<string> {
  const key = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench cli-start', '-f', key], { stdio: 'ignore' });
  await writeFile(join(dir, 'known_hosts'), '');
  let text = await readFile(LAB_INVENTORY, 'utf8');
  const lines: [RegExp, string][] = [
    [/^results_dir: \.\.\/results$/m, `results_dir: ${join(REPO, 'results')}`],
    [/^known_hosts: .*$/m, `known_hosts: ${join(dir, 'known_hosts')}`],
    [/^profiles_dir: \.\/profiles\.d$/m, `profiles_dir: ${join(REPO, 'inventory/profiles.d')}`],
    [/^ {2}identity_file: .*$/m, `  identity_file: ${key}`],
  ];
  for (const [line, replacement] of lines) {
    if (!line.test(text)) throw new Error(`${LAB_INVENTORY} has no line ${line.source}: update labInventoryCopy in test/bench/cli-start.ts`);
    text = text.replace(line, replacement);
  }
  const copy = join(dir, 'lab.yaml');
  await writeFile(copy, text);
  return copy;
}

export async function run(): Promise<{ table: string; json: unknown }> {
  buildDist();
  const dir = await mkdtemp(join(tmpdir(), 'bench-cli-start-'));
  try {
    return await measure(dir, await labInventoryCopy(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(dir: string, inventory: string): Promise<{ table: string; json: unknown }> {
  const methods = methodsFor(inventory);
  const runs: Record<string, Run[]> = Object.fromEntries(methods.map((m) => [m.id, []]));
  const loads: number[] = [];
  const timeFile = join(dir, 'time.txt');
  for (const method of methods) {
    const warm = await runMethod(method, timeFile);
    const problem = method.check(warm);
    if (problem) throw new Error(`${method.label}: ${problem}`);
  }
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    loads.push(loadavg()[0]!);
    for (const method of methods) {
      const one = await runMethod(method, timeFile);
      const problem = method.check(one);
      if (problem) throw new Error(`${method.label}, repeat ${repeat + 1}: ${problem}`);
      runs[method.id]!.push(one);
    }
  }

  const summary = methods.map((method) => {
    const r = runs[method.id]!;
    return {
      id: method.id,
      label: method.label,
      wallS: median(r.map((x) => x.wallS)),
      cpuS: median(r.map((x) => x.cpuS)),
      maxRssMiB: median(r.map((x) => x.maxRssMiB)),
      maxRssMiBWorst: Math.max(...r.map((x) => x.maxRssMiB)),
      target: method.target === true,
    };
  });
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows = summary.map((s) => [
    s.label,
    fixed(s.wallS),
    fixed(s.cpuS),
    fixed(s.maxRssMiB, 0),
    fixed(s.maxRssMiBWorst, 0),
    s.target ? `wall ${mark(s.wallS <= TARGET_WALL_S)}, RSS ${mark(s.maxRssMiBWorst <= TARGET_RSS_MIB)}` : '',
  ]);

  const traced = [
    { id: 'plan', args: ['--inventory', inventory, '--plan'] },
    { id: 'help', args: ['--help'] },
  ];
  const heavy = ['package:vega', 'package:vega-lite', 'package:eta', 'package:ssh2', 'package:node-ssh', 'orchestrator/site/', 'orchestrator/publish/', 'orchestrator/fleet/run-sweep.ts'];
  const modules: Record<string, { ours: number; packages: string[]; heavy: string[] }> = {};
  for (const t of traced) {
    const loaded = await loadedModules(t.args);
    if (loaded.code !== 0) throw new Error(`module trace of ${t.args.join(' ')}: exit ${loaded.code}: ${loaded.stderr}`);
    const all = [...loaded.modules];
    modules[t.id] = {
      ours: all.filter((m) => m.startsWith('orchestrator/')).length,
      packages: all.filter((m) => m.startsWith('package:')).map((m) => m.slice('package:'.length)).sort(),
      heavy: all.filter((m) => heavy.some((h) => (h.startsWith('package:') ? m === h : m.startsWith(h)))),
    };
  }
  const load = median(loads);
  const table = [
    markdownTable(['method', 'wall s (median)', 'CPU s (median)', 'max RSS MiB (median)', 'max RSS MiB (worst)', 'targets (<= 0.3 s, <= 80 MiB)'], rows),
    '',
    `${REPEATS} repeats, methods interleaved, ${process.version}; load average ${fixed(load)} on ${availableParallelism()} CPU(s) (median over the repeats).`,
    ...traced.map((t) => {
      const m = modules[t.id]!;
      return `Modules loaded by orchestrate ${t.id === 'plan' ? '--plan' : '--help'}: ${m.ours} of our source modules; packages ${m.packages.join(', ')}; heavy ones: ${m.heavy.length === 0 ? 'none' : m.heavy.join(', ')}.`;
    }),
  ].join('\n');
  return { table, json: { repeats: REPEATS, loadAverage: loads, targets: { wallS: TARGET_WALL_S, maxRssMiB: TARGET_RSS_MIB }, summary, modules, runs } };
}

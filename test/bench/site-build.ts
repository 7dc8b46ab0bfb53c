// Bench section `site`: the report site build as users run it, `orchestrate report` (the compiled
// CLI, each build its own process under /usr/bin/time: wall, CPU, peak RSS), on a store shaped
// like nightly sweeps on 20 hosts (18 sysinfo hosts with 7 samples and a 300-point host.cpu.busy
// series, 2 midolman hosts), growing to 365 sweeps (7,300 jobs). At each size: a build with
// nothing new, then one more sweep written through the results store (so its history index is
// kept as a sweep keeps it) and the incremental build (when that sweep is the first of a month,
// whose build also draws the ended month's trends pages, one more ordinary night is measured
// after it: the target is an ordinary night's). A full build at the first size and at the last.
// The in-build times the CLI logs are diagnostics. A build with nothing new takes a fraction of a
// second, so one run says more about the machine's moment than about the build: it is run
// SITE_BENCH_NOOP_RUNS times (default 7), after a sync (the build before may have left up to 2 GB to
// write back), and the median run is the row, with the range beside it.
// Targets (issue 13): incremental after one sweep <= 1 s at 7,300 jobs and flat as history grows;
// nothing new <= 0.3 s; full build of 7,300 jobs <= 60 s using every core; peak RSS <= 512 MiB.
// The generated store (about 25 s and 370 MB at 365 sweeps) is cached under /var/tmp, keyed by
// the hash of the generator and its options; each run works on a hard-linked copy.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sweepIdFor, writeFixtureSweep, type FixtureOptions } from '../site/fixture-store.js';

export const name = 'site';
export const description = 'report site through `orchestrate report`: full, nothing new and one more sweep at growing history up to 7,300 jobs';

const run$ = promisify(execFile);
const HOSTS = 20;
const SIZES = (process.env.SITE_BENCH_SIZES ?? '92,183,274,365').split(',').map(Number);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'orchestrator', 'bin', 'orchestrate.js');
const CACHE = '/var/tmp/orchestrate-bench-site';
const MIB = 1024 * 1024;
const INCREMENTAL = 'incremental (+1 sweep)';
const INCREMENTAL_MONTH = 'incremental (+1 sweep, first of a month)';
const NOOP_RUNS = Math.max(1, Number(process.env.SITE_BENCH_NOOP_RUNS ?? 7));

const fixture = (sweeps: number): FixtureOptions => ({
  hosts: Array.from({ length: HOSTS }, (_, i) => ({ name: `fleet-${String(i + 1).padStart(2, '0')}`, scenarios: [i < HOSTS - 2 ? 'sysinfo' : 'midolman'] })),
  start: new Date('2025-11-01T02:00:00Z'),
  seriesPoints: 300,
  stepAt: Math.floor(sweeps * 0.7),
  failing: (i, host) => (i * 7 + host.name.length * 13) % 97 === 0,
});

interface Measured {
  what: string;
  sweeps: number;
  jobs: number;
  wallMs: number;
  cpuMs: number;
  maxRssBytes: number;
  pagesWritten: number;
  pagesUnchanged: number;
  /** What the build itself logged it took (diagnostic: without the CLI's start). */
  inBuildMs: number | null;
  load1: number;
  /** A row that is the median of several runs: how many, and their fastest and slowest wall times. */
  runs?: { count: number; minWallMs: number; maxWallMs: number };
}

/** The run with the median wall time (the lower of the two middle ones), with the range of them all. */
function medianRun(runs: readonly Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...median, runs: { count: runs.length, minWallMs: sorted[0]!.wallMs, maxWallMs: sorted.at(-1)!.wallMs } };
}

/** The cached store of `sweeps` sweeps written plainly (no index: the first build makes it from the files). */
async function cachedStore(sweeps: number): Promise<string> {
  const generator = await readFile(join(ROOT, 'test', 'site', 'fixture-store.ts'));
  const key = createHash('sha256').update(generator).update(JSON.stringify({ sweeps, HOSTS, f: fixture(SIZES.at(-1)!), failing: String(fixture(0).failing) })).digest('hex').slice(0, 16);
  const dir = join(CACHE, key);
  if (existsSync(join(dir, 'complete'))) return join(dir, 'results');
  await rm(dir, { recursive: true, force: true });
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const started = performance.now();
  for (let i = 0; i < sweeps; i++) await writeFixtureSweep(join(building, 'results'), i, fixture(SIZES.at(-1)!));
  await writeFile(join(building, 'complete'), `${sweeps} sweeps in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  await mkdir(dirname(dir), { recursive: true });
  await rename(building, dir);
  return join(dir, 'results');
}

/** Hard-links the cached sweeps [from, to) into the work store (the builds never write into a sweep). */
async function linkSweeps(cache: string, results: string, from: number, to: number): Promise<void> {
  const start = fixture(0).start;
  for (let i = from; i < to; i++) {
    const id = sweepIdFor(start, i);
    const target = join(results, 'sweeps', id);
    if (existsSync(target)) continue;
    await linkTree(join(cache, 'sweeps', id), target);
  }
}

async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (entry.isDirectory()) await linkTree(join(from, entry.name), join(to, entry.name));
    else await link(join(from, entry.name), join(to, entry.name));
  }
}

async function report(inventory: string, out: string, what: string, sweeps: number): Promise<Measured> {
  // others may change the sources meanwhile: the CLI refuses a stale build, so it is brought up to date first (a no-op when current)
  await run$(process.execPath, [join(ROOT, 'orchestrator', 'bin', 'build.js'), '--quiet']);
  const load1 = loadavg()[0]!;
  const { stdout, stderr } = await run$('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, CLI, 'report', '-i', inventory, '--out', out], {
    maxBuffer: 64 * MIB,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const time = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  const done = /\((\d+) page\(s\) written, (\d+) unchanged/.exec(stdout);
  if (!time || !done) throw new Error(`orchestrate report said:\n${stdout}\n${stderr}`);
  const inBuild = /nothing new since the last build.*\((\d+) ms\)/.exec(stdout) ?? /written, .* in ([\d.]+) s;/.exec(stdout);
  const m: Measured = {
    what,
    sweeps,
    jobs: sweeps * HOSTS,
    wallMs: Number(time[1]) * 1000,
    cpuMs: (Number(time[2]) + Number(time[3])) * 1000,
    maxRssBytes: Number(time[4]) * 1024,
    pagesWritten: Number(done[1]),
    pagesUnchanged: Number(done[2]),
    inBuildMs: inBuild ? (inBuild[0].includes('nothing new') ? Number(inBuild[1]) : Number(inBuild[1]) * 1000) : null,
    load1,
  };
  process.stderr.write(`bench site: ${JSON.stringify(m)}\n`);
  return m;
}

const sec = (ms: number) => (ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`);
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;

export async function run(): Promise<{ table: string; json: unknown }> {
  // the CLI as users run it: compiled (a no-op when dist/ is current)
  await run$(process.execPath, [join(ROOT, 'orchestrator', 'bin', 'build.js'), '--quiet']);
  const largest = SIZES.at(-1)!;
  const genStart = performance.now();
  const cache = await cachedStore(largest);
  const prepareMs = performance.now() - genStart;
  const work = await mkdtemp(join(tmpdir(), 'bench-site-'));
  const rows: Measured[] = [];
  try {
    const results = join(work, 'results');
    const inventory = join(work, 'inventory.yaml');
    await writeFile(inventory, `results_dir: ${JSON.stringify(results)}\nhosts:\n  bench-host: {}\n`);
    const out = join(work, 'site');
    let present = 0;
    for (const [n, size] of SIZES.entries()) {
      // the store grows to `size` sweeps: the sweeps between are built without being measured
      await linkSweeps(cache, results, present, size);
      present = size;
      if (n === 0) {
        const full = await report(inventory, out, 'full', size);
        if (full.pagesWritten < size * HOSTS) throw new Error(`the full build wrote ${full.pagesWritten} pages for ${size * HOSTS} jobs`);
        rows.push(full);
      } else {
        await report(inventory, out, 'catch up (not measured)', size);
      }
      // the build before wrote up to 2 GB: flushed first, so that the kernel's writeback of it does
      // not run beside the stats being measured (sync, not timed)
      await run$('sync', []);
      const noops: Measured[] = [];
      for (let i = 0; i < NOOP_RUNS; i++) {
        const noop = await report(inventory, out, 'nothing new', size);
        if (noop.pagesWritten !== 0) throw new Error(`a build with nothing new wrote ${noop.pagesWritten} pages`);
        noops.push(noop);
      }
      rows.push(medianRun(noops));
      // one more night, written as a sweep writes it; when it is the first of a month (the month
      // that ended gets its trends pages, drawn once), an ordinary night after it is measured too
      const night = async (): Promise<boolean> => {
        const sweepId = await writeFixtureSweep(results, present, { ...fixture(largest), throughStore: true });
        present++;
        const month = (index: number) => sweepIdFor(fixture(0).start, index).slice(0, 6);
        const monthEnded = month(present - 1) !== month(present - 2);
        const incremental = await report(inventory, out, monthEnded ? INCREMENTAL_MONTH : INCREMENTAL, present);
        const newPages = (await readdir(join(out, 'jobs', sweepId))).filter((f) => f.endsWith('.html')).length;
        if (newPages !== HOSTS) throw new Error(`the incremental build made ${newPages} of the new sweep's ${HOSTS} job pages`);
        // a job page, its comparison and its trends page per host, the site's own pages; and when the
        // new sweep is the first of a month, the month that ended gets its trends page per host
        const allowed = HOSTS * 3 + 6 + (monthEnded ? HOSTS : 0);
        if (incremental.pagesWritten > allowed) throw new Error(`the incremental build wrote ${incremental.pagesWritten} pages for one sweep of ${HOSTS} jobs (at most ${allowed})`);
        rows.push(incremental);
        return monthEnded;
      };
      if (await night()) await night();
    }
    // the full build of the largest store, into an empty directory
    const full = await report(inventory, join(work, 'site-full'), 'full', present);
    if (full.pagesWritten < present * HOSTS) throw new Error(`the full build wrote ${full.pagesWritten} pages for ${present * HOSTS} jobs`);
    rows.push(full);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const cores = availableParallelism();
  const last = (what: string) => rows.filter((r) => r.what === what).at(-1)!;
  // the target is an ordinary night; the first night of a month also draws the month that ended
  const incrementals = rows.filter((r) => r.what === INCREMENTAL);
  const monthly = rows.filter((r) => r.what === INCREMENTAL_MONTH);
  const peak = Math.max(...rows.map((r) => r.maxRssBytes));
  const fullLast = last('full');
  const table = [
    `Store: nightly sweeps x ${HOSTS} hosts (cached fixture, prepared in ${sec(prepareMs)}); builds through \`orchestrate report\` (compiled CLI), each its own process; ${cores} core(s), render workers = ${cores}.`,
    '',
    '| build | sweeps | jobs | wall | CPU (user+sys) | cores used | in build (diagnostic) | pages written | unchanged | peak RSS | load avg (1 min) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.what}${r.runs ? ` (median of ${r.runs.count})` : ''} | ${r.sweeps} | ${r.jobs.toLocaleString('en-US')} | ${sec(r.wallMs)}${r.runs ? ` (${sec(r.runs.minWallMs)}-${sec(r.runs.maxWallMs)})` : ''} | ${sec(r.cpuMs)} | ${(r.cpuMs / r.wallMs).toFixed(2)} | ${r.inBuildMs === null ? '—' : sec(r.inBuildMs)} | ${r.pagesWritten} | ${r.pagesUnchanged} | ${mib(r.maxRssBytes)} | ${r.load1.toFixed(1)} |`),
    '',
    `Targets: incremental after one sweep (an ordinary night) <= 1 s at ${last(INCREMENTAL).jobs.toLocaleString('en-US')} jobs: ${sec(incrementals.at(-1)!.wallMs)} (${incrementals.at(-1)!.wallMs <= 1000 ? 'met' : 'MISSED'}), across sizes ${incrementals.map((r) => `${sec(r.wallMs)} at ${r.jobs.toLocaleString('en-US')}`).join(' / ')}` +
      `${monthly.length > 0 ? ` (the first night of a month: ${monthly.map((r) => `${sec(r.wallMs)} at ${r.jobs.toLocaleString('en-US')}`).join(' / ')})` : ''}; ` +
      `nothing new <= 0.3 s: ${sec(last('nothing new').wallMs)} (median of ${NOOP_RUNS}; ${last('nothing new').wallMs <= 300 ? 'met' : 'MISSED'}), across sizes ${rows.filter((r) => r.what === 'nothing new').map((r) => `${sec(r.wallMs)} at ${r.jobs.toLocaleString('en-US')}`).join(' / ')}; ` +
      `full build of ${fullLast.jobs.toLocaleString('en-US')} jobs <= 60 s: ${sec(fullLast.wallMs)} (${fullLast.wallMs <= 60_000 ? 'met' : 'MISSED'}, ${(fullLast.cpuMs / fullLast.wallMs).toFixed(2)} of ${cores} cores); ` +
      `peak RSS <= 512 MiB: ${mib(peak)} (${peak <= 512 * MIB ? 'met' : 'MISSED'}). Wall times on a shared machine move with its load (last column).`,
  ].join('\n');
  return { table, json: { hosts: HOSTS, sizes: SIZES, cores, prepareMs, rows, peakRssBytes: peak, noopRuns: NOOP_RUNS, targets: { incrementalMs: 1000, noopMs: 300, fullMs: 60_000, peakRssBytes: 512 * MIB } } };
}

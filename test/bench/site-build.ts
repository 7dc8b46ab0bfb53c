// Bench section `site`: the report site build on a store shaped like a year of nightly sweeps
// on 20 hosts (365 sweeps x 20 jobs = 7,300 jobs; 18 sysinfo hosts with 7 samples and a
// 300-point host.cpu.busy series, 2 midolman-like hosts with 6 samples and 3 series), then
// one more sweep and the incremental build. Each build runs in a child process so its peak
// RSS (process.resourceUsage().maxRSS) is its own.
// Targets: incremental < 5 % of the full build's time; peak RSS < 1 GiB.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeFixtureSweep, type FixtureOptions } from '../site/fixture-store.js';

export const name = 'site';
export const description = 'report site: full build of a year of nightly sweeps on 20 hosts (7,300 jobs), then one sweep incrementally';

const SWEEPS = Number(process.env.SITE_BENCH_SWEEPS ?? 365);
const HOSTS = 20;
const GIB = 1024 * 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);

const FIXTURE: FixtureOptions = {
  hosts: Array.from({ length: HOSTS }, (_, i) => ({ name: `fleet-${String(i + 1).padStart(2, '0')}`, scenarios: [i < HOSTS - 2 ? 'sysinfo' : 'midolman'] })),
  start: new Date('2025-11-01T02:00:00Z'),
  seriesPoints: 300,
  stepAt: Math.floor(SWEEPS * 0.7),
  failing: (i, host) => (i * 7 + host.name.length * 13) % 97 === 0,
};

interface ChildResult {
  ms: number;
  maxRssBytes: number;
  pagesWritten: number;
  pagesUnchanged: number;
  bytes: number;
  regressions: number;
  written: string[];
  log?: string[];
}

async function buildInChild(resultsDir: string, outDir: string): Promise<ChildResult> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SELF, '--child', resultsDir, outDir], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const line = stdout.trim().split('\n').at(-1)!;
  const result = JSON.parse(line) as ChildResult;
  process.stderr.write(`${stderr}bench site: ${JSON.stringify({ ...result, written: result.written.length })}\n`);
  return { ...result, log: stderr.trim().split('\n') };
}

async function child(resultsDir: string, outDir: string): Promise<void> {
  const { buildSite } = await import('../../orchestrator/site/build.js');
  const started = performance.now();
  const result = await buildSite({ resultsDir, outDir, log: (line) => process.stderr.write(`${line}\n`) });
  const ms = performance.now() - started;
  const out: ChildResult = {
    ms,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    pagesWritten: result.pagesWritten,
    pagesUnchanged: result.pagesUnchanged,
    bytes: result.bytes,
    regressions: result.regressions,
    written: result.written,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function run(): Promise<{ table: string; json: unknown }> {
  const work = await mkdtemp(join(tmpdir(), 'bench-site-'));
  try {
    const results = join(work, 'results');
    const out = join(work, 'site');
    const genStart = performance.now();
    for (let i = 0; i < SWEEPS; i++) await writeFixtureSweep(results, i, FIXTURE);
    const generateMs = performance.now() - genStart;
    const full = await buildInChild(results, out);
    const noop = await buildInChild(results, out);
    const newSweep = await writeFixtureSweep(results, SWEEPS, FIXTURE);
    const incremental = await buildInChild(results, out);
    const jobs = SWEEPS * HOSTS;
    // the work was really done: every job page on the full build, only the new sweep's after it
    if (full.pagesWritten < jobs) throw new Error(`full build wrote ${full.pagesWritten} pages for ${jobs} jobs`);
    if (noop.pagesWritten !== 0) throw new Error(`a build with no new data wrote ${noop.pagesWritten} pages`);
    const newJobs = incremental.written.filter((id) => id.startsWith(`job:${newSweep}/`)).length;
    if (newJobs !== HOSTS) throw new Error(`incremental build wrote ${newJobs} of the new sweep's ${HOSTS} job pages`);
    const stale = incremental.written.filter((id) => /^(job|compare):/.test(id) && !id.includes(newSweep));
    if (stale.length > 0) throw new Error(`incremental build rewrote pages of older sweeps: ${stale.slice(0, 5).join(', ')}`);
    const ratio = incremental.ms / full.ms;
    const peak = Math.max(full.maxRssBytes, noop.maxRssBytes, incremental.maxRssBytes);
    const table = [
      `Store: ${SWEEPS} sweeps x ${HOSTS} hosts = ${jobs.toLocaleString('en-US')} jobs (generated in ${sec(generateMs)}); then 1 more sweep.`,
      '',
      '| build | time | pages written | unchanged | bytes written | peak RSS |',
      '|---|---:|---:|---:|---:|---:|',
      `| full | ${sec(full.ms)} | ${full.pagesWritten} | ${full.pagesUnchanged} | ${mib(full.bytes)} | ${mib(full.maxRssBytes)} |`,
      `| again, nothing new | ${sec(noop.ms)} | ${noop.pagesWritten} | ${noop.pagesUnchanged} | ${mib(noop.bytes)} | ${mib(noop.maxRssBytes)} |`,
      `| incremental (+1 sweep) | ${sec(incremental.ms)} | ${incremental.pagesWritten} | ${incremental.pagesUnchanged} | ${mib(incremental.bytes)} | ${mib(incremental.maxRssBytes)} |`,
      '',
      `Targets: incremental < 5 % of full: ${(ratio * 100).toFixed(1)} % (${ratio < 0.05 ? 'met' : 'MISSED'}); peak RSS < 1 GiB: ${mib(peak)} (${peak < GIB ? 'met' : 'MISSED'}).`,
    ].join('\n');
    return {
      table,
      json: { sweeps: SWEEPS, hosts: HOSTS, jobs, generateMs, full, noop, incremental: { ...incremental, written: incremental.written }, ratio, peakRssBytes: peak, targets: { incrementalRatio: 0.05, peakRssBytes: GIB } },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === SELF && process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!);
}

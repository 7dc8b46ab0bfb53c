// Benchmark section "cli": the headline fleet benchmark, through the user's path (issue 13).
//
// On 30, 60, 120 and 240 local lab hosts (test/lab: one real sshd per host on loopback), three
// command lines gather the same system facts from every host, each saving them per host:
//   orchestrate --inventory INV --scenario sysinfo   (sample_seconds 0; provenance, supervision,
//                                                     collection, manifests: the whole product path)
//   parallel-ssh -o DIR 'lscpu -J; lsblk -J; findmnt -J; cat /proc/meminfo; uptime; uname -a'
//   ansible lab -m setup --tree DIR
// Each method runs cold (the hosts' homes as the lab made them: no helper bundle, no state of an
// earlier run) and then warm (right after its cold run), interleaved per repeat with the method
// order rotated each repeat. What runs leave is set aside, not deleted, until a size is done (see
// test/lab/home-reset.ts: deletions just before a run cost the next run's file creation here).
// After every run the section checks that every host's facts were stored, and fails if not.
// Measured per run: wall time, the client's own CPU (its whole process tree, /usr/bin/time), the
// machine's CPU (/proc/stat), and the processes created on each lab host
// (perf's task events: everything forked under that host's sshd listener, see process-census.ts)
// and by the client.
//
// Environment knobs (the defaults are the benchmark):
//   BENCH_CLI_SIZES=30,60,120,240   lab sizes (at most 245)
//   BENCH_CLI_REPEATS=3             repeats (each: every method cold, then warm)
//   BENCH_CLI_METHODS=orchestrate,pssh,ansible
//   BENCH_CLI_ANSIBLE_SLOW_S=15     at a size where Ansible's first cold run took longer, it runs that once only
//   BENCH_CLI_ANSIBLE_MAX_HOSTS=120 no Ansible above this size (at 240 hosts it takes ~4 min of 2 cores)
//   BENCH_CLI_ANSIBLE_FORKS=240     cap on Ansible's forks (default: one per host)
//   BENCH_CLI_REPORT=1              orchestrate also builds the report site (default --no-report)
//   BENCH_CLI_SUBNETS=65,66,67,68,69 the labs' subnets (127.66.<subnet>.x), one per size in turn
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { homeReset, takeAway } from '../lab/home-reset.js';
import { labUp, REPO_ROOT, type Lab } from '../lab/lab.js';
import { ansibleSetup } from './peers/ansible.js';
import { TIME_BIN } from './peers/cli-tools.js';
import { ORCHESTRATE_BIN, orchestrateCli } from './peers/orchestrate-cli.js';
import { PERF_BIN, startCensus, type RunningCensus } from './peers/process-census.js';
import { FACTS_COMMAND, psshFacts } from './peers/pssh.js';
import type { FactsMethod, FactsTarget } from './peers/types.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable, median } from './stats.js';

export const name = 'cli';
export const description = 'headline: orchestrate --scenario sysinfo through the CLI vs parallel-ssh and ansible -m setup, cold and warm, on 30/60/120/240 lab hosts';

const MAX_LAB_HOSTS = 245;
const SIZES = (process.env.BENCH_CLI_SIZES ?? '30,60,120,240')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n > 0 && n <= MAX_LAB_HOSTS);
const REPEATS = Math.max(1, Number(process.env.BENCH_CLI_REPEATS ?? 3) || 3);
const ANSIBLE_SLOW_S = Number(process.env.BENCH_CLI_ANSIBLE_SLOW_S ?? 15) || 15;
const ANSIBLE_MAX_HOSTS = Number(process.env.BENCH_CLI_ANSIBLE_MAX_HOSTS ?? 120) || 120;
const ALL_METHODS: FactsMethod[] = [orchestrateCli, psshFacts, ansibleSetup];
const METHOD_IDS = (process.env.BENCH_CLI_METHODS ?? ALL_METHODS.map((m) => m.id).join(',')).split(',').map((s) => s.trim());
const METHODS = ALL_METHODS.filter((m) => METHOD_IDS.includes(m.id));
/**
 * This section's lab subnets (one lab at a time; a size takes the next one). BENCH_CLI_SUBNETS
 * (comma separated) picks others, for a machine where someone else's lab holds these.
 */
const SUBNETS = (process.env.BENCH_CLI_SUBNETS ?? '65,66,67,68,69')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => Number.isInteger(n) && n >= 1 && n <= 254);
if (SUBNETS.length === 0) throw new Error('BENCH_CLI_SUBNETS: no subnet in 1..254');
const KINDS = ['cold', 'warm'] as const;
type Kind = (typeof KINDS)[number];

const TARGETS = { wallVsPssh: 1.0, cpuVsPssh: 0.5, hostPidsPerJob: 25 };
/** More cores than this busy while the benchmark idles before a run: something else is using the machine. */
const BACKGROUND_BUSY = 0.25;

function log(line: string): void {
  process.stderr.write(`[cli] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The machine

/** CPU seconds the whole machine has spent (every process: client, lab sshd side, anything else). */
function machineCpuS(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0);
  return busy / 100; // USER_HZ
}

/** PID of each lab host's sshd listener -> host name. */
function listeners(lab: Lab): Map<number, string> {
  const map = new Map<number, string>();
  for (const h of lab.hosts) {
    const pid = Number(readFileSync(h.pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${h.name}: no sshd PID in ${h.pidFile}`);
    map.set(pid, h.name);
  }
  return map;
}

/** How many per-connection sshd processes (children of a listener) are alive. */
function liveSessions(listenerPids: Set<number>): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const s = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (rest[0] !== 'Z' && listenerPids.has(Number(rest[1]))) count++;
    } catch {
      // gone
    }
  }
  return count;
}

/** Wait until no session is left on the lab hosts (at most 15 s); returns whether they drained. */
async function drain(listenerPids: Set<number>): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (liveSessions(listenerPids) > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Idle 300 ms and return how many cores the machine kept busy meanwhile (other work, which the next run competes with). */
async function backgroundCores(): Promise<number> {
  const cpu0 = machineCpuS();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 300));
  return (machineCpuS() - cpu0) / ((Date.now() - t0) / 1000);
}

// ---------------------------------------------------------------------------------------------
// One run

interface Run {
  method: string;
  kind: Kind;
  repeat: number;
  wallS: number;
  /** Client process tree, user + system. */
  cpuS: number;
  cpuOf: string;
  machineCpuS: number;
  /** Processes created under each host's sshd listener (by host name). */
  hostProcesses: Record<string, number>;
  hostProcessesMean: number;
  hostProcessesMax: number;
  /** Host-side processes per host by the program they ran (mean over hosts). */
  hostPrograms: Record<string, number>;
  /** Host-side processes still running when the census stopped (after the sessions drained). */
  hostProcessesLeftRunning: number;
  /** Processes created by the client (under its /usr/bin/time), and threads. */
  clientProcesses: number;
  clientThreads: number;
  /** Processes created on the machine by nothing of this run (other work). */
  otherProcesses: number;
  censusLostEvents: boolean;
  sessionsDrained: boolean;
  backgroundCores: number;
  detail?: Record<string, unknown>;
}

let currentCensus: RunningCensus | undefined;

async function runOnce(method: FactsMethod, kind: Kind, repeat: number, target: FactsTarget, listenerMap: Map<number, string>, runDir: string): Promise<Run> {
  const listenerPids = new Set(listenerMap.keys());
  await drain(listenerPids);
  const background = await backgroundCores();
  await mkdir(runDir, { recursive: true });
  const census = await startCensus(path.join(runDir, 'census.perf'));
  currentCensus = census;
  let result;
  let cpu0 = 0;
  let cpu1 = 0;
  try {
    cpu0 = machineCpuS();
    result = await method.run(target, runDir);
    cpu1 = machineCpuS();
  } catch (error) {
    await census.abort();
    currentCensus = undefined;
    throw error;
  }
  const sessionsDrained = await drain(listenerPids);
  const roots = new Map(listenerMap);
  roots.set(result.clientPid, 'client');
  const counts = await census.stop(roots, [result.clientPid]);
  currentCensus = undefined;
  await rm(path.join(runDir, 'census.perf'), { force: true });
  await method.verify(target, runDir, result);

  const hostProcesses: Record<string, number> = {};
  const hostPrograms: Record<string, number> = {};
  let left = 0;
  for (const h of target.hosts) {
    const c = counts.byRoot.get(h.name)!;
    hostProcesses[h.name] = c.processes;
    left += c.stillRunning;
    for (const [program, count] of Object.entries(c.programs)) hostPrograms[program] = (hostPrograms[program] ?? 0) + count / target.n;
  }
  const perHost = Object.values(hostProcesses);
  const client = counts.byRoot.get('client')!;
  const run: Run = {
    method: method.id,
    kind,
    repeat,
    wallS: result.wallS,
    cpuS: result.cpuS,
    cpuOf: result.cpuOf,
    machineCpuS: cpu1 - cpu0,
    hostProcesses,
    hostProcessesMean: perHost.reduce((a, b) => a + b, 0) / perHost.length,
    hostProcessesMax: Math.max(...perHost),
    hostPrograms,
    hostProcessesLeftRunning: left,
    clientProcesses: client.processes,
    clientThreads: client.threads,
    otherProcesses: counts.otherProcesses,
    censusLostEvents: counts.lostEvents,
    sessionsDrained,
    backgroundCores: background,
    ...(result.detail ? { detail: result.detail } : {}),
  };
  log(
    `N=${target.n} repeat ${repeat}/${REPEATS} ${method.id} ${kind}: ${fixed(run.wallS)} s wall, ${fixed(run.cpuS)} s own CPU, ` +
      `machine ${fixed(run.machineCpuS)} s CPU, ${fixed(run.hostProcessesMean, 1)} processes/host (max ${run.hostProcessesMax}), ` +
      `client ${run.clientProcesses} processes${counts.lostEvents ? ', CENSUS LOST EVENTS' : ''}`,
  );
  return run;
}

// ---------------------------------------------------------------------------------------------
// One lab size

interface SizeResult {
  n: number;
  subnet: number;
  labUpS: number;
  runs: Run[];
  notes: string[];
}

let currentLab: Lab | undefined;

async function benchSize(n: number, index: number, root: string): Promise<SizeResult> {
  const subnet = SUBNETS[index % SUBNETS.length]!;
  const work = path.join(root, `n${n}`);
  const t0 = Date.now();
  const lab = await labUp({ subnet, hosts: n, dir: path.join(work, 'lab'), reports: false });
  currentLab = lab;
  try {
    const labUpS = (Date.now() - t0) / 1000;
    log(`N=${n}: lab up on 127.66.${subnet}.x in ${fixed(labUpS)} s`);
    // every host's home as the lab made it (a first-time user's host), put back before each cold run;
    // what a run left (on the hosts and in its run directory) is set aside, not deleted, until the
    // size is done: deleting thousands of files just before a run slowed the next run's file
    // creation on this machine (ext4 without a journal), which a first-time host does not see
    const resetHomes = await homeReset(lab.hosts, { setAside: setAside(work) });
    const hostsFile = path.join(work, 'hosts.txt');
    await writeFile(hostsFile, lab.hosts.map((h) => `${h.address}:${h.port}\n`).join(''));
    const target: FactsTarget = { n, lab, hosts: lab.hosts, hostsFile, work };
    const listenerMap = listeners(lab);
    const runs: Run[] = [];
    const notes: string[] = [];
    let ansibleDone = false; // no (more) Ansible runs at this size
    if (n > ANSIBLE_MAX_HOSTS && METHODS.includes(ansibleSetup)) {
      ansibleDone = true;
      notes.push(`No Ansible at ${n} hosts (> BENCH_CLI_ANSIBLE_MAX_HOSTS=${ANSIBLE_MAX_HOSTS}): one run costs about 2 CPU seconds per host on the client and lab side.`);
    }
    for (let repeat = 1; repeat <= REPEATS; repeat++) {
      const order = METHODS.map((_, i) => METHODS[(i + repeat - 1) % METHODS.length]!);
      for (const method of order) {
        if (method === ansibleSetup && ansibleDone) continue;
        for (const kind of KINDS) {
          if (kind === 'cold') {
            await drain(new Set(listenerMap.keys()));
            await resetHomes();
          }
          // The bin refuses a dist/ older than the sources: build again (untimed, a few ms when current)
          // in case the checkout changed since the last run.
          if (method === orchestrateCli) await buildIfScripted();
          const runDir = path.join(work, 'runs', `${repeat}-${method.id}-${kind}`);
          const run = await runOnce(method, kind, repeat, target, listenerMap, runDir);
          runs.push(run);
          await takeAway(runDir, path.join(setAside(work), 'runs'));
          if (method === ansibleSetup && kind === 'cold' && repeat === 1 && run.wallS > ANSIBLE_SLOW_S) {
            // With pipelining, Ansible does the same work on the hosts whether or not a run came before
            // (its cold and warm runs measure alike at the small sizes); at a size where it is this
            // slow, one run keeps the section within its time budget.
            ansibleDone = true;
            notes.push(`Ansible's cold run took ${fixed(run.wallS, 1)} s (> ${ANSIBLE_SLOW_S} s) at ${n} hosts: it ran once (cold, first repeat), no warm run and no other repeat.`);
            break;
          }
        }
      }
    }
    return { n, subnet, labUpS, runs, notes };
  } finally {
    await lab.down();
    currentLab = undefined;
    await rm(setAside(work), { recursive: true, force: true });
  }
}

/** Where a size's runs leave what they made, removed once the size is done (homeReset). */
function setAside(work: string): string {
  return path.join(work, 'set-aside');
}

// ---------------------------------------------------------------------------------------------
// Report

interface Cell {
  runs: number;
  wallS: number;
  wallMinS: number;
  wallMaxS: number;
  cpuS: number;
  machineCpuS: number;
  hostPidsPerHost: number;
  hostPidsMax: number;
  clientProcesses: number;
}

interface Verdict {
  value: number;
  limit: number;
  met: boolean;
}

interface SizeSummary {
  n: number;
  cells: Record<string, Partial<Record<Kind, Cell>>>;
  targets: Partial<Record<Kind, { wallVsPssh?: Verdict; cpuVsPssh?: Verdict; hostPidsPerJob: Verdict }>>;
}

function cellOf(runs: Run[]): Cell | undefined {
  if (runs.length === 0) return undefined;
  const walls = runs.map((r) => r.wallS);
  return {
    runs: runs.length,
    wallS: median(walls),
    wallMinS: Math.min(...walls),
    wallMaxS: Math.max(...walls),
    cpuS: median(runs.map((r) => r.cpuS)),
    machineCpuS: median(runs.map((r) => r.machineCpuS)),
    hostPidsPerHost: median(runs.map((r) => r.hostProcessesMean)),
    hostPidsMax: Math.max(...runs.map((r) => r.hostProcessesMax)),
    clientProcesses: median(runs.map((r) => r.clientProcesses)),
  };
}

function summarize(size: SizeResult): SizeSummary {
  const cells: SizeSummary['cells'] = {};
  for (const m of METHODS) {
    cells[m.id] = {};
    for (const kind of KINDS) {
      const cell = cellOf(size.runs.filter((r) => r.method === m.id && r.kind === kind));
      if (cell) cells[m.id]![kind] = cell;
    }
  }
  const verdict = (value: number, limit: number): Verdict => ({ value, limit, met: value <= limit });
  const targets: SizeSummary['targets'] = {};
  for (const kind of KINDS) {
    const orch = cells[orchestrateCli.id]?.[kind];
    if (!orch) continue;
    const pssh = cells[psshFacts.id]?.[kind];
    targets[kind] = {
      ...(pssh ? { wallVsPssh: verdict(orch.wallS / pssh.wallS, TARGETS.wallVsPssh), cpuVsPssh: verdict(orch.cpuS / pssh.cpuS, TARGETS.cpuVsPssh) } : {}),
      // A sysinfo sweep runs one job per host: the host side's processes per host are per job.
      hostPidsPerJob: verdict(orch.hostPidsPerHost, TARGETS.hostPidsPerJob),
    };
  }
  return { n: size.n, cells, targets };
}

const mark = (v: Verdict | undefined, unit = 'x') => (v ? `${fixed(v.value, unit === 'x' ? 2 : 1)}${unit} (<= ${v.limit}${unit}) ${v.met ? 'met' : 'NOT MET'}` : '-');

function renderSize(size: SizeResult, s: SizeSummary): string {
  const header = ['method', 'run', 'wall s (median)', 'wall min-max', 'x pssh wall', 'own CPU s', 'x pssh CPU', 'machine CPU s', 'host processes/host (max)', 'client processes', 'runs'];
  const rows: string[][] = [];
  for (const m of METHODS) {
    for (const kind of KINDS) {
      const c = s.cells[m.id]?.[kind];
      if (!c) continue;
      const p = s.cells[psshFacts.id]?.[kind];
      rows.push([
        m.label,
        kind,
        fixed(c.wallS),
        `${fixed(c.wallMinS)}-${fixed(c.wallMaxS)}`,
        p ? `${fixed(c.wallS / p.wallS)}x` : '-',
        fixed(c.cpuS),
        p ? `${fixed(c.cpuS / p.cpuS)}x` : '-',
        fixed(c.machineCpuS),
        `${fixed(c.hostPidsPerHost, 1)} (${c.hostPidsMax})`,
        fixed(c.clientProcesses, 0),
        String(c.runs),
      ]);
    }
  }
  const out = [`### ${size.n} hosts (lab on 127.66.${size.subnet}.x, up in ${fixed(size.labUpS, 1)} s)`, '', markdownTable(header, rows)];
  for (const kind of KINDS) {
    const t = s.targets[kind];
    if (!t) continue;
    out.push(
      '',
      `Targets, ${kind}, ${size.n} hosts: orchestrate wall / parallel-ssh ${mark(t.wallVsPssh)}; own CPU / parallel-ssh's ${mark(t.cpuVsPssh)}; ` +
        `host processes per sysinfo job ${mark(t.hostPidsPerJob, '')}`,
    );
  }
  for (const kind of KINDS) {
    // What the host side's processes ran, from orchestrate's last run of this kind: where to cut.
    const last = size.runs.filter((r) => r.method === orchestrateCli.id && r.kind === kind).at(-1);
    if (!last) continue;
    const programs = Object.entries(last.hostPrograms)
      .sort((a, b) => b[1] - a[1])
      .map(([program, count]) => `${program} ${fixed(count, Number.isInteger(count) ? 0 : 1)}`)
      .join(', ');
    out.push('', `orchestrate, ${kind}, host-side processes per host by program: ${programs}`);
  }
  const left = size.runs.filter((r) => r.hostProcessesLeftRunning > 0);
  if (left.length > 0) {
    out.push('', `Note: in ${left.length} run(s) host-side processes were still running after the sessions ended (${left.map((r) => `${r.method} ${r.kind} #${r.repeat}: ${r.hostProcessesLeftRunning}`).join(', ')}).`);
  }
  const lost = size.runs.filter((r) => r.censusLostEvents);
  if (lost.length > 0) out.push('', `WARNING: perf lost events in ${lost.length} run(s): their process counts may be short.`);
  const undrained = size.runs.filter((r) => !r.sessionsDrained);
  if (undrained.length > 0) out.push('', `Note: in ${undrained.length} run(s) sessions were still open 15 s after the client ended.`);
  const busy = size.runs.filter((r) => r.backgroundCores > BACKGROUND_BUSY);
  if (busy.length > 0) {
    out.push(
      '',
      `Note: other work was using the machine just before ${busy.length} of ${size.runs.length} runs (up to ${fixed(Math.max(...busy.map((r) => r.backgroundCores)), 1)} of ` +
        `${os.cpus().length} cores busy while the benchmark idled); those runs shared the cores with it.`,
    );
  }
  for (const note of size.notes) out.push('', `Note: ${note}`);
  return out.join('\n');
}

/** One line per size: the headline table (as in issue 13). */
function renderOverview(summaries: SizeSummary[]): string {
  const header = ['hosts', 'run', 'orchestrate wall s', 'parallel-ssh', 'ansible', 'orchestrate / pssh', 'own CPU / pssh\'s', 'host processes/job: orchestrate', 'pssh', 'ansible'];
  const rows: string[][] = [];
  for (const s of summaries) {
    for (const kind of KINDS) {
      const o = s.cells[orchestrateCli.id]?.[kind];
      const p = s.cells[psshFacts.id]?.[kind];
      const a = s.cells[ansibleSetup.id]?.[kind];
      rows.push([
        String(s.n),
        kind,
        o ? fixed(o.wallS) : '-',
        p ? fixed(p.wallS) : '-',
        a ? fixed(a.wallS, 1) : '-',
        o && p ? `${fixed(o.wallS / p.wallS)}x` : '-',
        o && p ? `${fixed(o.cpuS / p.cpuS)}x` : '-',
        o ? fixed(o.hostPidsPerHost, 1) : '-',
        p ? fixed(p.hostPidsPerHost, 1) : '-',
        a ? fixed(a.hostPidsPerHost, 1) : '-',
      ]);
    }
  }
  return markdownTable(header, rows);
}

// ---------------------------------------------------------------------------------------------
// Entry

async function toolVersions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[]) => {
    const r = await execa(cmd, args, { reject: false, all: true, env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir() }, extendEnv: false });
    return String(r.all ?? '').split('\n')[0]?.trim() ?? '';
  };
  return {
    node: process.version,
    orchestrate: await first(process.execPath, [ORCHESTRATE_BIN, '--version']),
    openssh: await first('ssh', ['-V']),
    pssh: await first('parallel-ssh', ['--version']),
    ansible: await first('ansible', ['--version']),
    sshd: await first('/usr/sbin/sshd', ['-V']),
    perf: await first(PERF_BIN, ['--version']),
  };
}

/**
 * The package's build step (compiled JavaScript for the bin), so the bench measures what users run:
 * `npm run build` when package.json has it, else the bin's own build script when there is one.
 */
async function buildIfScripted(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const buildJs = path.join(path.dirname(ORCHESTRATE_BIN), 'build.js');
  let argv: string[];
  if (pkg.scripts?.['build']) argv = ['npm', 'run', 'build'];
  else if (await stat(buildJs).catch(() => null)) argv = [process.execPath, buildJs];
  else return 'no build step (no build script in package.json, no orchestrator/bin/build.js): the bin runs as it is';
  const t0 = Date.now();
  const r = await execa(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.exitCode}):\n${String(r.all).slice(-3000)}`);
  return `${path.basename(argv[argv.length - 1]!) === 'build' ? 'npm run build' : path.relative(REPO_ROOT, buildJs)}: ${fixed((Date.now() - t0) / 1000, 1)} s`;
}

export async function run(): Promise<SectionResult> {
  for (const [bin, pkg] of [[TIME_BIN, 'time'], ['/usr/bin/perf', 'linux-perf']] as const) {
    if (!(await stat(bin).catch(() => null))) throw new Error(`${bin} is missing: install the Debian package '${pkg}'`);
  }
  if (SIZES.length === 0) throw new Error(`BENCH_CLI_SIZES: no size in 1..${MAX_LAB_HOSTS}`);
  if (METHODS.length === 0) throw new Error(`BENCH_CLI_METHODS: none of ${ALL_METHODS.map((m) => m.id).join(', ')}`);
  const build = METHODS.includes(orchestrateCli) ? await buildIfScripted() : 'no build: orchestrate is not among BENCH_CLI_METHODS';
  log(build);
  const root = await mkdtemp(path.join(os.tmpdir(), 'bench-cli-'));
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping perf and the lab`);
    void (currentCensus?.abort() ?? Promise.resolve())
      .then(() => currentLab?.down())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const sizes: SizeResult[] = [];
    for (const [index, n] of SIZES.entries()) sizes.push(await benchSize(n, index, root));
    const summaries = sizes.map(summarize);
    const header = [
      `CLI benchmark (the headline figures): ${os.cpus().length} CPU(s), ${REPEATS} repeat(s), each method cold then warm, order rotated per repeat; medians.`,
      `Work: orchestrate --scenario sysinfo (sample_seconds 0) through ${path.relative(REPO_ROOT, ORCHESTRATE_BIN)}; parallel-ssh '${FACTS_COMMAND}' -o DIR; ansible -m setup --tree DIR.`,
      'own CPU s: the client\'s whole process tree (/usr/bin/time; Ansible also its ControlPersist masters). machine CPU s: every process on the machine (/proc/stat), client and lab sshd side.',
      'host processes/host: processes created under each lab host\'s sshd listener during the run (perf task events), sshd\'s own per-connection processes included; (max) over hosts and runs.',
    ].join('\n');
    const table = [header, renderOverview(summaries), ...sizes.map((s, i) => renderSize(s, summaries[i]!))].join('\n\n');
    return {
      table,
      json: {
        section: name,
        startedAt: new Date(started).toISOString(),
        durationS: (Date.now() - started) / 1000,
        build,
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, kernel: os.release(), memGiB: os.totalmem() / 2 ** 30 },
        tools: await toolVersions(),
        config: { sizes: SIZES, repeats: REPEATS, methods: METHODS.map((m) => m.id), ansibleSlowS: ANSIBLE_SLOW_S, ansibleMaxHosts: ANSIBLE_MAX_HOSTS, targets: TARGETS, factsCommand: FACTS_COMMAND },
        results: sizes.map((s, i) => ({ ...s, summary: summaries[i] })),
      },
    };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await rm(root, { recursive: true, force: true });
  }
}

// The build under test, end to end through the real CLI on a lab host (real sshd on loopback,
// subnet 153) with the packaged agent (test/lab/agent-package/: real .debs installed by the real
// apt-get/dpkg of this machine, started by its real init script through `service`, JMX on
// 127.0.0.1:7200). Lab hosts share this machine's dpkg database and /etc/midolman, so the suite
// holds the machine's packaged-agent lock and puts the package back as it found it.
//
//  - v1 runs ("yesterday's build"); the sweep installs v2 pushed from this machine, restarts the
//    agent, proves v2 runs (the manifest says so), applies the profile's midolman.conf and
//    logback.xml and restores the site's originals byte for byte; a second sweep pushes nothing;
//  - a broken build fails the job with its log's tail and leaves nothing running;
//  - the apt repository source installs the asked version, without touching the host's apt sources;
//  - an agent the job does not restart, still running a replaced build, is recorded as such;
//  - a job killed mid-run leaves its configuration files: the next job restores them;
//  - a cluster check names what is down.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { acquireAgentInstallLock } from '../lab/agent-package/install-lock.js';
import { aptInstallDeb } from '../lab/agent-package/lab-agent.js';
import type { AgentPackages } from '../lab/agent-package/build.js';
import { terminate } from '../lab/proc.js';
import { jobManifest, onlySweep, REPO, runCli, startCli } from '../e2e/cli-helpers.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const t = suite('midolman: the build under test, restarted and proven');
const missing = await missingRequirement(needsRoot, async () => {
  for (const tool of ['apt-get', 'dpkg-deb', 'dpkg-scanpackages', 'javac', 'jar', 'java', 'nmap', 'tcpdump', 'rrdtool', 'start-stop-daemon', 'service', 'unzip']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).exitCode !== 0) return `needs ${tool} (test/install-deps.sh)`;
  }
  return existsSync('/run/systemd/system') ? 'the lab drives the agent through `service` (SysV); this machine runs systemd' : null;
});
const test = guardedSuite(t, missing, 'the packaged agent tests');

const SUBNET = 153;
const JOB = 'lab-01--midolman';
const PID_FILE = '/run/midolman/midolman.pid';
const JMX = 'service:jmx:rmi:///jndi/rmi://127.0.0.1:7200/jmxrmi';
const AGENT = { service: 'midolman', pid_file: PID_FILE, jmx_url: JMX, ready_timeout: '60s' };
/** Tiny traffic: these tests are about the build, not the measurement. */
const QUICK = {
  THROUGHPUT_SCAN_START_RATE: 1000,
  THROUGHPUT_SCAN_MAX_RATE: 1000,
  THROUGHPUT_SCAN_BURST: 1000,
  THROUGHPUT_SCAN_PAUSE_SECONDS: 0,
  WARMUP_ITERATIONS: 0,
  WARMUP_SETTLE_SECONDS: 0,
  LONG_RUNNING_SCAN_ITERATIONS: 1,
  LONG_RUNNING_SCAN_RATE: 1000,
  LONG_RUNNING_SCAN_BURST: 1500,
};
const PROFILE_CONF = '# the e2e profile\'s midolman.conf\n[zookeeper]\nzookeeper_hosts = 127.0.0.1:2181\n[standin]\npps = 700\n';
const PROFILE_LOGBACK = `<configuration><appender name="FILE" class="ch.qos.logback.core.FileAppender"><file>/var/log/midolman/midolman.log</file></appender><root level="DEBUG"><appender-ref ref="FILE"/></root></configuration>\n`;

let lab: Lab | undefined;
let work = '';
let profiles = '';
let packages: AgentPackages['packages'];
let release: (() => Promise<void>) | undefined;
let before: { version: string } | undefined;
let sweeps = 0;

async function installedVersion(): Promise<string> {
  const r = await execa('dpkg-query', ['-W', '-f=${db:Status-Status} ${Version}', 'midolman'], { reject: false });
  const [status, version] = r.stdout.trim().split(' ');
  return status === 'installed' ? version ?? '' : '';
}

/** The packaged agent's process, when one runs (its pid file names a live java running the package's jar). */
function agentPid(): number | undefined {
  try {
    const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('/usr/share/midolman/midolman.jar') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Every java process running the package's jar (the agent, and anything that should not be there). */
function agentProcesses(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('/usr/share/midolman/midolman.jar') && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ');
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function snapshot(dir = '/etc/midolman'): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of existsSync(dir) ? (await readdir(dir)).sort() : []) out[name] = (await readFile(join(dir, name))).toString('base64');
  return out;
}

t.before(async () => {
  if (missing) return;
  release = await acquireAgentInstallLock();
  const version = await installedVersion();
  before = version ? { version } : undefined;
  const running = agentPid();
  if (running) await terminate([running], 35_000);
  work = await mkdtemp(join(tmpdir(), 'midolman-build-e2e-'));
  lab = await labUp({ subnet: SUBNET, hosts: 1, dir: join(work, 'lab'), reports: false, agentRepo: true });
  packages = lab.agentRepo!.packages.packages;
  // A profiles dir of our own: the shipped profiles plus "e2e" with agent configuration files.
  profiles = join(work, 'profiles.d');
  await cp(join(REPO, 'inventory/profiles.d'), profiles, { recursive: true });
  await mkdir(join(profiles, 'e2e', 'midolman'), { recursive: true });
  await copyFile(join(profiles, 'lab-smoke', 'perftests.conf'), join(profiles, 'e2e', 'perftests.conf'));
  await writeFile(join(profiles, 'e2e', 'midolman', 'midolman.conf'), PROFILE_CONF);
  await writeFile(join(profiles, 'e2e', 'midolman', 'logback.xml'), PROFILE_LOGBACK);
});

t.after(async () => {
  try {
    for (const pid of agentProcesses()) await terminate([pid], 35_000);
    if (!missing) {
      // The machine's package as it was: the version that was installed, or none.
      const known = before && Object.values(packages ?? {}).find((p) => p.version === before!.version);
      if (known) await aptInstallDeb(known.deb);
      else if (!before) await execa('dpkg', ['--purge', 'midolman'], { reject: false });
    }
  } finally {
    await lab?.down();
    await release?.();
    if (process.env['MIDOLMAN_E2E_KEEP']) console.log(`kept ${work}`);
    else if (work) await rm(work, { recursive: true, force: true });
  }
});

interface Sweep {
  code: number | null;
  out: string;
  dir: string;
  raw: string;
  manifest: Awaited<ReturnType<typeof jobManifest>>;
  art: (f: string) => string;
  json: (f: string) => Promise<any>;
  events: Record<string, unknown>[];
}

async function inventory(midolman: Record<string, unknown>, name: string): Promise<string> {
  return lab!.writeInventory({
    file: join(work, `${name}.yaml`),
    resultsDir: join(work, `results-${name}`),
    scenarios: { midolman: { topology: 'linux_bridge', heap_dump: false, overrides: QUICK, ...midolman } },
    defaults: { retries: 0 },
    hostExtra: { 'lab-01': { profile: 'e2e' } },
    extra: { profiles_dir: profiles },
  });
}

async function results(resultsDir: string, code: number | null, out: string): Promise<Sweep> {
  const { dir } = await onlySweep(resultsDir);
  const raw = join(dir, 'jobs', JOB, 'raw');
  const art = (f: string) => join(raw, 'artifacts', f);
  return {
    code,
    out,
    dir,
    raw,
    manifest: await jobManifest(dir, JOB),
    art,
    json: async (f: string) => JSON.parse(await readFile(art(f), 'utf8')),
    events: (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

async function sweep(midolman: Record<string, unknown>, name = `s${++sweeps}`): Promise<Sweep> {
  const file = await inventory(midolman, name);
  const { code, stdout, stderr } = await runCli(['--inventory', file, '--no-progress', '--no-report', '--no-publish']);
  return results(join(work, `results-${name}`), code, `${stdout}\n${stderr}`);
}

function jobFiles(s: Sweep): { files: number; uploaded: number } {
  const e = s.events.find((x) => x['kind'] === 'job-files') as { files: number; uploaded: number } | undefined;
  assert.ok(e, 'a job-files event');
  return { files: e!.files, uploaded: e!.uploaded };
}

/** Mean of a JMX series in the job's metrics (simulation latency, ns). */
async function seriesMean(s: Sweep, metric: string): Promise<number> {
  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(s.dir, 'jobs', JOB, 'metrics.json'), 'utf8')));
  const values = metrics.series.find((x) => x.metric === metric)?.points.map(([, v]) => v).filter((v): v is number => v !== null) ?? [];
  assert.ok(values.length > 0, `${metric} has values`);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

let siteConfig: Record<string, string> = {};

test('v1 runs; the sweep installs v2 pushed from here, restarts the agent and proves v2 runs; profile config applied, originals restored byte for byte', async () => {
  // Yesterday's build: v1 installed and running, with a site edit in its midolman.conf.
  await aptInstallDeb(packages.v1.deb);
  await execa('service', ['midolman', 'restart']);
  await appendFile('/etc/midolman/midolman.conf', '# a site-specific edit that must survive the test\n');
  siteConfig = await snapshot();
  const old = await waitFor(() => agentPid(), 'the v1 agent');

  // local_debs by glob, from a CI-like directory of this machine
  const ci = join(work, 'ci');
  await mkdir(ci, { recursive: true });
  await copyFile(packages.v2.deb, join(ci, 'midolman_2.0.0-lab1_all.deb'));
  const s = await sweep({ build: { local_debs: [join(ci, 'midolman_2.*_all.deb')] }, agent: AGENT }, 'v2');
  assert.is(s.code, 0, s.out);
  assert.is(s.manifest.status, 'ok', JSON.stringify(s.manifest.errors));
  assert.equal(s.manifest.phases.map((p) => p.name).slice(0, 8), ['provenance', 'check', 'cleanup', 'profile', 'install', 'agent-start', 'build-info', 'topology']);

  // The manifest names the build that ran: the running JVM's MANIFEST, checked against dpkg.
  assert.equal(s.manifest.build, { label: 'midolman 2.0.0-lab1', package: 'midolman', version: '2.0.0-lab1', revision: packages.v2.revision });
  const info = await s.json('build-info.json');
  assert.equal(info.build, { package: 'midolman', source: 'local', version_before: '1.0.0-lab1', version_after: '2.0.0-lab1', version_running: '2.0.0-lab1', jar_version: '2.0.0-SNAPSHOT', title_running: 'Midolman Java daemon', revision: packages.v2.revision, verified: true });
  const start = await s.json('agent-start.json');
  assert.is(start.verified, true, JSON.stringify(start.problems));
  assert.is.not(start.pid, old, 'a new process');
  assert.ok(start.started_at >= start.since - 1, 'started after the restart');
  const jar = start.jars.find((j: { path: string }) => j.path === '/usr/share/midolman/midolman.jar');
  assert.equal([jar.deleted, jar.md5, jar.md5_expected, jar.version], [false, packages.v2.jarMd5, packages.v2.jarMd5, '2.0.0-SNAPSHOT']);
  assert.equal(await s.json('cleanup.json').then((c) => c.agent_stopped), true, 'cleanup stopped yesterday\'s agent');

  // The profile's files were what the agent ran with, and were recorded with their sha256.
  const applied = await s.json('agent-config.json');
  assert.equal(applied.files.map((f: { path: string; from: string; replaced: boolean }) => [f.path, f.from, f.replaced]), [['logback.xml', 'e2e/midolman/logback.xml', true], ['midolman.conf', 'e2e/midolman/midolman.conf', true]]);
  assert.is(await readFile(s.art('agent/config/midolman.conf'), 'utf8'), PROFILE_CONF, 'collected as used');
  const log = await readFile(s.art('agent/midolman.log'), 'utf8');
  assert.match(log, /midolman stand-in starting: version 2\.0\.0-SNAPSHOT/);
  assert.match(log, /700 simulated packets\/s/, 'the profile\'s midolman.conf was read');
  assert.match(log, /DEBUG .*config \[standin\] pps = 700/, 'the profile\'s logback.xml was read');
  assert.match(await readFile(s.art('agent/gc.log'), 'utf8'), /Using G1/, 'the running JVM\'s GC log');
  assert.equal(await snapshot(), siteConfig, '/etc/midolman is back byte for byte, the site edit included');
  const teardown = await s.json('teardown.json');
  assert.equal(teardown.configuration_restored.map((r: { action: string }) => r.action), ['restored', 'restored']);
  assert.is(teardown.clean, true);
  assert.equal(agentProcesses(), [], 'teardown stopped the agent (stop_at_teardown default)');
  assert.equal(jobFiles(s), { files: 3, uploaded: 3 });
  // v2 differs observably from v1: a lower simulated latency (log-normal around 32 vs 40 us).
  const mean = await seriesMean(s, 'jmx.sim_latency.mean');
  assert.ok(mean > 25_000 && mean < 41_000, `v2's mean simulation latency ${mean} ns`);

  // A second sweep of the same build sends nothing: the host has every file by content hash.
  const again = await sweep({ build: { local_debs: [join(ci, 'midolman_2.*_all.deb')] }, agent: AGENT }, 'v2-again');
  assert.is(again.manifest.status, 'ok', JSON.stringify(again.manifest.errors));
  assert.equal(jobFiles(again), { files: 3, uploaded: 0 });
  assert.is((await again.json('install.json')).version_before, '2.0.0-lab1');
  assert.is(again.manifest.build?.version, '2.0.0-lab1');
});

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not there after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a build whose agent fails at startup fails the job with its log tail and leaves nothing running', async () => {
  const s = await sweep({ build: { host_debs: [packages.broken.deb] }, agent: AGENT }, 'broken');
  assert.is(s.code, 1, s.out);
  assert.is(s.manifest.status, 'failed');
  const status = Object.fromEntries(s.manifest.phases.map((p) => [p.name, p.status]));
  assert.equal([status['install'], status['agent-start'], status['build-info'], status['topology'], status['teardown']], ['ok', 'failed', 'skipped', 'skipped', 'ok']);
  const error = s.manifest.errors.find((e) => e.phase === 'agent-start')!.message;
  assert.match(error, /the agent (\(pid \d+\) )?exited during startup/);
  assert.match(error, /agent log \(\/var\/log\/midolman\/midolman\.log\): .*ERROR .*Midolman failed to start: cannot bind the datapath/);
  assert.not.match(error, /[\u0000-\u001f]/, 'the log tail is inert text');
  assert.is(s.manifest.build?.version, '2.1.0-lab1', 'the failure names its build');
  assert.equal(agentProcesses(), []);
  assert.equal(await snapshot(), siteConfig);
  assert.is((await s.json('teardown.json')).clean, true);
});

test('the apt repository source installs the asked version through a private source list; the host\'s apt sources are untouched', async () => {
  const sourcesBefore = readdirSync('/etc/apt/sources.list.d');
  const listsBefore = readdirSync('/var/lib/apt/lists').filter((f) => f.includes('127.66'));
  const repo = lab!.agentRepo!;
  const s = await sweep({ build: { apt: { url: repo.url, packages: { midolman: '1.0.0-lab1' }, trusted: true } }, agent: AGENT }, 'apt');
  assert.is(s.manifest.status, 'ok', JSON.stringify(s.manifest.errors));
  assert.is(s.manifest.build?.version, '1.0.0-lab1');
  assert.equal((await s.json('install.json')).version_after, '1.0.0-lab1');
  assert.is((await readFile(s.art('apt-sources.list'), 'utf8')).trim(), `deb [trusted=yes] ${repo.url} ./`);
  assert.equal(readdirSync('/etc/apt/sources.list.d'), sourcesBefore);
  assert.equal(readdirSync('/var/lib/apt/lists').filter((f) => f.includes('127.66')), listsBefore, 'the host\'s apt lists never saw the repository');
  const mean = await seriesMean(s, 'jmx.sim_latency.mean');
  assert.ok(mean > 41_000, `v1's mean simulation latency ${mean} ns is v1's (40 us log-normal), not v2's`);
  assert.equal(agentProcesses(), []);
});

test('an agent the job does not restart, still running a build that was replaced, is recorded as such', async () => {
  await aptInstallDeb(packages.v2.deb);
  await execa('service', ['midolman', 'restart']);
  const pid = await waitFor(() => agentPid(), 'the v2 agent');
  await aptInstallDeb(packages.v1.deb); // replaced under the running agent, not restarted
  try {
    const s = await sweep({ agent: { pid_file: PID_FILE, jmx_url: JMX } }, 'stale');
    assert.is(s.manifest.status, 'ok', JSON.stringify(s.manifest.errors));
    const id = await s.json('agent-identity.json');
    assert.is(id.pid, pid);
    assert.is(id.verified, false);
    assert.match(id.problems.join('\n'), /holds \/usr\/share\/midolman\/midolman\.jar \(deleted\): it still runs a build that was replaced since it started \(2\.0\.0-SNAPSHOT\)/);
    assert.is(id.installed_version, '1.0.0-lab1');
    // what the replaced jar itself declares (dpkg no longer knows its bytes): a MidoNet jar's project version
    assert.is(s.manifest.build?.version, '2.0.0-SNAPSHOT', 'the build that ran, not the one installed');
    assert.ok(s.events.some((e) => e['kind'] === 'phase-log' && String(e['message']).includes('may not be the installed midolman')));
    assert.is(agentPid(), pid, 'an agent the job does not manage is left running');
  } finally {
    await terminate([pid], 35_000);
  }
});

test('a job killed mid-run leaves its configuration in place: the next job on the host restores it byte for byte', async () => {
  await aptInstallDeb(packages.v2.deb);
  siteConfig = await snapshot();
  const name = 'crashed';
  const file = await inventory({ build: { host_debs: [packages.v2.deb] }, agent: AGENT }, name);
  const cli = startCli(['--inventory', file, '--no-progress', '--no-report', '--no-publish']);
  await cli.waitFor(/phase collectors-start started/, 90_000);
  cli.child.kill('SIGKILL'); // the orchestrator dies: no teardown
  await cli.exit;
  assert.is(await readFile('/etc/midolman/midolman.conf', 'utf8'), PROFILE_CONF, 'the crashed job\'s configuration is still in place');

  const next = await sweep({ build: { host_debs: [packages.v2.deb] }, agent: AGENT }, 'after-crash');
  assert.is(next.manifest.status, 'ok', JSON.stringify(next.manifest.errors));
  const cleanup = await next.json('cleanup.json');
  assert.equal(cleanup.configuration_restored.map((r: { target: string; action: string }) => [r.target, r.action]), [['/etc/midolman/logback.xml', 'restored'], ['/etc/midolman/midolman.conf', 'restored']]);
  assert.equal(await snapshot(), siteConfig);

  // The crashed sweep, resumed, finishes its job and tears down what it had set up.
  const { dir } = await onlySweep(join(work, `results-${name}`));
  const sweepId = dir.split('/').at(-1)!;
  // The dead CLI's sweep lock goes stale 30 s after its holder died: until then --resume says 75.
  let resumed = await runCli(['--inventory', file, '--resume', sweepId, '--no-progress', '--no-report', '--no-publish']);
  for (const deadline = Date.now() + 60_000; resumed.code === 75 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 3000));
    resumed = await runCli(['--inventory', file, '--resume', sweepId, '--no-progress', '--no-report', '--no-publish']);
  }
  const after = await results(join(work, `results-${name}`), resumed.code, resumed.stdout);
  assert.is(after.manifest.phases.at(-1)!.status, 'ok', after.out);
  assert.is((await after.json('teardown.json')).clean, true);
  assert.equal(await snapshot(), siteConfig);
  assert.equal(agentProcesses(), []);
});

test('a cluster check names everything that is down and stops the job before the install', async () => {
  const s = await sweep(
    {
      build: { host_debs: [packages.v2.deb] },
      agent: AGENT,
      cluster_check: { endpoints: [`${lab!.agentRepo!.address}:8080`, `127.66.${SUBNET}.99:2181`], commands: [['/bin/true'], ['/bin/sh', '-c', 'echo zookeeper is down; exit 3']], timeout: '3s' },
    },
    'cluster',
  );
  assert.is(s.manifest.status, 'failed');
  const status = Object.fromEntries(s.manifest.phases.map((p) => [p.name, p.status]));
  assert.equal([status['cluster-check'], status['install'], status['teardown']], ['failed', 'skipped', 'ok']);
  const error = s.manifest.errors[0]!.message;
  assert.match(error, /cluster check: 2 down: 127\.66\.153\.99:2181 \([^)]*refused[^)]*\); '\/bin\/sh -c echo zookeeper is down; exit 3' \(exit 3: zookeeper is down\)/);
  const checks = (await s.json('cluster-check.json')).checks;
  assert.equal(checks.map((c: { ok: boolean }) => c.ok), [true, false, true, false]);
});

t.run();

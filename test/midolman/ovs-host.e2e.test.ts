// ovs_bridge on a host that runs its own Open vSwitch: the topology finds the host's switch by its
// pid file and database socket (OVS_HOST_RUNDIR, the host's vars; /var/run/openvswitch on a real
// host), puts the job's bridge on it, measures the host's ovs-vswitchd as the agent, and at
// teardown removes only the job's bridge: the host's daemons keep running (same PIDs) and the
// host's own bridge is untouched. The job refuses a host switch without a userspace datapath
// (its netdev bridge would leave the host a datapath and an ovs-netdev tap; OVS_HOST_ALLOW_NETDEV=1
// accepts that) and a bridge name the host's switch already has (never taken over). The "host's"
// switch here is a real ovsdb-server and ovs-vswitchd this test starts in the root namespace (as a
// host's would run) from a run directory of its own, and stops by PID (and start time) afterwards;
// the taps its own netdev bridge makes are the test's and removed after.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';

const e2e = suite('midolman on ovs_bridge with the host running Open vSwitch');
let lab: Lab;
let work: string;
let run: string;
const HOST_BRIDGE = 'h17keep';
/** A job prefix whose bridge name (PREFIX + "ob") the host's switch already has. */
const CLASH_PREFIX = 'h17x';
const CLASH_BRIDGE = `${CLASH_PREFIX}ob`;
/** Root-namespace devices the test's host switch makes (the userspace datapath's taps), removed after. */
const TAPS = ['ovs-netdev', HOST_BRIDGE, CLASH_BRIDGE];
/** The daemons this test started: PID and /proc start time, read right after they started. */
const started = new Map<string, { pid: number; start: string }>();

const pidOf = (name: string) => Number(readFileSync(join(run, `${name}.pid`), 'utf8').trim());
/** Field 22 of /proc/PID/stat (start time in clock ticks), undefined when there is no such process. */
const startTime = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};
const record = (name: string) => {
  const pid = pidOf(name);
  const start = startTime(pid);
  if (!start) throw new Error(`${name} (pid ${pid}) is not running after it started`);
  started.set(name, { pid, start });
};
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
};
const vsctl = (...args: string[]) => execFileSync('ovs-vsctl', [`--db=unix:${join(run, 'db.sock')}`, '--timeout=20', ...args], { encoding: 'utf8' });
const env = () => ({ ...process.env, OVS_RUNDIR: run, OVS_DBDIR: run, OVS_LOGDIR: run });

e2e.before(async () => {
  if (!existsSync('/usr/sbin/ovs-vswitchd')) throw new Error('Open vSwitch is not installed (Debian package openvswitch-switch)');
  for (const tap of TAPS) if (existsSync(`/sys/class/net/${tap}`)) throw new Error(`a link ${tap} exists in the root namespace (a userspace datapath runs there): this test cannot start the host switch it needs, and would delete that link after`);
  work = await mkdtemp(join(tmpdir(), 'midolman-ovs-host-'));
  run = join(work, 'openvswitch');
  await mkdir(run);
  execFileSync('ovsdb-tool', ['create', join(run, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  execFileSync('ovsdb-server', [join(run, 'conf.db'), `--remote=punix:${join(run, 'db.sock')}`, `--pidfile=${join(run, 'ovsdb-server.pid')}`, `--log-file=${join(run, 'ovsdb-server.log')}`, '-vconsole:off', '--detach', '--no-chdir'], { env: env() });
  record('ovsdb-server');
  vsctl('--no-wait', 'init');
  execFileSync('ovs-vswitchd', [`unix:${join(run, 'db.sock')}`, `--pidfile=${join(run, 'ovs-vswitchd.pid')}`, `--log-file=${join(run, 'ovs-vswitchd.log')}`, '-vconsole:off', '--detach', '--no-chdir'], { env: env() });
  record('ovs-vswitchd');
  lab = await labUp({ subnet: 72, hosts: 1, dir: join(work, 'lab'), reports: false });
});

e2e.after(async () => {
  await lab?.down();
  if (run) {
    try {
      vsctl('--if-exists', 'del-br', HOST_BRIDGE);
    } catch {
      // the switch may be gone already
    }
    for (const name of ['ovs-vswitchd', 'ovsdb-server']) {
      const daemon = started.get(name);
      if (!daemon) continue; // not started
      // Only the very process this test started (same PID and start time), never a PID reused since.
      const ours = () => alive(daemon.pid) && startTime(daemon.pid) === daemon.start;
      if (ours()) process.kill(daemon.pid, 'SIGTERM');
      for (let i = 0; i < 50 && ours(); i++) await new Promise((r) => setTimeout(r, 100));
    }
    // The datapath's taps (made for the test's own netdev bridge) are persistent: they outlive the
    // daemon that made them. before() checked that neither existed.
    for (const tap of TAPS) if (existsSync(`/sys/class/net/${tap}`)) execFileSync('ip', ['link', 'del', tap]);
  }
  if (work) await rm(work, { recursive: true, force: true });
});

/** Runs the midolman scenario on ovs_bridge against the test's host switch; the job's manifest and raw dir. */
async function sweep(name: string, vars: Record<string, string> = {}) {
  const results = join(work, `results-${name}`);
  const inventory = await lab.writeInventory({
    file: join(work, `${name}.yaml`),
    resultsDir: results,
    scenarios: { midolman: { topology: 'ovs_bridge', overrides: { LONG_RUNNING_SCAN_ITERATIONS: 0, THROUGHPUT_SCAN_MAX_RATE: 1500 } } },
    defaults: { retries: 0 },
    hostExtra: { 'lab-01': { profile: 'lab-smoke', vars: { OVS_HOST_RUNDIR: run, ...vars } } },
  });
  const cli = await runCli(['--inventory', inventory, '--no-progress']);
  // a CLI that failed before it made a sweep: say what it printed, not only that there is no sweep
  const { dir } = await onlySweep(results).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${cli.stdout}\n${cli.stderr}`);
  });
  const raw = join(dir, 'jobs', 'lab-01--midolman', 'raw');
  return { ...cli, manifest: await jobManifest(dir, 'lab-01--midolman'), raw, topologyLog: () => readFile(join(raw, 'phases', 'topology', 'output.log'), 'utf8') };
}

e2e("a host switch without a userspace datapath is refused (no bridge added, no ovs-netdev tap made) unless OVS_HOST_ALLOW_NETDEV=1", async () => {
  const s = await sweep('no-netdev');
  assert.is.not(s.code, 0, `${s.stdout}\n${s.stderr}`);
  assert.is(s.manifest.status, 'failed');
  const status = Object.fromEntries(s.manifest.phases.map((p) => [p.name, p.status]));
  assert.equal([status['topology'], status['teardown']], ['failed', 'ok']);
  const log = await s.topologyLog();
  assert.match(log, /has no userspace datapath .*OVS_HOST_ALLOW_NETDEV=1/, log);
  assert.is(vsctl('list-br').trim(), '', "no bridge added to the host's switch");
  assert.not.ok(existsSync('/sys/class/net/ovs-netdev'), 'no userspace datapath tap made in the root namespace');
  assert.is(JSON.parse(await readFile(join(s.raw, 'artifacts', 'teardown.json'), 'utf8')).clean, true);
});

e2e('with OVS_HOST_ALLOW_NETDEV=1 the job makes the userspace datapath on the host switch, and its teardown leaves neither bridge nor ovs-netdev tap', async () => {
  const s = await sweep('allow-netdev', { OVS_HOST_ALLOW_NETDEV: '1' });
  assert.is(s.code, 0, `${s.stdout}\n${s.stderr}`);
  assert.is(s.manifest.status, 'ok', JSON.stringify(s.manifest.errors));
  assert.is(vsctl('list-br').trim(), '', "the job's bridge is gone");
  assert.not.ok(existsSync('/sys/class/net/ovs-netdev'), 'the userspace datapath (and its tap) went with the last netdev bridge');
  assert.is(JSON.parse(await readFile(join(s.raw, 'artifacts', 'teardown.json'), 'utf8')).clean, true);
});

e2e("a bridge of the host's with the job's bridge name is refused, never taken over: its flows and the bridge stay", async () => {
  // The host's own netdev bridge: from here on the host's switch has a userspace datapath.
  vsctl('--may-exist', 'add-br', HOST_BRIDGE, '--', 'set', 'bridge', HOST_BRIDGE, 'datapath_type=netdev');
  vsctl('add-br', CLASH_BRIDGE, '--', 'set', 'bridge', CLASH_BRIDGE, 'datapath_type=netdev');
  const flow = 'priority=321,ip,nw_dst=192.0.2.1,actions=drop';
  execFileSync('ovs-ofctl', ['add-flow', `unix:${join(run, `${CLASH_BRIDGE}.mgmt`)}`, flow]);
  const s = await sweep('clash', { MIDOLMAN_PREFIX: CLASH_PREFIX });
  assert.is.not(s.code, 0, `${s.stdout}\n${s.stderr}`);
  assert.is(s.manifest.status, 'failed');
  assert.match(await s.topologyLog(), new RegExp(`bridge ${CLASH_BRIDGE} already exists on the switch`));
  assert.equal(vsctl('list-br').trim().split('\n').sort(), [CLASH_BRIDGE, HOST_BRIDGE].sort(), "the host's bridges are both still there");
  const flows = execFileSync('ovs-ofctl', ['dump-flows', `unix:${join(run, `${CLASH_BRIDGE}.mgmt`)}`], { encoding: 'utf8' });
  assert.match(flows, /priority=321,ip,nw_dst=192\.0\.2\.1 actions=drop/, "the host's flow is still there");
  vsctl('del-br', CLASH_BRIDGE);
});

e2e("the host's switch is used, measured and left running; only the job's bridge is added and removed", async () => {
  // The host's own netdev bridge (so its switch has a userspace datapath), if the test before did not add it.
  vsctl('--may-exist', 'add-br', HOST_BRIDGE, '--', 'set', 'bridge', HOST_BRIDGE, 'datapath_type=netdev');
  const daemons = { vswitchd: pidOf('ovs-vswitchd'), db: pidOf('ovsdb-server') };
  const { code, stdout, stderr, manifest, raw } = await sweep('host');
  assert.is(code, 0, `${stdout}\n${stderr}`);
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  const art = (f: string) => join(raw, 'artifacts', f);

  const printed = await readFile(art('topology.txt'), 'utf8');
  assert.match(printed, new RegExp(`switch: host, run directory ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, namespace ,`));
  assert.match(printed, new RegExp(`Bridge ${HOST_BRIDGE}`), "the host's own bridge is there beside the job's");
  const collectors = JSON.parse(await readFile(art('collectors/collectors.json'), 'utf8'));
  assert.is(collectors.agent_pid, daemons.vswitchd, "the agent measured is the host's ovs-vswitchd");
  const steps = await readSteps(raw);
  assert.ok(steps.length >= 3);
  for (const s of steps) {
    assert.ok(s.delivered > 0.9 * s.sent, `${s.delivered} of ${s.sent} delivered through the host's switch`);
    assert.ok(s.datapath, "the host's datapath read around each burst");
  }

  // The host's switch still runs, as it was; the job's bridge is gone, the host's bridge stays.
  assert.ok(alive(daemons.vswitchd) && alive(daemons.db), "the host's daemons were not stopped");
  assert.equal(vsctl('list-br').trim().split('\n'), [HOST_BRIDGE]);
  const topology = JSON.parse(await readFile(art('topology.json'), 'utf8'));
  assert.equal(readdirSync('/sys/class/net').filter((n) => n.startsWith(topology.prefix)), [], 'no link of the job left');
  assert.is(JSON.parse(await readFile(art('teardown.json'), 'utf8')).clean, true);
});

e2e.run();

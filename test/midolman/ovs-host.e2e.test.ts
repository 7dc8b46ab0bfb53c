// ovs_bridge on a host that runs its own Open vSwitch: the topology finds the host's switch by its
// pid file and database socket (OVS_HOST_RUNDIR, the host's vars; /var/run/openvswitch on a real
// host), puts the job's bridge on it, measures the host's ovs-vswitchd as the agent, and at
// teardown removes only the job's bridge: the host's daemons keep running (same PIDs) and the
// host's own bridge is untouched. The "host's" switch here is a real ovsdb-server and ovs-vswitchd
// this test starts in the root namespace (as a host's would run) from a run directory of its own,
// and stops by PID afterwards.
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
/** Root-namespace devices the host's switch makes (the userspace datapath's taps), removed after. */
const TAPS = ['ovs-netdev', HOST_BRIDGE];

const pidOf = (name: string) => Number(readFileSync(join(run, `${name}.pid`), 'utf8').trim());
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
  if (existsSync('/sys/class/net/ovs-netdev')) throw new Error('a userspace datapath already runs in the root namespace: this test cannot start the host switch it needs');
  work = await mkdtemp(join(tmpdir(), 'midolman-ovs-host-'));
  run = join(work, 'openvswitch');
  await mkdir(run);
  execFileSync('ovsdb-tool', ['create', join(run, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  execFileSync('ovsdb-server', [join(run, 'conf.db'), `--remote=punix:${join(run, 'db.sock')}`, `--pidfile=${join(run, 'ovsdb-server.pid')}`, `--log-file=${join(run, 'ovsdb-server.log')}`, '-vconsole:off', '--detach', '--no-chdir'], { env: env() });
  vsctl('--no-wait', 'init');
  execFileSync('ovs-vswitchd', [`unix:${join(run, 'db.sock')}`, `--pidfile=${join(run, 'ovs-vswitchd.pid')}`, `--log-file=${join(run, 'ovs-vswitchd.log')}`, '-vconsole:off', '--detach', '--no-chdir'], { env: env() });
  vsctl('add-br', HOST_BRIDGE, '--', 'set', 'bridge', HOST_BRIDGE, 'datapath_type=netdev');
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
      try {
        const pid = pidOf(name);
        if (alive(pid)) process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      } catch {
        // no pid file: not started
      }
    }
    // The datapath's taps are persistent: they outlive the daemon that made them.
    for (const tap of TAPS) if (existsSync(`/sys/class/net/${tap}`)) execFileSync('ip', ['link', 'del', tap]);
  }
  if (work) await rm(work, { recursive: true, force: true });
});

e2e("the host's switch is used, measured and left running; only the job's bridge is added and removed", async () => {
  const daemons = { vswitchd: pidOf('ovs-vswitchd'), db: pidOf('ovsdb-server') };
  const results = join(work, 'results');
  const inventory = await lab.writeInventory({
    file: join(work, 'host.yaml'),
    resultsDir: results,
    scenarios: { midolman: { topology: 'ovs_bridge', overrides: { LONG_RUNNING_SCAN_ITERATIONS: 0, THROUGHPUT_SCAN_MAX_RATE: 1500 } } },
    defaults: { retries: 0 },
    hostExtra: { 'lab-01': { profile: 'lab-smoke', vars: { OVS_HOST_RUNDIR: run } } },
  });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, 'lab-01--midolman');
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  const art = (f: string) => join(dir, 'jobs', 'lab-01--midolman', 'raw', 'artifacts', f);

  const printed = await readFile(art('topology.txt'), 'utf8');
  assert.match(printed, new RegExp(`switch: host, run directory ${run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, namespace ,`));
  assert.match(printed, new RegExp(`Bridge ${HOST_BRIDGE}`), "the host's own bridge is there beside the job's");
  const collectors = JSON.parse(await readFile(art('collectors/collectors.json'), 'utf8'));
  assert.is(collectors.agent_pid, daemons.vswitchd, "the agent measured is the host's ovs-vswitchd");
  const steps = await readSteps(join(dir, 'jobs', 'lab-01--midolman', 'raw'));
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

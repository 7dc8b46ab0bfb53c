// The midolman scenario through a real virtual switch, end to end on the local lab, through the
// real CLI: two lab hosts (real sshd on loopback) run the scenario in parallel, lab-01 on
// ovs_bridge and lab-02 on ovs_l3. Each job starts its own ovsdb-server and ovs-vswitchd (Debian's
// Open vSwitch, userspace datapath: this machine has no openvswitch kernel module) in a namespace
// of its own, real SYN probes from nmap cross it, and ovs-vswitchd is the agent whose CPU and RSS
// are sampled. Checked: every probe is a new datapath flow (the flow count grows with the probes),
// the delivered count is the destination's capture and agrees with the destination's kernel
// counter, the datapath's series and per-step flow-setup rates reach metrics.json, and the
// teardown leaves no OVS process, bridge, port or namespace of the job.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';

const e2e = suite('midolman scenario through Open vSwitch on the lab');
let lab: Lab;
let work: string;
/** Whether the root namespace had the userspace datapath's tap before the test (a host's own switch). */
let rootTapBefore = false;

const PHASES = ['provenance', 'check', 'cleanup', 'profile', 'install', 'build-info', 'topology', 'collectors-start', 'warm-up', 'throughput', 'long-running', 'collectors-stop', 'heap-dump', 'teardown'];
const TOPOLOGY: Record<string, string> = { 'lab-01': 'ovs_bridge', 'lab-02': 'ovs_l3' };

function ovsInstalled(): boolean {
  return ['/usr/sbin/ovs-vswitchd', '/usr/sbin/ovsdb-server', '/usr/bin/ovs-vsctl', '/usr/bin/ovs-appctl', '/usr/bin/ovsdb-tool'].every((p) => existsSync(p));
}

e2e.before(async () => {
  if (!ovsInstalled()) throw new Error('Open vSwitch is not installed (Debian package openvswitch-switch; test/install-deps.sh)');
  rootTapBefore = existsSync('/sys/class/net/ovs-netdev');
  work = await mkdtemp(join(tmpdir(), 'midolman-ovs-e2e-'));
  lab = await labUp({ subnet: 70, hosts: 2, dir: join(work, 'lab'), reports: false });
});
e2e.after(async () => {
  await lab?.down();
  if (process.env.MIDOLMAN_E2E_KEEP) console.log(`kept ${work}`);
  else if (work) await rm(work, { recursive: true, force: true });
});

/** OVS daemons (live, not zombies) whose command line names a path under `dir`. */
function ovsDaemonsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const exe = readlinkSync(`/proc/${pid}/exe`);
      if (!/\/(ovs-vswitchd|ovsdb-server)$/.test(exe)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Namespaces, links (bridges, ports, taps) and processes of the job left on this kernel. */
function leftovers(prefix: string, sport: number): string[] {
  const left: string[] = [];
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  left.push(...netns.filter((n) => n.startsWith(prefix)).map((n) => `netns ${n}`));
  left.push(...readdirSync('/sys/class/net').filter((n) => n.startsWith(prefix)).map((n) => `link ${n}`));
  if (!rootTapBefore && existsSync('/sys/class/net/ovs-netdev')) left.push('link ovs-netdev (the userspace datapath tap) in the root namespace');
  left.push(...ovsDaemonsUnder(work).map((d) => `ovs daemon ${d}`));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.includes(work) && (cmd.includes('_sample-proc') || cmd.includes('_sample-datapath'))) left.push(`collector ${pid}: ${cmd}`);
    if ((cmd.includes('tcpdump') || cmd.includes('nmap')) && cmd.includes(String(sport))) left.push(`traffic ${pid}: ${cmd}`);
  }
  return left;
}

e2e('ovs_bridge and ovs_l3 in parallel: real probes through a private Open vSwitch; flows grow with the probes, delivered = capture, ovs-vswitchd sampled, clean teardown', async () => {
  const results = join(work, 'results');
  const inventory = await lab.writeInventory({
    file: join(work, 'ovs.yaml'),
    resultsDir: results,
    scenarios: { midolman: {} },
    defaults: { retries: 0 },
    // OVS_HOST_RUNDIR: an empty scratch directory, so the job starts its private switch even on a
    // machine that runs Open vSwitch (never adding bridges to the machine's own switch).
    hostExtra: Object.fromEntries(lab.hosts.map((h) => [h.name, { profile: 'lab-smoke', vars: { OVS_HOST_RUNDIR: join(work, 'no-host-openvswitch') }, scenarios: { midolman: { topology: TOPOLOGY[h.name] } } }])),
  });
  const started = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  const seconds = (Date.now() - started) / 1000;
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);

  for (const host of lab.hosts) {
    const topologyName = TOPOLOGY[host.name]!;
    const jobId = `${host.name}--midolman`;
    const manifest = await jobManifest(dir, jobId);
    assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
    assert.equal(manifest.phases.map((p) => [p.name, p.status]), PHASES.map((p) => [p, 'ok']));
    const raw = join(dir, 'jobs', jobId, 'raw');
    const art = (f: string) => join(raw, 'artifacts', f);

    // The switch: private (no Open vSwitch runs on this machine), in the job's namespace.
    const topology = JSON.parse(await readFile(art('topology.json'), 'utf8'));
    assert.is(topology.name, topologyName);
    const printed = await readFile(art('topology.txt'), 'utf8');
    assert.match(printed, new RegExp(`switch: private, run directory \\S+, namespace ${topology.prefix}-ovs`));
    assert.match(printed, /datapath_type: netdev/);
    if (topologyName === 'ovs_l3') assert.match(printed, /dec_ttl,output:2/, 'routing rules installed');

    // The agent is the job's ovs-vswitchd: its CPU and RSS sampled; no heap to dump.
    const collectors = JSON.parse(await readFile(art('collectors/collectors.json'), 'utf8'));
    assert.match(collectors.agent_exe, /\/ovs-vswitchd$/);
    assert.is(collectors.datapath, true);
    const heap = JSON.parse(await readFile(art('heapdump.json'), 'utf8'));
    assert.is(heap.skipped, true);

    const steps = await readSteps(raw);
    const table = steps
      .map((s) => `${s.phase} ${s.offered_pps}->${s.achieved_pps.toFixed(0)} sent ${s.sent} delivered ${s.delivered} (dst rx ${s.link.dst_rx_packets}) loss ${s.loss.toFixed(3)} flows ${s.datapath?.flows_before}->${s.datapath?.flows_after} upcalls ${s.datapath?.missed} lost ${s.datapath?.lost} socket drops ${s.datapath?.socket_drops} setup ${s.datapath?.flow_setup_pps}/s`)
      .join('\n');
    console.log(`${host.name} ${topologyName} (${seconds.toFixed(1)} s sweep):\n${table}`);
    assert.ok(steps.length >= 1 + 5 + 2, 'warm-up, 5 scan steps, 2 long-running bursts');
    for (const s of steps) {
      assert.is(s.sent, s.probes, 'nmap sent every probe once');
      assert.ok(s.delivered > 0, 'probes crossed the switch');
      // The delivered count is the destination's capture; the destination's kernel counted the
      // same packets (plus the odd ARP or neighbour probe), independently of the capture.
      assert.ok(s.link.dst_rx_packets !== null && s.link.dst_rx_packets >= s.delivered && s.link.dst_rx_packets <= s.delivered + 10, `dst rx ${s.link.dst_rx_packets} vs captured ${s.delivered}`);
      // Every probe is a new datapath flow: the datapath starts each burst empty and ends it with
      // a flow per probe that crossed it (and one per answer): the flow count grows with the probes.
      const dp = s.datapath!;
      assert.ok(dp, 'datapath read around the burst');
      // (an ARP or neighbour packet may set up a flow between the purge and the first reading)
      assert.ok(dp.flows_before <= 4, `the datapath starts the burst empty: ${dp.flows_before} flows`);
      assert.ok(dp.flows_after >= s.delivered, `flows ${dp.flows_after} after ${s.delivered} delivered probes`);
      assert.ok(dp.flows_after <= 2 * s.sent + 10, `flows ${dp.flows_after} for ${s.sent} probes: a probe and its answer at most`);
      assert.ok(dp.new_flows >= s.delivered, `${dp.new_flows} flows set up for ${s.delivered} delivered probes`);
      assert.ok(dp.flow_setup_pps !== null && dp.flow_setup_pps > 0);
      // What was lost was lost at the switch: the kernel's drop count at ovs-vswitchd's packet
      // sockets (ss -0 -m) accounts for the probes the capture did not see.
      assert.ok(typeof dp.socket_drops === 'number', 'socket drops read');
      assert.ok(Math.abs(s.sent - s.delivered - dp.socket_drops!) <= 5, `${s.sent - s.delivered} probes lost, ${dp.socket_drops} dropped at the switch's sockets`);
    }
    // More probes, more flows: the warm-up's 100 probes vs a scan step's 2000.
    const warm = steps.find((s) => s.phase === 'warm-up')!;
    const scanStep = steps.find((s) => s.phase === 'throughput')!;
    assert.ok(scanStep.datapath!.flows_after > 10 * warm.datapath!.flows_after, `${scanStep.datapath!.flows_after} flows for ${scanStep.sent} probes vs ${warm.datapath!.flows_after} for ${warm.sent}`);

    // Datapath series (RRD, 1 s) and per-step samples in metrics.json.
    const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', jobId, 'metrics.json'), 'utf8')));
    for (const series of ['datapath.dp.flows', 'datapath.dp.missed', 'proc.agent.cpu_percent', 'proc.agent.rss_bytes']) {
      const info = execFileSync('rrdtool', ['info', art(`rrd/${series}.rrd`)]).toString();
      assert.match(info, /step = 1/);
      assert.ok(metrics.series.some((s) => s.metric === series && s.points.some(([, v]) => v !== null && v > 0)), `${series} has values in metrics.json`);
    }
    const flowsSeries = metrics.series.find((s) => s.metric === 'datapath.dp.flows')!;
    assert.ok(Math.max(...flowsSeries.points.map(([, v]) => v ?? 0)) >= 1000, 'the sampled datapath held the scan\'s flows');
    const setup = metrics.samples.filter((s) => s.metric === 'datapath.flow_setup' && s.labels['phase'] === 'throughput');
    assert.is(setup.length, 5);
    assert.ok(metrics.samples.some((s) => s.metric === 'agent.cpu' && s.labels['phase'] === 'throughput'), 'ovs-vswitchd CPU per step');
    assert.ok(metrics.samples.find((s) => s.metric === 'agent.rss.max')!.value > 1e6, 'RSS of ovs-vswitchd');

    // Teardown: nothing of the job is left, and it says so itself.
    assert.equal(leftovers(topology.prefix, topology.source_port), []);
    assert.is(JSON.parse(await readFile(art('teardown.json'), 'utf8')).clean, true);
  }
  assert.ok(seconds < 600, `sweep took ${seconds} s (a hang guard, not a speed target)`);
});

e2e.run();

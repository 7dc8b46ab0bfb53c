// The helper's generator table (remote-scripts/lib/traffic-*.sh), on this machine: the check phase
// refuses a generator that cannot run here, with the reason, before anything is set up; the
// scenario's params accept exactly the table's generators; and trafgen sends real probes between two
// namespaces these tests make (linux_bridge, per-test prefixes gt160*), through the helpers' own
// measured step (traffic_step: captures on both ends, counts and rates from the pcaps). A witness
// capture of the tests' own, read here with a pcap reader of their own, checks every probe: a TCP SYN
// with a valid checksum from the job's source port, destination ports 1..N in order per step.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobManifest, onlySweep, REPO, runCli } from '../e2e/cli-helpers.js';
import { labUp, type Lab } from '../lab/lab.js';
import { MidolmanParams } from '../../orchestrator/scenarios/midolman.js';
import { readSteps, type Step } from '../../orchestrator/scenarios/midolman/normalize.js';
import { commandsMissing, guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const generators = suite('midolman traffic generators');
const LIB = join(REPO, 'remote-scripts/lib');
const TOPOLOGY = join(REPO, 'topologies/linux_bridge.sh');
const SBIN_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';


const kernelHasPktgen = existsSync('/proc/net/pktgen');
// Real probes need root (namespaces, packet sockets), the generator, tc, tcpdump and nmap (the
// connectivity check's echo probe where ping is not installed).
const trafficMissing = await missingRequirement(needsRoot, () => commandsMissing('trafgen', 'tc', 'tcpdump', 'unshare', 'ip', 'nmap'));
const withTraffic = guardedSuite(generators, trafficMissing, 'the trafgen traffic tests');
const capsMissing = await missingRequirement(needsRoot, () => commandsMissing('trafgen', 'unshare', 'setpriv', 'tc'));
const withCaps = guardedSuite(generators, capsMissing, 'the trafgen refusal without CAP_NET_RAW');

function runPhase(phase: string, env: Record<string, string>, wrap: string[] = []): { code: number | null; stderr: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'midolman-gen-'));
  const helper = join(REPO, 'remote-scripts/midolman');
  const [cmd, ...args] = [...wrap, 'bash', helper, phase];
  const result = spawnSync(cmd!, args, {
    env: {
      PATH: process.env.PATH ?? SBIN_PATH,
      ORCH_BUNDLE: REPO,
      ORCH_JOB_DIR: join(dir, 'job'),
      ORCH_ARTIFACTS: join(dir, 'job/artifacts'),
      ORCH_TOPOLOGIES: join(REPO, 'topologies'),
      ORCH_SWEEP_ID: 'unit',
      ORCH_JOB_ID: 'generators',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ignore'],
    encoding: 'utf8',
  });
  return { code: result.status, stderr: result.stderr, dir };
}

/** The helper's generator table, as bash sees it. */
function helperTable(): string[] {
  const r = spawnSync(
    'bash',
    ['-c', 'set -euo pipefail; for f in common json events midolman-common midolman-topology traffic-pcap traffic-nmap traffic-pktgen traffic-common; do . "$1/$f.sh"; done; printf "%s\\n" "${!TRAFFIC_GENERATORS[@]}"', 'table', LIB],
    { encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

generators('params accept exactly the generators of the helper table', () => {
  const table = helperTable();
  assert.equal(table, ['nmap', 'pktgen', 'trafgen']);
  for (const name of table) assert.is(MidolmanParams.parse({ generator: name }).generator, name);
  assert.not.ok(MidolmanParams.safeParse({ generator: 'iperf' }).success);
  assert.not.ok(MidolmanParams.safeParse({ generator: 'Trafgen' }).success);
  assert.not.ok(MidolmanParams.safeParse({ inject_failure: 'throughput' }).success, 'no test-only failure switch');
});

// Exactly one of the two pktgen tests runs on a given kernel; the other is counted as skipped.
(kernelHasPktgen ? generators.skip : generators)('check refuses pktgen where the kernel has no /proc/net/pktgen, saying why, before anything is set up', () => {
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'pktgen' });
  try {
    assert.is(code, 1, stderr);
    assert.match(stderr, /traffic generator 'pktgen' cannot run: \/proc\/net\/pktgen does not exist on kernel \S+/);
    assert.match(stderr, /use generator: trafgen or nmap/);
    assert.equal(readdirSync(join(dir, 'job/artifacts')), [], 'no check.json: nothing recorded as checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

(kernelHasPktgen ? generators : generators.skip)('check refuses pktgen on a kernel that has it: this bundle has no pktgen sender', () => {
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'pktgen' });
  rmSync(dir, { recursive: true, force: true });
  assert.is(code, 1, stderr);
  assert.match(stderr, /traffic generator 'pktgen' cannot run: this bundle has no pktgen sender yet/);
});
if (!kernelHasPktgen) console.log('  skipped the pktgen-kernel refusal test: this kernel has no pktgen');
else console.log('  skipped the no-pktgen refusal test: this kernel has pktgen');

generators('check refuses a generator that is not in the table', () => {
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'iperf' });
  rmSync(dir, { recursive: true, force: true });
  assert.is(code, 1);
  assert.match(stderr, /unknown traffic generator 'iperf' \(known: /);
});

generators('check refuses trafgen when it is not installed, naming the package', () => {
  // A PATH with every tool of /usr/sbin except trafgen (and without /sbin, /usr/local/sbin).
  const dir = mkdtempSync(join(tmpdir(), 'midolman-gen-path-'));
  try {
    const sbin = join(dir, 'sbin');
    mkdirSync(sbin);
    for (const name of readdirSync('/usr/sbin')) if (name !== 'trafgen') symlinkSync(join('/usr/sbin', name), join(sbin, name));
    const { code, stderr, dir: job } = runPhase('check', { MIDOLMAN_GENERATOR: 'trafgen', PATH: `${sbin}:/usr/bin:/bin` });
    try {
      assert.is(code, 1, stderr);
      assert.match(stderr, /traffic generator 'trafgen' cannot run: trafgen is not installed \(Debian\/Ubuntu package netsniff-ng\)/);
      assert.equal(readdirSync(join(job, 'job/artifacts')), [], 'no check.json');
    } finally {
      rmSync(job, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

withCaps('check refuses trafgen when it cannot open an interface (no CAP_NET_RAW), with trafgen\'s own words', () => {
  // setpriv drops CAP_NET_RAW from the bounding set: root's children lose it, trafgen's packet
  // socket is refused by the kernel (not by this test).
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'trafgen', PATH: SBIN_PATH }, ['setpriv', '--bounding-set', '-net_raw', '--']);
  try {
    assert.is(code, 1, stderr);
    assert.match(stderr, /traffic generator 'trafgen' cannot run: trafgen cannot send here \(one probe on the loopback of a private network namespace, status 1\): .*(Operation not permitted|PF socket)/);
    assert.equal(readdirSync(join(dir, 'job/artifacts')), [], 'no check.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

withCaps('check passes for trafgen here and records it', () => {
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'trafgen', PATH: SBIN_PATH });
  try {
    assert.is(code, 0, stderr);
    const check = JSON.parse(readFileSync(join(dir, 'job/artifacts/check.json'), 'utf8'));
    assert.is(check.generator, 'trafgen');
    assert.ok(Number.isInteger(check.source_port));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Real probes: the helpers' libraries in one bash (no orchestrator, no lab), the linux_bridge
// topology in two namespaces, optionally shaped, then one traffic_step per "RATE COUNT" pair.

const HARNESS = String.raw`
set -euo pipefail
lib=$1 topo=$2
shift 2
for f in common json events midolman-common midolman-topology traffic-pcap traffic-nmap traffic-pktgen traffic-common; do
  # shellcheck source=/dev/null
  . "$lib/$f.sh"
done
mm_init
export TOPOLOGY_STATE_DIR=$MM_STATE/topology
mkdir -p -- "$TOPOLOGY_STATE_DIR"
mm_topology_source "$topo"
down() {
  mm_proc_stop generator TERM 2
  traffic_capture_stop capture-src capture-dst witness
  tear_down_topology || true
  mm_namespaces_down
}
trap down EXIT
mm_namespaces_up
setup_topology
mm_connectivity_check
mm_shape_apply
printf '%s\n' "$MM_SPORT" >"$ORCH_ARTIFACTS/sport"
traffic_bg witness ip netns exec "$MM_SRC_NS" tcpdump -i "$MM_SRC_IF" -Q out -n -s 96 -B 8192 -U --immediate-mode -w "$WITNESS" 2>"$WITNESS.log"
traffic_capture_wait "$WITNESS"
i=0
while (($# >= 2)); do
  i=$((i + 1))
  traffic_step throughput "$i" "$1" "$2"
  shift 2
done
traffic_capture_stop witness
`;

interface Burst {
  rate: number;
  count: number;
}

interface HarnessRun {
  code: number | null;
  stderr: string;
  steps: Step[];
  sport: number;
  probes: Probe[];
  jobDir: string;
}

let harnessCount = 0;

async function runTraffic(bursts: Burst[], env: Record<string, string> = {}, during?: (jobDir: string) => Promise<void>): Promise<HarnessRun> {
  const dir = mkdtempSync(join(tmpdir(), 'midolman-gen-traffic-'));
  const jobDir = join(dir, 'job');
  const artifacts = join(jobDir, 'artifacts');
  const witness = join(dir, 'witness.pcap');
  const prefix = `gt160${String.fromCharCode(97 + (harnessCount++ % 26))}`;
  try {
    const child = spawn('bash', ['-c', HARNESS, 'harness', LIB, TOPOLOGY, ...bursts.flatMap((b) => [String(b.rate), String(b.count)])], {
      env: {
        PATH: `${process.env.PATH ?? ''}:${SBIN_PATH}`,
        ORCH_JOB_DIR: jobDir,
        ORCH_ARTIFACTS: artifacts,
        MIDOLMAN_PREFIX: prefix,
        MIDOLMAN_GENERATOR: 'trafgen',
        WITNESS: witness,
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    if (during) {
      try {
        await during(jobDir);
      } catch (error) {
        child.kill('SIGTERM'); // its trap tears the namespaces down
        await exit;
        throw error;
      }
    }
    const code = await exit;
    const steps = existsSync(join(artifacts, 'steps.jsonl')) ? await readSteps(jobDir) : [];
    const sport = existsSync(join(artifacts, 'sport')) ? Number(readFileSync(join(artifacts, 'sport'), 'utf8')) : NaN;
    const probes = existsSync(witness) ? readProbes(readFileSync(witness)) : [];
    // Nothing of the job is left on this kernel.
    assert.equal(readdirSync('/run/netns').filter((n) => n.startsWith(prefix)), [], 'namespaces left');
    assert.equal(readdirSync('/sys/class/net').filter((n) => n.startsWith(prefix)), [], 'links left');
    return { code, stderr, steps, sport, probes, jobDir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Probe {
  sport: number;
  dport: number;
  flags: number;
  frameBytes: number;
  ttl: number;
  checksumOk: boolean;
}

/** IPv4 TCP segments of an Ethernet pcap (tcpdump -w, microsecond timestamps), with their checksum checked. */
function readProbes(buf: Buffer): Probe[] {
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  assert.ok(magic === 0xa1b2c3d4 || magic === 0xa1b23c4d, `pcap magic ${magic.toString(16)}`);
  assert.is(buf.readUInt32LE(20), 1, 'Ethernet link type');
  const out: Probe[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const incl = buf.readUInt32LE(off + 8);
    const orig = buf.readUInt32LE(off + 12);
    const p = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (p.length < 34 || p.readUInt16BE(12) !== 0x0800 || p[23] !== 6) continue;
    const ihl = (p[14]! & 0x0f) * 4;
    const ipLen = p.readUInt16BE(16);
    const tcp = 14 + ihl;
    if (p.length < 14 + ipLen) continue; // truncated by the snap length: no checksum to check
    const segment = p.subarray(tcp, 14 + ipLen);
    // TCP checksum over the pseudo-header (source, destination, protocol, length) and the segment.
    let sum = 0;
    const add16 = (v: number) => (sum += v);
    for (let i = 0; i < 8; i += 2) add16(p.readUInt16BE(26 + i));
    add16(6);
    add16(segment.length);
    for (let i = 0; i + 1 < segment.length; i += 2) add16(segment.readUInt16BE(i));
    if (segment.length % 2) add16(segment[segment.length - 1]! << 8);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    out.push({
      sport: segment.readUInt16BE(0),
      dport: segment.readUInt16BE(2),
      flags: segment[13]!,
      frameBytes: orig,
      ttl: p[22]!,
      checksumOk: sum === 0xffff,
    });
  }
  return out;
}

function expectedPorts(bursts: Burst[]): number[] {
  return bursts.flatMap((b) => Array.from({ length: b.count }, (_, i) => i + 1));
}

withTraffic('trafgen: exact probe counts, every probe a new flow, the requested rate held, delivered counted at the destination', async () => {
  const bursts: Burst[] = [
    { rate: 1000, count: 1500 },
    { rate: 3000, count: 3000 },
    { rate: 6000, count: 6000 },
  ];
  const run = await runTraffic(bursts);
  assert.is(run.code, 0, run.stderr);
  assert.is(run.steps.length, bursts.length);

  // The witness: every probe a TCP SYN (no other flag) with a valid checksum, from the job's one
  // source port, 58-byte frames like nmap's; destination ports 1..N in order per burst, each once.
  const probes = run.probes.filter((p) => p.sport === run.sport);
  assert.equal(probes.map((p) => p.dport), expectedPorts(bursts), 'destination ports 1..N per burst, in order, each once');
  assert.ok(probes.every((p) => p.flags === 0x02), 'SYN only');
  assert.ok(probes.every((p) => p.checksumOk), 'TCP checksums valid (trafgen rewrites them per port)');
  assert.ok(probes.every((p) => p.frameBytes === 58 && p.ttl === 64), 'frames of nmap\'s size');

  const lines: string[] = [];
  for (const [i, s] of run.steps.entries()) {
    const b = bursts[i]!;
    const ratio = s.achieved_pps / b.rate;
    lines.push(`${b.rate} pps x ${b.count}: achieved ${s.achieved_pps.toFixed(0)} (${(ratio * 100).toFixed(1)}%), delivered ${s.delivered}, p50 ${s.latency_ns.p50} ns`);
    assert.is(s.generator, 'trafgen');
    assert.is(s.offered_pps, b.rate);
    assert.is(s.probes, b.count);
    assert.is(s.sent, b.count, 'every probe left the source (source capture)');
    assert.is(s.delivered, b.count, 'every probe reached the destination (destination capture)');
    assert.is(s.loss, 0);
    // Paced: not a burst at line rate (trafgen --rate would be), not slowed by per-packet sleeps
    // (--gap would be). The upper margin covers the pacer's 10 ms bucket; the lower one a busy machine.
    assert.ok(ratio > 0.9 && ratio < 1.05, `achieved ${s.achieved_pps} pps for ${b.rate} requested`);
    const report = s.generator_report as { tool: string; packets: number; bytes: number; duration_s: number; pacer: { rate_pps: number; drops: number }; probe: { source_port: number; last_port: number } };
    assert.is(report.tool, 'trafgen');
    assert.is(report.packets, b.count, "trafgen's own count");
    assert.is(report.bytes, b.count * 58);
    assert.is(report.probe.source_port, run.sport);
    assert.is(report.probe.last_port, b.count);
    assert.is(report.pacer.rate_pps, b.rate);
    assert.is(report.pacer.drops, 0);
    // trafgen's own clock: from its first write to its last one accepted (the pacer still held
    // the last socket buffer's worth then), so at most the burst's time and most of it.
    assert.ok(report.duration_s > (b.count / b.rate) * 0.5 && report.duration_s < (b.count / b.rate) * 1.2, `trafgen's duration ${report.duration_s} s`);
  }
  console.log(`  trafgen, unshaped:\n    ${lines.join('\n    ')}`);
  const achieved = run.steps.map((s) => s.achieved_pps);
  assert.ok(achieved[0]! < achieved[1]! && achieved[1]! < achieved[2]!, 'rates follow the request');
});

withTraffic('trafgen through a shaped path gives the known loss: 1 in 16 below the knee, the shaped rate past it', async () => {
  const SHAPE_PPS = 3000;
  const bursts: Burst[] = [
    { rate: 1500, count: 3000 },
    { rate: 6000, count: 6000 },
  ];
  const run = await runTraffic(bursts, { MIDOLMAN_SHAPE_RATE_PPS: String(SHAPE_PPS), MIDOLMAN_SHAPE_DROP_ONE_IN: '16' });
  assert.is(run.code, 0, run.stderr);
  const [below, past] = run.steps;
  console.log(`  trafgen, shaped ${SHAPE_PPS} pps and 1 in 16 dropped: ${run.steps.map((s) => `${s.offered_pps} pps -> delivered ${s.delivered_pps.toFixed(0)}, loss ${s.loss.toFixed(4)}`).join('; ')}`);
  for (const s of run.steps) assert.is(s.sent, s.probes, 'shaping is on the destination side: every probe left the source');
  assert.ok(Math.abs(below!.loss - 1 / 16) < 0.02, `loss ${below!.loss} at 1500 pps, expected 1/16 +- 0.02`);
  // Past the knee the destination gets the shaped rate (plus the class's 20-probe bucket and 50-probe queue).
  assert.ok(Math.abs(past!.delivered_pps - SHAPE_PPS) / SHAPE_PPS < 0.15, `delivered ${past!.delivered_pps} pps past the knee, shaped at ${SHAPE_PPS}`);
  assert.ok(past!.loss > 0.4, `loss ${past!.loss} at twice the shaped rate`);
});

withTraffic('a trafgen killed mid-burst fails the step, and none of its processes is left', async () => {
  const run = await runTraffic([{ rate: 300, count: 6000 }], {}, async (jobDir) => {
    const pidFile = join(jobDir, 'midolman/pids/generator');
    const deadline = Date.now() + 30_000;
    while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(pidFile), 'the generator was recorded');
    await new Promise((r) => setTimeout(r, 500));
    const pid = Number(readFileSync(pidFile, 'utf8').split(' ')[0]);
    // trafgen forks its sender: the recorded PID is its parent; only that one is killed here.
    process.kill(pid, 'SIGKILL');
  });
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, /traffic generator 'trafgen' \(pid \d+\) was killed by SIGKILL mid-burst: the step is not recorded/);
  assert.equal(run.steps, [], 'no step recorded');
  const left: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes('trafgen') && cmd.includes(run.jobDir)) left.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  assert.equal(left, [], 'trafgen processes left');
});

// ---------------------------------------------------------------------------------------------
// Through the orchestrator: a real sweep on one lab host (real sshd on 127.66.161.x) with
// generator: trafgen in the inventory, as a user would run it.

const labMissing = trafficMissing ?? (existsSync('/usr/sbin/sshd') ? null : 'sshd not installed (bash test/install-deps.sh)');
const withLab = guardedSuite(generators, labMissing, 'the trafgen sweep on the lab');

withLab('a sweep with generator: trafgen measures its steps through the orchestrator and records trafgen\'s report', async () => {
  const work = mkdtempSync(join(tmpdir(), 'midolman-gen-lab-'));
  let lab: Lab | undefined;
  try {
    lab = await labUp({ subnet: 161, hosts: 1, dir: join(work, 'lab'), reports: false });
    const results = join(work, 'results');
    const inventory = await lab.writeInventory({
      file: join(work, 'inventory.yaml'),
      resultsDir: results,
      scenarios: {
        midolman: {
          topology: 'linux_bridge',
          generator: 'trafgen',
          heap_dump: false,
          overrides: {
            THROUGHPUT_SCAN_START_RATE: 2000,
            THROUGHPUT_SCAN_STEP: 3000,
            THROUGHPUT_SCAN_MAX_RATE: 5000,
            THROUGHPUT_SCAN_BURST: 4000,
            THROUGHPUT_SCAN_PAUSE_SECONDS: 0,
            WARMUP_ITERATIONS: 1,
            WARMUP_BURST: 200,
            WARMUP_RATE: 200,
            WARMUP_SETTLE_SECONDS: 0,
            LONG_RUNNING_SCAN_ITERATIONS: 0,
          },
        },
      },
      defaults: { retries: 0 },
      hostExtra: { 'lab-01': { profile: 'lab-smoke' } },
    });
    const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
    assert.is(code, 0, `${stdout}\n${stderr}`);
    const { dir } = await onlySweep(results);
    const manifest = await jobManifest(dir, 'lab-01--midolman');
    assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
    const raw = join(dir, 'jobs/lab-01--midolman/raw');
    assert.is(JSON.parse(readFileSync(join(raw, 'artifacts/check.json'), 'utf8')).generator, 'trafgen');
    const steps = await readSteps(raw);
    assert.equal(steps.map((s) => [s.phase, s.offered_pps, s.probes]), [
      ['warm-up', 200, 200],
      ['throughput', 2000, 4000],
      ['throughput', 5000, 4000],
    ]);
    for (const s of steps) {
      assert.is(s.generator, 'trafgen');
      assert.is(s.sent, s.probes);
      assert.is(s.delivered, s.probes);
      assert.ok(s.achieved_pps / s.offered_pps > 0.9 && s.achieved_pps / s.offered_pps < 1.05, `achieved ${s.achieved_pps} for ${s.offered_pps}`);
      const report = s.generator_report as { tool: string; packets: number };
      assert.is(report.tool, 'trafgen');
      assert.is(report.packets, s.probes);
    }
    const metrics = JSON.parse(readFileSync(join(dir, 'jobs/lab-01--midolman/metrics.json'), 'utf8')) as { samples: { metric: string; value: number }[] };
    assert.ok(metrics.samples.some((m) => m.metric.startsWith('throughput.')), 'throughput metrics normalized');
  } finally {
    await lab?.down();
    rmSync(work, { recursive: true, force: true });
  }
});

generators.run();

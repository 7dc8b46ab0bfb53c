// normalize() of the midolman scenario on small fixture artifacts, and phases() resolution.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeMidolman, MidolmanArtifactError } from '../../orchestrator/scenarios/midolman/normalize.js';
import { midolmanScenario } from '../../orchestrator/scenarios/midolman.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { REPO } from '../e2e/cli-helpers.js';
import type { HostSpec } from '../../orchestrator/inventory/types.js';

const t = suite('midolman normalize');
let dir: string;

const step = (phase: string, index: number, offered: number, sent: number, delivered: number, p50: number) => ({
  phase, index, generator: 'nmap', mode: 'linear', t_start: 1000 + index * 2, t_end: 1001 + index * 2,
  offered_pps: offered, probes: sent, sent, delivered, send_duration_s: sent / offered, achieved_pps: offered,
  delivered_pps: (delivered / sent) * offered, loss: 1 - delivered / sent,
  latency_ns: { count: delivered, min: 1000, mean: p50, p50, p90: p50 * 2, p99: p50 * 3, max: p50 * 4 },
  link: { src_tx_packets: sent, dst_rx_packets: delivered }, generator_report: { elapsed_s: 1, closed: delivered, filtered: sent - delivered },
});

const xport = (start: number, values: (number | null)[]) => ({
  about: 'RRDtool graph JSON output',
  meta: { start, end: start + values.length, step: 1, legend: ['average', 'min', 'max'] },
  data: values.map((v) => [v, v, v]),
});

t.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mm-normalize-'));
  await mkdir(join(dir, 'artifacts', 'rrd'), { recursive: true });
});
t.after.each(async () => rm(dir, { recursive: true, force: true }));

async function fixture(steps: object[], extra: Record<string, unknown> = {}, tail = '') {
  await writeFile(join(dir, 'artifacts', 'steps.jsonl'), steps.map((s) => JSON.stringify(s)).join('\n') + '\n' + tail);
  for (const [name, value] of Object.entries(extra)) await writeFile(join(dir, 'artifacts', name), JSON.stringify(value));
}

t('per-step samples, lossless maximum, knee, long-running latency; warm-up ignored; torn last line skipped', async () => {
  await fixture(
    [step('warm-up', 1, 100, 100, 50, 9), step('throughput', 1, 1000, 1000, 1000, 5000), step('throughput', 2, 2000, 1000, 1000, 6000),
     step('throughput', 3, 3000, 1000, 700, 9e6), step('long-running', 1, 1500, 500, 500, 4000), step('long-running', 2, 1500, 500, 490, 4200)],
    {},
    '{"phase":"long-run',
  );
  const m = await normalizeMidolman(dir);
  MetricsFileSchema.parse({ schema: 'orchestrate/metrics@1', ...m });
  const get = (metric: string, labels: Record<string, string> = {}) =>
    m.samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.is(get('throughput.lossless_max')?.value, 2000);
  assert.is(get('throughput.lossless_max')?.better, 'higher');
  assert.is(get('throughput.delivered_max')?.value, 2100);
  assert.is(get('traffic.loss', { step: '3' })?.value.toFixed(2), '0.30');
  assert.is(get('traffic.loss', { step: '3' })?.better, 'lower');
  assert.is(get('latency.oneway.p99', { step: '1', phase: 'throughput' })?.value, 15000);
  assert.is(get('long_running.loss')?.value.toFixed(3), '0.010');
  assert.ok(get('long_running.latency.p50'));
  assert.not.ok(m.samples.some((s) => s.labels['phase'] === 'warm-up'));
  assert.equal(m.series.find((s) => s.metric === 'traffic.delivered')?.points.length, 5);
});

t('a lossless tolerance (ndr_loss) and the NDR result', async () => {
  const best = step('throughput', 3, 2200, 1000, 950, 5000);
  await fixture([step('throughput', 1, 3000, 1000, 700, 1), best], { 'ndr.json': { mode: 'ndr', loss_threshold: 0.1, resolution_pps: 100, trials: 2, ndr_pps: 2200, found: true, best_step: best } });
  const m = await normalizeMidolman(dir, { losslessLoss: 0.1 });
  assert.is(m.samples.find((s) => s.metric === 'throughput.ndr')?.value, 2200);
  assert.is(m.samples.find((s) => s.metric === 'throughput.lossless_max')?.value, 2200);
});

t('RRD exports become series with units; CPU, RSS, heap peaks and means; heap dump size', async () => {
  await fixture([step('throughput', 1, 1000, 10, 10, 1)], {
    'rrd/index.json': {
      step: 1, heartbeat: 400,
      series: [
        { collector: 'proc', alias: 'agent.cpu_percent', type: 'GAUGE', rrd: 'rrd/proc.agent.cpu_percent.rrd', json: 'rrd/proc.agent.cpu_percent.json' },
        { collector: 'proc', alias: 'agent.rss_bytes', type: 'GAUGE', rrd: 'rrd/proc.agent.rss_bytes.rrd', json: 'rrd/proc.agent.rss_bytes.json' },
        { collector: 'jmx', alias: 'jvm.heap.used', type: 'GAUGE', rrd: 'rrd/jmx.jvm.heap.used.rrd', json: 'rrd/jmx.jvm.heap.used.json' },
        { collector: 'jmx', alias: 'packets_processed', type: 'COUNTER', rrd: 'rrd/jmx.packets_processed.rrd', json: 'rrd/jmx.packets_processed.json' },
      ],
    },
    'rrd/proc.agent.cpu_percent.json': xport(100, [null, 10, 30, 20]),
    'rrd/proc.agent.rss_bytes.json': xport(100, [5e7, 6e7]),
    'rrd/jmx.jvm.heap.used.json': xport(100, [1e6, 3e6]),
    'rrd/jmx.packets_processed.json': xport(100, [400, 500]),
    'heapdump.json': { pid: 1, tool: 'jcmd', file: 'heap/agent-1.hprof.gz', hprof_bytes: 123456, bytes: 999, sha256: 'a'.repeat(64), seconds: 1 },
  });
  const m = await normalizeMidolman(dir);
  const cpu = m.series.find((s) => s.metric === 'proc.agent.cpu_percent')!;
  assert.equal(cpu.points, [[100, null], [101, 10], [102, 30], [103, 20]]);
  assert.is(cpu.unit, '%');
  assert.is(m.series.find((s) => s.metric === 'jmx.packets_processed')?.unit, 'pps');
  const get = (metric: string) => m.samples.find((s) => s.metric === metric)?.value;
  assert.is(get('agent.cpu.mean'), 20);
  assert.is(get('agent.cpu.max'), 30);
  assert.is(get('agent.rss.max'), 6e7);
  assert.is(get('agent.heap.used.max'), 3e6);
  assert.is(get('agent.packets_processed.max'), 500);
  assert.is(get('heap_dump.hprof_bytes'), 123456);
});

t('artifacts from the host are validated', async () => {
  await fixture([{ ...step('throughput', 1, 1000, 10, 10, 1), loss: 7 }, step('throughput', 2, 1000, 10, 10, 1)]);
  try {
    await normalizeMidolman(dir);
    assert.unreachable('accepted a loss of 7');
  } catch (error) {
    assert.instance(error, MidolmanArtifactError);
    assert.match((error as Error).message, /steps\.jsonl:1: loss/);
  }
  await fixture([step('throughput', 1, 1000, 10, 10, 1)], { 'rrd/index.json': { step: 1, heartbeat: 400, series: [{ collector: 'jmx', alias: 'x', type: 'GAUGE', rrd: 'r', json: '../../etc/passwd' }] } });
  const rejected = await normalizeMidolman(dir).then(() => false, () => true);
  assert.ok(rejected, "a json path outside rrd/ is refused");
});

t("per step, the agent's CPU, simulation latency and processed rate over the step's window; p99 and CPU per kpps at the lossless max", async () => {
  // steps 1000..1003 s and 1004..1006 s; RRD points stamped at the end of each second
  const s1 = { ...step('throughput', 1, 1000, 1000, 1000, 5000), t_start: 1000.2, t_end: 1003.1 };
  const s2 = { ...step('throughput', 2, 2000, 1000, 900, 9000), t_start: 1004.2, t_end: 1006.1 };
  const lr = { ...step('long-running', 1, 1500, 500, 500, 4000), t_start: 1008.2, t_end: 1009.1 };
  const cpu = [null, 2, 4, 6, 8, 30, 30, 30, 1, 10, 10, 1];
  await fixture([s1, s2, lr], {
    'rrd/index.json': {
      step: 1, heartbeat: 400,
      series: [
        { collector: 'proc', alias: 'agent.cpu_percent', type: 'GAUGE', rrd: 'r', json: 'rrd/cpu.json' },
        { collector: 'jmx', alias: 'sim_latency.p99', type: 'GAUGE', rrd: 'r', json: 'rrd/sim.json' },
      ],
    },
    'rrd/cpu.json': xport(1000, cpu),
    'rrd/sim.json': xport(1000, cpu.map((v) => (v === null ? null : v * 1000))),
  });
  const m = await normalizeMidolman(dir);
  const get = (metric: string, labels: Record<string, string> = {}) =>
    m.samples.filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  // step 1 (1000.2-1003.1 s): the points after its start up to one interval past its end, 1001..1004 s: 2, 4, 6, 8
  assert.equal(get('agent.cpu', { phase: 'throughput', step: '1' }).map((s) => s.value), [5]);
  assert.equal(get('agent.cpu', { phase: 'throughput', step: '1' })[0]!.labels, { phase: 'throughput', step: '1', offered_pps: '1000', mode: 'linear' });
  assert.equal(get('agent.simulation_latency.p99', { step: '2' }).map((s) => s.value), [30_000]);
  assert.equal(get('agent.cpu', { phase: 'long-running' }).map((s) => s.value), [10]);
  assert.equal(get('agent.packets_processed'), [], 'no such series, no such samples');
  // the lossless maximum is step 1 (1000 pps, nothing lost): its p99 and CPU per 1000 pps delivered
  assert.equal(get('throughput.latency.oneway.p99').map((s) => [s.value, s.labels]), [[15_000, { at: 'lossless_max' }]]);
  const perKpps = get('throughput.agent.cpu_per_kpps');
  assert.equal(perKpps.map((s) => [s.value, s.unit, s.better, s.labels]), [[5, '%/kpps', 'lower', { at: 'lossless_max' }]]);
});

t('with an NDR found, the headline latency and CPU are read at the NDR step; without a lossless step there are none', async () => {
  const best = { ...step('throughput', 2, 2200, 1000, 995, 7000), t_start: 1002.5, t_end: 1003.4 };
  await fixture([{ ...step('throughput', 1, 3000, 1000, 700, 1), t_start: 1000.5, t_end: 1001.4 }, best], {
    'ndr.json': { mode: 'ndr', loss_threshold: 0.01, resolution_pps: 100, trials: 2, ndr_pps: 2200, found: true, best_step: best },
    'rrd/index.json': { step: 1, heartbeat: 400, series: [{ collector: 'proc', alias: 'agent.cpu_percent', type: 'GAUGE', rrd: 'r', json: 'rrd/cpu.json' }] },
    'rrd/cpu.json': xport(1000, [1, 1, 1, 22, 22, 1]),
  });
  const m = await normalizeMidolman(dir, { losslessLoss: 0.01 });
  const at = m.samples.filter((s) => s.metric.startsWith('throughput.') && s.labels['at']);
  assert.equal(at.map((s) => [s.metric, s.labels['at']]), [['throughput.latency.oneway.p99', 'ndr'], ['throughput.agent.cpu_per_kpps', 'ndr']]);
  assert.is(at[0]!.value, 21_000);
  assert.is(at[1]!.value.toFixed(2), (22 / (best.delivered_pps / 1000)).toFixed(2));
  await rm(join(dir, 'artifacts', 'ndr.json'));
  await fixture([{ ...step('throughput', 1, 3000, 1000, 700, 1), t_start: 1000.5, t_end: 1001.4 }]);
  const lossy = await normalizeMidolman(dir);
  assert.not.ok(lossy.samples.some((s) => s.labels['at']), 'no step qualifies: no headline at a rate');
});

t('phases: profile files resolved file by file from profiles_dir, overrides, teardown always, heap dump skippable', () => {
  const host = { name: 'h', profile: 'lab-smoke', profileChoice: { reason: 'default' }, vars: {}, varPositions: {}, scenarios: [], position: { file: 'lab.yaml', line: 1, column: 1 } } as unknown as HostSpec;
  const profilesDir = join(REPO, 'inventory/profiles.d');
  const phases = midolmanScenario.phases({ host, profilesDir, params: { overrides: { THROUGHPUT_SCAN_MAX_RATE: 1500 }, heap_dump: false } });
  assert.equal(phases.map((p) => p.name), ['check', 'cleanup', 'profile', 'install', 'build-info', 'topology', 'collectors-start', 'warm-up', 'throughput', 'long-running', 'collectors-stop', 'teardown']);
  assert.ok(phases.at(-1)!.always);
  const env = phases[0]!.env!;
  assert.is(env['MIDOLMAN_PROFILE_PERFTESTS_FROM'], 'lab-smoke/perftests.conf');
  assert.is(env['MIDOLMAN_PROFILE_MBEANS_FROM'], 'default/jmx-mbeans-midolman-1.x.conf');
  assert.match(env['MIDOLMAN_KNOBS']!, /^THROUGHPUT_SCAN_MAX_RATE=1500\toverrides\t/m);
  assert.is(env['MIDOLMAN_TOPOLOGY'], 'linux_bridge');
  assert.not.ok(midolmanScenario.params.safeParse({ shape: { drop_one_in: 12 } }).success, 'drop_one_in must be a power of two');
  assert.not.ok(midolmanScenario.params.safeParse({ overrides: { NOT_A_KNOB: 1 } }).success);
});

t('a switch with a datapath (ovs_*): per-step new flows and flow-setup rate, where loss begins and the setup rate there, datapath series units; a skipped heap dump is no error', async () => {
  const withDp = (s: ReturnType<typeof step>, flows: number, seconds: number, lost = 0) => ({
    ...s,
    send_duration_s: seconds,
    datapath: { flows_before: 0, flows_after: flows, hit: 0, missed: flows + lost, lost, new_flows: flows, flow_setup_pps: flows / seconds },
  });
  await fixture(
    [withDp(step('warm-up', 1, 100, 100, 100, 9), 200, 1), withDp(step('throughput', 1, 1000, 2000, 2000, 5000), 4000, 2),
     withDp(step('throughput', 2, 2000, 2000, 2000, 6000), 4000, 1), withDp(step('throughput', 3, 3000, 2000, 1800, 9e6), 3600, 0.66, 200),
     { ...step('throughput', 4, 4000, 2000, 1500, 9e6), datapath: null }],
    { 'heapdump.json': { pid: 42, skipped: true, reason: 'the agent (/usr/lib/openvswitch-switch/ovs-vswitchd) is not a JVM' } },
  );
  await writeFile(join(dir, 'artifacts', 'rrd', 'index.json'), JSON.stringify({ step: 1, heartbeat: 400, series: [{ collector: 'datapath', alias: 'dp.flows', type: 'GAUGE', rrd: 'rrd/datapath.dp.flows.rrd', json: 'rrd/datapath.dp.flows.json' }, { collector: 'datapath', alias: 'dp.missed', type: 'COUNTER', rrd: 'rrd/datapath.dp.missed.rrd', json: 'rrd/datapath.dp.missed.json' }] }));
  await writeFile(join(dir, 'artifacts', 'rrd', 'datapath.dp.flows.json'), JSON.stringify(xport(1000, [0, 4000, 3600, null])));
  await writeFile(join(dir, 'artifacts', 'rrd', 'datapath.dp.missed.json'), JSON.stringify(xport(1000, [0, 2000, 3800, 0])));
  const m = await normalizeMidolman(dir);
  MetricsFileSchema.parse({ schema: 'orchestrate/metrics@1', ...m });
  const at = (metric: string, stepNo: number) => m.samples.find((x) => x.metric === metric && x.labels['phase'] === 'throughput' && x.labels['step'] === String(stepNo))?.value;
  assert.is(at('datapath.flow_setup', 1), 2000);
  assert.is(at('datapath.new_flows', 3), 3600);
  assert.is(at('datapath.lost', 3), 200);
  assert.is(at('datapath.flows', 2), 4000);
  assert.is(at('datapath.flow_setup', 4), undefined, 'a failed read leaves the step without datapath samples');
  assert.not.ok(m.samples.some((x) => x.metric.startsWith('datapath.') && x.labels['phase'] === 'warm-up'));
  const one = (metric: string) => m.samples.find((x) => x.metric === metric);
  assert.is(one('throughput.loss_onset')?.value, 3000);
  assert.is(one('datapath.flow_setup.lossless_max')?.value, 4000, 'the setup rate at the last lossless step');
  assert.ok(Math.abs(one('datapath.flow_setup.at_loss_onset')!.value - 3600 / 0.66) < 1e-6);
  assert.is(one('datapath.flows.max')?.value, 4000);
  assert.is(one('heap_dump.hprof_bytes'), undefined);
  const flows = m.series.find((x) => x.metric === 'datapath.dp.flows')!;
  assert.equal([flows.unit, flows.better], ['flows', 'none']);
  assert.is(m.series.find((x) => x.metric === 'datapath.dp.missed')!.unit, 'upcalls/s');
  assert.equal(m.series.find((x) => x.metric === 'datapath.flow_setup')!.points.map(([, v]) => v), [2000, 4000, 3600 / 0.66]);
});

t.run();

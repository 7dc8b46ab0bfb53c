// The midolman scenario's adaptive repetitions on the orchestrator's side: the `repeat` params,
// what the throughput phase is told (rule, budget) and its time limit, and normalize turning a
// repeated step's bursts into repeated samples of one key, the step's verdicts into means, and its
// loop's record into repeat.* samples and the job's repeats.json.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeMidolman, MidolmanArtifactError } from '../../orchestrator/scenarios/midolman/normalize.js';
import { midolmanScenario, REPEAT_RESERVE_S } from '../../orchestrator/scenarios/midolman.js';
import { MidolmanParams } from '../../orchestrator/scenarios/midolman/params.js';
import { meanInterval } from '../../orchestrator/analysis/confidence-interval.js';
import { REPO } from '../e2e/cli-helpers.js';
import type { HostSpec } from '../../orchestrator/inventory/types.js';

const t = suite('midolman repeat');
let job: string;
let raw: string;

const burst = (index: number, repetition: number | undefined, offered: number, delivered: number, loss: number, t0: number) => ({
  phase: 'throughput', index, ...(repetition !== undefined ? { repetition } : {}), generator: 'nmap', mode: 'linear', t_start: t0, t_end: t0 + 0.9,
  offered_pps: offered, probes: 100, sent: 100, delivered: Math.round(100 * (1 - loss)), send_duration_s: 0.9, achieved_pps: offered,
  delivered_pps: delivered, loss, latency_ns: { count: 90, min: 1, mean: 2, p50: 2, p90: 3, p99: 4000 + repetition! * 1000, max: 5 },
  link: { src_tx_packets: 100, dst_rx_packets: 100 }, generator_report: null,
});

const record = (index: number, offered: number, values: number[], stop: string) => {
  const ci = meanInterval(values);
  return {
    phase: 'throughput', index, offered_pps: offered, metric: 'delivered_pps', repetitions: values.length, min: 2, max: 4, target_ci: 0.02,
    n: values.length, values, mean: ci.mean, sd: ci.sd, ci_half_width: Number.isFinite(ci.halfWidth) ? ci.halfWidth : null,
    ci_relative: Number.isFinite(ci.relative) ? ci.relative : null, target_met: stop === 'target', stop, seconds: 12.5,
  };
};

const xport = (start: number, values: (number | null)[]) => ({
  about: 'RRDtool graph JSON output',
  meta: { start, end: start + values.length, step: 1, legend: ['average', 'min', 'max'] },
  data: values.map((v) => [v, v, v]),
});

t.before.each(async () => {
  job = await mkdtemp(join(tmpdir(), 'mm-repeat-'));
  raw = join(job, 'raw');
  await mkdir(join(raw, 'artifacts', 'rrd'), { recursive: true });
});
t.after.each(async () => rm(job, { recursive: true, force: true }));

async function artifacts(files: Record<string, unknown>) {
  for (const [name, value] of Object.entries(files)) {
    const text = Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join('\n') + '\n' : JSON.stringify(value);
    await writeFile(join(raw, 'artifacts', name), text);
  }
}

t('repeated bursts are repeated samples of the step\'s key; lossless and maxima read the means; the loops become repeat.* samples and repeats.json', async () => {
  // step 1: 1000 pps twice, lossless; step 2: 2000 pps, one burst lost 2% (mean 1% > 0): not lossless;
  // step 3 lost all but one burst: the max delivered is of the means
  const steps = [
    burst(1, 1, 1000, 1000, 0, 1000), burst(1, 2, 1000, 990, 0, 1002),
    burst(2, 1, 2000, 2000, 0, 1004), burst(2, 2, 2000, 1960, 0.02, 1006), burst(2, 3, 2000, 1990, 0, 1008),
    burst(3, 1, 3000, 3000, 0.0, 1010), burst(3, 2, 3000, 1500, 0.5, 1012),
  ];
  await artifacts({
    'steps.jsonl': steps,
    'repeats.jsonl': [record(1, 1000, [1000, 990], 'target'), record(2, 2000, [2000, 1960, 1990], 'deadline'), record(3, 3000, [3000, 1500], 'max')],
    'rrd/index.json': { step: 1, heartbeat: 400, series: [{ collector: 'proc', alias: 'agent.cpu_percent', type: 'GAUGE', rrd: 'r', json: 'rrd/cpu.json' }] },
    // bursts of step 1 at 1000-1000.9 and 1002-1002.9: points 1001 (10) and 1003 (30); the pause between (1002: 90) is not the step's
    'rrd/cpu.json': xport(1000, [null, 10, 90, 30, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50]),
  });
  const m = await normalizeMidolman(raw);
  const of = (metric: string, labels: Record<string, string> = {}) => m.samples.filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const delivered2 = of('traffic.delivered', { step: '2' });
  assert.equal(delivered2.map((s) => s.value), [2000, 1960, 1990], 'one sample per burst');
  assert.equal(new Set(delivered2.map((s) => JSON.stringify(s.labels))).size, 1, 'all with the step\'s labels (no repetition label): one key');
  assert.equal(delivered2[0]!.labels, { phase: 'throughput', step: '2', offered_pps: '2000', mode: 'linear' });
  assert.is(of('traffic.loss', { step: '2' }).length, 3);
  assert.is(of('throughput.lossless_max')[0]!.value, 1000, 'step 2 loses 0.67% on average: not lossless');
  assert.is(of('throughput.delivered_max')[0]!.value, 2250, 'the highest of the steps\' means (995, 1983.3, 2250), not of the bursts (3000)');
  // the reference step (lossless max, step 1): p99 the bursts' mean, CPU of the bursts' windows only
  assert.equal(of('throughput.latency.oneway.p99').map((s) => s.value), [5500]);
  assert.equal(of('throughput.agent.cpu_per_kpps').map((s) => s.value), [20 / 0.995]);
  // the loops
  const reps = of('repeat.repetitions');
  assert.equal(reps.map((s) => [s.labels['step'], s.value]), [['1', 2], ['2', 3], ['3', 2]]);
  assert.equal(reps[0]!.labels, { phase: 'throughput', step: '1', offered_pps: '1000', mode: 'linear', measure: 'delivered_pps' });
  assert.equal(of('repeat.target_met').map((s) => s.value), [1, 0, 0]);
  assert.equal(of('repeat.deadline').map((s) => s.value), [0, 1, 0]);
  const ci2 = meanInterval([2000, 1960, 1990]);
  assert.ok(Math.abs(of('repeat.ci_relative', { step: '2' })[0]!.value - ci2.relative) < 1e-12);
  assert.equal(of('repeat.ci_half_width', { step: '2' }).map((s) => [s.unit, Number(s.value.toFixed(6))]), [['pps', Number(ci2.halfWidth.toFixed(6))]]);
  const summary = JSON.parse(await readFile(join(job, 'repeats.json'), 'utf8'));
  assert.equal(summary.steps.map((r: { index: number; stop: string; values: number[] }) => [r.index, r.stop, r.values]), [[1, 'target', [1000, 990]], [2, 'deadline', [2000, 1960, 1990]], [3, 'max', [3000, 1500]]]);
});

t('without repetitions nothing changes: no repeat samples, no repeats.json, the last lossless step is the reference', async () => {
  await artifacts({ 'steps.jsonl': [burst(1, undefined, 1000, 1000, 0, 1000), burst(2, undefined, 2000, 2000, 0, 1002)] });
  const m = await normalizeMidolman(raw);
  assert.not.ok(m.samples.some((s) => s.metric.startsWith('repeat.')));
  assert.is(m.samples.find((s) => s.metric === 'throughput.lossless_max')!.value, 2000);
  assert.ok(await readFile(join(job, 'repeats.json')).then(() => false, () => true), 'no repeats.json');
});

t('a repeat record from the host is validated', async () => {
  await artifacts({ 'steps.jsonl': [burst(1, 1, 1000, 1000, 0, 1000)], 'repeats.jsonl': [{ ...record(1, 1000, [1000, 990], 'target'), stop: 'whenever' }] });
  const error = await normalizeMidolman(raw).then(() => undefined, (e: unknown) => e);
  assert.instance(error, MidolmanArtifactError);
  assert.match((error as Error).message, /repeats\.jsonl:1: stop/);
});

const host = { name: 'h', profile: 'lab-smoke', profileChoice: { reason: 'default' }, vars: {}, varPositions: {}, scenarios: [], position: { file: 'lab.yaml', line: 1, column: 1 } } as unknown as HostSpec;
const profilesDir = join(REPO, 'inventory/profiles.d');

t('params: off by default; `repeat: {}` takes min 1, max 5, target 2% on delivered_pps; min above max and unknown measurements are refused', () => {
  assert.is(MidolmanParams.parse({}).repeat, undefined);
  assert.equal(MidolmanParams.parse({ repeat: {} }).repeat, { min: 1, max: 5, target_ci: 0.02, metric: 'delivered_pps' });
  const bad = MidolmanParams.safeParse({ repeat: { min: 4, max: 2 } });
  assert.not.ok(bad.success);
  assert.match(JSON.stringify(bad.error!.issues), /max must be at least min/);
  assert.not.ok(MidolmanParams.safeParse({ repeat: { metric: 'heap' } }).success);
  assert.not.ok(MidolmanParams.safeParse({ repeat: { target_ci: 0 } }).success);
  assert.not.ok(MidolmanParams.safeParse({ repeat: { max: 101 } }).success);
});

t('phases: the throughput phase is told the rule and its budget, and its time limit has room for max bursts a step; off (or max 1) nothing is told', () => {
  const phases = (params: Record<string, unknown>) => midolmanScenario.phases({ host, profilesDir, params: MidolmanParams.parse(params) });
  const off = phases({});
  const on = phases({ repeat: { min: 2, max: 4, target_ci: 0.05, metric: 'loss' } });
  const once = phases({ repeat: { min: 1, max: 1 } });
  const tp = (ps: typeof off) => ps.find((p) => p.name === 'throughput')!;
  assert.not.ok(Object.keys(tp(off).env!).some((k) => k.startsWith('MIDOLMAN_REPEAT_')));
  assert.not.ok(Object.keys(tp(once).env!).some((k) => k.startsWith('MIDOLMAN_REPEAT_')));
  assert.is(tp(once).timeoutMs, tp(off).timeoutMs);
  const env = tp(on).env!;
  assert.equal([env['MIDOLMAN_REPEAT_MIN'], env['MIDOLMAN_REPEAT_MAX'], env['MIDOLMAN_REPEAT_TARGET_CI'], env['MIDOLMAN_REPEAT_METRIC']], ['2', '4', '0.05', 'loss']);
  const twoMin = 2 * 60_000;
  assert.is(tp(on).timeoutMs! - twoMin, 4 * (tp(off).timeoutMs! - twoMin), 'the traffic time four times over');
  assert.is(Number(env['MIDOLMAN_REPEAT_BUDGET_S']), Math.floor(tp(on).timeoutMs! / 1000) - REPEAT_RESERVE_S);
  assert.is(on.find((p) => p.name === 'long-running')!.timeoutMs, off.find((p) => p.name === 'long-running')!.timeoutMs, 'only the scan repeats');
});

t.run();

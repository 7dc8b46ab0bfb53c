// The midolman job page (orchestrator/scenarios/midolman/page-results.ts, page-summary.ts, page-charts.ts):
// per-step rows from the scenario's samples, the headline figures, the summary line, and which
// charts the page draws from a job the fixture store made with the scenario's own normalize.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METRICS_SCHEMA, sample, type MetricSample, type MetricsFile } from '../../orchestrator/results/metrics.js';
import { JobManifestSchema, type JobManifest } from '../../orchestrator/results/manifest.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { midolmanResults, stepRows } from '../../orchestrator/scenarios/midolman/page-results.js';
import { midolmanSummary } from '../../orchestrator/scenarios/midolman/page-summary.js';
import { midolmanJobCharts, phaseBands, poolSeries, rateMarkers } from '../../orchestrator/scenarios/midolman/page-charts.js';
import { chartsForJob, summaryForJob } from '../../orchestrator/site/job-charts.js';
import { vegaLiteWarnings } from '../../orchestrator/site/svg.js';
import { TEST_FIXTURE, XSS_SCRIPT, writeFixtureSweep, type FixtureOptions } from './fixture-store.js';

const labels = (phase: string, step: number, offered: number, mode = 'linear') => ({ phase, step: String(step), offered_pps: String(offered), mode });

/** Samples as normalize writes them for a linear scan: 1000..3000 pps, lossless up to 2000, two long-running bursts. */
function scan(extra: MetricSample[] = []): MetricsFile {
  const samples: MetricSample[] = [];
  const step = (phase: string, i: number, offered: number, delivered: number, loss: number, p99: number, cpu?: number) => {
    const l = labels(phase, i, offered);
    samples.push(sample('traffic.offered', offered, 'pps', 'none', l), sample('traffic.achieved', offered * 1.01, 'pps', 'higher', l));
    samples.push(sample('traffic.delivered', delivered, 'pps', 'higher', l), sample('traffic.loss', loss, 'ratio', 'lower', l));
    samples.push(sample('latency.oneway.p50', p99 / 3, 'ns', 'lower', l), sample('latency.oneway.p99', p99, 'ns', 'lower', l));
    if (cpu !== undefined) samples.push(sample('agent.cpu', cpu, '%', 'lower', l));
  };
  step('throughput', 1, 1000, 1000, 0, 90_000, 4);
  step('throughput', 2, 2000, 2000, 0, 120_000, 8);
  step('throughput', 3, 3000, 2400, 0.2, 9_000_000, 9);
  step('long-running', 1, 1500, 1500, 0, 80_000);
  step('long-running', 2, 1500, 1490, 0.007, 85_000);
  samples.push(sample('throughput.lossless_max', 2000, 'pps', 'higher', { loss_threshold: '0' }));
  samples.push(sample('agent.rss.max', 450 * 1048576, 'bytes', 'lower'), sample('agent.heap.used.max', 300 * 1048576, 'bytes', 'lower'));
  return { schema: METRICS_SCHEMA, samples: [...samples, ...extra], series: [] };
}

test('step rows: one per phase and step, in order, fields from each metric; labels that do not parse are left out', () => {
  const rows = stepRows(
    scan([
      sample('traffic.delivered', 5, 'pps', 'higher', { phase: 'throughput', step: XSS_SCRIPT, offered_pps: '1', mode: 'linear' }),
      sample('traffic.delivered', 5, 'pps', 'higher', { phase: 'warm-up', step: '1', offered_pps: '100', mode: 'linear' }),
      sample('traffic.delivered', 5, 'pps', 'higher', { phase: 'throughput', step: '9', offered_pps: '1e99', mode: 'linear' }),
    ]).samples,
  );
  assert.equal(rows.map((r) => [r.phase, r.step, r.offered]), [['throughput', 1, 1000], ['throughput', 2, 2000], ['throughput', 3, 3000], ['long-running', 1, 1500], ['long-running', 2, 1500]]);
  assert.equal(rows[2], { phase: 'throughput', step: 3, offered: 3000, mode: 'linear', achieved: 3030, delivered: 2400, loss: 0.2, p50: 3_000_000, p99: 9_000_000, agentCpu: 9 });
});

test('results: the lossless maximum is the reference without an NDR; CPU per kpps is read there', () => {
  const r = midolmanResults(scan());
  assert.equal(r.losslessMax, { pps: 2000, lossThreshold: 0 });
  assert.is(r.ndr, undefined);
  assert.is(r.reference?.at, 'lossless_max');
  assert.is(r.reference?.row.step, 2);
  assert.is(r.cpuPerKpps, 4);
  assert.is(r.longRunning.length, 2);
});

test('results: a found NDR is the reference; one not found, or no lossless step, leaves none', () => {
  const ndr = midolmanResults(scan([sample('throughput.ndr', 1000, 'pps', 'higher', { loss_threshold: '0.01', found: 'true' })]));
  assert.equal(ndr.ndr, { pps: 1000, lossThreshold: 0.01, found: true });
  assert.is(ndr.reference?.at, 'ndr');
  assert.is(ndr.reference?.row.offered, 1000);
  const notFound = midolmanResults({ ...scan(), samples: scan([sample('throughput.ndr', 0, 'pps', 'higher', { loss_threshold: '0.01', found: 'false' })]).samples.filter((s) => s.metric !== 'throughput.lossless_max') });
  assert.is(notFound.reference, undefined);
  assert.is(notFound.cpuPerKpps, undefined);
  const none = midolmanResults({ ...scan(), samples: scan().samples.map((s) => (s.metric === 'throughput.lossless_max' ? { ...s, value: 0 } : s)) });
  assert.is(none.reference, undefined);
});

test('summary line: lossless max, NDR, p99 and CPU per kpps where they were read, RSS, heap, build, profile', () => {
  const manifest = { profile: 'compute', build: { label: 'midolman 5.6.3 (8b41d0a7)', version: '5.6.3' } } as unknown as JobManifest;
  const items = midolmanSummary({ manifest, metrics: scan() });
  const byLabel = Object.fromEntries(items.map((i) => [i.label, i]));
  assert.equal(items.map((i) => i.label), ['Lossless max', 'NDR', 'p99 latency at lossless max', 'Agent CPU/kpps at lossless max', 'Peak RSS', 'Peak heap', 'Build', 'Profile']);
  assert.is(byLabel['Lossless max']!.value, '2,000 pps');
  assert.is(byLabel['Lossless max']!.detail, 'loss ≤ 0\u00a0%');
  assert.is(byLabel['NDR']!.value, '—');
  assert.match(byLabel['NDR']!.detail!, /not searched/);
  assert.is(byLabel['p99 latency at lossless max']!.value, '120 µs');
  assert.is(byLabel['Agent CPU/kpps at lossless max']!.value, '4 %');
  assert.is(byLabel['Peak RSS']!.value, '450 MiB');
  assert.is(byLabel['Peak heap']!.value, '300 MiB');
  assert.is(byLabel['Build']!.value, 'midolman 5.6.3 (8b41d0a7)');
  assert.is(byLabel['Profile']!.value, 'compute');
  const bare = midolmanSummary({ manifest: null, metrics: null });
  assert.is(bare.find((i) => i.label === 'Build')!.value, 'not recorded');
  assert.ok(bare.every((i) => typeof i.value === 'string' && i.value.length > 0));
  assert.equal(summaryForJob('sysinfo', { manifest: null, metrics: null }), [], 'other scenarios have no summary line');
});

test('markers: the NDR and the lossless maximum, one rule when they are the same rate', () => {
  const both = midolmanResults(scan([sample('throughput.ndr', 2000, 'pps', 'higher', { loss_threshold: '0', found: 'true' })]));
  assert.equal(rateMarkers(both).map((m) => [m.at, m.label]), [[2000, 'NDR = lossless max 2,000 pps']]);
  const apart = midolmanResults(scan([sample('throughput.ndr', 1000, 'pps', 'higher', { loss_threshold: '0', found: 'true' })]));
  assert.equal(rateMarkers(apart).map((m) => m.label), ['NDR 1,000 pps', 'lossless max 2,000 pps']);
  assert.equal(rateMarkers(midolmanResults(null)), []);
});

test('phase bands and pools: the measuring phases from the manifest; heap pools told from the others', () => {
  const phase = (name: string, startedAt: string | null, endedAt: string | null) => ({ name, startedAt, endedAt });
  const manifest = { phases: [phase('topology', '2026-01-01T00:00:00Z', '2026-01-01T00:00:02Z'), phase('warm-up', '2026-01-01T00:00:02Z', '2026-01-01T00:00:12Z'), phase('throughput', '2026-01-01T00:00:12Z', null)] } as unknown as JobManifest;
  assert.equal(phaseBands(manifest), [{ label: 'warm-up', start: Date.parse('2026-01-01T00:00:02Z') / 1000, end: Date.parse('2026-01-01T00:00:12Z') / 1000 }]);
  const s = (metric: string) => ({ metric, unit: 'bytes', better: 'lower' as const, labels: {}, points: [] });
  const pools = poolSeries([s('jmx.jvm.pool.G1_Eden_Space.used'), s('jmx.jvm.pool.CodeHeap__profiled_nmethods_.used'), s('jmx.jvm.pool.PS_Old_Gen.used'), s('jmx.jvm.heap.used')]);
  assert.equal(pools.map((p) => [p.name, p.heap]), [['G1 Eden Space', true], ["CodeHeap profiled nmethods", false], ['PS Old Gen', true]]);
});

test("the measuring phases are shaded in midolman's own colours, in the drawing and in the spec alike", () => {
  const phase = (name: string, startedAt: string, endedAt: string) => ({ name, startedAt, endedAt });
  const manifest = { phases: [phase('warm-up', '1970-01-01T00:16:40Z', '1970-01-01T00:16:41Z'), phase('throughput', '1970-01-01T00:16:41Z', '1970-01-01T00:16:43Z')] } as unknown as JobManifest;
  const metrics = scan();
  metrics.series.push({ metric: 'datapath.dp.flows', unit: 'flows', better: 'none', labels: {}, points: [[1000, 0], [1001, 2000], [1002, 4004], [1003, 12]] });
  const chart = midolmanJobCharts({ manifest, metrics }).find((c) => c.id === 'mm-datapath');
  assert.ok(chart?.drawing?.kind === 'lines', 'the datapath chart is drawn over time');
  const drawing = chart.drawing;
  assert.equal(drawing.bands?.map((b) => [b.tip.split(':')[0], b.color]), [['warm-up', '#ffe0b2'], ['throughput', '#bbdefb']]);
  assert.match(JSON.stringify(chart.spec), /"range":\["#ffe0b2","#bbdefb"\]/);
});

test('a job through a switch with a datapath (ovs_*): flow setup and datapath flows per step next to delivered, loss and CPU; the datapath over time; the summary names the flow-setup rate', () => {
  const dp: MetricSample[] = [];
  for (const [i, offered, setup, flows] of [[1, 1000, 2010, 4004], [2, 2000, 4050, 4000], [3, 3000, 4800, 4010]] as const) {
    dp.push(sample('datapath.flow_setup', setup, 'flows/s', 'higher', labels('throughput', i, offered)), sample('datapath.flows', flows, 'flows', 'none', labels('throughput', i, offered)));
  }
  const metrics = scan(dp);
  metrics.series.push(
    { metric: 'datapath.dp.flows', unit: 'flows', better: 'none', labels: {}, points: [[1000, 0], [1001, 2000], [1002, 4004], [1003, 12]] },
    { metric: 'datapath.dp.missed', unit: 'upcalls/s', better: 'none', labels: {}, points: [[1000, 0], [1001, 2000], [1002, 2004], [1003, 0]] },
  );
  const rows = midolmanResults(metrics).throughput;
  assert.equal(rows.map((r) => [r.flowSetup, r.dpFlows]), [[2010, 4004], [4050, 4000], [4800, 4010]]);
  const charts = midolmanJobCharts({ manifest: null, metrics });
  const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
  for (const id of ['mm-flow-setup', 'mm-datapath-flows', 'mm-datapath']) {
    assert.ok(byId[id], `${id} drawn: ${charts.map((c) => c.id).join(' ')}`);
    assert.is(byId[id]!.placement, 'story');
    assert.equal(vegaLiteWarnings(byId[id]!.spec), [], `${id} compiles without a Vega-Lite warning`);
  }
  const setupSeries = new Set(byId['mm-flow-setup']!.rows.map((r) => r['series']));
  assert.equal([...setupSeries].sort(), ['agent CPU (%)', 'delivered (pps)', 'flow setup (flows/s)', 'loss (%)']);
  assert.not.ok(charts.some((c) => /^datapath\.dp\.(flows|missed)/.test(c.id)), 'the datapath series are not charted twice');
  const summary = Object.fromEntries(midolmanSummary({ manifest: null, metrics }).map((i) => [i.label, i]));
  assert.is(summary['Flow setup at lossless max']!.value, '4,050 flows/s');
  assert.match(summary['Flow setup at lossless max']!.detail!, /4,000 flows at the burst's end/);
  // without a datapath (linux_bridge, MidoNet) none of it appears
  assert.not.ok(midolmanJobCharts({ manifest: null, metrics: scan() }).some((c) => c.id.startsWith('mm-flow-setup') || c.id.startsWith('mm-datapath')));
  assert.not.ok(midolmanSummary({ manifest: null, metrics: scan() }).some((i) => i.label.startsWith('Flow setup')));
});

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midolman-page-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixtureJob(opts: FixtureOptions, host: string): Promise<{ manifest: JobManifest; metrics: MetricsFile }> {
  const results = join(dir, host);
  const sweepId = await writeFixtureSweep(results, 0, opts);
  const jobDir = join(results, 'sweeps', sweepId, 'jobs', `${host}--midolman`);
  return {
    manifest: JobManifestSchema.parse(JSON.parse(await readFile(join(jobDir, 'manifest.json'), 'utf8'))),
    metrics: MetricsFileSchema.parse(JSON.parse(await readFile(join(jobDir, 'metrics.json'), 'utf8'))),
  };
}

test('a job the scenario normalized: the eight story charts first, each with data; the other series after', async () => {
  const job = await fixtureJob({ ...TEST_FIXTURE, hosts: [{ name: 'mm', scenarios: ['midolman'] }] }, 'mm');
  const charts = chartsForJob('midolman', job);
  const story = charts.filter((c) => c.placement === 'story');
  assert.equal(story.map((c) => c.id), ['mm-rates', 'mm-loss', 'mm-latency', 'mm-agent', 'mm-heap', 'mm-long-running', 'mm-flows', 'mm-pipeline']);
  for (const c of story) assert.ok(c.rows.length > 0, `${c.id} has data`);
  for (const c of charts) assert.equal(vegaLiteWarnings(c.spec), [], `${c.id} compiles without a Vega-Lite warning`);
  assert.equal(charts.slice(0, story.length), story, 'the story comes first');
  const rest = charts.slice(story.length).map((c) => c.id);
  assert.ok(rest.includes('mm-simulation-latency') && rest.includes('mm-non-heap') && rest.includes('mm-interfaces'), rest.join(' '));
  assert.not.ok(rest.some((id) => /pool|heap\.used|cpu_percent|flows|packets_|sim_latency|traffic\./.test(id)), `a series shown above is not charted again: ${rest.join(' ')}`);
  // the heap pools, old generation at the bottom of the stack
  assert.equal([...new Set(charts.find((c) => c.id === 'mm-heap')!.rows.map((r) => r['series']))], ['G1 Old Gen', 'G1 Survivor Space', 'G1 Eden Space', 'heap committed']);
  // the loss chart marks the lossless maximum the summary names
  const summary = Object.fromEntries(summaryForJob('midolman', job).map((i) => [i.label, i.value]));
  const loss = JSON.stringify(story[1]!.spec);
  assert.ok(loss.includes(`lossless max ${summary['Lossless max']}`), `${summary['Lossless max']} marked on the loss chart`);
  assert.match(summary['p99 latency at lossless max']!, /^[0-9.,]+ (µs|ms)$/);
  assert.match(summary['Agent CPU/kpps at lossless max']!, /^[0-9.]+ %$/);
  assert.is(summary['Build'], 'midolman 5.6.2 (3f2a1c9e)');
});

test('an NDR job: the reference is the NDR; without metrics the page has no charts and does not fail', async () => {
  const job = await fixtureJob({ ...TEST_FIXTURE, hosts: [{ name: 'nd', scenarios: ['midolman'], ndr: true }] }, 'nd');
  const items = Object.fromEntries(summaryForJob('midolman', job).map((i) => [i.label, i.value]));
  assert.match(items['NDR']!, /^[0-9,]+ pps$/);
  assert.ok(items['p99 latency at NDR'], Object.keys(items).join(' | '));
  assert.match(JSON.stringify(midolmanJobCharts(job)[0]!.spec), /NDR/);
  assert.equal(midolmanJobCharts({ manifest: null, metrics: null }), []);
});

test.run();

// Page data of the report site: pure functions, no rendering.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DetectedChange } from '../../orchestrator/analysis/regressions.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import type { JobManifest } from '../../orchestrator/results/manifest.js';
import { METRICS_SCHEMA, type MetricsFile } from '../../orchestrator/results/metrics.js';
import { compareJobs } from '../../orchestrator/site/build.js';
import { downsampleMinMax } from '../../orchestrator/site/downsample.js';
import { jobPaths, scanStore } from '../../orchestrator/site/load.js';
import { changeGroups, changeRows, compareRows, environmentDiff, findingLookup, indexRows, jobsBySweepHostScenario, previousJobs, runRows } from '../../orchestrator/site/pages.js';
import { FINDINGS_SCHEMA, type Findings } from '../../orchestrator/analysis/findings.js';
import { prefixIds } from '../../orchestrator/site/svg.js';
import { dataScript, safeJson, toCsv } from '../../orchestrator/site/encode.js';
import { slug } from '../../orchestrator/site/names.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_FIXTURE, sweepIdFor, writeFixtureStore } from './fixture-store.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'site-pages-'));
  await writeFixtureStore(dir, 6, TEST_FIXTURE);
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function change(sweepId: string, kind: DetectedChange['kind'], host = 'node-a'): DetectedChange {
  return {
    keyId: `k-${host}`,
    key: { host, scenario: 'sysinfo', metric: 'host.cpu.busy.mean', labels: {} },
    unit: '%',
    better: 'lower',
    kind,
    sweepId,
    at: '2026-10-06T02:00:01.000Z',
    beforeMean: 20,
    afterMean: 32,
    relativeChange: 0.6,
    pValue: 0.01,
  };
}

test('index rows: newest first, every job with its status and page, counts, regressions flagged on their sweep', async () => {
  const scan = await scanStore(dir);
  const s4 = sweepIdFor(TEST_FIXTURE.start, 4);
  const s5 = sweepIdFor(TEST_FIXTURE.start, 5);
  const rows = indexRows(scan.sweeps, [change(s5, 'regression'), change(s5, 'improvement', 'node-b')]);
  assert.is(rows.length, 6);
  assert.equal(rows.map((r) => r.sweepId), [...scan.sweeps.map((s) => s.sweepId)].reverse());
  const latest = rows[0]!;
  assert.is(latest.sweepId, s5);
  assert.is(latest.hosts, 3);
  assert.is(latest.jobs.length, 4);
  assert.is(latest.regressions, 1);
  assert.is(latest.improvements, 1);
  assert.equal(latest.counts, { ok: 4 });
  assert.is(latest.jobs[0]!.href, jobPaths(s5, 'node-a--sysinfo').page);
  const failed = rows.find((r) => r.sweepId === s4)!;
  assert.is(failed.status, 'failed');
  assert.equal(failed.counts, { ok: 3, failed: 1 });
  assert.is(failed.jobs.find((j) => j.host === 'node-b')!.status, 'failed');
  assert.is(failed.regressions, 0);
  // the sweep lasts until its longest job ended: node-c's midolman job, about three minutes
  assert.is(latest.duration, '3 min 0 s');
});

test('previous jobs: same host x scenario in the closest earlier sweep', async () => {
  const scan = await scanStore(dir);
  const prev = previousJobs(scan.sweeps);
  const s0 = sweepIdFor(TEST_FIXTURE.start, 0);
  const s1 = sweepIdFor(TEST_FIXTURE.start, 1);
  assert.is(prev.get(`${s0}/node-a--sysinfo`), undefined);
  assert.is(prev.get(`${s1}/node-c--midolman`)!.key, `${s0}/node-c--midolman`);
  assert.is(prev.size, 5 * 4);
});

test('change rows link the trend, the job and its comparison', async () => {
  const scan = await scanStore(dir);
  const s5 = sweepIdFor(TEST_FIXTURE.start, 5);
  const s3 = sweepIdFor(TEST_FIXTURE.start, 3);
  const rows = changeRows([change(s3, 'improvement'), change(s5, 'regression')], jobsBySweepHostScenario(scan.sweeps), previousJobs(scan.sweeps));
  assert.equal(rows.map((r) => [r.sweepId, r.kind]), [[s5, 'regression'], [s3, 'improvement']]);
  assert.is(rows[0]!.jobHref, jobPaths(s5, 'node-a--sysinfo').page);
  assert.is(rows[0]!.compareHref, jobPaths(s5, 'node-a--sysinfo').comparePage);
  assert.is(rows[0]!.trendHref, 'trends/node-a--sysinfo.html#m-k-node-a');
  assert.equal([rows[0]!.buildBefore, rows[0]!.buildAfter, rows[0]!.builds], [null, null, ''], 'a scenario that tests no build names none');
  const named = changeRows([{ ...change(s5, 'regression'), buildBefore: 'midolman 5.6.2', buildAfter: 'midolman 5.6.3' }], jobsBySweepHostScenario(scan.sweeps), previousJobs(scan.sweeps));
  assert.is(named[0]!.builds, 'between build midolman 5.6.2 and build midolman 5.6.3');
});

test('index rows are compact: counts per status, ok first; unfolded only the jobs not ok or with a change from that sweep, the change named', async () => {
  const scan = await scanStore(dir);
  const s4 = sweepIdFor(TEST_FIXTURE.start, 4);
  const s5 = sweepIdFor(TEST_FIXTURE.start, 5);
  // node-a regressed and improved from s5 (the regression is the one shown); node-b improved; node-b failed in s4
  const rows = indexRows(scan.sweeps, [change(s5, 'improvement'), change(s5, 'regression'), change(s5, 'improvement', 'node-b')]);
  const latest = rows.find((r) => r.sweepId === s5)!;
  assert.is(latest.countsText, '4 ok');
  assert.equal(latest.notable.map((j) => [j.host, j.scenario, j.status, j.change]), [
    ['node-a', 'sysinfo', 'ok', 'regression'],
    ['node-b', 'sysinfo', 'ok', 'improvement'],
  ]);
  assert.is(latest.jobs.length, 4, 'the full list keeps every job');
  assert.is(latest.jobs.find((j) => j.host === 'node-c')!.change, undefined);
  const failed = rows.find((r) => r.sweepId === s4)!;
  assert.is(failed.countsText, '3 ok · 1 failed');
  assert.equal(failed.notable.map((j) => [j.host, j.status, j.change]), [['node-b', 'failed', undefined]]);
  const quiet = rows.find((r) => r.sweepId === sweepIdFor(TEST_FIXTURE.start, 3))!;
  assert.equal(quiet.notable, [], 'a night where every job ended ok and nothing changed shows no chip unfolded');
});

test('change rows within a sweep: what its findings confirmed or paged first, then regressions before improvements, headline metrics first, the largest first (from 0 the largest); the status named', async () => {
  const scan = await scanStore(dir);
  const s5 = sweepIdFor(TEST_FIXTURE.start, 5);
  const s4 = sweepIdFor(TEST_FIXTURE.start, 4);
  const row = (metric: string, kind: DetectedChange['kind'], beforeMean: number, afterMean: number, host = 'node-c'): DetectedChange => ({
    ...change(s5, kind, host),
    keyId: `k-${host}-${metric}`,
    key: { host, scenario: 'midolman', metric, labels: {} },
    beforeMean,
    afterMean,
    relativeChange: beforeMean === 0 ? Math.sign(afterMean) : (afterMean - beforeMean) / Math.abs(beforeMean),
  });
  const headline = row('throughput.lossless_max', 'regression', 4000, 3500);
  const changes = [
    row('agent.cpu', 'improvement', 40, 20),
    row('agent.packets_processed', 'regression', 100, 90),
    headline,
    row('traffic.loss', 'regression', 0, 9.06),
    row('latency.p99', 'regression', 10, 30),
    row('throughput.ndr', 'regression', 3000, 2900, 'node-e'),
    row('load.1m', 'regression', 1, 5, 'node-b'),
    { ...change(s4, 'regression'), keyId: 'older' },
  ];
  const findings: Findings = {
    schema: FINDINGS_SCHEMA,
    sweepId: sweepIdFor(TEST_FIXTURE.start, 5),
    at: '2026-10-06T03:00:00.000Z',
    comparable: true,
    // the sweep saw the headline one sweep later than the site now places it: still the same change
    candidates: [
      { change: { ...headline, sweepId: s4 }, status: 'confirmed', paged: true },
      { change: row('throughput.ndr', 'regression', 3000, 2900, 'node-e'), status: 'unconfirmed', paged: false },
      { change: row('load.1m', 'regression', 1, 5, 'node-b'), status: 'not-reproduced', paged: false },
    ],
    stillPresent: [],
    improvements: [],
    failedJobs: [],
  };
  const rows = changeRows(changes, jobsBySweepHostScenario(scan.sweeps), previousJobs(scan.sweeps), undefined, findingLookup([findings], scan.sweeps.map((s) => s.sweepId)));
  assert.equal(rows.map((r) => [r.host, r.metric, r.finding?.status ?? null, r.finding?.paged ?? null]), [
    ['node-c', 'throughput.lossless_max', 'confirmed', true],
    ['node-e', 'throughput.ndr', 'unconfirmed', false],
    ['node-c', 'traffic.loss', null, null],
    ['node-c', 'latency.p99', null, null],
    ['node-c', 'agent.packets_processed', null, null],
    ['node-b', 'load.1m', 'not-reproduced', false],
    ['node-c', 'agent.cpu', null, null],
    ['node-a', 'host.cpu.busy.mean', null, null],
  ]);
  assert.is(rows[0]!.finding!.sweepId, s5, 'the findings that say so are named');
  // without findings: the scenario's headline regressions first, then the others, each by size
  const plain = changeRows(changes, jobsBySweepHostScenario(scan.sweeps), previousJobs(scan.sweeps));
  assert.equal(plain.slice(0, 5).map((r) => r.metric), ['throughput.lossless_max', 'throughput.ndr', 'traffic.loss', 'load.1m', 'latency.p99']);
  assert.ok(plain.every((r) => r.finding === undefined));
});

test('change groups: one per sweep, host x scenario and pair of builds, in the order of their first row; past three rows, the rest folded', async () => {
  const scan = await scanStore(dir);
  const s5 = sweepIdFor(TEST_FIXTURE.start, 5);
  const s4 = sweepIdFor(TEST_FIXTURE.start, 4);
  const builds = { buildBefore: 'midolman 5.6.2', buildAfter: 'midolman 5.6.3' };
  const step = (host: string, i: number, relativeChange: number, sweepId = s5): DetectedChange => ({
    ...change(sweepId, 'regression', host),
    ...builds,
    keyId: `k-${host}-${i}`,
    key: { host, scenario: 'midolman', metric: 'latency.p99', labels: { step: String(i) } },
    relativeChange,
  });
  const changes = [
    ...Array.from({ length: 6 }, (_, i) => step('node-c', i, 0.1 * (i + 1))),
    ...Array.from({ length: 4 }, (_, i) => step('node-e', i, 0.05 * (i + 1))),
    step('node-e', 9, 5),
    { ...step('node-e', 8, 0.2), buildAfter: 'midolman 5.6.4' },
    step('node-c', 7, 0.3, s4),
  ];
  const groups = changeGroups(changeRows(changes, jobsBySweepHostScenario(scan.sweeps), previousJobs(scan.sweeps)));
  assert.equal(groups.map((g) => [g.sweepId, g.host, g.builds.endsWith('5.6.4') ? '5.6.4' : '5.6.3', g.shown.length, g.folded.length]), [
    [s5, 'node-e', '5.6.3', 3, 2],
    [s5, 'node-c', '5.6.3', 3, 3],
    [s5, 'node-e', '5.6.4', 1, 0],
    [s4, 'node-c', '5.6.3', 1, 0],
  ]);
  assert.equal(groups[0]!.shown.map((r) => r.labels), ['step=9', 'step=3', 'step=2'], 'the largest first');
  assert.equal(groups[1]!.folded.map((r) => r.labels), ['step=2', 'step=1', 'step=0']);
  // four rows are all shown: folding one would hide a row behind a line as tall as it
  assert.is(changeGroups(changeRows(changes.slice(6, 10), jobsBySweepHostScenario(scan.sweeps), previousJobs(scan.sweeps)))[0]!.shown.length, 4);
});

test('runs of a host x scenario: one row per job, newest first, its build, a changed build marked', () => {
  const p = (sweepId: string, build?: string) => ({ sweepId, jobId: 'h--midolman', at: `${sweepId}T`, value: 1, ...(build ? { build } : {}) });
  // a job's samples are many points: each job is one run
  const rows = runRows([p('s1'), p('s1'), p('s2', 'v1'), p('s3', 'v1'), p('s3', 'v1'), p('s4', 'v2')], (sweepId, jobId) => `jobs/${sweepId}/${jobId}.html`);
  assert.equal(rows.map((r) => [r.sweepId, r.build, r.buildChanged]), [['s4', 'v2', true], ['s3', 'v1', false], ['s2', 'v1', true], ['s1', null, false]]);
  assert.is(rows[0]!.page, 'jobs/s4/h--midolman.html');
});

const metrics = (values: Record<string, number[]>, better: 'higher' | 'lower' | 'none' = 'higher'): MetricsFile => ({
  schema: METRICS_SCHEMA,
  samples: Object.entries(values).flatMap(([metric, vs]) => vs.map((value) => ({ metric, value, unit: 'pps', better, labels: { step: '1' } }))),
  series: [],
});

test('compare deltas: per-metric thresholds, delta %, verdicts, sorted worse first', () => {
  // four runs a side: enough for the rank test to call a 20 % drop worse
  const a = metrics({ 'throughput.delivered_pps': [100, 101, 99, 100], 'drops': [10], 'only.a': [1] });
  const b = metrics({ 'throughput.delivered_pps': [80, 81, 79, 80], 'drops': [10.2] });
  const seen: string[] = [];
  const comparisons = compareJobs(a, b, 'h', 'midolman', (key) => {
    seen.push(key.metric);
    return DEFAULT_THRESHOLDS;
  });
  assert.equal(seen.sort(), ['drops', 'only.a', 'throughput.delivered_pps']);
  const rows = compareRows(comparisons);
  assert.equal(rows.map((r) => [r.metric, r.verdict]), [['throughput.delivered_pps', 'worse'], ['only.a', 'missing'], ['drops', 'same']]);
  assert.ok(Math.abs(rows[0]!.deltaPercent! - -20) < 1e-9);
  assert.is(rows[0]!.labelsText, 'step=1');
  // a looser threshold for one metric makes its 20 % drop "same"
  const loose = compareRows(compareJobs(a, b, 'h', 'midolman', (key) => (key.metric === 'throughput.delivered_pps' ? { ...DEFAULT_THRESHOLDS, minRelativeChange: 0.5 } : DEFAULT_THRESHOLDS)));
  assert.is(loose.find((r) => r.metric === 'throughput.delivered_pps')!.verdict, 'same');
  // one run a side cannot tell a 20 % drop from noise: inconclusive, not worse
  const single = compareRows(compareJobs(metrics({ 'throughput.delivered_pps': [100] }), metrics({ 'throughput.delivered_pps': [80] }), 'h', 'midolman', () => DEFAULT_THRESHOLDS));
  assert.is(single[0]!.verdict, 'inconclusive');
});

test('environment diff: kernel, cmdline, params and packages', async () => {
  const { readJobManifest } = await import('../../orchestrator/results/store.js');
  const a = await readJobManifest(dir, sweepIdFor(TEST_FIXTURE.start, 2), 'node-a--sysinfo');
  const b = await readJobManifest(dir, sweepIdFor(TEST_FIXTURE.start, 3), 'node-a--sysinfo');
  const same = environmentDiff(a, a);
  assert.is(same.differences, 0);
  const diff = environmentDiff(a, b);
  assert.equal(diff.rows.filter((r) => !r.same).map((r) => r.field), ['kernel release']);
  const changed: JobManifest = structuredClone(b);
  changed.environment!.packages['midolman'] = '9.9';
  delete changed.environment!.packages['qemu-system-x86'];
  changed.environment!.packages['iperf3'] = '3.12';
  changed.scenario.params = { sample_seconds: 5 };
  const d2 = environmentDiff(a, changed);
  assert.equal(d2.packages.map((p) => [p.name, p.change]), [['iperf3', 'added'], ['midolman', 'changed'], ['qemu-system-x86', 'removed']]);
  assert.ok(d2.rows.find((r) => r.field === 'scenario params' && !r.same));
  assert.is(environmentDiff(null, b).rows.find((r) => r.field === 'os')!.a, '—');
  const built: JobManifest = { ...structuredClone(b), build: { label: 'midolman 5.6.3 (8b41d0a7)' } };
  assert.equal(environmentDiff(b, built).rows.filter((r) => !r.same).map((r) => [r.field, r.a, r.b]), [['build', '—', 'midolman 5.6.3 (8b41d0a7)']]);
});

test('downsampling keeps the peaks and the ends', () => {
  const points: [number, number | null][] = Array.from({ length: 10_000 }, (_, i) => [i, i === 4321 ? 999 : i === 777 ? -5 : Math.sin(i / 50)]);
  const small = downsampleMinMax(points, 400);
  assert.ok(small.length <= 400 + 100, `${small.length}`);
  assert.ok(small.some(([, v]) => v === 999));
  assert.ok(small.some(([, v]) => v === -5));
  assert.equal(small[0], points[0]);
  assert.equal(small.at(-1), points.at(-1));
  assert.ok(small.every((p, i) => i === 0 || p[0] >= small[i - 1]![0]), 'time order kept');
  assert.is(downsampleMinMax(points.slice(0, 50), 400).length, 50);
});

test('safe JSON and data scripts never contain markup; ids in SVG are made unique', () => {
  const payload = '</script><script>alert(1)</script>"><img src=x onerror=alert(1)>';
  assert.not.match(safeJson({ payload }), /[<>]/);
  assert.equal(JSON.parse(safeJson({ payload })), { payload });
  assert.not.match(dataScript('charts', payload, { payload }), /[<>]/);
  const svg = prefixIds('<svg a="b"><clipPath id="clip1"></clipPath><g clip-path="url(#clip1)"></g></svg>', 'c1');
  assert.match(svg, /id="c1-clip1"/);
  assert.match(svg, /url\(#c1-clip1\)/);
  assert.match(svg, /^<svg role="img"/);
  // Vega numbers clip paths across every chart a process draws: the ids are renumbered per chart
  const later = prefixIds('<svg a="b"><clipPath id="clip171"></clipPath><g clip-path="url(#clip171)"></g></svg>', 'c1');
  assert.is(later, svg, 'the same chart drawn later in a build has the same ids');
});

test('index chips carry each job\'s headline numbers when the lookup has them', async () => {
  const scan = await scanStore(dir);
  const rows = indexRows(scan.sweeps, [], (sweepId, jobId, scenario) => (scenario === 'sysinfo' && jobId.startsWith('node-a') ? `CPU busy 3.5 % (${sweepId.slice(0, 8)})` : undefined));
  const chips = rows.flatMap((r) => r.jobs);
  assert.ok(chips.some((c) => c.host === 'node-a' && c.headline?.startsWith('CPU busy 3.5 %')));
  assert.ok(chips.filter((c) => c.host !== 'node-a').every((c) => c.headline === undefined));
});

test('slugs are file-name safe and distinct; CSV quotes and defuses formulas', () => {
  assert.is(slug('node-a--sysinfo'), 'node-a--sysinfo');
  const evil = slug('"><img src=x>');
  assert.match(evil, /^[A-Za-z0-9._-]+$/);
  assert.is.not(slug('a/b'), slug('a_b'));
  assert.is(toCsv([{ a: 'x,y', b: '=cmd()', c: -1 }]), 'a,b,c\n"x,y",\'=cmd(),-1\n');
});

test.run();

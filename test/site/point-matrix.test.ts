// A kvm host's trends as a matrix (orchestrator/site/point-matrix.ts and the trends page): a row
// per measurement, a column per point named as the job page names it, each cell the latest value,
// its change against the run before and its history, linking to the measurement's chart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricHistory } from '../../orchestrator/analysis/history.js';
import { seriesKeyId } from '../../orchestrator/analysis/history.js';
import type { DetectedChange } from '../../orchestrator/analysis/regressions.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { buildSite } from '../../orchestrator/site/build.js';
import { measurements, pointMatrix, seriesLabeller } from '../../orchestrator/site/point-matrix.js';
import { kvmPointNaming } from '../../orchestrator/scenarios/kvm/point-names.js';
import { writeFixtureStore, type FixtureOptions } from './fixture-store.js';

const AXES = { backing: 'xfs', cache: 'none', io: 'native', bus: 'virtio-blk', memory_mib: '1024', network_model: 'virtio', repetition: '1' };
const RAW = { point: 'smp1x2x1-xfs-raw-r1', topology: 'smp1x2x1', format: 'raw', ...AXES };
const QCOW2 = { point: 'smp1x2x1-xfs-qcow2-r1', topology: 'smp1x2x1', format: 'qcow2', ...AXES };

function history(metric: string, unit: string, better: MetricHistory['better'], labels: Record<string, string>, values: [sweep: number, value: number][]): MetricHistory {
  const key = { host: 'node-d', scenario: 'kvm', metric, labels };
  return {
    key,
    keyId: seriesKeyId(key),
    unit,
    better,
    points: values.map(([sweep, value]) => ({ sweepId: `s${sweep}`, jobId: 'node-d--kvm', at: `2026-10-0${sweep + 1}T02:00:00.000Z`, value })),
  };
}

/** fio's seq-read: QASET's tcf label carries a timestamp, so each sweep's sample is a history of its own. */
const fio = (point: Record<string, string>, values: number[]) =>
  values.map((v, i) => history('fio.bw', 'KiB/s', 'higher', { ...point, job: 'seq-read', rw: 'read', tcf: `qa_fio-2026-10-0${i + 1}-02-10-00`, source: `log/x${i}.tar.bz2` }, [[i, v]]));

const HISTORIES: MetricHistory[] = [
  ...fio(RAW, [1_000_000, 1_010_000, 800_000]),
  ...fio(QCOW2, [700_000, 705_000, 702_000]),
  history('kvm.point.boot', 's', 'lower', RAW, [[0, 30], [1, 30.2], [2, 24]]),
  history('kvm.point.boot', 's', 'lower', QCOW2, [[2, 31]]),
  history('kvm.points.done', 'count', 'higher', {}, [[0, 2], [1, 2], [2, 2]]),
];

test('measurements: one per metric and what it measured, at each point; histories split by where the output came from are one line', () => {
  const all = measurements(HISTORIES, kvmPointNaming);
  assert.equal(all.map((m) => m.title), ['fio.bw (job=seq-read, rw=read)', 'kvm.point.boot', 'kvm.points.done']);
  const bw = all[0]!;
  assert.equal(bw.lines.map((l) => [l.point, l.points.map((p) => p.value), l.keyIds.length]), [
    ['smp1x2x1-xfs-raw-r1', [1_000_000, 1_010_000, 800_000], 3],
    ['smp1x2x1-xfs-qcow2-r1', [700_000, 705_000, 702_000], 3],
  ]);
});

test('the matrix: points by their short names; each cell the latest value in its unit, its change and a tone; the job\'s own measurements apart', () => {
  const regression: DetectedChange = { keyId: HISTORIES[2]!.keyId, key: HISTORIES[2]!.key, unit: 'KiB/s', better: 'higher', kind: 'regression', sweepId: 's2', at: '2026-10-03T02:00:00.000Z', beforeMean: 1_005_000, afterMean: 800_000, relativeChange: -0.2, pValue: 0.01 };
  const matrix = pointMatrix(HISTORIES, [regression], () => DEFAULT_THRESHOLDS)!;
  assert.equal(matrix.points.map((p) => [p.name, p.id]), [['qcow2', 'smp1x2x1-xfs-qcow2-r1'], ['raw', 'smp1x2x1-xfs-raw-r1']]);
  assert.equal(matrix.rows.map((r) => r.title), ['fio.bw (job=seq-read, rw=read)', 'kvm.point.boot']);
  const [qcow2, raw] = matrix.rows[0]!.cells;
  assert.equal([raw!.latest, raw!.change, raw!.tone, raw!.detected], ['781 MiB/s', '-20.8 %', 'worse', 'regression']);
  assert.equal([qcow2!.latest, qcow2!.change, qcow2!.tone, qcow2!.detected], ['686 MiB/s', '-0.4 %', 'same', null]);
  assert.is(raw!.href, `#chart-m-${matrix.measurements[0]!.id}`);
  assert.match(raw!.spark, /<line [^>]*stroke="#c62828"/, 'the history turns red where the regression began');
  const [bootQcow2, bootRaw] = matrix.rows[1]!.cells;
  assert.equal([bootRaw!.latest, bootRaw!.change, bootRaw!.tone], ['24 s', '-20.5 %', 'better'], 'a step that got faster is better');
  assert.equal([bootQcow2!.change, bootQcow2!.tone], [null, 'new'], 'a first run has nothing to change from');
  assert.equal(matrix.jobRows.map((r) => [r.title, r.cell.latest, r.cell.tone]), [['kvm.points.done', '2', 'same']]);
  // a looser threshold makes the 20 % drop "same"
  assert.is(pointMatrix(HISTORIES, [], () => ({ minRelativeChange: 0.5 }))!.rows[0]!.cells[1]!.tone, 'same');
  assert.is(pointMatrix(HISTORIES.slice(-1), [], () => DEFAULT_THRESHOLDS), undefined, 'no point labels, no matrix');
});

test('series labels name a point as its job page does; other series read as their labels', () => {
  const labelsOf = seriesLabeller(HISTORIES);
  assert.is(labelsOf(HISTORIES[0]!.key), 'point raw, job=seq-read, rw=read');
  assert.is(labelsOf({ host: 'node-d', scenario: 'kvm', labels: {} }), '');
  assert.is(labelsOf({ host: 'node-a', scenario: 'sysinfo', labels: { cpu: '0' } }), 'cpu=0');
});

const KVM: FixtureOptions = { hosts: [{ name: 'node-d', scenarios: ['kvm'] }], start: new Date('2026-10-01T02:00:00Z'), seriesPoints: 30 };

test('a kvm trends page opens with the matrix; every cell links to a chart on the page, folded below, its legend the short names', async () => {
  const work = await mkdtemp(join(tmpdir(), 'site-matrix-'));
  try {
    await writeFixtureStore(join(work, 'results'), 3, KVM);
    await buildSite({ resultsDir: join(work, 'results'), outDir: join(work, 'site') });
    const html = await readFile(join(work, 'site', 'trends', 'node-d--kvm.html'), 'utf8');
    const matrix = html.slice(html.indexOf('<table class="data matrix">'), html.indexOf('</table>', html.indexOf('<table class="data matrix">')));
    assert.equal([...matrix.matchAll(/<th scope="col"[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]), ['Measurement', 'smp1x2x1 · qcow2', 'smp1x2x1 · raw', 'smp2x2x1 · raw']);
    const rows = [...matrix.matchAll(/<th scope="row"><a href="#chart-m-([^"]+)">([^<]+)<\/a>/g)].map((m) => m[2]);
    assert.equal(rows.slice(0, 5), ['fio.bw', 'fio.bw', 'fio.iops', 'fio.iops', 'sysbench.cpu.events_per_sec']);
    assert.ok(rows.includes('kvm.point.boot') && rows.includes('ctcs2.fail'), rows.join(' | '));
    // one line per point: a QASET measurement is one chart, not one per sweep's tcf
    const links = new Set([...html.matchAll(/href="#(chart-m-[^"]+)"/g)].map((m) => m[1]!));
    for (const id of links) assert.ok(html.includes(`<figure class="chart" id="${id}"`), `${id} is on the page`);
    const charts = (html.match(/<figure class="chart"/g) ?? []).length;
    assert.is(charts, links.size, 'a chart per measurement, each linked from the overview');
    const folded = html.indexOf('<details class="all-charts">');
    assert.ok(folded > html.indexOf('<table class="data matrix">') && folded < html.indexOf('<figure class="chart"'), 'the charts are folded under the overview');
    const boot = html.slice(html.indexOf('<figure class="chart" id="chart-m-kvm.point.boot"'));
    const legend = boot.slice(0, boot.indexOf('</figure>'));
    assert.ok(['smp1x2x1 · qcow2', 'smp1x2x1 · raw', 'smp2x2x1 · raw'].every((n) => legend.includes(`>${n}</text>`)), 'the legend names the points as the job page does');
    assert.not.match(legend, /backing=xfs/);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

test.run();

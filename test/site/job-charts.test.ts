import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chartsForJob, pointNames } from '../../orchestrator/site/job-charts.js';
import { METRICS_SCHEMA, sample, type MetricsFile } from '../../orchestrator/results/metrics.js';

test('kvm job page: time per point stacked by step in the order a point goes, host series one line per point', () => {
  const metrics: MetricsFile = {
    schema: METRICS_SCHEMA,
    samples: [
      sample('kvm.point.run', 9, 's', 'lower', { point: 'p1', topology: 'smp1x2x1' }),
      sample('kvm.point.prepare', 0.2, 's', 'lower', { point: 'p1' }),
      sample('kvm.point.boot', 4, 's', 'lower', { point: 'p1' }),
      sample('kvm.point.boot', 5, 's', 'lower', { point: 'p2' }),
      sample('kvm.point.completed', 1, 'bool', 'higher', { point: 'p1' }),
      sample('sysbench.cpu.events_per_sec', 900, 'events/s', 'higher', { point: 'p1' }),
    ],
    series: [
      { metric: 'host.cpu_busy_percent', unit: '%', better: 'lower', labels: { point: 'p1', collector: 'host', topology: 'smp1x2x1' }, points: [[1, 50], [2, 60]] },
      { metric: 'host.cpu_busy_percent', unit: '%', better: 'lower', labels: { point: 'p2', collector: 'host' }, points: [[3, 70]] },
    ],
  };
  const charts = chartsForJob('kvm', { manifest: null, metrics });
  assert.is(charts.length, 3);
  assert.is(charts[0]!.id, 'kvm-point-steps');
  assert.match(charts[1]!.id, /^points-sysbench\.cpu\.events_per_sec/);
  assert.is(charts[2]!.id, 'series-host.cpu_busy_percent');
  assert.equal(charts[0]!.rows, [
    { item: 'p1', step: 'prepare', seconds: 0.2 },
    { item: 'p1', step: 'boot', seconds: 4 },
    { item: 'p2', step: 'boot', seconds: 5 },
    { item: 'p1', step: 'run', seconds: 9 },
  ]);
  assert.equal([...new Set(charts[2]!.rows.map((r) => r['series']))], ['p1', 'p2']);
});

test('kvm job page: one bar chart per measurement, a bar per point; what was measured splits charts, where it came from does not', () => {
  const at = (point: string, config: string, labels: Record<string, string>) => ({ point, config, repetition: '1', topology: point, source: `log/x.tar.bz2!ctcs2/${point}/fio`, tcf: 'qa_x', test: 'fio-seq', ...labels });
  const metrics: MetricsFile = {
    schema: METRICS_SCHEMA,
    samples: [
      sample('fio.bw', 100, 'KiB/s', 'higher', at('p1', 'c1', { job: 'seq-write' })),
      sample('fio.bw', 300, 'KiB/s', 'higher', at('p1', 'c1', { job: 'seq-read' })),
      sample('fio.bw', 120, 'KiB/s', 'higher', at('p2', 'c2', { job: 'seq-write' })),
      sample('fio.bw', 280, 'KiB/s', 'higher', at('p2', 'c2', { job: 'seq-read' })),
      sample('ctcs2.succeed', 1, 'count', 'higher', at('p1', 'c1', {})),
      sample('kvm.points.done', 2, 'count', 'higher'),
    ],
    series: [],
  };
  const charts = chartsForJob('kvm', { manifest: null, metrics });
  assert.equal(charts.map((c) => c.title), ['fio.bw (job=seq-read)', 'fio.bw (job=seq-write)']);
  assert.equal(charts[1]!.rows, [
    { item: 'p1', value: 100, detail: 'p1' },
    { item: 'p2', value: 120, detail: 'p2' },
  ]);
  assert.is((charts[1]!.spec['title'] as { subtitle: string }).subtitle, 'higher is better');
  assert.is(new Set(charts.map((c) => c.id)).size, 2);
});

test('points are named by the axes that differ between them; the full id when that would not tell them apart', () => {
  const axes = { backing: 'xfs', format: 'raw', cache: 'none', io: 'native', bus: 'virtio-blk', memory_mib: '1024', network_model: 'virtio' };
  const s = (point: string, topology: string, repetition: string) => sample('kvm.point.run', 1, 's', 'lower', { point, topology, repetition, ...axes });
  const names = pointNames([s('a-r1', 'smp1x2x1', '1'), s('a-r2', 'smp1x2x1', '2'), s('b-r1', 'smp2x1x1-numa2', '1'), s('b-r2', 'smp2x1x1-numa2', '2')]);
  assert.equal([...names.values()], ['smp1x2x1 · r1', 'smp1x2x1 · r2', 'smp2x1x1-numa2 · r1', 'smp2x1x1-numa2 · r2']);
  const one = pointNames([s('a-r1', 'smp1x2x1', '1')]);
  assert.equal([...one.values()], ['a-r1']);
});

test('kvm job page without metrics: no charts, no failure', () => {
  assert.equal(chartsForJob('kvm', { manifest: null, metrics: null }), []);
});

test.run();

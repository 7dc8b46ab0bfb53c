// What a job page shows by its scenario's contribution (orchestrator/site/job-charts.ts and the
// scenarios' job-page.ts), and that the site itself names no scenario.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartsForJob, jobHeadlines, loadJobPages, pointNamingFor, summaryForJob } from '../../orchestrator/site/job-charts.js';
import { pointNames } from '../../orchestrator/scenarios/kvm/point-names.js';
import { SCENARIOS, type ScenarioRegistry } from '../../orchestrator/scenarios/registry.js';
import type { JobPage, Scenario } from '../../orchestrator/scenarios/types.js';
import { METRICS_SCHEMA, sample, type MetricsFile } from '../../orchestrator/results/metrics.js';

const SITE_DIR = fileURLToPath(new URL('../../orchestrator/site/', import.meta.url));

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

test('the site names no scenario: it imports only the registry and the contract from scenarios/, and no scenario name is in its code', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.ts')) files.push(join(dir, e.name));
    }
  };
  walk(SITE_DIR);
  assert.ok(files.length > 10, `site sources found: ${files.length}`);
  const names = [...SCENARIOS.keys()];
  const named = new RegExp(`\\b(${names.join('|')})\\b`, 'i');
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/from\s+'(\.\.\/scenarios\/[^']+)'/g)) {
      if (!/^\.\.\/scenarios\/(registry|types)\.js$/.test(m[1]!)) found.push(`${file}: imports ${m[1]}`);
    }
    // code only: comments may say which scenario a view was first made for
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    code.split('\n').forEach((line, i) => {
      if (named.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.equal(found, []);
});

test('a scenario without a job page gets every series charted, no summary and no headlines; an unknown one too', async () => {
  const plain = { name: 'plain', description: '', params: SCENARIOS.get('sysinfo')!.params, phases: () => [], normalize: async () => ({ samples: [], series: [] }) } as unknown as Scenario;
  const own: JobPage = { headlines: [{ metric: 'x', label: 'x' }] };
  const registry: ScenarioRegistry = new Map([['plain', plain], ['own', { ...plain, name: 'own', jobPage: async () => own }]]);
  const pages = await loadJobPages(registry);
  assert.equal([...pages.keys()], ['own']);
  assert.is(pages.get('own'), own);

  const metrics: MetricsFile = {
    schema: METRICS_SCHEMA,
    samples: [sample('load.1m', 0.5, 'load', 'none')],
    series: [
      { metric: 'a.rate', unit: 'pps', better: 'higher', labels: { nic: 'eth0' }, points: [[1, 1], [2, 2]] },
      { metric: 'a.rate', unit: 'pps', better: 'higher', labels: { nic: 'eth1' }, points: [[1, 3]] },
      { metric: 'b.bytes', unit: 'bytes', better: 'none', labels: {}, points: [[1, 4]] },
    ],
  };
  const charts = chartsForJob('no-such-scenario', { manifest: null, metrics });
  assert.equal(charts.map((c) => c.id), ['series-a.rate', 'series-b.bytes']);
  assert.equal(summaryForJob('no-such-scenario', { manifest: null, metrics }), []);
  assert.is(jobHeadlines['no-such-scenario'], undefined);
  assert.is(jobHeadlines['constructor'], undefined, 'no inherited keys');
  assert.is(pointNamingFor('no-such-scenario'), undefined);
});

test('the registered scenarios\' contributions are what the site draws with', () => {
  assert.equal(Object.keys(jobHeadlines).sort(), ['kvm', 'midolman', 'sysinfo']);
  assert.equal(jobHeadlines['midolman']!.map((h) => h.metric), ['throughput.lossless_max', 'throughput.ndr']);
  assert.ok(pointNamingFor('kvm'));
  assert.is(pointNamingFor('midolman'), undefined);
});

test.run();

// A scenario's job page contribution (Scenario.jobPage, orchestrator/scenarios/types.ts): each
// built-in scenario gives one, loaded only when asked, so the registry (which `--plan` loads)
// never brings the site's chart code in with it; the compiled CLI's module trace checks the same
// for the built bin (test/cli/compiled-bin.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCENARIOS } from '../../orchestrator/scenarios/registry.js';
import { METRICS_SCHEMA, sample } from '../../orchestrator/results/metrics.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Relative modules a source file imports at run time (`import type` and dynamic `import()` left out). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?\bfrom\s+'([^']+)'/gms)) found.push(m[1]!);
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) found.push(m[1]!);
  return found.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every source module `entry` loads at run time, as paths from the repository's root. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (file: string) => {
    const name = relative(REPO, file);
    if (seen.has(name)) return;
    seen.add(name);
    for (const next of runtimeImports(file)) walk(next);
  };
  walk(join(REPO, entry));
  return seen;
}

test('the registry loads no job page and no site code: the pages load only when asked', () => {
  const graph = staticGraph('orchestrator/scenarios/registry.ts');
  for (const scenario of ['kvm', 'midolman', 'sysinfo']) assert.ok(graph.has(`orchestrator/scenarios/${scenario}.ts`), `the walk should reach ${scenario}.ts`);
  const leaked = [...graph].filter((m) => m.startsWith('orchestrator/site/') || /\/job-page\.ts$|\/page-[a-z-]+\.ts$/.test(m));
  assert.equal(leaked, [], 'modules the registry would load with it');
});

test('the walk does see site code where a module imports it (a job page draws with the site\'s chart builders)', () => {
  const graph = staticGraph('orchestrator/scenarios/midolman/job-page.ts');
  assert.ok(graph.has('orchestrator/site/charts.ts'));
  assert.ok(graph.has('orchestrator/scenarios/midolman/page-results.ts'));
});

test('every built-in scenario contributes a job page: its charts, headline numbers, and what only some give', async () => {
  const pages = new Map(await Promise.all([...SCENARIOS].map(async ([name, s]) => [name, await s.jobPage?.()] as const)));
  assert.equal([...pages.keys()].sort(), ['kvm', 'midolman', 'sysinfo']);
  for (const [name, page] of pages) {
    assert.ok(page?.charts, `${name}: charts`);
    assert.ok((page?.headlines?.length ?? 0) > 0, `${name}: headlines`);
  }
  assert.ok(pages.get('midolman')?.summary, 'midolman has a summary line');
  assert.not.ok(pages.get('kvm')?.summary, 'kvm has none');
  assert.ok(pages.get('kvm')?.points, 'kvm names its matrix points');
  assert.not.ok(pages.get('midolman')?.points, 'midolman is no matrix');
  assert.equal(pages.get('sysinfo')?.headlines, [{ metric: 'host.cpu.busy.mean', label: 'CPU busy' }]);
});

test("kvm's point naming: short names by the axes that differ, what was measured without where it came from, benchmarks ranked first", async () => {
  const points = (await SCENARIOS.get('kvm')!.jobPage!()).points!;
  const at = (point: string, format: string) => ({ point, topology: 'smp1x2x1', format, repetition: '1' });
  const names = points.names([sample('fio.bw', 1, 'KiB/s', 'higher', at('p-raw', 'raw')), sample('fio.bw', 1, 'KiB/s', 'higher', at('p-qcow2', 'qcow2'))]);
  assert.equal([...names], [['p-raw', 'raw'], ['p-qcow2', 'qcow2']]);
  assert.is(points.measured({ ...at('p-raw', 'raw'), job: 'seq-read', tcf: 'qa_fio-2026-10-01', source: 'log/x.tar.bz2' }), 'job=seq-read');
  const order = ['kvm.points.done', 'kvm.point.run', 'kvm.point.boot', 'qaset.cases.passed', 'fio.bw'].sort((a, b) => {
    const [ra, sa] = points.rank(a);
    const [rb, sb] = points.rank(b);
    return ra - rb || sa - sb;
  });
  assert.equal(order, ['fio.bw', 'qaset.cases.passed', 'kvm.point.boot', 'kvm.point.run', 'kvm.points.done']);
});

test("sysinfo's page charts the host's CPU busy series only", async () => {
  const page = await SCENARIOS.get('sysinfo')!.jobPage!();
  const series = (metric: string) => ({ metric, unit: '%', better: 'lower' as const, labels: {}, points: [[1, 10], [2, 20]] as [number, number][] });
  const charts = page.charts!({ manifest: null, metrics: { schema: METRICS_SCHEMA, samples: [], series: [series('host.cpu.busy'), series('other')] } });
  assert.equal(charts.map((c) => c.id), ['series-host.cpu.busy']);
});

test.run();

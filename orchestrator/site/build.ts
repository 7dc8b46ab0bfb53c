// The static report site builder (Observable Framework's model): load the store once into
// memory-light refs, decide per page whether its inputs changed (fingerprints kept in the
// build manifest), render changed pages with pure functions + eta templates, write the
// files atomically. Charts are rendered to SVG here, so pages read fine without JavaScript.
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Eta } from 'eta';
import { loadHistory, type MetricHistory, type SeriesKey } from '../analysis/history.js';
import { DEFAULT_THRESHOLDS, detectChanges, type DetectedChange, type Thresholds } from '../analysis/regressions.js';
import { compareMetrics, type MetricComparison } from '../analysis/compare.js';
import type { MetricsFile } from '../results/metrics.js';
import { assetsFor } from './asset-cache.js';
import { REPORT_SITE_DIR, type Assets } from './assets.js';
import { phaseTimelineChart, trendChart, type ChartSpec, type TrendLine } from './charts.js';
import { chartsForJob, jobHeadlines, summaryForJob } from './job-charts.js';
import { jobPaths, loadJob, mapLimit, scanStore, trendsPage, type JobRef, type LoadedJob, type Problem, type SweepRef } from './load.js';
import { SiteWriter, writeFileAtomic, type OutFile, type WriteFileFn } from './output.js';
import {
  changeRows,
  compareRows,
  envFields,
  environmentDiff,
  indexRows,
  jobsBySweepHostScenario,
  previousJobs,
  runRows,
  sampleRows,
  type ChangeRow,
} from './pages.js';
import { renderSvg } from './svg.js';
import { pointMatrix, seriesLabeller, type PointMatrix } from './point-matrix.js';
import { loadFindings } from './findings.js';
import { changeId } from '../analysis/findings.js';
import { readPagedState } from '../results/store.js';
import { glance, quiet, revealedBy } from './glance.js';
import { dataScript, toCsv } from './encode.js';
import { formatDuration, formatNumber, formatP, formatPercent, formatTime, formatValue, labelsText, unitTables } from './format.js';
import { rel, sha, slug } from './names.js';

/** Bump when page output changes in a way the template and asset hashes do not capture. */
const BUILDER_VERSION = '8'; // 8: values in their unit family's best unit; kvm trends as a matrix; last night at a glance
const LOG_TAIL_LINES = 200;

export interface BuildSiteOptions {
  resultsDir: string;
  outDir: string;
  thresholdsFor?: (key: SeriesKey) => Thresholds;
  log?: (line: string) => void;
  now?: Date;
  /** Injected for tests; defaults to temp file + rename. */
  writeFile?: WriteFileFn;
  /** Pages rendered at once. */
  concurrency?: number;
  /** The store's metric histories when the caller has loaded them already (a sweep's end does). */
  history?: Awaited<ReturnType<typeof loadHistory>>;
}

export interface BuildSiteResult {
  pagesWritten: number;
  pagesUnchanged: number;
  bytes: number;
  regressions: number;
  /** Ids of the page units written (job:<sweep>/<job>, compare:..., trends:..., index...). */
  written: string[];
  /** Site-relative paths of the files written. */
  files: string[];
  problems: Problem[];
}

const fmt = { time: formatTime, number: formatNumber, value: formatValue, percent: formatPercent, duration: formatDuration, p: formatP };

interface Ctx {
  resultsDir: string;
  eta: Eta;
  assets: Assets;
  siteFp: string;
  thresholdsFor: (key: SeriesKey) => Thresholds;
}

interface RenderedChart {
  id: string;
  key: string;
  svg: string;
  note: string | undefined;
  json: string;
  csv: string;
  placement: 'story' | undefined;
}

async function templatesFingerprint(): Promise<string> {
  const dir = join(REPORT_SITE_DIR, 'templates');
  const names = (await readdir(dir)).sort();
  const parts = await Promise.all(names.map(async (n) => `${n}:${sha(await readFile(join(dir, n)))}`));
  return sha(parts.join('|'));
}

function page(ctx: Ctx, template: string, pagePath: string, data: Record<string, unknown>): string {
  return ctx.eta.render(template, { ...data, root: rel(pagePath, ''), assets: ctx.assets.paths, fmt });
}

/** SVG + interactive spec + downloads for a page's charts. */
async function renderCharts(charts: readonly ChartSpec[], pageId: string, pagePath: string, assetsDir: string): Promise<{ views: RenderedChart[]; files: OutFile[]; script: string | undefined }> {
  const views: RenderedChart[] = [];
  const files: OutFile[] = [];
  let script = '';
  for (const chart of charts) {
    const key = `${pageId}#${chart.id}`;
    const svg = await renderSvg(chart.spec, `c${sha(key, 8)}`);
    const json = `${assetsDir}/${chart.id}.json`;
    const csv = `${assetsDir}/${chart.id}.csv`;
    files.push({ path: json, data: `${JSON.stringify(chart.rows)}\n` }, { path: csv, data: toCsv(chart.rows, chart.columns) });
    script += dataScript('charts', key, chart.spec);
    views.push({ id: chart.id, key, svg, note: chart.note, json: rel(pagePath, json), csv: rel(pagePath, csv), placement: chart.placement });
  }
  if (charts.length === 0) return { views, files, script: undefined };
  const scriptPath = `${assetsDir}/charts.js`;
  files.push({ path: scriptPath, data: script });
  return { views, files, script: rel(pagePath, scriptPath) };
}

function sizeText(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** The data a client-side comparison needs (compare.html). */
function jobData(loaded: LoadedJob): unknown {
  return {
    samples: (loaded.metrics?.samples ?? []).map((s) => ({ metric: s.metric, labels: s.labels, value: s.value, unit: s.unit, better: s.better })),
    // how each unit reads (format.ts), so the browser's comparison shows values as the pages do
    units: unitTables((loaded.metrics?.samples ?? []).map((s) => s.unit)),
    env: envFields(loaded.manifest),
    packages: loaded.manifest?.environment?.packages ?? {},
  };
}

async function renderJob(ctx: Ctx, job: JobRef, previous: JobRef | undefined): Promise<OutFile[]> {
  const loaded = await loadJob(ctx.resultsDir, job);
  const m = loaded.manifest;
  const files: OutFile[] = [];
  const charts: ChartSpec[] = [];
  const timeline = m ? phaseTimelineChart('phases', m.phases) : undefined;
  if (timeline) charts.push(timeline);
  const input = { manifest: m, metrics: loaded.metrics };
  charts.push(...chartsForJob(job.scenario, input));
  const summary = summaryForJob(job.scenario, input);
  const rendered = await renderCharts(charts, `job:${job.key}`, job.page, job.assetsDir);
  files.push(...rendered.files);

  const samples = sampleRows(loaded.metrics);
  files.push({ path: `${job.assetsDir}/samples.json`, data: `${JSON.stringify(loaded.metrics?.samples ?? [])}\n` });
  files.push({ path: `${job.assetsDir}/samples.csv`, data: toCsv(samples, ['metric', 'labels', 'value', 'unit', 'better']) });

  const logs: { label: string; href: string; size: string }[] = [];
  let logTail: string | null = null;
  for (const log of job.logs) {
    let data: Buffer;
    try {
      data = await readFile(log.source);
    } catch {
      continue;
    }
    const path = `${job.assetsDir}/logs/${log.name}`;
    files.push({ path, data });
    logs.push({ label: log.name.replace(/\.txt$/, ''), href: rel(job.page, path), size: sizeText(data.length) });
    if (log.name === 'orchestrator.log.txt') logTail = data.toString('utf8').split('\n').slice(-LOG_TAIL_LINES).join('\n');
  }

  const startedAt = m?.startedAt ?? job.at;
  const endedAt = m?.endedAt ?? null;
  const html = page(ctx, './job', job.page, {
    title: `${job.host} · ${job.scenario} · ${job.sweepId}`,
    section: 'sweeps',
    chartScript: rendered.script,
    job: {
      host: job.host,
      scenario: job.scenario,
      sweepId: job.sweepId,
      jobId: job.jobId,
      status: m?.status ?? job.status,
      startedAt,
      endedAt,
      duration: formatDuration(startedAt && endedAt ? Date.parse(endedAt) - Date.parse(startedAt) : null),
      address: m?.host.address ?? '—',
      port: m?.host.port ?? '—',
      user: m?.host.user ?? '—',
      roles: m?.host.roles ?? [],
      groups: m?.host.groups ?? [],
      profile: m?.profile ?? '—',
      params: m ? JSON.stringify(m.scenario.params, null, 2) : '—',
      errors: m?.errors ?? [],
      artifacts: m?.artifacts ? `${m.artifacts.status}: ${m.artifacts.files} file(s), ${sizeText(m.artifacts.bytes)}${m.artifacts.rejected.length ? `, ${m.artifacts.rejected.length} rejected` : ''}` : '—',
      orchestrator: m ? `${m.orchestrator.version} (node ${m.orchestrator.node})` : '—',
      build: m?.build ?? null,
    },
    summary,
    storyCharts: rendered.views.filter((v) => v.placement === 'story'),
    env: m?.environment ?? null,
    packages: Object.entries(m?.environment?.packages ?? {}).sort(([a], [b]) => a.localeCompare(b)),
    phases: m?.phases ?? [],
    problems: loaded.problems,
    charts: rendered.views.filter((v) => v.placement !== 'story'),
    samples,
    samplesJson: rel(job.page, `${job.assetsDir}/samples.json`),
    samplesCsv: rel(job.page, `${job.assetsDir}/samples.csv`),
    logs,
    logTail,
    trendsHref: rel(job.page, trendsPage(job.host, job.scenario)),
    compareHref: previous ? rel(job.page, job.comparePage) : null,
  });
  files.push({ path: job.page, data: html });
  files.push({ path: job.dataFile, data: dataScript('jobs', job.key, jobData(loaded)) });
  return files;
}

/** Per-metric thresholds: each metric's samples are compared with the thresholds configured for it. */
export function compareJobs(a: MetricsFile, b: MetricsFile, host: string, scenario: string, thresholdsFor: (key: SeriesKey) => Thresholds): MetricComparison[] {
  const metrics = [...new Set([...a.samples, ...b.samples].map((s) => s.metric))].sort();
  return metrics.flatMap((metric) =>
    compareMetrics(
      { ...a, samples: a.samples.filter((s) => s.metric === metric), series: [] },
      { ...b, samples: b.samples.filter((s) => s.metric === metric), series: [] },
      thresholdsFor({ host, scenario, metric, labels: {} }),
    ),
  );
}

const EMPTY_METRICS: MetricsFile = { schema: 'orchestrate/metrics@1', samples: [], series: [] };

async function renderCompare(ctx: Ctx, job: JobRef, previous: JobRef): Promise<OutFile[]> {
  const [a, b] = await Promise.all([loadJob(ctx.resultsDir, previous), loadJob(ctx.resultsDir, job)]);
  const comparisons = compareJobs(a.metrics ?? EMPTY_METRICS, b.metrics ?? EMPTY_METRICS, job.host, job.scenario, ctx.thresholdsFor);
  const labelsOf = seriesLabeller([...(a.metrics?.samples ?? []), ...(b.metrics?.samples ?? [])].map((x) => ({ key: { host: job.host, scenario: job.scenario, labels: x.labels } })));
  const rows = compareRows(comparisons, (labels) => labelsOf({ host: job.host, scenario: job.scenario, labels }));
  const base = job.comparePage.replace(/\.html$/, '');
  const t = ctx.thresholdsFor({ host: job.host, scenario: job.scenario, metric: '', labels: {} });
  const side = (ref: JobRef, loaded: LoadedJob) => ({ host: ref.host, scenario: ref.scenario, sweepId: ref.sweepId, at: loaded.manifest?.startedAt ?? ref.at, status: loaded.manifest?.status ?? ref.status, href: rel(job.comparePage, ref.page) });
  const html = page(ctx, './compare', job.comparePage, {
    title: `Compare ${job.host} · ${job.scenario}`,
    section: 'compare',
    a: side(previous, a),
    b: side(job, b),
    rows,
    env: environmentDiff(a.manifest, b.manifest),
    minRelativeChange: t.minRelativeChange,
    pValue: t.pValue,
    json: rel(job.comparePage, `${base}.json`),
    csv: rel(job.comparePage, `${base}.csv`),
  });
  const flat = rows.map((r) => ({ metric: r.metric, labels: r.labelsText, unit: r.unit, better: r.better, aN: r.a.n, aMean: r.a.mean, bN: r.b.n, bMean: r.b.mean, deltaPercent: r.deltaPercent, pValue: r.pValue, significant: r.significant, verdict: r.verdict }));
  return [
    { path: job.comparePage, data: html },
    { path: `${base}.json`, data: `${JSON.stringify({ a: previous.key, b: job.key, comparisons })}\n` },
    { path: `${base}.csv`, data: toCsv(flat) },
  ];
}

interface TrendGroup {
  host: string;
  scenario: string;
  path: string;
  histories: MetricHistory[];
  changes: DetectedChange[];
}

/** Headline numbers of each job, from the histories the build has loaded anyway. */
function headlineLookup(histories: readonly MetricHistory[]): (sweepId: string, jobId: string, scenario: string) => string | undefined {
  const wanted = new Set(Object.values(jobHeadlines).flatMap((list) => list.map((h) => h.metric)));
  const values = new Map<string, { value: number; unit: string }>();
  for (const h of histories) {
    if (!wanted.has(h.key.metric)) continue;
    for (const point of h.points) {
      const key = `${point.sweepId}\0${point.jobId}\0${h.key.metric}`;
      if (!values.has(key)) values.set(key, { value: point.value, unit: h.unit });
    }
  }
  return (sweepId, jobId, scenario) => {
    const parts = (jobHeadlines[scenario] ?? []).flatMap(({ metric, label }) => {
      const found = values.get(`${sweepId}\0${jobId}\0${metric}`);
      if (!found) return [];
      return [`${label} ${formatValue(found.value, found.unit)}`];
    });
    return parts.length > 0 ? parts.join(', ') : undefined;
  };
}

function trendGroups(histories: readonly MetricHistory[], changes: readonly DetectedChange[]): TrendGroup[] {
  const groups = new Map<string, TrendGroup>();
  for (const h of histories) {
    const id = `${h.key.host}\u0000${h.key.scenario}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { host: h.key.host, scenario: h.key.scenario, path: trendsPage(h.key.host, h.key.scenario), histories: [], changes: [] }));
    g.histories.push(h);
  }
  for (const c of changes) groups.get(`${c.key.host}\u0000${c.key.scenario}`)?.changes.push(c);
  return [...groups.values()].sort((a, b) => a.host.localeCompare(b.host) || a.scenario.localeCompare(b.scenario));
}

/** The trend charts of a host x scenario: one per metric, a line per label set. */
function metricTrendCharts(group: TrendGroup): (ChartSpec & { anchors: string[] })[] {
  const byMetric = new Map<string, MetricHistory[]>();
  for (const h of group.histories) byMetric.set(h.key.metric, [...(byMetric.get(h.key.metric) ?? []), h]);
  const charts: (ChartSpec & { anchors: string[] })[] = [];
  for (const [metric, hs] of [...byMetric.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const lines: TrendLine[] = hs.map((h) => ({
      label: labelsText(h.key.labels) || metric,
      points: h.points.map((p) => ({ ...p, href: rel(group.path, jobPaths(p.sweepId, p.jobId).page) })),
    }));
    const keyIds = new Set(hs.map((h) => h.keyId));
    const marks = group.changes
      .filter((c) => keyIds.has(c.keyId))
      .map((c) => ({ at: c.at, kind: c.kind, label: labelsText(c.key.labels) || metric, relativeChange: c.relativeChange }));
    charts.push({ ...trendChart({ id: `m-${slug(metric)}`, metric, unit: hs[0]!.unit, better: hs[0]!.better, lines, changes: marks }), anchors: hs.map((h) => h.keyId) });
  }
  return charts;
}

/** The trend charts of a matrix (kvm): one per measurement, a line per point named as the job page names it. */
function matrixTrendCharts(group: TrendGroup, matrix: PointMatrix): (ChartSpec & { anchors: string[] })[] {
  const names = new Map(matrix.points.map((p) => [p.id, p.name]));
  return matrix.measurements.map((m) => {
    const keyIds = new Set(m.lines.flatMap((l) => l.keyIds));
    const nameOf = (point: string | undefined) => (point === undefined ? 'job' : (names.get(point) ?? point));
    const lines: TrendLine[] = m.lines.map((l) => ({
      label: nameOf(l.point),
      points: l.points.map((p) => ({ ...p, href: rel(group.path, jobPaths(p.sweepId, p.jobId).page) })),
    }));
    const marks = group.changes
      .filter((c) => keyIds.has(c.keyId))
      .map((c) => ({ at: c.at, kind: c.kind, label: nameOf(c.key.labels['point']), relativeChange: c.relativeChange }));
    const chart = trendChart({ id: `m-${m.id}`, metric: m.metric, title: m.title, unit: m.unit, better: m.better, lines, changes: marks, seriesTitle: 'point' });
    return { ...chart, anchors: [...keyIds] };
  });
}

async function renderTrends(ctx: Ctx, group: TrendGroup, rows: readonly ChangeRow[]): Promise<OutFile[]> {
  const matrix = pointMatrix(group.histories, group.changes, (h) => ctx.thresholdsFor(h.key));
  const charts = matrix ? matrixTrendCharts(group, matrix) : metricTrendCharts(group);
  const assetsDir = group.path.replace(/\.html$/, '');
  const rendered = await renderCharts(charts, `trends:${group.host}/${group.scenario}`, group.path, assetsDir);
  const views = rendered.views.map((v, i) => ({ ...v, anchors: charts[i]!.anchors }));
  const sweeps = new Set(group.histories.flatMap((h) => h.points.map((p) => p.sweepId))).size;
  const runs = runRows(group.histories.flatMap((h) => h.points), (sweepId, jobId) => rel(group.path, jobPaths(sweepId, jobId).page));
  const html = page(ctx, './trends', group.path, {
    title: `Trends · ${group.host} · ${group.scenario}`,
    section: 'trends',
    chartScript: rendered.script,
    host: group.host,
    scenario: group.scenario,
    metrics: new Set(group.histories.map((h) => h.key.metric)).size,
    sweeps,
    changes: rows,
    charts: views,
    matrix: matrix ? { points: matrix.points, rows: matrix.rows, jobRows: matrix.jobRows } : null,
    runs: runs.some((r) => r.build !== null) ? runs : [],
  });
  return [...rendered.files, { path: group.path, data: html }];
}

function uuidFrom(text: string): string {
  const h = sha(text, 32);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function atomFeed(ctx: Ctx, rows: readonly ChangeRow[], feedKey: string, fallbackUpdated: string): string {
  const entries = rows.slice(0, 200).map((r) => ({
    id: uuidFrom(`change ${r.keyId} ${r.sweepId}`),
    title: `${r.kind}: ${r.host} · ${r.scenario} · ${r.metric}${r.labels ? ` {${r.labels}}` : ''} ${formatPercent(r.relativeChange * 100)}`,
    updated: new Date(r.at).toISOString(),
    href: r.trendHref,
    summary: `${r.metric}${r.labels ? ` {${r.labels}}` : ''} on ${r.host} (${r.scenario}) went from ${formatValue(r.beforeMean, r.unit)} to ${formatValue(r.afterMean, r.unit)} (${formatPercent(r.relativeChange * 100)}, p = ${formatP(r.pValue)}) from sweep ${r.sweepId}${r.builds ? `, ${r.builds}` : ''}.`,
  }));
  const updated = entries.reduce((max, e) => (e.updated > max ? e.updated : max), fallbackUpdated);
  return ctx.eta.render('./atom', { feedId: uuidFrom(`regressions feed ${feedKey}`), updated, entries });
}

/**
 * The feed pages people: once sweeps record what they paged (findings.json), it carries only
 * those changes (confirmed, or unconfirmed where the inventory pages them), each once, as the
 * sweep that paged it saw it. Stores from before findings keep every detected change.
 */
async function pagedChanges(resultsDir: string, sweepIds: readonly string[]): Promise<DetectedChange[] | undefined> {
  // paged.json names the sweeps that paged: only their findings are read (a store without it is scanned).
  const state = await readPagedState(resultsDir).catch(() => undefined);
  const paging = state ? new Set(Object.values(state.paged).map((p) => p.sweepId)) : undefined;
  const loaded = await Promise.all(sweepIds.filter((id) => paging?.has(id) ?? true).map((id) => loadFindings(resultsDir, id)));
  const found = loaded.flatMap((f) => (f.state === 'found' ? [f.findings] : []));
  if (found.length === 0 && !state) return undefined;
  const seen = new Set<string>();
  const paged: DetectedChange[] = [];
  for (const candidate of found.flatMap((f) => f.candidates)) {
    const id = changeId(candidate.change);
    if (!candidate.paged || seen.has(id)) continue;
    seen.add(id);
    paged.push(candidate.change);
  }
  return paged;
}

export async function buildSite(options: BuildSiteOptions): Promise<BuildSiteResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const thresholdsFor = options.thresholdsFor ?? (() => DEFAULT_THRESHOLDS);
  const concurrency = options.concurrency ?? 4;

  const [scan, history, assets, templatesFp] = await Promise.all([
    scanStore(options.resultsDir),
    options.history ?? loadHistory(options.resultsDir),
    assetsFor(),
    templatesFingerprint(),
  ]);
  const changes = detectChanges(history.histories, thresholdsFor);
  log(`site: ${scan.sweeps.length} sweep(s), ${history.histories.length} metric histories, ${changes.length} change(s) detected (${Date.now() - started} ms)`);

  const ctx: Ctx = {
    resultsDir: options.resultsDir,
    eta: new Eta({ views: join(REPORT_SITE_DIR, 'templates'), cache: true, autoEscape: true }),
    assets,
    siteFp: sha(`${BUILDER_VERSION}|${assets.fingerprint}|${templatesFp}`),
    thresholdsFor,
  };
  const writer = new SiteWriter(options.outDir, options.writeFile ?? writeFileAtomic);
  await writer.open();
  await writer.unit('assets', assets.fingerprint, () => assets.files);

  const sweeps: SweepRef[] = scan.sweeps;
  const jobs = sweeps.flatMap((s) => s.jobs);
  const previous = previousJobs(sweeps);

  await mapLimit(jobs, concurrency, async (job) => {
    const prev = previous.get(job.key);
    await writer.unit(`job:${job.key}`, sha(`${ctx.siteFp}|${job.fp}|${prev?.key ?? ''}`), () => renderJob(ctx, job, prev));
    if (prev) await writer.unit(`compare:${job.key}`, sha(`${ctx.siteFp}|${job.fp}|${prev.key}|${prev.fp}`), () => renderCompare(ctx, job, prev));
  });
  log(`site: job pages done (${Date.now() - started} ms)`);

  const labelsOf = seriesLabeller(history.histories);
  const rows = changeRows(changes, jobsBySweepHostScenario(sweeps), previous, labelsOf);
  const groups = trendGroups(history.histories, changes);
  await mapLimit(groups, concurrency, async (group) => {
    const own = rows
      .filter((r) => r.host === group.host && r.scenario === group.scenario)
      .map((r) => ({ ...r, jobHref: r.jobHref }));
    const input = JSON.stringify({ h: group.histories, c: group.changes });
    await writer.unit(`trends:${group.host}/${group.scenario}`, sha(`${ctx.siteFp}|${input}`), () => renderTrends(ctx, group, own));
  });

  const trendHosts = new Map<string, { scenario: string; href: string; metrics: number }[]>();
  for (const g of groups) trendHosts.set(g.host, [...(trendHosts.get(g.host) ?? []), { scenario: g.scenario, href: g.path, metrics: new Set(g.histories.map((h) => h.key.metric)).size }]);
  const trendsIndex = [...trendHosts.entries()].map(([host, scenarios]) => ({ host, scenarios }));
  await writer.unit('trends-index', sha(`${ctx.siteFp}|${JSON.stringify(trendsIndex)}`), () => [
    { path: 'trends.html', data: page(ctx, './trends-index', 'trends.html', { title: 'Trends', section: 'trends', hosts: trendsIndex }) },
  ]);

  const index = indexRows(sweeps, changes, headlineLookup(history.histories));
  const problems = [...scan.problems];
  const latestId = sweeps.map((s) => s.sweepId).sort().at(-1);
  const loadedFindings = latestId === undefined ? undefined : await loadFindings(options.resultsDir, latestId);
  const atGlance = glance({
    sweeps,
    findings: loadedFindings?.state === 'found' ? loadedFindings.findings : undefined,
    ...(loadedFindings?.state === 'invalid' ? { findingsProblem: loadedFindings.problem } : {}),
    changes,
    // only for an older sweep without findings: what the site detects it revealed
    ...(latestId !== undefined && loadedFindings?.state !== 'found' ? { revealed: revealedBy(history.histories, changes, thresholdsFor, latestId) } : {}),
    histories: history.histories,
    previous,
    labelsOf,
  });
  const hosts = new Set(jobs.map((j) => j.host)).size;
  const scenarios = new Set(jobs.map((j) => j.scenario)).size;
  const indexData = {
    rows: index,
    problems,
    totalJobs: jobs.length,
    totalHosts: hosts,
    multiScenario: scenarios > 1,
    totalRegressions: changes.filter((c) => c.kind === 'regression').length,
    totalImprovements: changes.filter((c) => c.kind === 'improvement').length,
    /** Some host x scenario has run twice: there is a history to detect changes in. */
    anyHistory: previous.size > 0,
    glance: atGlance ? { ...atGlance, quiet: quiet(atGlance) } : null,
  };
  await writer.unit('index', sha(`${ctx.siteFp}|${JSON.stringify(indexData)}`), () => [
    { path: 'index.html', data: page(ctx, './index', 'index.html', { title: 'Sweeps', section: 'sweeps', ...indexData }) },
  ]);

  const counts = { regression: 0, improvement: 0, change: 0 };
  for (const c of changes) counts[c.kind]++;
  const paged = await pagedChanges(options.resultsDir, sweeps.map((s) => s.sweepId));
  const feedRows = paged ? changeRows(paged, jobsBySweepHostScenario(sweeps), previous, labelsOf) : rows;
  const latestSweep = sweeps.at(-1)?.manifest.startedAt ?? '1970-01-01T00:00:00.000Z';
  const feedKey = resolve(options.resultsDir);
  await writer.unit('regressions', sha(`${ctx.siteFp}|${JSON.stringify({ rows, feedRows: feedRows.length, problems: history.problems, latestSweep })}`), () => [
    { path: 'regressions.html', data: page(ctx, './regressions', 'regressions.html', { title: 'Regressions', section: 'regressions', rows, counts, problems: history.problems }) },
    { path: 'regressions.json', data: `${JSON.stringify({ schema: 'orchestrate/regressions@1', counts, changes: rows }, null, 2)}\n` },
    { path: 'regressions.atom', data: atomFeed(ctx, feedRows, feedKey, new Date(latestSweep).toISOString()) },
  ]);

  const pairGroups = new Map<string, { host: string; scenario: string; pairs: { href: string; at: string; sweepId: string; prevSweepId: string }[] }>();
  for (const job of [...jobs].reverse()) {
    const prev = previous.get(job.key);
    if (!prev) continue;
    const id = `${job.host}\u0000${job.scenario}`;
    let g = pairGroups.get(id);
    if (!g) pairGroups.set(id, (g = { host: job.host, scenario: job.scenario, pairs: [] }));
    g.pairs.push({ href: job.comparePage, at: job.at, sweepId: job.sweepId, prevSweepId: prev.sweepId });
  }
  const compareGroups = [...pairGroups.values()].sort((a, b) => a.host.localeCompare(b.host) || a.scenario.localeCompare(b.scenario));
  const jobsIndex = {
    minRelativeChange: DEFAULT_THRESHOLDS.minRelativeChange,
    jobs: jobs.map((j) => [j.key, j.host, j.scenario, j.sweepId, j.at, j.status, j.dataFile, j.page]),
  };
  await writer.unit('compare-picker', sha(`${ctx.siteFp}|${JSON.stringify({ compareGroups, jobsIndex })}`), () => [
    { path: 'data/jobs-index.js', data: dataScript('jobsIndex', 'main', jobsIndex) },
    {
      path: 'compare.html',
      data: page(ctx, './compare-picker', 'compare.html', {
        title: 'Compare',
        section: 'compare',
        groups: compareGroups,
        scripts: ['data/jobs-index.js', assets.paths['compare.js']],
      }),
    },
  ]);

  const removed = await writer.finish();
  const regressions = counts.regression;
  log(
    `site: ${writer.unitsWritten} page(s) written, ${writer.unitsUnchanged} unchanged, ${removed.length} stale file(s) removed, ${sizeText(writer.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${regressions} regression(s)`,
  );
  return {
    pagesWritten: writer.unitsWritten,
    pagesUnchanged: writer.unitsUnchanged,
    bytes: writer.bytes,
    regressions,
    written: [...writer.written].sort(),
    files: writer.writtenFiles.sort(),
    problems: [...scan.problems, ...history.problems],
  };
}

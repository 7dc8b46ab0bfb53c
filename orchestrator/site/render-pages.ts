// The pages with charts, rendered from plain data: a job's page (its files read here); the
// trends pages are trends-pages.ts, which draws its charts with renderCharts here. Charts are drawn to SVG (the site's own
// writer for the common kinds, Vega for the rest), the heavy part of a build, so these run in the render workers (render-worker.ts); everything
// they need arrives as data that survives a structured clone (no functions).
import { readFileSync } from 'node:fs';
import { phaseTimelineChart, type ChartSpec } from './charts.js';
import { chartScript, dataScript, toCsv } from './encode.js';
import { formatDuration, unitTables } from './format.js';
import { chartsForJob, summaryForJob } from './job-charts.js';
import { jobPaths, loadJob, trendsPage, type JobRef, type LoadedJob } from './load.js';
import { rel, sha } from './names.js';
import type { OutFile } from './output.js';
import { page, sizeText, type PageContext } from './page-context.js';
import { envFields, sampleRows } from './pages.js';
import { drawChart } from './svg-chart/draw.js';

const LOG_TAIL_LINES = 200;

/**
 * Vega and Vega-Lite (svg.ts), loaded by the first chart the site's own writer does not draw (a
 * kvm job's bars): a render worker that never meets one never loads them (about 350 ms of CPU and
 * their heap for the whole build, per worker).
 */
let vegaSvg: Promise<typeof import('./svg.js')> | undefined;
function renderSvg(spec: ChartSpec['spec'], idPrefix: string): Promise<string> {
  vegaSvg ??= import('./svg.js');
  return vegaSvg.then((svg) => svg.renderSvg(spec, idPrefix));
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

/**
 * SVG + interactive spec + downloads for a page's charts. The charts may come one at a time (a
 * generator): each is drawn and written to text before the next is built, so its rows, spec and
 * drawing die young instead of a whole page's (a midolman trends page: 40 charts, 72,000 rows)
 * living through every young collection of the page and being copied into the old generation.
 */
export async function renderCharts(charts: Iterable<ChartSpec>, pageId: string, pagePath: string, assetsDir: string): Promise<{ views: RenderedChart[]; files: OutFile[]; script: string | undefined }> {
  const views: RenderedChart[] = [];
  const files: OutFile[] = [];
  let script = '';
  for (const chart of charts) {
    const key = `${pageId}#${chart.id}`;
    // the site's own writer where the builder made a drawing (trend lines, job series, phases); Vega for the rest
    const svg = chart.drawing ? drawChart(chart.drawing) : await renderSvg(chart.spec, `c${sha(key, 8)}`);
    const json = `${assetsDir}/${chart.id}.json`;
    const csv = `${assetsDir}/${chart.id}.csv`;
    files.push({ path: json, data: `${JSON.stringify(chart.rows)}\n` }, { path: csv, data: toCsv(chart.rows, chart.columns) });
    script += chartScript(key, chart.spec);
    views.push({ id: chart.id, key, svg, note: chart.note, json: rel(pagePath, json), csv: rel(pagePath, csv), placement: chart.placement });
  }
  if (views.length === 0) return { views, files, script: undefined };
  const scriptPath = `${assetsDir}/charts.js`;
  files.push({ path: scriptPath, data: script });
  return { views, files, script: rel(pagePath, scriptPath) };
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

/** A job's page; `loaded`: the job's files when the caller has read them already (its comparison did). */
export async function renderJob(ctx: PageContext, job: JobRef, previous: JobRef | undefined, loaded?: LoadedJob): Promise<OutFile[]> {
  loaded ??= await loadJob(ctx.resultsDir, job);
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
      data = readFileSync(log.source); // synchronous: a render worker has nothing else to do meanwhile
    } catch {
      continue;
    }
    const path = `${job.assetsDir}/${log.name}`; // beside the job's data (every log name ends .log.txt): no directory of its own to make and check
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

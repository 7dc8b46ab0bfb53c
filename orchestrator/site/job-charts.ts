// What a job page shows beyond every job's (the phase timeline, the table of every sample, the
// logs: render-pages.ts): what its scenario contributes (Scenario.jobPage: charts, a summary
// line, headline numbers for the sweeps index, how a matrix's points are named), else every
// series of the job charted. The site knows scenarios only through the registry, never by name.
import { SCENARIOS, type ScenarioRegistry } from '../scenarios/registry.js';
import type { JobHeadline, JobPage, JobPageInput, PointNaming, SummaryItem } from '../scenarios/types.js';
import type { ChartSpec } from './charts.js';
import { seriesCharts } from './series-charts.js';

/** Each scenario's job page contribution, by scenario name; scenarios without one are left out. */
export async function loadJobPages(registry: ScenarioRegistry): Promise<ReadonlyMap<string, JobPage>> {
  const loaded = await Promise.all([...registry].map(async ([name, scenario]) => [name, await scenario.jobPage?.()] as const));
  return new Map(loaded.flatMap(([name, page]) => (page ? [[name, page] as const] : [])));
}

// Loaded once, when the site's modules load (the report's, and each render worker's; never at
// `--plan`, which does not load the site): pages are then drawn without waiting on imports. A job
// page module must not import this one (it would wait on itself); the contract is in
// scenarios/types.ts.
const JOB_PAGES = await loadJobPages(SCENARIOS);

/** Every series of the job, one chart per metric (a line per label set). */
function genericJobCharts(job: JobPageInput): ChartSpec[] {
  return seriesCharts(job.metrics?.series ?? []);
}

export function chartsForJob(scenario: string, job: JobPageInput): ChartSpec[] {
  const charts = JOB_PAGES.get(scenario)?.charts;
  return charts ? charts(job) : genericJobCharts(job);
}

/** The summary line at the top of a job page (none for a scenario that does not give one). */
export function summaryForJob(scenario: string, job: JobPageInput): SummaryItem[] {
  return JOB_PAGES.get(scenario)?.summary?.(job) ?? [];
}

/** The numbers the sweeps index shows beside each job, by scenario: metric name and its label. */
export const jobHeadlines: Readonly<Record<string, readonly JobHeadline[]>> = Object.assign(
  Object.create(null) as Record<string, readonly JobHeadline[]>,
  Object.fromEntries([...JOB_PAGES].flatMap(([name, page]) => (page.headlines ? [[name, page.headlines]] : []))),
);

/** How a matrix scenario names its points; undefined for a scenario that is not one. */
export function pointNamingFor(scenario: string): PointNaming | undefined {
  return JOB_PAGES.get(scenario)?.points;
}

// The static report site builder (Observable Framework's model): load the store once into
// memory-light refs, decide per page whether its inputs changed (fingerprints kept in the
// build manifest), render changed pages with pure functions + eta templates, write the
// files atomically. Charts are rendered to SVG here, so pages read fine without JavaScript.
import { resolve } from 'node:path';
import { loadHistory, type MetricHistory, type SeriesKey } from '../analysis/history.js';
import { DEFAULT_THRESHOLDS, detectChangesInSlices, type DetectedChange, type Thresholds } from '../analysis/regressions.js';
import { assetsFor } from './asset-cache.js';
import { collectFully } from './full-collection.js';
import type { CompareInput, CompareThresholds } from './compare-page.js';
import { jobHeadlines } from './job-charts.js';
import { mapLimit, scanStore, trendsPage, type JobRef, type Problem, type SweepRef } from './load.js';
import { SiteWriter, writeFileAtomic, type UnitOutput, type WriteFileFn } from './output.js';
import { checkOutputDir, siteOutputError } from './output-error.js';
import { markBuilding, type BuildMark } from './build-marker.js';
import { changeGroups, changeRows, findingLookup, indexRows, jobsBySweepHostScenario, previousJobs, type ChangeRow } from './pages.js';
import { page, pageContext, sizeText, type PageContext } from './page-context.js';
import { seriesLabeller } from './point-matrix.js';
import { RenderPool } from './render-pool.js';
import type { TrendGroup } from './trend-periods.js';
import { trendPlans, trendUnits, withTrendPages } from './trend-units.js';
import { loadFindings, type LoadedFindings } from './findings.js';
import { changeId } from '../analysis/findings.js';
import { readPagedState } from '../results/store.js';
import { glance, quiet, revealedBy } from './glance.js';
import { dataScript } from './encode.js';
import { changeText } from '../analysis/change-text.js';
import { formatP, formatValue } from './format.js';
import { sha } from './names.js';
import { writeBuildState, type BuildState, type RecordedBuildState } from './build-state.js';
import type { Assets } from './assets.js';
import type { JobIdentity } from '../results/store-stamp.js';
import { BUILDER_VERSION, inputsFingerprint, nothingNewLine, nothingNewResult, siteInputs, type SiteInputs, type StampParts } from './up-to-date.js';


export interface BuildSiteOptions {
  resultsDir: string;
  outDir: string;
  thresholdsFor?: (key: SeriesKey) => Thresholds;
  log?: (line: string) => void;
  now?: Date;
  /** Injected for tests; defaults to temp file + rename. */
  writeFile?: WriteFileFn;
  /** Render workers (default: one per core, os.availableParallelism()); 0 draws pages in this thread. */
  workers?: number;
  /** The store's metric histories when the caller has loaded them already (a sweep's end does). */
  history?: Awaited<ReturnType<typeof loadHistory>>;
  /**
   * What `siteInputs` said for this store, site and thresholds just before, when the caller asked
   * first (`orchestrate report` does, to load the builder only when there is something to build):
   * the store's stamp is then taken once, not twice.
   */
  inputs?: SiteInputs;
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

interface Ctx extends PageContext {
  siteFp: string;
  thresholdsFor: (key: SeriesKey) => Thresholds;
}


export { compareJobs } from './compare-page.js';

/**
 * The thresholds tables of the comparison pages (they are drawn in the render workers, which
 * cannot call thresholdsFor): per host x scenario, the page's own and those of every metric its
 * histories know, made once per host x scenario; a metric a job has beyond those (a failed job's)
 * is added when a worker asks for it.
 */
function compareThresholdsTables(histories: readonly MetricHistory[], thresholdsFor: (key: SeriesKey) => Thresholds): (job: JobRef, missing?: readonly string[]) => CompareThresholds {
  const metricsOf = new Map<string, Set<string>>();
  for (const h of histories) {
    const id = `${h.key.host}\u0000${h.key.scenario}`;
    let metrics = metricsOf.get(id);
    if (!metrics) metricsOf.set(id, (metrics = new Set()));
    metrics.add(h.key.metric);
  }
  const tables = new Map<string, CompareThresholds>();
  return (job, missing = []) => {
    const id = `${job.host}\u0000${job.scenario}`;
    let table = tables.get(id);
    const of = (metric: string) => thresholdsFor({ host: job.host, scenario: job.scenario, metric, labels: {} });
    if (!table) tables.set(id, (table = { page: of(''), metrics: Object.fromEntries([...(metricsOf.get(id) ?? [])].map((metric) => [metric, of(metric)])) }));
    for (const metric of missing) table.metrics[metric] ??= of(metric);
    return table;
  };
}

/** A comparison page drawn (and written) by a render worker, asked again with the thresholds it found missing. */
async function compareUnit(pool: RenderPool, input: CompareInput, tableFor: (job: JobRef, missing?: readonly string[]) => CompareThresholds, before: Record<string, string> | undefined): Promise<UnitOutput> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const outcome = await pool.compare(input, before);
    if ('output' in outcome) return outcome.output;
    if (!('missingThresholds' in outcome)) break;
    input = { ...input, thresholds: tableFor(input.job, outcome.missingThresholds) };
  }
  throw new Error(`compare ${input.job.key}: no page came back (thresholds still missing after they were added?)`);
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

function uuidFrom(text: string): string {
  const h = sha(text, 32);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function atomFeed(ctx: Ctx, rows: readonly ChangeRow[], feedKey: string, fallbackUpdated: string): string {
  const entries = rows.slice(0, 200).map((r) => ({
    id: uuidFrom(`change ${r.keyId} ${r.sweepId}`),
    title: `${r.kind}: ${r.host} · ${r.scenario} · ${r.metric}${r.labels ? ` {${r.labels}}` : ''} ${changeText(r)}`,
    updated: new Date(r.at).toISOString(),
    href: r.trendHref,
    summary: `${r.metric}${r.labels ? ` {${r.labels}}` : ''} on ${r.host} (${r.scenario}) went from ${formatValue(r.beforeMean, r.unit)} to ${formatValue(r.afterMean, r.unit)} (${changeText(r)}, p = ${formatP(r.pValue)}) from sweep ${r.sweepId}${r.builds ? `, ${r.builds}` : ''}.`,
  }));
  const updated = entries.reduce((max, e) => (e.updated > max ? e.updated : max), fallbackUpdated);
  return ctx.eta.render('./atom', { feedId: uuidFrom(`regressions feed ${feedKey}`), updated, entries });
}

/**
 * The feed pages people: once sweeps record what they paged (findings.json), it carries only
 * those changes (confirmed, or unconfirmed where the inventory pages them), each once, as the
 * sweep that paged it saw it. Stores from before findings keep every detected change.
 */
async function pagedChanges(resultsDir: string, findingsBySweep: ReadonlyMap<string, LoadedFindings>): Promise<DetectedChange[] | undefined> {
  // paged.json names the sweeps that paged: only their findings count (a store without it: every sweep's).
  const state = await readPagedState(resultsDir).catch(() => undefined);
  const paging = state ? new Set(Object.values(state.paged).map((p) => p.sweepId)) : undefined;
  const found = [...findingsBySweep].flatMap(([id, f]) => ((paging?.has(id) ?? true) && f.state === 'found' ? [f.findings] : []));
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

/**
 * Waits for every one of `work` to end, then fails with the first failure: nothing a build
 * started is still writing when the build returns or throws.
 */
async function allSettledOrThrow(work: readonly Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The keys whose thresholds the pages use: a series' own, and its host x scenario x metric's (comparisons). */
function thresholdProbes(histories: readonly MetricHistory[]): SeriesKey[] {
  const probes = new Map<string, SeriesKey>();
  for (const h of histories) {
    for (const key of [h.key, { ...h.key, labels: {} }, { ...h.key, metric: '', labels: {} }]) probes.set(JSON.stringify(key), key);
  }
  return [...probes.values()];
}


export async function buildSite(options: BuildSiteOptions): Promise<BuildSiteResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const thresholdsFor = options.thresholdsFor ?? (() => DEFAULT_THRESHOLDS);
  const writeFile = options.writeFile ?? writeFileAtomic;

  // Nothing new since the last build (same inputs, every page still there): nothing is read or written.
  const inputs = options.inputs ?? (await siteInputs(options.resultsDir, options.outDir, thresholdsFor));
  const { state, upToDate } = inputs;
  if (state && upToDate) {
    log(nothingNewLine(state, Date.now() - started));
    return nothingNewResult(state);
  }

  // Something will be drawn: into a directory that is one and can be written, or not at all.
  if (!options.writeFile) await checkOutputDir(options.outDir);
  let mark: BuildMark | undefined;
  let finished = false;
  try {
    mark = options.writeFile ? undefined : await markBuilding(options.outDir);
    const result = await drawSite(options, { started, log, thresholdsFor, writeFile, inputs, lastBuildKilled: mark?.lastBuildKilled ?? false });
    finished = true;
    return result;
  } catch (error) {
    // a file of the site that could not be written is named as such (output-error.ts), whichever thread wrote it
    throw siteOutputError(error, options.outDir) ?? error;
  } finally {
    await mark?.release(finished);
  }
}

async function drawSite(
  options: BuildSiteOptions,
  { started, log, thresholdsFor, writeFile, inputs, lastBuildKilled }: { started: number; log: (message: string) => void; thresholdsFor: (key: SeriesKey) => Thresholds; writeFile: WriteFileFn; inputs: SiteInputs; lastBuildKilled: boolean },
): Promise<BuildSiteResult> {
  const { templatesFp, stampParts, state } = inputs;
  // The render workers start now and load their modules while this thread reads the store. They
  // write the job, compare and trends pages themselves, unless a test injected its own writeFile.
  const assets = await assetsFor();
  const pool = new RenderPool({ resultsDir: options.resultsDir, assetPaths: assets.paths, ...(options.writeFile ? {} : { outDir: options.outDir }) }, options.workers);
  pool.warm();
  try {
    // the stamp's job identities are made only now, when the scan needs them (SiteInputs.jobIdentities)
    return await buildPages({ options, started, log, thresholdsFor, writeFile, templatesFp, stampParts, state, jobIdentities: inputs.jobIdentities, assets, pool, lastBuildKilled });
  } finally {
    await pool.close();
  }
}

interface BuildPagesInputs {
  options: BuildSiteOptions;
  started: number;
  log: (line: string) => void;
  thresholdsFor: (key: SeriesKey) => Thresholds;
  writeFile: WriteFileFn;
  templatesFp: string;
  stampParts: StampParts;
  /** The last build's state, as siteInputs read it (undefined: none readable). */
  state: RecordedBuildState | undefined;
  jobIdentities: Map<string, JobIdentity>;
  assets: Assets;
  pool: RenderPool;
  /** The last build was killed mid-write (build-marker.ts): its temp files are removed where this one writes. */
  lastBuildKilled: boolean;
}

/** A build with something to draw, once its render workers are starting. */
async function buildPages({ options, started, log, thresholdsFor, writeFile, templatesFp, stampParts, state, jobIdentities, assets, pool, lastBuildKilled }: BuildPagesInputs): Promise<BuildSiteResult> {
  const writer = new SiteWriter(options.outDir, writeFile, { removeDeadTemps: lastBuildKilled });
  const [scan, history] = await Promise.all([scanStore(options.resultsDir, { cacheDir: options.outDir, jobIdentities }), options.history ?? loadHistory(options.resultsDir, { cacheDir: options.outDir }), writer.open({ recorded: state })]);

  const ctx: Ctx = {
    ...pageContext(options.resultsDir, assets.paths),
    siteFp: sha(`${BUILDER_VERSION}|${assets.fingerprint}|${templatesFp}`),
    thresholdsFor,
  };
  await writer.unit('assets', assets.fingerprint, () => assets.files);

  const sweeps: SweepRef[] = scan.sweeps;
  const jobs = sweeps.flatMap((s) => s.jobs);
  const previous = previousJobs(sweeps);
  const compareThresholds = compareThresholdsTables(history.histories, thresholdsFor);
  // The job and comparison pages need the store's jobs and histories, not the changes detected in
  // them: they go to the workers now, and stream through them beside the trends pages (only the
  // pages in flight are in memory) while this thread detects changes.
  const jobPages = mapLimit(jobs, pool.capacity + 2, async (job) => {
    // a job's page and its comparison: whichever changed, drawn (and written) by one worker from one read of the job
    const prev = previous.get(job.key);
    const pageId = `job:${job.key}`;
    const pageFp = sha(`${ctx.siteFp}|${job.fp}|${prev?.key ?? ''}`);
    const compareId = `compare:${job.key}`;
    const compareFp = prev ? sha(`${ctx.siteFp}|${job.fp}|${prev.key}|${prev.fp}`) : '';
    const page = !writer.unchanged(pageId, pageFp);
    const compare = prev !== undefined && !writer.unchanged(compareId, compareFp);
    if (!page && !compare) return;
    const drawn = await pool.jobPages({
      job,
      previous: prev,
      page: page ? { before: writer.before(pageId) } : undefined,
      compare: compare ? { thresholds: compareThresholds(job), before: writer.before(compareId) } : undefined,
    });
    if (drawn.page) await writer.record(pageId, pageFp, drawn.page);
    if (compare) {
      const input = { job, previous: prev!, thresholds: compareThresholds(job, drawn.missingThresholds) };
      await writer.record(compareId, compareFp, drawn.compare ?? (await compareUnit(pool, input, compareThresholds, writer.before(compareId))));
    }
  });
  // A page that fails while changes are detected below ends the build with its error at
  // allSettledOrThrow; until then its rejection is held here, not left unhandled (which ends the
  // process with Node's own stack trace, and the workers stopped mid-write).
  jobPages.catch(() => undefined);
  // in slices, so that the workers' replies are answered with their next pages meanwhile
  const changes = await detectChangesInSlices(history.histories, thresholdsFor, { memoDir: options.outDir, log });
  log(`site: ${scan.sweeps.length} sweep(s), ${history.histories.length} metric histories, ${changes.length} change(s) detected (${Date.now() - started} ms)`);

  const labelsOf = seriesLabeller(history.histories);
  const groups = trendGroups(history.histories, changes);
  // trends pages: a recent window per host x scenario and a frozen page per ended month (trend-units.ts)
  const sweepById = new Map(sweeps.map((s) => [s.sweepId, s]));
  const sweepFacts = { start: (id: string) => sweepById.get(id)?.manifest.startedAt, fp: (id: string) => sweepById.get(id)?.fp };
  const plans = trendPlans(groups, sweepFacts);
  // a row links to the trends page that draws its point
  const jobsByKey = jobsBySweepHostScenario(sweeps);
  const rows = withTrendPages(changeRows(changes, jobsByKey, previous, labelsOf), plans);
  const units = plans.flatMap((plan) => {
    const own = rows.filter((r) => r.host === plan.group.host && r.scenario === plan.group.scenario);
    // thresholds travel as data (a worker cannot call thresholdsFor), by the history they are for
    return trendUnits(plan, own, thresholdsFor, sweepFacts, ctx.siteFp);
  });
  // the biggest pages first (a midolman host's takes several times a sysinfo host's), so that no
  // worker is left drawing one big page at the end while the other has nothing to do; they go
  // ahead of the job pages still waiting for a worker
  units.sort((a, b) => b.weight - a.weight);
  // reading the store and detecting changes leave most of what they allocated as garbage; collect
  // it now, so that V8's next full collection is set from what the rest of the build keeps
  // (full-collection.ts), not from a heap caught mid-read
  collectFully();
  const trendPages = mapLimit(units, pool.capacity + 2, async (unit) => {
    // the worker that draws a page writes it; only paths, sizes and hashes come back
    await writer.unit(unit.id, unit.fp, () => pool.trendsWritten(unit.input(), writer.before(unit.id), { ahead: true }));
  });
  // The index, regressions and the compare picker are made here once the job pages are drawn,
  // while the workers may still draw trends pages (an ordinary night's last pages). Not sooner: in
  // a full build the job pages take the whole build, and making these beside them only added their
  // memory to the build's peak.
  const drawn = Promise.all([jobPages, trendPages]).then(() => log(`site: job and trends pages done (${Date.now() - started} ms, ${pool.size} render worker(s))`));
  await allSettledOrThrow([jobPages, trendPages, drawn, jobPages.then(renderRest)]);
  const removed = await writer.finish();
  const regressions = changes.filter((c) => c.kind === 'regression').length;
  const problems = [...scan.problems, ...history.problems];
  const probes = thresholdProbes(history.histories);
  await writeBuildState(
    options.outDir,
    { inputs: inputsFingerprint(stampParts, thresholdsFor, probes), probes, pages: writer.pages(), regressions, problems } satisfies BuildState,
    writeFile,
  );
  log(
    `site: ${writer.unitsWritten} page(s) written, ${writer.unitsUnchanged} unchanged, ${removed.length} stale file(s) removed${writer.deadTempsRemoved > 0 ? ` (and ${writer.deadTempsRemoved} temp file(s) a killed build left)` : ''}, ${sizeText(writer.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${regressions} regression(s)`,
  );
  return {
    pagesWritten: writer.unitsWritten,
    pagesUnchanged: writer.unitsUnchanged,
    bytes: writer.bytes,
    regressions,
    written: [...writer.written].sort(),
    files: writer.writtenFiles.sort(),
    problems,
  };

  /** The pages made from the histories and the sweeps once the job and trends pages are drawn: the trends index, the index, regressions and feeds, the compare picker. */
  async function renderRest(): Promise<void> {
  const trendHosts = new Map<string, { scenario: string; href: string; metrics: number }[]>();
  for (const g of groups) trendHosts.set(g.host, [...(trendHosts.get(g.host) ?? []), { scenario: g.scenario, href: g.path, metrics: new Set(g.histories.map((h) => h.key.metric)).size }]);
  const trendsIndex = [...trendHosts.entries()].map(([host, scenarios]) => ({ host, scenarios }));
  await writer.unit('trends-index', sha(`${ctx.siteFp}|${JSON.stringify(trendsIndex)}`), () => [
    { path: 'trends.html', data: page(ctx, './trends-index', 'trends.html', { title: 'Trends', section: 'trends', hosts: trendsIndex }) },
  ]);

  const index = indexRows(sweeps, changes, headlineLookup(history.histories));
  const latestId = sweeps.map((s) => s.sweepId).sort().at(-1);
  // every sweep's findings.json, read once: the latest's for the glance, the sweeps that paged for
  // the feed, all of them for the regressions page's finding status
  const findingsBySweep = new Map(await Promise.all(sweeps.map(async (s) => [s.sweepId, await loadFindings(options.resultsDir, s.sweepId)] as const)));
  const loadedFindings = latestId === undefined ? undefined : findingsBySweep.get(latestId);
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
    problems: scan.problems,
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
  const paged = await pagedChanges(options.resultsDir, findingsBySweep);
  const feedRows = paged ? withTrendPages(changeRows(paged, jobsByKey, previous, labelsOf), plans) : rows;
  // the regressions page: what the sweeps' findings said of each change (confirmed, paged...) first
  const found = [...findingsBySweep.values()].flatMap((f) => (f.state === 'found' ? [f.findings] : []));
  const changeList = withTrendPages(changeRows(changes, jobsByKey, previous, labelsOf, findingLookup(found, sweeps.map((s) => s.sweepId))), plans);
  const latestSweep = sweeps.at(-1)?.manifest.startedAt ?? '1970-01-01T00:00:00.000Z';
  const feedKey = resolve(options.resultsDir);
  await writer.unit('regressions', sha(`${ctx.siteFp}|${JSON.stringify({ changeList, feedRows: feedRows.length, problems: history.problems, latestSweep })}`), () => [
    { path: 'regressions.html', data: page(ctx, './regressions', 'regressions.html', { title: 'Regressions', section: 'regressions', rows: changeList, groups: changeGroups(changeList), counts, problems: history.problems }) },
    { path: 'regressions.json', data: `${JSON.stringify({ schema: 'orchestrate/regressions@1', counts, changes: changeList }, null, 2)}\n` },
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
    // the significance level the picker's "untested" reading is judged against (compare.js)
    pValue: DEFAULT_THRESHOLDS.pValue,
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

  }
}

// Has anything a site's pages depend on changed since its last build? Decided from small,
// cheap evidence (the builder's version, its templates and asset sources, the results store's
// stamp, where the store is, the thresholds of every series the last build drew, and the pages
// still being there), in a module light enough to load before the site builder: `orchestrate
// report` asks here first and imports the builder (analysis, Vega, eta, the page modules) only
// when there is something to build.
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SeriesKey } from '../analysis/history.js';
import type { Thresholds } from '../analysis/regressions.js';
import { stampStore, type JobIdentity } from '../results/store-stamp.js';
import { REPORT_SITE_DIR, assetSourcesFingerprint } from './assets.js';
import { pagesPresent, readBuildState, type RecordedBuildState } from './build-state.js';
import { sha } from './names.js';

/** Bump when page output changes in a way the template and asset hashes do not capture. */
export const BUILDER_VERSION = '14'; // 14: a job's logs beside its data (jobs/<sweep>/<job>/<name>.log.txt), no logs/ directory; 13: charts.js carries chart rows by column (encode.ts columnRows); 12: legends name lines by the labels that differ; time axes keep their dates, live and pre-rendered alike; trends charts in reading order, 20 line colours, a 'detected' legend on multi-line charts; changes from 0 read 'from 0'; compare verdicts by readChange; 11: trends pages drawn as a 90-day window plus one page per ended month, written by the render workers; 10: charts pre-rendered by the site's own SVG writer (svg-chart/) where the builder gives a drawing; 9: SVG ids numbered per chart (the same on every build); 8: values in their unit family's best unit; kvm trends as a matrix; last night at a glance

export async function templatesFingerprint(): Promise<string> {
  const dir = join(REPORT_SITE_DIR, 'templates');
  const names = (await readdir(dir)).sort();
  const parts = await Promise.all(names.map(async (n) => `${n}:${sha(await readFile(join(dir, n)))}`));
  return sha(parts.join('|'));
}

export interface StampParts {
  siteSources: string;
  store: string;
  resultsDir: string;
}

/**
 * Everything a build's output depends on, cheaply: the builder, its templates and assets, the
 * store's stamp (results/store-stamp.ts), where the store is, and the thresholds of every series
 * the last build drew.
 */
export function inputsFingerprint(parts: StampParts, thresholdsFor: (key: SeriesKey) => Thresholds, probes: readonly SeriesKey[]): string {
  const thresholds = sha(JSON.stringify(probes.map((key) => [key, thresholdsFor(key)])));
  return sha(`${BUILDER_VERSION}|${parts.siteSources}|${parts.store}|${parts.resultsDir}|${thresholds}`, 32);
}

export interface SiteInputs {
  templatesFp: string;
  stampParts: StampParts;
  /** What the last build recorded, when there is a readable record. */
  state: RecordedBuildState | undefined;
  /** Nothing changed since that build and every page of it is still there. */
  upToDate: boolean;
  /**
   * The identities of each job's directory and log the stamp was made of (by `<sweepId>/<jobId>`),
   * for the scan: made when first read (a report with nothing new never reads it).
   */
  readonly jobIdentities: Map<string, JobIdentity>;
}

/** Looks at the inputs of a site build and at what its last build recorded. */
export async function siteInputs(resultsDir: string, outDir: string, thresholdsFor: (key: SeriesKey) => Thresholds): Promise<SiteInputs> {
  // The files are read in the background while the stamp takes its thousands of stats (synchronous: cheaper than as promises).
  const read = Promise.all([templatesFingerprint(), assetSourcesFingerprint(), readBuildState(outDir)]);
  read.catch(() => undefined); // awaited below, after a stamp that may throw first
  const store = stampStore(resultsDir);
  const [templatesFp, assetSourcesFp, state] = await read;
  const stampParts = { siteSources: `${templatesFp}|${assetSourcesFp}`, store: store.stamp, resultsDir: resolve(resultsDir) };
  const upToDate = state !== undefined && state.inputs === inputsFingerprint(stampParts, thresholdsFor, state.probes) && pagesPresent(outDir, state);
  return {
    templatesFp,
    stampParts,
    state,
    upToDate,
    get jobIdentities() {
      return store.jobIdentities();
    },
  };
}

/** What a build with nothing new reports: the last build's findings, every page unchanged. */
export function nothingNewResult(state: RecordedBuildState) {
  return { pagesWritten: 0, pagesUnchanged: state.pageCount, bytes: 0, regressions: state.regressions, written: [] as string[], files: [] as string[], problems: state.problems };
}

export function nothingNewLine(state: RecordedBuildState, ms: number): string {
  return `site: nothing new since the last build, ${state.pageCount} page(s) unchanged (${ms} ms)`;
}

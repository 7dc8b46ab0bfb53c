// One render task of a site build, wherever it runs (a render worker, or the build's own thread
// when the pool has no workers): draw the unit's files and, when the build gave an output
// directory, write them there (output.ts writeUnitFiles) so only paths, sizes and hashes go back
// to the build's thread, never the bytes.
import { renderCompare, type CompareInput, type CompareThresholds } from './compare-page.js';
import { loadJob, type JobRef } from './load.js';
import { writeUnitFiles, type OutFile, type UnitOutput } from './output.js';
import type { PageContext } from './page-context.js';
import { renderJob } from './render-pages.js';
import { renderTrends, type TrendsInput } from './trends-pages.js';

/** A unit's files in the last build (path -> hash): a file with the same content still there is left alone. */
export type UnitBefore = Record<string, string> | undefined;

/** A job's page and its comparison, whichever of the two the build needs, from one read of the job's files. */
export interface JobPagesWork {
  kind: 'job-pages';
  job: JobRef;
  previous: JobRef | undefined;
  page: { before: UnitBefore } | undefined;
  compare: { thresholds: CompareThresholds; before: UnitBefore } | undefined;
}

/** What a job-pages task drew: each unit asked for (a comparison may instead name the metrics it needs thresholds for). */
export interface JobPagesOutcome {
  page?: UnitOutput;
  compare?: UnitOutput;
  missingThresholds?: string[];
}

export type RenderWork =
  | JobPagesWork
  | { kind: 'job'; job: JobRef; previous: JobRef | undefined; before: UnitBefore }
  | { kind: 'compare'; input: CompareInput; before: UnitBefore }
  | { kind: 'trends'; input: TrendsInput; write?: { before: UnitBefore } };

/** What a task gives back: the unit's output, or (a comparison) the metrics it needs thresholds for. */
export type RenderOutcome = { output: UnitOutput } | { missingThresholds: string[] } | { pages: JobPagesOutcome };

/** The bytes of the files a task drew (written, or sent back): how much its page allocated, roughly. */
export function outcomeBytes(outcome: RenderOutcome): number {
  const ofUnit = (unit: UnitOutput | undefined): number => {
    if (unit === undefined) return 0;
    if (Array.isArray(unit)) return unit.reduce((sum, f) => sum + (typeof f.data === 'string' ? f.data.length : f.data.byteLength), 0);
    return unit.files.reduce((sum, f) => sum + f.bytes, 0);
  };
  if ('pages' in outcome) return ofUnit(outcome.pages.page) + ofUnit(outcome.pages.compare);
  return 'output' in outcome ? ofUnit(outcome.output) : 0;
}

export async function runRenderTask(ctx: PageContext, outDir: string | undefined, work: RenderWork): Promise<RenderOutcome> {
  const written = (files: OutFile[], before: UnitBefore): UnitOutput => (outDir === undefined ? files : writeUnitFiles(outDir, files, before));
  const done = (files: OutFile[], before: UnitBefore): RenderOutcome => ({ output: written(files, before) });
  switch (work.kind) {
    case 'job-pages': {
      const loaded = await loadJob(ctx.resultsDir, work.job);
      const pages: JobPagesOutcome = {};
      // the comparison first: the job page's charts never see data the comparison has not read as it was
      if (work.compare && work.previous) {
        const result = await renderCompare(ctx, { job: work.job, previous: work.previous, thresholds: work.compare.thresholds }, loaded);
        if ('missingThresholds' in result) pages.missingThresholds = result.missingThresholds;
        else pages.compare = written(result.files, work.compare.before);
      }
      if (work.page) pages.page = written(await renderJob(ctx, work.job, work.previous, loaded), work.page.before);
      return { pages };
    }
    case 'job':
      return done(await renderJob(ctx, work.job, work.previous), work.before);
    case 'compare': {
      const result = await renderCompare(ctx, work.input);
      return 'missingThresholds' in result ? result : done(result.files, work.before);
    }
    case 'trends': {
      const files = await renderTrends(ctx, work.input);
      return { output: work.write ? written(files, work.write.before) : files };
    }
  }
}

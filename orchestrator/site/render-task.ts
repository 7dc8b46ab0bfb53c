// One render task of a site build, wherever it runs (a render worker, or the build's own thread
// when the pool has no workers): draw the unit's files and, when the build gave an output
// directory, write them there (output.ts writeUnitFiles) so only paths, sizes and hashes go back
// to the build's thread, never the bytes.
import { renderCompare, type CompareInput } from './compare-page.js';
import type { JobRef } from './load.js';
import { writeUnitFiles, type OutFile, type UnitOutput } from './output.js';
import type { PageContext } from './page-context.js';
import { renderJob } from './render-pages.js';
import { renderTrends, type TrendsInput } from './trends-pages.js';

/** A unit's files in the last build (path -> hash): a file with the same content still there is left alone. */
export type UnitBefore = Record<string, string> | undefined;

export type RenderWork =
  | { kind: 'job'; job: JobRef; previous: JobRef | undefined; before: UnitBefore }
  | { kind: 'compare'; input: CompareInput; before: UnitBefore }
  | { kind: 'trends'; input: TrendsInput };

/** What a task gives back: the unit's output, or (a comparison) the metrics it needs thresholds for. */
export type RenderOutcome = { output: UnitOutput } | { missingThresholds: string[] };

export async function runRenderTask(ctx: PageContext, outDir: string | undefined, work: RenderWork): Promise<RenderOutcome> {
  const done = (files: OutFile[], before: UnitBefore): RenderOutcome => ({ output: outDir === undefined ? files : writeUnitFiles(outDir, files, before) });
  switch (work.kind) {
    case 'job':
      return done(await renderJob(ctx, work.job, work.previous), work.before);
    case 'compare': {
      const result = await renderCompare(ctx, work.input);
      return 'missingThresholds' in result ? result : done(result.files, work.before);
    }
    case 'trends':
      return { output: await renderTrends(ctx, work.input) };
  }
}

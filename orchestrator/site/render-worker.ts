// A render worker (render-pool.ts): draws the pages with charts (Vega to SVG) off the build's
// own thread. It is given the results directory, the asset paths and (usually) the site's
// directory once, then one task per message (render-task.ts); it writes the unit's files itself
// and answers with their paths, sizes and hashes (or the files, without a site directory), or
// with the error it raised.
import { parentPort, workerData } from 'node:worker_threads';
import { collectFully } from './full-collection.js';
import { pageContext } from './page-context.js';
import type { RenderReply, RenderTask, RenderWorkerData } from './render-pool.js';
import { outcomeBytes, runRenderTask } from './render-task.js';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread (render-pool.ts starts it)');
const data = workerData as RenderWorkerData;
const ctx = pageContext(data.resultsDir, data.assetPaths);

/**
 * A unit this big (its files' bytes: a midolman trends page, 6-14 MB) leaves about as much garbage
 * in the old generation (its charts' rows, specs and texts live through the page). V8 lets an
 * uncapped heap grow to ~4x its live size (~20-30 MiB here) before collecting, so two or three such
 * pages in a row took a worker to 170-250 MiB; collecting after each one keeps it near its live
 * size plus one page. Job pages (0.1-1.5 MB) never reach it: they are left to V8.
 */
const COLLECT_AFTER_BYTES = 4 * 1024 * 1024;

/** A system error's code and path, which a structured clone of the reply would otherwise lose. */
function errnoOf(error: unknown): { errno?: { code: string; path: string } } {
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown };
  return typeof code === 'string' && typeof path === 'string' ? { errno: { code, path } } : {};
}

port.on('message', (task: RenderTask) => {
  const { id, ...work } = task;
  runRenderTask(ctx, data.outDir, work).then(
    (outcome) => {
      port.postMessage({ id, ...outcome } satisfies RenderReply);
      if (outcomeBytes(outcome) >= COLLECT_AFTER_BYTES) collectFully();
    },
    (error: unknown) => port.postMessage({ id: task.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error), ...errnoOf(error) } satisfies RenderReply),
  );
});

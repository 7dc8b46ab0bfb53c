// A render worker (render-pool.ts): draws the pages with charts (Vega to SVG) off the build's
// own thread. It is given the results directory, the asset paths and (usually) the site's
// directory once, then one task per message (render-task.ts); it writes the unit's files itself
// and answers with their paths, sizes and hashes (or the files, without a site directory), or
// with the error it raised.
import { parentPort, workerData } from 'node:worker_threads';
import { pageContext } from './page-context.js';
import type { RenderReply, RenderTask, RenderWorkerData } from './render-pool.js';
import { runRenderTask } from './render-task.js';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread (render-pool.ts starts it)');
const data = workerData as RenderWorkerData;
const ctx = pageContext(data.resultsDir, data.assetPaths);

port.on('message', (task: RenderTask) => {
  const { id, ...work } = task;
  runRenderTask(ctx, data.outDir, work).then(
    (outcome) => port.postMessage({ id, ...outcome } satisfies RenderReply),
    (error: unknown) => port.postMessage({ id: task.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies RenderReply),
  );
});

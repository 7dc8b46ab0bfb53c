// A render worker (render-pool.ts): draws the pages with charts (Vega to SVG) off the build's
// own thread. It is given the results directory and the asset paths once, then one task per
// message; it answers each with the page's files or with the error it raised.
import { parentPort, workerData } from 'node:worker_threads';
import { pageContext } from './page-context.js';
import { renderJob } from './render-pages.js';
import { renderTrends } from './trends-pages.js';
import type { RenderReply, RenderTask, RenderWorkerData } from './render-pool.js';

const port = parentPort;
if (!port) throw new Error('render-worker.ts runs as a worker thread (render-pool.ts starts it)');
const data = workerData as RenderWorkerData;
const ctx = pageContext(data.resultsDir, data.assetPaths);

port.on('message', (task: RenderTask) => {
  const work = task.kind === 'job' ? renderJob(ctx, task.job, task.previous) : renderTrends(ctx, task.input);
  work.then(
    (files) => port.postMessage({ id: task.id, files } satisfies RenderReply),
    (error: unknown) => port.postMessage({ id: task.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies RenderReply),
  );
});

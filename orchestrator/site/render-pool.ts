// The render workers of a site build: one worker thread per core (os.availableParallelism())
// draws job and trends pages, so a full build uses every core while the build's own thread
// reads the store and writes files. Workers start with the first task (a build with nothing to
// draw starts none) and each holds at most a few tasks, so memory stays bounded whatever the
// store's size. With `size: 0` pages are drawn in this thread instead.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CompareInput } from './compare-page.js';
import type { JobRef } from './load.js';
import type { OutFile, UnitOutput } from './output.js';
import type { JobPagesOutcome, JobPagesWork, RenderOutcome, RenderWork, UnitBefore } from './render-task.js';
import type { TrendsInput } from './trends-pages.js';

export interface RenderWorkerData {
  resultsDir: string;
  assetPaths: Record<string, string>;
  /** Where the workers write the job and compare units they draw; without it they send the files back. */
  outDir?: string;
}

export type RenderTask = { id: number } & RenderWork;

/** A failed task's answer: the error's text, and its system code and path when it had them (an output error names its file: output-error.ts). */
export type RenderReply = ({ id: number } & RenderOutcome) | { id: number; error: string; errno?: { code: string; path: string } };

type Work = RenderWork;

/** `ahead`: the task goes before every queued task not sent ahead (a build's biggest pages, first). */
export interface SubmitOrder {
  ahead?: boolean;
}

export class RenderError extends Error {
  override readonly name = 'RenderError';
  /** The system error's code and path, when the worker's error was one (ENOTDIR, ENOSPC... writing a page). */
  code?: string;
  path?: string;
}

interface Slot {
  worker: Worker;
  busy: number;
  /** Started without the old-generation cap (after a capped worker ran out of heap). */
  roomy: boolean;
  /** Ran out of heap: its tasks went to a roomy worker, its exit is expected. */
  retired: boolean;
}

/** Tasks a worker holds at once: one drawing while the next reads its files. */
const PER_WORKER = 2;

// A compiled build has the worker's JavaScript beside this file. Run from the TypeScript sources
// (tsx), a worker does not inherit tsx's loader: it registers it first, then imports the worker.
const FROM_SOURCES = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCES ? './render-worker.ts' : './render-worker.js', import.meta.url);

/**
 * A worker's young generation is kept small, so V8 collects short-lived chart data often instead of
 * letting it pile up. Its old generation can be capped (SITE_WORKER_HEAP_MB): a job page's worker
 * holds about 20 MiB between pages, and uncapped V8 lets each grow to ~100-200 MiB before collecting.
 * Measured at 7,340 jobs: a 128 MiB cap took the peak RSS from 710 to 534 MiB but cost ~25% more
 * worker CPU (any cap, 128 to 256 MiB, cost the same at 1,200 jobs), so it is off by default. A page
 * that needs more than the cap (a trends page of a long history) is not lost: a worker that runs
 * out of heap is replaced by one without the cap, which draws its tasks again (`roomy`).
 * Without a cap the workers now stay near 85 MiB each at 7,300 jobs (full build peak 430-470 MiB):
 * they load Vega only for a chart the site's own writer does not draw (render-pages.ts), and collect
 * after each page of 4 MB or more (render-worker.ts). A cap also lowers V8's heap growing factor
 * (V8's heap-controller: between 1.3x and 2x below about 2 GiB, up to 4x above), so even a 2,000 MiB
 * cap, never reached, collected 2.5 times as often: that, not the cap, is where its CPU went.
 */
const YOUNG_MB = Number(process.env.SITE_WORKER_YOUNG_MB ?? 16);
const HEAP_MB = Number(process.env.SITE_WORKER_HEAP_MB ?? 0);

function resourceLimits(heapMb: number | undefined): { maxYoungGenerationSizeMb: number; maxOldGenerationSizeMb?: number } {
  return { maxYoungGenerationSizeMb: YOUNG_MB, ...(heapMb !== undefined && heapMb > 0 ? { maxOldGenerationSizeMb: heapMb } : {}) };
}

/** `heapMb`: the worker's old-generation cap (none when undefined). */
function startThread(data: RenderWorkerData, heapMb: number | undefined): Worker {
  if (!FROM_SOURCES) return new Worker(WORKER_URL, { workerData: data, resourceLimits: resourceLimits(heapMb) });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data, resourceLimits: resourceLimits(heapMb) });
}

/**
 * Where a task joins the queue: at the end, or, sent ahead, behind only the tasks sent ahead
 * before it (so those keep the order they were sent in).
 */
export function queuePosition(queue: readonly { ahead: boolean }[], ahead: boolean): number {
  if (!ahead) return queue.length;
  const firstBehind = queue.findIndex((queued) => !queued.ahead);
  return firstBehind === -1 ? queue.length : firstBehind;
}

/** How long close() lets the workers finish the tasks they hold before it stops them anyway. */
const CLOSE_DEADLINE_MS = 30_000;

export class RenderPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { work: Work; resolve: (outcome: RenderOutcome) => void; reject: (error: Error) => void; slot: Slot | undefined }>();
  /** A capped worker ran out of heap: workers start without the cap from then on. */
  roomy = false;
  private readonly queue: { id: number; work: Work; ahead: boolean }[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private closing = false;
  private local: Promise<typeof import('./render-task.js')> | undefined;

  /** `heapMb`: each worker's old-generation cap in MiB (SITE_WORKER_HEAP_MB; 0, the default: none). */
  constructor(private readonly data: RenderWorkerData, size = availableParallelism(), private readonly heapMb = HEAP_MB) {
    this.size = Math.max(0, Math.floor(size));
  }

  /**
   * Starts every worker now instead of with the first tasks, so their modules load while this
   * thread reads the store (a build that has decided it will draw something calls it).
   */
  warm(): void {
    while (!this.failure && !this.closing && this.slots.length < this.size) this.startWorker();
  }

  /** Workers started (and not retired or stopped). */
  get started(): number {
    return this.slots.length;
  }

  /** Tasks worth keeping in flight to keep every worker busy. */
  get capacity(): number {
    return Math.max(1, this.size * PER_WORKER);
  }

  /** A job's page: written by the worker when the pool has an outDir (`before`: the unit's last record). */
  async job(job: JobRef, previous: JobRef | undefined, before?: UnitBefore): Promise<UnitOutput> {
    const outcome = await this.submit({ kind: 'job', job, previous, before });
    if (!('output' in outcome)) throw new RenderError('a job page asked for thresholds');
    return outcome.output;
  }

  /** A job's page and/or its comparison, drawn from one read of the job's files. */
  async jobPages(work: Omit<JobPagesWork, 'kind'>): Promise<JobPagesOutcome> {
    const outcome = await this.submit({ kind: 'job-pages', ...work });
    if (!('pages' in outcome)) throw new RenderError('job pages came back without their outcome');
    return outcome.pages;
  }

  /** A comparison page, or the metrics whose thresholds `input` lacked. */
  compare(input: CompareInput, before?: UnitBefore): Promise<RenderOutcome> {
    return this.submit({ kind: 'compare', input, before });
  }

  async trends(input: TrendsInput): Promise<OutFile[]> {
    const outcome = await this.submit({ kind: 'trends', input });
    if (!('output' in outcome) || !Array.isArray(outcome.output)) throw new RenderError('a trends page came back without its files');
    return outcome.output;
  }

  /**
   * A trends page written by the worker that drew it (when the pool has an outDir): only paths,
   * sizes and hashes come back. `before`: the unit's record in the last build (SiteWriter.before).
   */
  async trendsWritten(input: TrendsInput, before: UnitBefore, order: SubmitOrder = {}): Promise<UnitOutput> {
    const outcome = await this.submit({ kind: 'trends', input, write: { before } }, order);
    if (!('output' in outcome)) throw new RenderError('a trends page came back without its files');
    return outcome.output;
  }

  private async submit(work: Work, { ahead = false }: SubmitOrder = {}): Promise<RenderOutcome> {
    if (this.size === 0) return this.renderHere(work);
    if (this.failure) throw this.failure;
    if (this.closing) throw new RenderError('the render pool is closed');
    const id = this.nextId++;
    const done = new Promise<RenderOutcome>((resolve, reject) => this.pending.set(id, { work, resolve, reject, slot: undefined }));
    this.queue.splice(queuePosition(this.queue, ahead), 0, { id, work, ahead });
    this.dispatch();
    return done;
  }

  private async renderHere(work: Work): Promise<RenderOutcome> {
    this.local ??= import('./render-task.js');
    const { runRenderTask } = await this.local;
    const { pageContext } = await import('./page-context.js');
    const ctx = pageContext(this.data.resultsDir, this.data.assetPaths);
    return runRenderTask(ctx, this.data.outDir, work);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.reduce<Slot | undefined>((best, s) => (s.busy < PER_WORKER && (!best || s.busy < best.busy) ? s : best), undefined);
      if ((!slot || slot.busy > 0) && this.slots.length < this.size) slot = this.startWorker();
      if (!slot) return; // every worker is full: the next answer dispatches again
      const { id, work } = this.queue.shift()!;
      slot.busy++;
      this.pending.get(id)!.slot = slot;
      slot.worker.postMessage({ id, ...work } satisfies RenderTask);
    }
  }

  private startWorker(): Slot {
    const worker = startThread(this.data, this.roomy ? undefined : this.heapMb);
    const slot: Slot = { worker, busy: 0, roomy: this.roomy, retired: false };
    this.slots.push(slot);
    worker.on('message', (reply: RenderReply) => {
      const task = this.pending.get(reply.id);
      if (!task) return;
      this.pending.delete(reply.id);
      slot.busy--;
      if ('error' in reply) {
        const error = new RenderError(`rendering a page failed in a render worker: ${reply.error}`);
        if (reply.errno) Object.assign(error, reply.errno);
        task.reject(error);
      } else task.resolve(reply);
      this.settled();
      this.dispatch();
    });
    const fail = (error: Error) => {
      if (slot.retired) return;
      if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' && !slot.roomy) {
        this.retire(slot);
        return;
      }
      this.failure ??= new RenderError(`a render worker stopped: ${error.message}`);
      for (const [id, task] of this.pending) {
        if (task.slot !== slot && task.slot !== undefined) continue;
        this.pending.delete(id);
        task.reject(this.failure);
      }
      this.queue.length = 0;
      this.settled();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (!this.closing) fail(new Error(`exit code ${code}`));
    });
    return slot;
  }

  /**
   * A capped worker ran out of heap: its tasks go back to the front of the queue for workers
   * without the cap. A task it was writing may leave temp files (dot names) beside its pages; the
   * pages themselves are whole (renamed only once every file of the unit was staged).
   */
  private retire(slot: Slot): void {
    slot.retired = true;
    this.roomy = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    const again: { id: number; work: Work; ahead: boolean }[] = [];
    for (const [id, task] of this.pending) {
      if (task.slot !== slot) continue;
      if (this.closing) {
        // not drawn again by a new worker while the pool is stopping
        this.pending.delete(id);
        task.reject(new RenderError('a render worker ran out of memory while the build stopped'));
        continue;
      }
      task.slot = undefined;
      again.push({ id, work: task.work, ahead: true });
    }
    if (this.closing) return this.settled();
    this.queue.unshift(...again);
    this.dispatch();
  }

  /**
   * Stops the workers. Tasks not handed out yet are dropped (rejected); the ones a worker holds
   * are let finish first, for at most CLOSE_DEADLINE_MS: a worker stopped between writing a page's
   * files under their temp names and renaming them would leave those temp files in the site (a
   * build that fails stops with other pages in flight).
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const { id } of this.queue.splice(0)) {
      const task = this.pending.get(id);
      this.pending.delete(id);
      task?.reject(new RenderError('the build stopped before this page was drawn'));
    }
    if (this.pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
      });
      clearTimeout(timer);
    }
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Who waits for the last task a worker holds to answer (close(), once per call). */
  private readonly idleWaiters: (() => void)[] = [];

  private settled(): void {
    if (this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}

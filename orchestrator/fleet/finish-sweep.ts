// After the jobs of a sweep: find what this sweep newly reveals (regression candidates),
// confirm each by re-running its jobs, page what is confirmed once (findings.json, paged.json),
// build the report site and publish it to the reports host, then tell someone (alerts:), and
// prune raw artifacts under the retention policy. Every step reports through typed events
// (events.ts), which also go to sweep.log and events.jsonl; each step's failure is an event and a
// problem in the result, and never touches the sweep's results. The caller (sweep.ts) turns the
// result into the sweep's outcome (a failed alert never changes it).
import type { Inventory } from '../inventory/types.js';
import type { Candidate, Findings } from '../analysis/findings.js';
import { loadHistory } from '../analysis/history.js';
import type { DetectedChange } from '../analysis/regressions.js';
import { newRegressionLine } from '../analysis/regressions.js';
import { thresholdsResolver } from '../analysis/thresholds.js';
import { sendAlerts, ALERT_SCHEMA, type AlertOutcome, type AlertPayload } from '../alerts/send-alerts.js';
import { SweepStore } from '../results/store.js';
import { confirmPolicy, type RerunRunner } from './confirm-regressions.js';
import { sshRerunner } from './confirm-reruns.js';
import type { EngineEvent, EventSink } from './events.js';
import { candidatesToReport, eventText, findingsCounts, FINISH_FAILURES } from './event-text.js';
import { sweepEventLog } from './sweep-event-log.js';
import { analyseSweep } from './sweep-findings.js';
import { buildSite, type BuildSiteResult } from '../site/build.js';
import { publishSite, type PublishResult } from '../publish/publish-site.js';
import { dropOffSweep, type DropOffResult } from '../publish/drop-off.js';
import { pruneResults, type PruneResult } from '../retention/prune-results.js';
import { defaultSiteDir } from '../results/store-layout.js';

export interface FinishOptions {
  inventory: Inventory;
  sweepId: string;
  sweepDir: string;
  /** Build the report site (default <results_dir>/site). */
  report: boolean;
  /** Publish it when the inventory names a reports host. */
  publish: boolean;
  acceptNewHostKeys: boolean;
  /** Every step's events (they are logged to the sweep's sweep.log and events.jsonl here as well). */
  emit: EventSink;
  /** The sweep's interrupt signals: confirmation re-runs stop on them. */
  interrupt?: AbortSignal;
  force?: AbortSignal;
  /** Runs confirmation re-runs (default: through the fleet's own runHost over SSH). */
  rerun?: RerunRunner;
  /** Environment of alert commands and of `${NAME}` in webhook headers (default process.env). */
  alertEnv?: NodeJS.ProcessEnv;
}

export interface FinishResult {
  /**
   * Regressions this sweep pages (exit status 3): candidates it newly reveals that re-runs confirmed,
   * or unconfirmed ones when regressions.confirm.required is false. Never one paged on an earlier night.
   */
  newRegressions: DetectedChange[];
  /** What findings.json says (absent when the regression check could not run). */
  findings?: Findings;
  /** Candidates paged now for the first time: what the alerts carried. */
  newlyPaged: Candidate[];
  /** One per alert target, when the sweep paged something and the inventory has alerts:. */
  alerts: AlertOutcome[];
  siteDir?: string;
  site?: BuildSiteResult;
  /** The release made live; its `url` is the inventory's reports.url. */
  published?: PublishResult;
  /** The sweep's archive left in reports.incoming, when the inventory names one. */
  droppedOff?: DropOffResult & { host: string };
  /** Raw artifacts removed under the inventory's retention policy. */
  pruned?: PruneResult;
  /** What went wrong after the jobs (the sweep's results are unaffected): the failure events' text. */
  problems: string[];
}

export async function finishSweep(options: FinishOptions): Promise<FinishResult> {
  const { inventory } = options;
  const thresholdsFor = thresholdsResolver(inventory.regressions);
  const result: FinishResult = { newRegressions: [], newlyPaged: [], alerts: [], problems: [] };
  const store = new SweepStore(inventory.resultsDir, options.sweepId);
  // Every event to the caller and, in order, to the sweep's logs; a re-run's own events are
  // already there (confirm-reruns.ts), so its `rerun` summary is not logged twice.
  const log = sweepEventLog(store);
  const emit = (event: EngineEvent) => {
    if (FINISH_FAILURES.has(event.kind)) result.problems.push(eventText(event));
    options.emit(event);
    if (event.kind !== 'rerun') log.append(event);
  };
  const now = Date.now;
  // Read every job's metrics once: the regression check and the site both need them.
  let history: Awaited<ReturnType<typeof loadHistory>> | undefined;
  try {
    // Through the site's history cache when the site is built (the directory it builds into):
    // a sweep's points are read from its files only when they changed (analysis/history-cache.ts).
    history = await loadHistory(inventory.resultsDir, options.report ? { cacheDir: defaultSiteDir(inventory.resultsDir) } : {});
    const analysis = await analyseSweep({
      resultsDir: inventory.resultsDir,
      sweepId: options.sweepId,
      sweepDir: options.sweepDir,
      histories: history.histories,
      thresholdsFor,
      policy: confirmPolicy(inventory.regressions),
      confirm: {
        inventory,
        runner:
          options.rerun ??
          sshRerunner({ inventory, sweepId: options.sweepId, acceptNewHostKeys: options.acceptNewHostKeys, emit, ...(options.force ? { force: options.force } : {}) }),
        ...(options.interrupt ? { interrupt: options.interrupt } : {}),
      },
      emit,
    });
    const { findings } = analysis;
    result.findings = findings;
    result.newRegressions = analysis.paged.map((candidate) => candidate.change);
    result.newlyPaged = analysis.newlyPaged;
    for (const problem of analysis.problems) emit({ kind: 'record-problem', at: now(), message: problem });
    for (const note of analysis.notes) emit({ kind: 'analysis-note', at: now(), message: note });
    const newlyPaged = new Set(analysis.newlyPaged);
    for (const candidate of candidatesToReport(findings)) emit({ kind: 'regression-candidate', at: now(), candidate, newlyPaged: newlyPaged.has(candidate) });
    emit({ kind: 'findings', at: now(), ...findingsCounts(findings) });
  } catch (error) {
    emit({ kind: 'analysis-failed', at: now(), error: (error as Error).message });
  }
  if (options.report) await reportAndPublish(options, thresholdsFor, history, result, emit);
  // Alerts after the report is published, so that its link works; before retention.
  if (inventory.alerts && result.newlyPaged.length > 0) {
    result.alerts = await alert(options, result.newlyPaged);
    for (const outcome of result.alerts) emit({ kind: 'alert-sent', at: now(), outcome, regressions: result.newlyPaged.length });
  }
  // Retention runs last: the archive and the site above still had the raw artifacts.
  if (inventory.retention) {
    try {
      result.pruned = await pruneResults({ resultsDir: inventory.resultsDir, ...inventory.retention });
      emit({ kind: 'pruned', at: now(), jobs: result.pruned.jobs.length, bytes: result.pruned.bytes });
    } catch (error) {
      emit({ kind: 'prune-failed', at: now(), error: (error as Error).message });
    }
  }
  await log.written();
  return result;
}

async function reportAndPublish(
  options: FinishOptions,
  thresholdsFor: ReturnType<typeof thresholdsResolver>,
  history: Awaited<ReturnType<typeof loadHistory>> | undefined,
  result: FinishResult,
  emit: EventSink,
): Promise<void> {
  const { inventory } = options;
  const siteDir = defaultSiteDir(inventory.resultsDir);
  const siteLog = (message: string) => emit({ kind: 'site-progress', at: Date.now(), message });
  try {
    result.site = await buildSite({ resultsDir: inventory.resultsDir, outDir: siteDir, thresholdsFor, log: siteLog, ...(history ? { history } : {}) });
    result.siteDir = siteDir;
    emit({ kind: 'site-built', at: Date.now(), dir: siteDir, pagesWritten: result.site.pagesWritten, pagesUnchanged: result.site.pagesUnchanged });
  } catch (error) {
    emit({ kind: 'site-failed', at: Date.now(), error: (error as Error).message });
    return;
  }
  const reports = inventory.reports;
  if (!options.publish || !reports) return;
  const publishLog = (message: string) => emit({ kind: 'publish-progress', at: Date.now(), message });
  try {
    // Its url is the inventory's reports.url (publish-site.ts), the URL the summary has always printed.
    const published = await publishSite({ inventory, siteDir, acceptNewHostKeys: options.acceptNewHostKeys, log: publishLog });
    result.published = published;
    emit({
      kind: 'published',
      at: Date.now(),
      host: reports.host,
      releaseId: published.releaseId,
      uploadedFiles: published.uploadedFiles,
      ...(published.url ? { url: published.url } : {}),
    });
  } catch (error) {
    emit({ kind: 'publish-failed', at: Date.now(), host: reports.host, error: (error as Error).message });
  }
  if (!reports.incoming) return;
  try {
    const droppedOff = await dropOffSweep({ inventory, sweepDir: options.sweepDir, incomingPath: reports.incoming, acceptNewHostKeys: options.acceptNewHostKeys });
    result.droppedOff = { ...droppedOff, host: reports.host };
    emit({ kind: 'dropped-off', at: Date.now(), host: reports.host, archive: result.droppedOff.archive, marker: result.droppedOff.marker });
  } catch (error) {
    emit({ kind: 'drop-off-failed', at: Date.now(), host: reports.host, incoming: reports.incoming, error: (error as Error).message });
  }
}

/** Sends the regressions this sweep pages to the inventory's alert targets; outcomes are returned, never fatal. */
async function alert(options: FinishOptions, paged: readonly Candidate[]): Promise<AlertOutcome[]> {
  const { inventory } = options;
  const payload: AlertPayload = {
    schema: ALERT_SCHEMA,
    sweepId: options.sweepId,
    at: new Date().toISOString(),
    inventory: inventory.file,
    results: options.sweepDir,
    ...(inventory.reports?.url ? { report: inventory.reports.url } : {}),
    regressions: paged.map((candidate) => ({ ...candidate, line: newRegressionLine(candidate.change) })),
  };
  try {
    return await sendAlerts(inventory.alerts!, payload, options.alertEnv ? { env: options.alertEnv } : {});
  } catch (error) {
    return [{ kind: 'command', target: '(alerts)', ok: false, detail: `internal error: ${(error as Error).message}`, durationMs: 0 }];
  }
}

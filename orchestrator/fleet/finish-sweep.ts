// After the jobs of a sweep: find what this sweep newly reveals (regression candidates),
// confirm each by re-running its jobs, page what is confirmed once (findings.json, paged.json),
// build the report site and publish it to the reports host, then tell someone (alerts:).
// Each step's failure is recorded and never touches the sweep's results; the CLI turns the
// outcome into the exit status (a failed alert never changes it).
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import type { Candidate, Findings } from '../analysis/findings.js';
import { loadHistory } from '../analysis/history.js';
import { newRegressionLine, type DetectedChange } from '../analysis/regressions.js';
import { thresholdsResolver } from '../analysis/thresholds.js';
import { alertOutcomeLine, sendAlerts, ALERT_SCHEMA, type AlertOutcome, type AlertPayload } from '../alerts/send-alerts.js';
import { SweepStore } from '../results/store.js';
import { confirmPolicy, type RerunRunner } from './confirm-regressions.js';
import { sshRerunner } from './confirm-reruns.js';
import { timestamp } from './event-text.js';
import { analyseSweep } from './sweep-findings.js';
import { buildSite, type BuildSiteResult } from '../site/build.js';
import { publishSite, type PublishResult } from '../publish/publish-site.js';
import { dropOffSweep, type DropOffResult } from '../publish/drop-off.js';
import { pruneResults, type PruneResult } from '../retention/prune-results.js';

export interface FinishOptions {
  inventory: Inventory;
  sweepId: string;
  sweepDir: string;
  /** Build the report site (default <results_dir>/site). */
  report: boolean;
  /** Publish it when the inventory names a reports host. */
  publish: boolean;
  acceptNewHostKeys: boolean;
  log: (line: string) => void;
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
  /** One per alert target, when the sweep paged something and the inventory has alerts:. */
  alerts: AlertOutcome[];
  /** The lines the CLI prints: the candidates (paged, not reproduced, unconfirmed), then each alert's outcome. */
  lines: string[];
  siteDir?: string;
  site?: BuildSiteResult;
  published?: PublishResult;
  /** The sweep's archive left in reports.incoming, when the inventory names one. */
  droppedOff?: DropOffResult;
  /** Raw artifacts removed under the inventory's retention policy. */
  pruned?: PruneResult;
  /** What went wrong in reporting or publishing (the sweep's results are unaffected). */
  problems: string[];
}

export async function finishSweep(options: FinishOptions): Promise<FinishResult> {
  const { inventory } = options;
  const thresholdsFor = thresholdsResolver(inventory.regressions);
  const result: FinishResult = { newRegressions: [], alerts: [], lines: [], problems: [] };
  const store = new SweepStore(inventory.resultsDir, options.sweepId);
  // sweep.log gets every line; the operator gets progress here and the results from the CLI.
  let logChain: Promise<void> = Promise.resolve();
  const sweepLog = (line: string) => {
    const stamped = `${timestamp(Date.now())} ${line}`;
    logChain = logChain.then(() => store.appendSweepLog(stamped)).catch(() => undefined);
  };
  const log = (line: string) => {
    options.log(line);
    sweepLog(line);
  };
  // Read every job's metrics once: the regression check and the site both need them.
  let history: Awaited<ReturnType<typeof loadHistory>> | undefined;
  let newlyPaged: Candidate[] = [];
  try {
    history = await loadHistory(inventory.resultsDir);
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
          // its events go to sweep.log themselves: the operator gets its job starts and ends
          sshRerunner({ inventory, sweepId: options.sweepId, acceptNewHostKeys: options.acceptNewHostKeys, log: options.log, ...(options.force ? { force: options.force } : {}) }),
        ...(options.interrupt ? { interrupt: options.interrupt } : {}),
      },
      log,
    });
    result.findings = analysis.findings;
    result.newRegressions = analysis.paged.map((candidate) => candidate.change);
    newlyPaged = analysis.newlyPaged;
    result.problems.push(...analysis.problems);
    for (const note of analysis.notes) log(note);
    result.lines = candidateLines(analysis.findings, new Set(newlyPaged));
    for (const line of result.lines) sweepLog(line);
  } catch (error) {
    result.problems.push(`regression check failed: ${(error as Error).message}`);
  }
  if (options.report) await reportAndPublish(options, thresholdsFor, history, result);
  // Alerts after the report is published, so that its link works; before retention.
  if (inventory.alerts && newlyPaged.length > 0) {
    result.alerts = await alert(options, newlyPaged, sweepLog);
    for (const outcome of result.alerts) result.lines.push(alertOutcomeLine(outcome, newlyPaged.length));
  }
  // Retention runs last: the archive and the site above still had the raw artifacts.
  if (inventory.retention) {
    try {
      result.pruned = await pruneResults({ resultsDir: inventory.resultsDir, ...inventory.retention });
    } catch (error) {
      result.problems.push(`pruning raw artifacts failed: ${(error as Error).message}`);
    }
  }
  await logChain;
  return result;
}

async function reportAndPublish(
  options: FinishOptions,
  thresholdsFor: ReturnType<typeof thresholdsResolver>,
  history: Awaited<ReturnType<typeof loadHistory>> | undefined,
  result: FinishResult,
): Promise<void> {
  const { inventory } = options;
  const siteDir = join(inventory.resultsDir, 'site');
  try {
    result.site = await buildSite({ resultsDir: inventory.resultsDir, outDir: siteDir, thresholdsFor, log: options.log, ...(history ? { history } : {}) });
    result.siteDir = siteDir;
  } catch (error) {
    result.problems.push(`report build failed: ${(error as Error).message}`);
    return;
  }
  if (!options.publish || !inventory.reports) return;
  try {
    result.published = await publishSite({ inventory, siteDir, acceptNewHostKeys: options.acceptNewHostKeys, log: options.log });
  } catch (error) {
    result.problems.push(`publish to ${inventory.reports.host} failed: ${(error as Error).message}`);
  }
  if (!inventory.reports.incoming) return;
  try {
    result.droppedOff = await dropOffSweep({ inventory, sweepDir: options.sweepDir, incomingPath: inventory.reports.incoming, acceptNewHostKeys: options.acceptNewHostKeys });
  } catch (error) {
    result.problems.push(`drop-off to ${inventory.reports.host}:${inventory.reports.incoming} failed: ${(error as Error).message}`);
  }
}

const pct = (fraction: number) => `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(1)}%`;

/** The CLI's lines about the candidates: paged first, then not reproduced, then unconfirmed ones not paged. */
function candidateLines(findings: Findings, newlyPaged: ReadonlySet<Candidate>): string[] {
  const lines: string[] = [];
  const evidence = (candidate: Candidate) =>
    candidate.evidence ? `re-runs ${pct(candidate.evidence.relativeChange)}, p=${candidate.evidence.pValue.toFixed(3)}` : (candidate.note ?? '');
  for (const candidate of findings.candidates.filter((c) => c.paged)) {
    const how = candidate.status === 'confirmed' ? `confirmed: ${evidence(candidate)}` : `unconfirmed, paged as regressions.confirm.required is false: ${candidate.note ?? ''}`;
    lines.push(`${newRegressionLine(candidate.change)} [${how}]${newlyPaged.has(candidate) ? '' : ' (already paged by this sweep)'}`);
  }
  for (const candidate of findings.candidates.filter((c) => c.status === 'not-reproduced')) {
    lines.push(`not reproduced (not paged): ${newRegressionLine(candidate.change).replace(/^NEW REGRESSION: /, '')} [${candidate.note ?? evidence(candidate)}]`);
  }
  for (const candidate of findings.candidates.filter((c) => c.status === 'unconfirmed' && !c.paged)) {
    lines.push(`unconfirmed (not paged): ${newRegressionLine(candidate.change).replace(/^NEW REGRESSION: /, '')} [${candidate.note ?? ''}]`);
  }
  return lines;
}

/** Sends the regressions this sweep pages to the inventory's alert targets; outcomes are logged, never fatal. */
async function alert(options: FinishOptions, paged: readonly Candidate[], log: (line: string) => void): Promise<AlertOutcome[]> {
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
  let outcomes: AlertOutcome[];
  try {
    outcomes = await sendAlerts(inventory.alerts!, payload, options.alertEnv ? { env: options.alertEnv } : {});
  } catch (error) {
    outcomes = [{ kind: 'command', target: '(alerts)', ok: false, detail: `internal error: ${(error as Error).message}`, durationMs: 0 }];
  }
  for (const outcome of outcomes) log(alertOutcomeLine(outcome, paged.length));
  return outcomes;
}

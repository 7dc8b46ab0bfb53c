// After the jobs of a sweep: find what this sweep newly reveals (regressions), build the
// report site and publish it to the reports host. Each step's failure is recorded and
// never touches the sweep's results; the CLI turns the outcome into the exit status.
import { join } from 'node:path';
import type { Inventory } from '../inventory/types.js';
import { loadHistory } from '../analysis/history.js';
import { regressionsFirstSeen, type DetectedChange } from '../analysis/regressions.js';
import { thresholdsResolver } from '../analysis/thresholds.js';
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
}

export interface FinishResult {
  /** Regressions this sweep makes visible that the sweep before it did not. */
  newRegressions: DetectedChange[];
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
  const result: FinishResult = { newRegressions: [], problems: [] };
  // Read every job's metrics once: the regression check and the site both need them.
  let history: Awaited<ReturnType<typeof loadHistory>> | undefined;
  try {
    history = await loadHistory(inventory.resultsDir);
    result.newRegressions = regressionsFirstSeen(history.histories, thresholdsFor, options.sweepId);
  } catch (error) {
    result.problems.push(`regression check failed: ${(error as Error).message}`);
  }
  if (options.report) await reportAndPublish(options, thresholdsFor, history, result);
  // Retention runs last: the archive and the site above still had the raw artifacts.
  if (inventory.retention) {
    try {
      result.pruned = await pruneResults({ resultsDir: inventory.resultsDir, ...inventory.retention });
    } catch (error) {
      result.problems.push(`pruning raw artifacts failed: ${(error as Error).message}`);
    }
  }
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

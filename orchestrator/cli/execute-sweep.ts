// Running a planned sweep from the CLI: the results directory check, the sweep lock, signals
// (interrupt, force, exit), progress on the terminal or as lines, the sweep itself, then the
// report, regressions, publishing and retention (fleet/finish-sweep.ts), and the summary lines
// and exit status. Loaded by command-run.ts only when a sweep runs (never for --plan).
import type { Selection, SweepPlan } from '../fleet/plan.js';
import { finishSweep, type FinishResult } from '../fleet/finish-sweep.js';
import { runSweep, SweepStoreError } from '../fleet/run-sweep.js';
import { acquireSweepLock, SweepLockedError, type SweepLock } from '../fleet/sweep-lock.js';
import type { Inventory } from '../inventory/types.js';
import type { SweepManifest } from '../results/manifest.js';
import { checkResultsDir, ResultsDirError } from '../results/results-dir.js';
import type { SweepFlags } from './command-run.js';
import { EXIT, exitWith } from './exit-codes.js';
import { plainRenderer } from './render-plain.js';
import { ttyRenderer } from './render-tty.js';
import { formatTable } from './table.js';

export interface PlannedSweep {
  flags: SweepFlags;
  inventory: Inventory;
  selection: Selection;
  plan: SweepPlan;
  resumeFrom?: SweepManifest;
}

/**
 * First signal interrupts (teardown runs, partial results kept), second stops teardowns,
 * third exits at once, after `beforeExit` (synchronous: it marks the record interrupted).
 */
function interruptSignals(beforeExit: (signal: NodeJS.Signals) => void): { interrupt: AbortController; force: AbortController } {
  const interrupt = new AbortController();
  const force = new AbortController();
  let count = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      process.stderr.write(`\n${signal}: stopping phases and running teardowns (again to skip teardowns)\n`);
      interrupt.abort(new Error(signal));
    } else if (count === 2) {
      process.stderr.write(`\n${signal}: stopping teardowns too (again to exit at once)\n`);
      force.abort(new Error(signal));
    } else {
      try {
        beforeExit(signal);
      } finally {
        process.exit(EXIT.interrupted);
      }
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { interrupt, force };
}

/** The summary's word on regressions: "1 confirmed regression(s), 1 not reproduced" (exit status 3 follows the paged ones). */
function findingsSummary(finish: FinishResult | undefined): string {
  const findings = finish?.findings;
  if (!findings) return `${finish?.newRegressions.length ?? 0} new regression(s)`;
  const count = (status: string) => findings.candidates.filter((candidate) => candidate.status === status).length;
  const unconfirmed = findings.candidates.filter((candidate) => candidate.status === 'unconfirmed');
  const pagedUnconfirmed = unconfirmed.filter((candidate) => candidate.paged).length;
  return [
    `${count('confirmed')} confirmed regression(s)`,
    `${count('not-reproduced')} not reproduced`,
    ...(unconfirmed.length > 0 ? [`${unconfirmed.length} unconfirmed (${pagedUnconfirmed > 0 ? `${pagedUnconfirmed} paged` : 'not paged'})`] : []),
    ...(findings.stillPresent.length > 0 ? [`${findings.stillPresent.length} still present (paged before)`] : []),
    ...(findings.comparable ? [] : ['nothing to compare yet']),
  ].join(', ');
}

export async function executeSweep({ flags, inventory, selection, plan, resumeFrom }: PlannedSweep): Promise<number> {
  try {
    await checkResultsDir(inventory.resultsDir);
  } catch (error) {
    if (error instanceof ResultsDirError) exitWith(`${error.message}; nothing was contacted.`, EXIT.usage);
    throw error;
  }
  let lock: SweepLock;
  try {
    lock = await acquireSweepLock(inventory.resultsDir, inventory.file, {
      onCompromised: (error) => process.stderr.write(`warning: sweep lock compromised: ${error.message}\n`),
    });
  } catch (error) {
    if (error instanceof SweepLockedError) exitWith(error.message, EXIT.locked);
    exitWith(`results directory ${inventory.resultsDir}: cannot take the sweep lock: ${(error as Error).message}; nothing was contacted.`, EXIT.usage);
  }
  const useTty = flags.progress !== false && process.stdout.isTTY === true;
  const renderer = useTty ? ttyRenderer(process.stdout) : plainRenderer((text) => process.stdout.write(text));
  let recordExit: ((note: string) => boolean) | undefined;
  const { interrupt, force } = interruptSignals((signal) => {
    const marked = recordExit?.(`${signal} a third time: exited at once, without waiting for teardowns; hosts may still run this sweep's processes`);
    lock.releaseSync();
    process.stderr.write(`\n${signal}: exiting now${marked ? '; the sweep is marked interrupted (teardowns may not have finished)' : ''}\n`);
  });
  try {
    let summary;
    try {
      summary = await runSweep(
        {
          inventory,
          selection,
          acceptNewHostKeys: flags.acceptNewHostKeys === true,
          interrupt: interrupt.signal,
          force: force.signal,
          onEvent: renderer.onEvent,
          onStoreProblem: (problem) => process.stderr.write(`\nerror: ${problem}: no host starts from now on; running jobs end, then the sweep stops\n`),
          registerExitRecord: (record) => (recordExit = record),
          ...(resumeFrom ? { resumeFrom } : {}),
        },
        plan,
      );
    } catch (error) {
      if (!(error instanceof SweepStoreError)) throw error;
      renderer.done();
      process.stderr.write(`error: ${error.message}; nothing was contacted.\n`);
      return EXIT.storeFailed;
    }
    renderer.done();
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const log = useTty ? () => undefined : (line: string) => say(`${new Date().toISOString()} ${line}`);
    const finish = interrupt.signal.aborted || summary.storeProblem !== undefined
      ? undefined
      : await finishSweep({
          inventory,
          sweepId: summary.sweepId,
          sweepDir: summary.dir,
          report: flags.report !== false,
          publish: flags.publish !== false,
          acceptNewHostKeys: flags.acceptNewHostKeys === true,
          log,
          interrupt: interrupt.signal,
          force: force.signal,
        });
    const problems = summary.jobs.filter((job) => job.status !== 'ok');
    if (problems.length > 0) {
      say(`\n${formatTable(['JOB', 'STATUS'], problems.map((job) => [job.jobId, job.status]))}`);
      say(`details: ${summary.dir}/jobs/<job>/manifest.json and orchestrator.log`);
    }
    // Paged regressions ("NEW REGRESSION: ..."), those not reproduced or left unconfirmed, the alerts' outcomes.
    for (const line of finish?.lines ?? []) say(line);
    for (const problem of finish?.problems ?? []) process.stderr.write(`warning: ${problem}\n`);
    const c = summary.counts;
    say(`summary: ${c.ok} ok, ${c.failed} failed, ${c.unreachable} unreachable, ${c.interrupted} interrupted, ${c.skipped} skipped; ${findingsSummary(finish)}`);
    say(`results: ${summary.dir}`);
    if (finish?.siteDir) say(`report: ${finish.siteDir}/index.html`);
    if (finish?.published) {
      const p = finish.published;
      say(`published: ${p.releaseId} (${p.uploadedFiles} file(s) uploaded)${inventory.reports?.url ? ` at ${inventory.reports.url}` : ''}`);
    }
    if (finish?.droppedOff) say(`dropped off: ${finish.droppedOff.archive} and ${finish.droppedOff.marker} on ${inventory.reports?.host}`);
    if (finish?.pruned && finish.pruned.jobs.length > 0) say(`pruned: raw artifacts of ${finish.pruned.jobs.length} job(s), ${finish.pruned.bytes} bytes (retention policy)`);
    if (summary.storeProblem !== undefined) {
      process.stderr.write(
        `error: the sweep stopped: ${summary.storeProblem}.\n` +
          (summary.recorded
            ? `${summary.dir}/sweep.json says ${summary.status}; no report was built or published.\n`
            : `${summary.dir}/sweep.json could not be updated either (it shows an earlier state).\n`) +
          `Free space, then re-run what did not finish: orchestrate --inventory ${flags.inventory} --resume ${summary.sweepId}\n`,
      );
    }
    if (summary.exitCode !== EXIT.ok) return summary.exitCode;
    if ((finish?.problems.length ?? 0) > 0) return EXIT.failed;
    if ((finish?.newRegressions.length ?? 0) > 0) return EXIT.regression;
    return summary.exitCode;
  } catch (error) {
    renderer.done();
    throw error;
  } finally {
    await lock.release().catch(() => undefined);
  }
}

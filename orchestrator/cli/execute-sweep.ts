// Running a planned sweep from the CLI: one engine call (fleet/sweep.ts: results directory,
// lock, jobs, the steps after them), with the CLI's part around it: signals (interrupt, force,
// exit at once), rendering the events (progress on a terminal or plain lines; fleet/event-text.ts),
// the lines after the sweep from its outcome, and the outcome's exit status (exit-codes.ts).
// Loaded by command-run.ts only when a sweep runs (never for --plan).
import { alertOutcomeLine } from '../alerts/send-alerts.js';
import { candidateText, candidatesToReport, countsText, droppedOffText, findingsCounts, findingsText, publishedText, prunedText } from '../fleet/event-text.js';
import type { FinishResult } from '../fleet/finish-sweep.js';
import type { Selection, SweepPlan } from '../fleet/plan.js';
import { sweep, type SweepOutcome, type SweepRecord } from '../fleet/sweep.js';
import type { Inventory } from '../inventory/types.js';
import { inertText } from '../inert-text.js';
import type { SweepManifest } from '../results/manifest.js';
import type { SweepFlags } from './command-run.js';
import { EXIT, sweepExitCode } from './exit-codes.js';
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

export interface OutcomeLine {
  stream: 'out' | 'err';
  text: string;
}

export interface OutcomeContext {
  /** The --inventory argument as given, for the --resume command printed after a full results disk. */
  inventoryArg: string;
}

/** The summary's word on regressions (the old "N new regression(s)" when the check could not run). */
function regressionsWord(finish: FinishResult | undefined): string {
  const findings = finish?.findings;
  if (!findings) return `${finish?.newRegressions.length ?? 0} new regression(s)`;
  return findingsText(findingsCounts(findings));
}

/** The lines after a sweep that started: problem jobs, findings, summary, where things are. */
function recordLines(sweep: SweepRecord, finish: FinishResult | undefined): OutcomeLine[] {
  const out = (text: string): OutcomeLine => ({ stream: 'out', text });
  const lines: OutcomeLine[] = [];
  const problems = sweep.jobs.filter((job) => job.status !== 'ok');
  if (problems.length > 0) {
    lines.push(out(`\n${formatTable(['JOB', 'STATUS'], problems.map((job) => [job.jobId, job.status]))}`));
    lines.push(out(`details: ${sweep.dir}/jobs/<job>/manifest.json and orchestrator.log`));
  }
  if (finish) {
    // Paged regressions ("NEW REGRESSION: ..."), those not reproduced or left unconfirmed, the alerts' outcomes.
    const newlyPaged = new Set(finish.newlyPaged);
    if (finish.findings) for (const candidate of candidatesToReport(finish.findings)) lines.push(out(inertText(candidateText(candidate, newlyPaged.has(candidate)))));
    for (const outcome of finish.alerts) lines.push(out(inertText(alertOutcomeLine(outcome, finish.newlyPaged.length))));
    for (const problem of finish.problems) lines.push({ stream: 'err', text: `warning: ${problem}` });
  }
  lines.push(out(`summary: ${countsText(sweep.counts)}; ${regressionsWord(finish)}`));
  lines.push(out(`results: ${sweep.dir}`));
  if (finish?.siteDir) lines.push(out(`report: ${finish.siteDir}/index.html`));
  const p = finish?.published;
  if (p) lines.push(out(publishedText(p)));
  if (finish?.droppedOff) lines.push(out(droppedOffText(finish.droppedOff)));
  if (finish?.pruned && finish.pruned.jobs.length > 0) lines.push(out(prunedText({ jobs: finish.pruned.jobs.length, bytes: finish.pruned.bytes })));
  return lines;
}

/** What the CLI prints when a sweep is over, from its outcome, in order. */
export function outcomeLines(outcome: SweepOutcome, context: OutcomeContext): OutcomeLine[] {
  const err = (text: string): OutcomeLine => ({ stream: 'err', text });
  switch (outcome.kind) {
    case 'refused':
      return [err(`${outcome.message}; nothing was contacted.`)];
    case 'locked':
      return [err(outcome.message)];
    case 'store-unwritable':
      return [err(`error: ${outcome.message}; nothing was contacted.`)];
    case 'interrupted':
      return outcome.sweep ? recordLines(outcome.sweep, undefined) : [];
    case 'store-problem': {
      const { sweep } = outcome;
      return [
        ...recordLines(sweep, undefined),
        err(
          `error: the sweep stopped: ${outcome.problem}.\n` +
            (outcome.recorded
              ? `${sweep.dir}/sweep.json says ${sweep.status}; no report was built or published.\n`
              : `${sweep.dir}/sweep.json could not be updated either (it shows an earlier state).\n`) +
            `Free space, then re-run what did not finish: orchestrate --inventory ${context.inventoryArg} --resume ${sweep.sweepId}`,
        ),
      ];
    }
    case 'completed':
      return recordLines(outcome.sweep, outcome.finish);
  }
}

export async function executeSweep({ flags, inventory, selection, plan, resumeFrom }: PlannedSweep): Promise<number> {
  const useTty = flags.progress !== false && process.stdout.isTTY === true;
  const renderer = useTty ? ttyRenderer(process.stdout, process.stderr) : plainRenderer((text) => process.stdout.write(text), (text) => process.stderr.write(text));
  let exitNow: ((note: string) => boolean) | undefined;
  const signals = interruptSignals((signal) => {
    const marked = exitNow?.(`${signal} a third time: exited at once, without waiting for teardowns; hosts may still run this sweep's processes`) ?? false;
    process.stderr.write(`\n${signal}: exiting now${marked ? '; the sweep is marked interrupted (teardowns may not have finished)' : ''}\n`);
  });
  let outcome: SweepOutcome;
  try {
    outcome = await sweep(
      {
        inventory,
        selection,
        plan,
        ...(resumeFrom ? { resumeFrom } : {}),
        acceptNewHostKeys: flags.acceptNewHostKeys === true,
        report: flags.report !== false,
        publish: flags.publish !== false,
        interrupt: signals.interrupt.signal,
        force: signals.force.signal,
        onExitNow: (handle) => (exitNow = handle),
      },
      renderer.onEvent,
    );
  } finally {
    renderer.done();
  }
  for (const line of outcomeLines(outcome, { inventoryArg: flags.inventory })) (line.stream === 'out' ? process.stdout : process.stderr).write(`${line.text}\n`);
  return sweepExitCode(outcome);
}

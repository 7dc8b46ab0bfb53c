// orchestrate: arguments -> calls. The only place that prints or exits.
import { inertText } from './inert-text.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadInventoryOrExit, wholeNumberOption } from './cli/arguments.js';
import { registerPublishCommand } from './cli/command-publish.js';
import { registerPruneCommand } from './cli/command-prune.js';
import { registerReportCommand } from './cli/command-report.js';
import { registerQasetCommand } from './cli/command-qaset.js';
import { registerChangesCommand } from './cli/command-changes.js';
import { finishSweep, type FinishResult } from './fleet/finish-sweep.js';
import { planSweep, type Selection } from './fleet/plan.js';
import { planResume, runSweep, SweepStoreError } from './fleet/run-sweep.js';
import { acquireSweepLock, SweepLockedError, type SweepLock } from './fleet/sweep-lock.js';
import { isSweepId, readSweepManifest, StoreReadError } from './results/store.js';
import { checkResultsDir, ResultsDirError } from './results/results-dir.js';
import type { SweepManifest } from './results/manifest.js';
import { checkHosts } from './fleet/check-hosts.js';
import { EXIT } from './cli/exit-codes.js';
import { plainRenderer } from './cli/render-plain.js';
import { ttyRenderer } from './cli/render-tty.js';
import { formatTable } from './cli/table.js';
import { SCENARIOS } from './scenarios/registry.js';
import { ORCHESTRATOR } from './version.js';

interface SweepFlags {
  inventory: string;
  plan?: boolean;
  limit?: string[];
  scenario?: string[];
  acceptNewHostKeys?: boolean;
  concurrency?: number;
  progress?: boolean;
  resume?: string;
  report?: boolean;
  publish?: boolean;
}

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function selectionOf(flags: { limit?: string[]; scenario?: string[] }): Selection {
  return { limit: flags.limit ?? [], scenarios: (flags.scenario ?? []).flatMap((s) => s.split(',')).filter(Boolean) };
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

/** --resume takes a sweep id (a directory name in the store), never a path. */
function sweepIdOption(value: string): string {
  if (!isSweepId(value)) {
    throw new InvalidArgumentError('not a sweep id: expected one like 20261122T043000Z-3fa2 (a directory name under <results_dir>/sweeps/), never a path');
  }
  return value;
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

async function commandSweep(flags: SweepFlags): Promise<number> {
  const inventory = await loadInventoryOrExit(flags.inventory);
  if (flags.concurrency !== undefined) inventory.concurrency = flags.concurrency;
  const selection = selectionOf(flags);
  let resumeFrom: SweepManifest | undefined;
  let plan = planSweep(inventory, selection);
  if (flags.resume) {
    try {
      resumeFrom = await readSweepManifest(inventory.resultsDir, flags.resume);
    } catch (error) {
      if (error instanceof StoreReadError) fail(`cannot resume ${flags.resume}: ${error.message}`, EXIT.usage);
      throw error;
    }
    const resumed = planResume(inventory, resumeFrom);
    plan = resumed.plan;
    for (const jobId of resumed.missing) process.stderr.write(`warning: job ${jobId} of ${flags.resume} is no longer in the inventory; not re-run\n`);
    if (plan.jobs === 0) {
      process.stdout.write(`nothing to resume: every job of ${flags.resume} finished ok\n`);
      return EXIT.ok;
    }
  }
  for (const term of plan.unmatched) process.stderr.write(`warning: --limit term ${JSON.stringify(term)} matched no host\n`);
  if (flags.plan) {
    const rows = plan.hosts.flatMap((h) =>
      h.jobs.map((job) => [
        job.jobId,
        h.host.name,
        `${h.host.connection.user}@${h.host.connection.address}:${h.host.connection.port}`,
        job.scenario,
        h.host.profile,
        inertText(SCENARIOS.get(job.scenario)?.summary?.(job.params) ?? JSON.stringify(job.params)),
      ]),
    );
    process.stdout.write(`${formatTable(['JOB', 'HOST', 'ENDPOINT', 'SCENARIO', 'PROFILE', 'PARAMS'], rows)}\n`);
    process.stdout.write(`${plan.jobs} job(s) on ${plan.hosts.length} host(s), ${inventory.concurrency} host(s) at a time; results would go to ${inventory.resultsDir}\n`);
    return EXIT.ok;
  }
  if (plan.jobs === 0) fail('nothing to run: no host in the selection has a scenario', EXIT.usage);
  try {
    await checkResultsDir(inventory.resultsDir);
  } catch (error) {
    if (error instanceof ResultsDirError) fail(`${error.message}; nothing was contacted.`, EXIT.usage);
    throw error;
  }
  let lock: SweepLock;
  try {
    lock = await acquireSweepLock(inventory.resultsDir, inventory.file, {
      onCompromised: (error) => process.stderr.write(`warning: sweep lock compromised: ${error.message}\n`),
    });
  } catch (error) {
    if (error instanceof SweepLockedError) fail(error.message, EXIT.locked);
    fail(`results directory ${inventory.resultsDir}: cannot take the sweep lock: ${(error as Error).message}; nothing was contacted.`, EXIT.usage);
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

async function commandCheck(flags: { inventory: string; limit?: string[]; acceptNewHostKeys?: boolean }): Promise<number> {
  const inventory = await loadInventoryOrExit(flags.inventory);
  const plan = planSweep(inventory, { limit: flags.limit ?? [], scenarios: [] });
  const selected = (flags.limit?.length ? inventory.hosts.filter((h) => plan.hosts.some((p) => p.host.name === h.name)) : inventory.hosts);
  process.stdout.write(`inventory ${inventory.file} is valid: ${inventory.hosts.length} host(s), ${inventory.groups.length} group(s)\n`);
  const results = await checkHosts(inventory, selected, { acceptNewHostKeys: flags.acceptNewHostKeys === true });
  const rows = results.map((r) => [r.host, r.endpoint, r.ok ? 'ok' : 'FAILED', `${r.ms} ms`, r.detail]);
  process.stdout.write(`${formatTable(['HOST', 'ENDPOINT', 'STATUS', 'TIME', 'DETAIL'], rows)}\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`${results.length - failed} of ${results.length} host(s) answered\n`);
  return failed === 0 ? EXIT.ok : EXIT.failed;
}

function program(): Command {
  const root = new Command('orchestrate')
    .description('Fleet performance-test orchestrator: run each host\'s scenarios over SSH and keep every result')
    .version(ORCHESTRATOR.version)
    .exitOverride()
    .showHelpAfterError();
  const sweepOptions = (cmd: Command) =>
    cmd
      .requiredOption('-i, --inventory <file>', 'inventory YAML file')
      .option('-l, --limit <terms...>', 'only these hosts: names, groups or role:<role>; * ? wildcards; !term excludes')
      .option('-s, --scenario <names...>', 'only these scenarios')
      .option('--plan', 'print the jobs that would run, without connecting')
      .option('--accept-new-host-keys', 'record keys of hosts not yet in known_hosts (a changed key is always refused)')
      .addOption(new Option('--concurrency <n>', 'hosts at once (overrides the inventory)').argParser(wholeNumberOption('--concurrency', 1)))
      .option('--no-progress', 'plain timestamped lines even on a terminal')
      .option('--no-report', 'do not build the report site after the sweep')
      .option('--no-publish', 'do not publish the report site to the reports host')
      .addOption(
        new Option('--resume <sweep>', 're-run the jobs of an interrupted or partly failed sweep that did not finish ok, into that sweep (a sweep id)').argParser(
          sweepIdOption,
        ),
      );
  sweepOptions(root.command('run', { isDefault: true }).description('run a sweep (the default command)')).action(async (flags: SweepFlags) => {
    process.exitCode = await commandSweep(flags);
  });
  root
    .command('check')
    .description('validate the inventory, then check that every host answers over SSH')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .option('-l, --limit <terms...>', 'only these hosts')
    .option('--accept-new-host-keys', 'record keys of hosts not yet in known_hosts')
    .action(async (flags: { inventory: string; limit?: string[]; acceptNewHostKeys?: boolean }) => {
      process.exitCode = await commandCheck(flags);
    });
  registerReportCommand(root);
  registerPublishCommand(root);
  registerPruneCommand(root);
  registerQasetCommand(root);
  registerChangesCommand(root);
  return root;
}

async function main(): Promise<void> {
  try {
    await program().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    }
    process.stderr.write(`orchestrate: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(EXIT.failed);
  }
}

await main();

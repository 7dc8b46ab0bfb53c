// `orchestrate [run] --inventory F [options]`: the default command. Loads the inventory and plans
// the sweep here; `--plan` prints that plan and stops, so it loads no SSH, store, site or
// analysis code. Running the sweep (execute-sweep.ts) is imported only when a sweep runs.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Selection, SweepPlan } from '../fleet/plan.js';
import type { Inventory } from '../inventory/types.js';
import type { SweepManifest } from '../results/manifest.js';
import { isSweepId } from '../results/store-layout.js';
import { inertText } from '../inert-text.js';
import { endpointText } from '../inventory/display.js';
import { loadInventoryOrExit, wholeNumberOption } from './arguments.js';
import { EXIT, exitWith } from './exit-codes.js';
import { formatTable } from './table.js';

export interface SweepFlags {
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

function selectionOf(flags: { limit?: string[]; scenario?: string[] }): Selection {
  return { limit: flags.limit ?? [], scenarios: (flags.scenario ?? []).flatMap((s) => s.split(',')).filter(Boolean) };
}

/** --resume takes a sweep id (a directory name in the store), never a path. */
function sweepIdOption(value: string): string {
  if (!isSweepId(value)) {
    throw new InvalidArgumentError('not a sweep id: expected one like 20261122T043000Z-3fa2 (a directory name under <results_dir>/sweeps/), never a path');
  }
  return value;
}

/** The sweep `--resume` names, re-planned: only its jobs that did not finish ok. */
async function resumePlan(inventory: Inventory, sweepId: string): Promise<{ plan: SweepPlan; resumeFrom: SweepManifest; missing: string[] }> {
  const [{ readSweepManifest, StoreReadError }, { planResume }] = await Promise.all([import('../results/store.js'), import('../fleet/run-sweep.js')]);
  let resumeFrom: SweepManifest;
  try {
    resumeFrom = await readSweepManifest(inventory.resultsDir, sweepId);
  } catch (error) {
    if (error instanceof StoreReadError) exitWith(`cannot resume ${sweepId}: ${error.message}`, EXIT.usage);
    throw error;
  }
  return { ...planResume(inventory, resumeFrom), resumeFrom };
}

async function printPlan(inventory: Inventory, plan: SweepPlan): Promise<void> {
  const { SCENARIOS } = await import('../scenarios/registry.js');
  const rows = plan.hosts.flatMap((h) =>
    h.jobs.map((job) => [
      job.jobId,
      h.host.name,
      endpointText(h.host.connection),
      job.scenario,
      h.host.profile,
      inertText(SCENARIOS.get(job.scenario)?.summary?.(job.params) ?? JSON.stringify(job.params)),
    ]),
  );
  process.stdout.write(`${formatTable(['JOB', 'HOST', 'ENDPOINT', 'SCENARIO', 'PROFILE', 'PARAMS'], rows)}\n`);
  process.stdout.write(`${plan.jobs} job(s) on ${plan.hosts.length} host(s), ${inventory.concurrency} host(s) at a time; results would go to ${inventory.resultsDir}\n`);
}

async function commandRun(flags: SweepFlags): Promise<number> {
  const inventory = await loadInventoryOrExit(flags.inventory);
  if (flags.concurrency !== undefined) inventory.concurrency = flags.concurrency;
  const selection = selectionOf(flags);
  const { planSweep } = await import('../fleet/plan.js');
  let plan = planSweep(inventory, selection);
  let resumeFrom: SweepManifest | undefined;
  if (flags.resume) {
    const resumed = await resumePlan(inventory, flags.resume);
    plan = resumed.plan;
    resumeFrom = resumed.resumeFrom;
    for (const jobId of resumed.missing) process.stderr.write(`warning: job ${jobId} of ${flags.resume} is no longer in the inventory; not re-run\n`);
    if (plan.jobs === 0) {
      process.stdout.write(`nothing to resume: every job of ${flags.resume} finished ok\n`);
      return EXIT.ok;
    }
  }
  for (const term of plan.unmatched) process.stderr.write(`warning: --limit term ${JSON.stringify(term)} matched no host\n`);
  if (flags.plan) {
    await printPlan(inventory, plan);
    return EXIT.ok;
  }
  if (plan.jobs === 0) exitWith('nothing to run: no host in the selection has a scenario', EXIT.usage);
  const { executeSweep } = await import('./execute-sweep.js');
  return executeSweep({ flags, inventory, selection, plan, ...(resumeFrom ? { resumeFrom } : {}) });
}

export function registerRunCommand(program: Command): void {
  program
    .command('run', { isDefault: true })
    .description('run a sweep (the default command)')
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
    )
    .action(async (flags: SweepFlags) => {
      process.exitCode = await commandRun(flags);
    });
}

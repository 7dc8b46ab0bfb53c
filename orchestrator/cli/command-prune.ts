// `orchestrate prune`: retention of raw artifacts in the results store (loaded when it runs).
import { Command, CommanderError, Option } from 'commander';
import { formatBytes, parseSize } from '../inventory/sizes.js';
import { EXIT } from './exit-codes.js';
import { loadInventoryOrExit } from './arguments.js';
import { formatTable } from './table.js';

interface PruneFlags {
  inventory: string;
  keepRawDays?: number;
  maxRawSize?: number;
  dryRun?: boolean;
}

async function commandPrune(flags: PruneFlags): Promise<number> {
  if (flags.keepRawDays === undefined && flags.maxRawSize === undefined) {
    process.stderr.write('orchestrate prune: give --keep-raw-days and/or --max-raw-size\n');
    return EXIT.usage;
  }
  const inventory = await loadInventoryOrExit(flags.inventory);
  const { pruneResults } = await import('../retention/prune-results.js');
  const r = await pruneResults({
    resultsDir: inventory.resultsDir,
    ...(flags.keepRawDays !== undefined ? { keepRawDays: flags.keepRawDays } : {}),
    ...(flags.maxRawSize !== undefined ? { maxRawBytes: flags.maxRawSize } : {}),
    dryRun: flags.dryRun === true,
  });
  if (r.jobs.length > 0) {
    process.stdout.write(`${formatTable(['SWEEP', 'JOB', 'REASON', 'FILES', 'BYTES'], r.jobs.map((j) => [j.sweepId, j.jobId, j.reason, String(j.files), formatBytes(j.bytes)]))}\n`);
  }
  for (const s of r.skippedRunning) process.stdout.write(`skipped ${s}: still running\n`);
  for (const s of r.skippedUnreadable) process.stdout.write(`skipped ${s.sweepId}: its sweep.json cannot be read (${s.problem})\n`);
  process.stdout.write(
    `${r.dryRun ? 'would remove' : 'removed'} raw artifacts of ${r.jobs.length} job(s) in ${r.sweeps} sweep(s): ${r.files} file(s), ${formatBytes(r.bytes)}; ` +
      `${formatBytes(r.rawBytesLeft)} of raw artifacts ${r.dryRun ? 'would be ' : ''}left in ${inventory.resultsDir}\n`,
  );
  return EXIT.ok;
}

export function registerPruneCommand(program: Command): void {
  program
    .command('prune')
    .description('remove raw artifacts of old sweeps (manifests, metrics and logs are kept for good)')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file (its results_dir)')
    .addOption(
      new Option('--keep-raw-days <n>', 'remove raw artifacts of sweeps older than N days').argParser((v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0) throw new CommanderError(EXIT.usage, 'orchestrate.number', `--keep-raw-days must be a number >= 0, got ${JSON.stringify(v)}`);
        return n;
      }),
    )
    .addOption(
      new Option('--max-raw-size <size>', 'then remove the oldest raw artifacts until they fit, e.g. 50G, 512M').argParser((v) => {
        try {
          return parseSize(v);
        } catch (error) {
          throw new CommanderError(EXIT.usage, 'orchestrate.size', `--max-raw-size: ${(error as Error).message}`);
        }
      }),
    )
    .option('--dry-run', 'print what would be removed; remove nothing')
    .action(async (flags: PruneFlags) => {
      process.exitCode = await commandPrune(flags);
    });
}

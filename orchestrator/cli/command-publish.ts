// `orchestrate publish`: the report site to the reports host (or --rollback to the previous release).
// SSH and the publisher are imported when the command runs.
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { loadInventoryOrExit, wholeNumberOption } from './arguments.js';
import { EXIT } from './exit-codes.js';

/**
 * publish-site.ts's DEFAULT_KEEP, for --keep's help: importing that module would load SSH for
 * every command. test/cli/command-publish.test.ts checks the two agree.
 */
export const HELP_DEFAULT_KEEP = 5;
interface PublishFlags {
  inventory: string;
  site?: string;
  keep?: number;
  rollback?: boolean;
  dropOff?: string;
  acceptNewHostKeys?: boolean;
}

function stamp(line: string): string {
  return `${new Date().toISOString()} ${line}\n`;
}

async function commandPublish(flags: PublishFlags): Promise<number> {
  const inventory = await loadInventoryOrExit(flags.inventory);
  const [{ defaultSiteDir, isSweepId, sweepPaths }, { ConnectError }, { DEFAULT_KEEP, PublishError, publishSite, rollback }, { dropOffSweep }, { SiteScanError }] = await Promise.all([
    import('../results/store-layout.js'),
    import('../connectors/connect-errors.js'),
    import('../publish/publish-site.js'),
    import('../publish/drop-off.js'),
    import('../publish/site-index.js'),
  ]);
  if (!inventory.reports) {
    process.stderr.write(`${inventory.file}: no 'reports' section (reports: { host, path, url }): nowhere to publish\n`);
    return EXIT.usage;
  }
  try {
    if (flags.dropOff) {
      if (!inventory.reports.incoming) {
        process.stderr.write(`${inventory.file}: reports.incoming is not set: no drop-off directory on ${inventory.reports.host}\n`);
        return EXIT.usage;
      }
      // A sweep id, never a path: `../../x` must not reach outside the results store.
      if (!isSweepId(flags.dropOff)) {
        process.stderr.write(`--drop-off: not a sweep id: ${JSON.stringify(flags.dropOff)} (expected one like 20261122T043000Z-3fa2)\n`);
        return EXIT.usage;
      }
      const sweepDir = sweepPaths(inventory.resultsDir, flags.dropOff).dir;
      const d = await dropOffSweep({ inventory, sweepDir, incomingPath: inventory.reports.incoming, acceptNewHostKeys: flags.acceptNewHostKeys === true });
      process.stdout.write(`dropped off ${d.sweepId}: ${d.archive} (${d.archiveBytes} bytes, ${d.files} file(s)) then ${d.marker} on ${inventory.reports.host}\n`);
      return EXIT.ok;
    }
    if (flags.rollback) {
      const { from, to } = await rollback({ inventory, acceptNewHostKeys: flags.acceptNewHostKeys === true });
      process.stdout.write(`rolled back: ${to} is live (was ${from})${inventory.reports.url ? `: ${inventory.reports.url}` : ''}\n`);
      return EXIT.ok;
    }
    const siteDir = resolve(flags.site ?? defaultSiteDir(inventory.resultsDir));
    const r = await publishSite({
      inventory,
      siteDir,
      keep: flags.keep ?? DEFAULT_KEEP,
      acceptNewHostKeys: flags.acceptNewHostKeys === true,
      log: (line) => process.stdout.write(stamp(line)),
    });
    process.stdout.write(
      `published ${r.releaseId}: ${r.uploadedFiles} file(s) uploaded (${r.uploadedBytes} bytes, ${r.wireBytes} on the wire), ${r.removedFiles} removed, ${r.unchangedFiles} unchanged; ` +
        `${r.totalFiles} file(s), ${r.totalBytes} bytes live${r.url ? ` at ${r.url}` : ''} (${r.ms} ms)\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (error instanceof PublishError || error instanceof ConnectError || error instanceof SiteScanError) {
      process.stderr.write(`orchestrate publish: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}

export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description('publish the report site to the reports host: only changed files travel, the live site switches in one step')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file (its reports: { host, path, url })')
    .option('--site <dir>', 'the built site directory (default: <results_dir>/site)')
    .addOption(new Option('--keep <k>', `releases kept on the host, the new one included (default ${HELP_DEFAULT_KEEP})`).argParser(wholeNumberOption('--keep', 2)))
    .option('--rollback', 'switch the live site back to the previous release (uploads nothing)')
    .option('--drop-off <sweep>', "instead, upload that sweep as <sweep>.tar.gz into reports.incoming, then its .done marker")
    .option('--accept-new-host-keys', 'record keys of hosts not yet in known_hosts (a changed key is always refused)')
    .action(async (flags: PublishFlags) => {
      process.exitCode = await commandPublish(flags);
    });
}

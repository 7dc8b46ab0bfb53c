// `orchestrate check --inventory F [--limit ...]`: validate the inventory, then check that every
// (selected) host answers over SSH. SSH is loaded only when the command runs.
import type { Command } from 'commander';
import { loadInventoryOrExit } from './arguments.js';
import { EXIT } from './exit-codes.js';
import { formatTable } from './table.js';

interface CheckFlags {
  inventory: string;
  limit?: string[];
  acceptNewHostKeys?: boolean;
}

async function commandCheck(flags: CheckFlags): Promise<number> {
  const inventory = await loadInventoryOrExit(flags.inventory);
  const [{ planSweep }, { checkHosts }] = await Promise.all([import('../fleet/plan.js'), import('../fleet/check-hosts.js')]);
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

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('validate the inventory, then check that every host answers over SSH')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .option('-l, --limit <terms...>', 'only these hosts')
    .option('--accept-new-host-keys', 'record keys of hosts not yet in known_hosts')
    .action(async (flags: CheckFlags) => {
      process.exitCode = await commandCheck(flags);
    });
}

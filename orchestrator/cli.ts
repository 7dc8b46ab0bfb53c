// orchestrate: arguments -> calls. The only place that prints or exits (with cli/*).
//
// Start-up cost is part of the interface (`orchestrate --plan` answers in a fraction of a second):
// this module and the command modules it registers import only commander and small modules at
// the top; what a command needs to do its work (inventory loading, SSH, the site builder, Vega,
// analysis, publishing) is imported with `await import()` inside its action, so a command loads
// only what it uses. test/cli/compiled-bin.test.ts checks what `--plan` and `--help` load.
import { Command, CommanderError } from 'commander';
import { registerChangesCommand } from './cli/command-changes.js';
import { registerCheckCommand } from './cli/command-check.js';
import { registerPruneCommand } from './cli/command-prune.js';
import { registerPublishCommand } from './cli/command-publish.js';
import { registerQasetCommand } from './cli/command-qaset.js';
import { registerReportCommand } from './cli/command-report.js';
import { registerRunCommand } from './cli/command-run.js';
import { dropOutputWhenClosed } from './cli/closed-output.js';
import { EXIT } from './cli/exit-codes.js';
import { ORCHESTRATOR } from './version.js';

function program(): Command {
  const root = new Command('orchestrate')
    .description('Fleet performance-test orchestrator: run each host\'s scenarios over SSH and keep every result')
    .version(ORCHESTRATOR.version)
    .exitOverride()
    .showHelpAfterError();
  registerRunCommand(root);
  registerCheckCommand(root);
  registerReportCommand(root);
  registerPublishCommand(root);
  registerPruneCommand(root);
  registerQasetCommand(root);
  registerChangesCommand(root);
  return root;
}

async function main(): Promise<void> {
  dropOutputWhenClosed(process.stdout);
  dropOutputWhenClosed(process.stderr);
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

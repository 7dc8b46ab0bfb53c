// `orchestrate report --inventory F [--out DIR]`: builds the static report site of the
// inventory's results store (default <results_dir>/site). Incremental: unchanged pages are
// not rewritten. The site builder (Vega, eta) is imported when the command runs.
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadInventoryOrExit } from './arguments.js';
import { EXIT } from './exit-codes.js';
import { defaultSiteDir } from '../results/store-layout.js';

export interface ReportFlags {
  inventory: string;
  out?: string;
  quiet?: boolean;
}

export async function commandReport(flags: ReportFlags, io: { out: (line: string) => void; err: (line: string) => void } = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}): Promise<number> {
  const inventory = await loadInventoryOrExit(flags.inventory);
  const [{ thresholdsResolver }, { buildSite }] = await Promise.all([import('../analysis/thresholds.js'), import('../site/build.js')]);
  const outDir = resolve(flags.out ?? defaultSiteDir(resolve(inventory.resultsDir)));
  const result = await buildSite({
    resultsDir: inventory.resultsDir,
    outDir,
    thresholdsFor: thresholdsResolver(inventory.regressions),
    log: flags.quiet ? undefined : io.out,
  });
  for (const problem of result.problems) io.err(`warning: ${problem.path}: ${problem.message}`);
  io.out(`report: ${outDir}/index.html (${result.pagesWritten} page(s) written, ${result.pagesUnchanged} unchanged; ${result.regressions} regression(s))`);
  return EXIT.ok;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('build the static report site (sweeps, jobs, trends, comparisons, regressions) from the results store')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file (for results_dir and the regression thresholds)')
    .option('-o, --out <dir>', 'output directory (default: <results_dir>/site)')
    .option('-q, --quiet', 'only the final line')
    .action(async (flags: ReportFlags) => {
      process.exitCode = await commandReport(flags);
    });
}

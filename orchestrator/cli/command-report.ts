// `orchestrate report --inventory F [--out DIR]`: builds the static report site of the
// inventory's results store (default <results_dir>/site). Incremental: unchanged pages are
// not rewritten. Whether anything changed since the last build is decided first, by a small
// module (site/up-to-date.ts); the site builder (analysis, Vega, eta) is imported only when
// something did.
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
  const started = Date.now();
  const inventory = await loadInventoryOrExit(flags.inventory);
  const [{ thresholdsResolver }, upToDate] = await Promise.all([import('../analysis/thresholds.js'), import('../site/up-to-date.js')]);
  const outDir = resolve(flags.out ?? defaultSiteDir(resolve(inventory.resultsDir)));
  const thresholdsFor = thresholdsResolver(inventory.regressions);
  const log = flags.quiet ? undefined : io.out;
  // Nothing new since the last build: answered without loading the site builder.
  const inputs = await upToDate.siteInputs(inventory.resultsDir, outDir, thresholdsFor);
  let result: { pagesWritten: number; pagesUnchanged: number; regressions: number; problems: { path: string; message: string }[] };
  if (inputs.state && inputs.upToDate) {
    log?.(upToDate.nothingNewLine(inputs.state, Date.now() - started));
    result = upToDate.nothingNewResult(inputs.state);
  } else {
    const [{ buildSite }, { SiteOutputError }] = await Promise.all([import('../site/build.js'), import('../site/output-error.js')]);
    try {
      result = await buildSite({ resultsDir: inventory.resultsDir, outDir, thresholdsFor, log, inputs });
    } catch (error) {
      if (!(error instanceof SiteOutputError)) throw error;
      // the site's directory, not the program: said in words, without a stack
      io.err(`report: ${error.message}`);
      io.err(
        error.path === outDir
          ? 'report: nothing was written, and the results store is untouched'
          : 'report: the results store is untouched; the pages written before this stay, and the next report draws the rest once it is fixed',
      );
      return EXIT.failed;
    }
  }
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

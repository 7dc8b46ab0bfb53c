// `orchestrate qaset parse PATH`: parses QASET's collected logs (a /var/log/qaset tree, a QASET log
// tarball or one raw benchmark output) into normalized metrics, printed as JSON on stdout.
import type { Command } from 'commander';
import { parseQasetPath } from '../qaset/walker.js';
import { EXIT } from './exit-codes.js';

export async function commandQasetParse(target: string, flags: { keepExtracted?: string }): Promise<number> {
  try {
    const result = await parseQasetPath(target, flags.keepExtracted ? { extractTo: flags.keepExtracted } : {});
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`orchestrate qaset parse: ${target}: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
}

export function registerQasetCommand(program: Command): void {
  const qaset = program.command('qaset').description('QASET (qa_testset_automation) helpers');
  qaset
    .command('parse')
    .description('parse a collected /var/log/qaset tree, a QASET log tarball or one benchmark output into metrics (JSON on stdout)')
    .argument('<path>', 'directory, .tar.bz2/.tar.gz/.tar, or raw output file')
    .option('--keep-extracted <dir>', 'extract tarballs here and keep them (default: a temp dir, removed)')
    .action(async (target: string, flags: { keepExtracted?: string }) => {
      process.exitCode = await commandQasetParse(target, flags);
    });
}

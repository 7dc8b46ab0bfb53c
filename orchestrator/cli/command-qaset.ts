// `orchestrate qaset parse PATH`: parses QASET's collected logs (a /var/log/qaset tree, a /var/log/qa
// tree, a collection of both with /root/qaset's list and list.failed, a QASET log tarball or one raw
// benchmark output) into normalized metrics, printed as JSON on stdout.
import { UNSAFE_TEXT } from '../inert-text.js';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { WalkOptions } from '../qaset/walker.js';
import { EXIT } from './exit-codes.js';

export interface QasetParseFlags {
  keepExtracted?: string;
  qa?: string;
  listFailed?: string;
  runList?: string;
}

/**
 * JSON whose strings cannot drive a terminal: JSON.stringify already escapes C0 controls (ESC
 * included); DEL, the C1 controls (0x80-0x9f, CSI among them) and the line separators are escaped too.
 */
export function inertJson(value: unknown): string {
  // JSON already escapes C0 controls; what it leaves raw (DEL, C1, bidi and other format
  // characters, separators) is escaped the same way, so the output stays valid JSON.
  return JSON.stringify(value, null, 2).replace(UNSAFE_TEXT, (c) =>
    c === '\n' ? c : [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}

async function walkOptions(flags: QasetParseFlags): Promise<WalkOptions> {
  const opts: WalkOptions = {};
  if (flags.keepExtracted) opts.extractTo = flags.keepExtracted;
  if (flags.qa) opts.qaDir = flags.qa;
  if (flags.listFailed) opts.listFailed = flags.listFailed;
  if (flags.runList) {
    const { parseRunList } = await import('../qaset/case-lists.js');
    const parsed = parseRunList(await readFile(flags.runList, 'utf8'));
    if (parsed === null) throw new Error(`--run-list ${flags.runList}: no SQ_TEST_RUN_LIST=( ... ) in it`);
    if (parsed.problems.length > 0) throw new Error(`--run-list ${flags.runList}:${parsed.problems[0]!.line}: ${parsed.problems[0]!.reason}: ${JSON.stringify(parsed.problems[0]!.text)}`);
    opts.runList = parsed.cases;
  }
  return opts;
}

export async function commandQasetParse(target: string, flags: QasetParseFlags): Promise<number> {
  try {
    const { parseQasetPath } = await import('../qaset/walker.js');
    const result = await parseQasetPath(target, await walkOptions(flags));
    process.stdout.write(`${inertJson(result)}\n`);
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
    .description(
      'parse collected QASET logs into metrics (JSON on stdout): a /var/log/qaset tree, a /var/log/qa tree, a directory holding qaset/, qa/, list and list.failed, a QASET log tarball, or one benchmark output',
    )
    .argument('<path>', 'directory, .tar.bz2/.tar.gz/.tar, or raw output file')
    .option('--qa <dir>', 'a collected /var/log/qa tree to read beside a /var/log/qaset PATH')
    .option('--list-failed <file>', "a collected /root/qaset/list.failed (QASET's failed cases)")
    .option('--run-list <file>', 'the run list QASET was given (SQ_TEST_RUN_LIST=( ... ), as /root/qaset/list), to tell the case running')
    .option('--keep-extracted <dir>', 'extract tarballs here and keep them (default: a temp dir, removed)')
    .action(async (target: string, flags: QasetParseFlags) => {
      process.exitCode = await commandQasetParse(target, flags);
    });
}

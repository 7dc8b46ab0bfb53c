// `orchestrate changes --csv FILE [--better lower|higher] [--json]`: the change points of one
// series read from a CSV file (`time,value` with a header; analysis/series-csv.ts), found by the
// same detection and default thresholds as a sweep's (analysis/regressions.ts
// detectSeriesChanges with DEFAULT_THRESHOLDS: min change, p-value, window, persistence, noise
// factor). Rows with the same time are one night. Prints a table, or with --json one JSON object
// per line per change. Bad input: `FILE:LINE: message` on stderr and exit status 2.
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { changeText } from '../analysis/change-text.js';
import type { ChangeKind } from '../analysis/regressions.js';
import { inertText } from '../inert-text.js';
import { EXIT } from './exit-codes.js';
import { formatTable } from './table.js';

export interface ChangesFlags {
  csv: string;
  better?: 'lower' | 'higher';
  json?: boolean;
}

/** One change as `--json` prints it. */
export interface ChangeLine {
  /** 0-based row (after the header) of the first point of the new regime. */
  index: number;
  /** That row's time, as written. */
  time: string;
  /** Mean of the whole regime before and of the new one. */
  before: number;
  after: number;
  /** (after - before) / |before|. */
  change: number;
  p: number;
  /** regression or improvement by --better; change without it. */
  kind: ChangeKind;
  /** Nights (distinct times) of the new regime. */
  nights: number;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdio: Io = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };


export async function commandChanges(flags: ChangesFlags, io: Io = stdio): Promise<number> {
  const [{ DEFAULT_THRESHOLDS, detectSeriesChanges, kindOf }, { estimateNoise }, { SeriesCsvError, parseSeriesCsv }] = await Promise.all([
    import('../analysis/regressions.js'),
    import('../analysis/noise.js'),
    import('../analysis/series-csv.js'),
  ]);
  let text: string;
  try {
    text = await readFile(flags.csv, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.err(`${inertText(flags.csv)}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a CSV file' : (error as Error).message}\n`);
    return EXIT.usage;
  }
  let parsed;
  try {
    parsed = parseSeriesCsv(text, flags.csv);
  } catch (error) {
    if (!(error instanceof SeriesCsvError)) throw error;
    io.err(`${inertText(error.message)}\n`);
    return EXIT.usage;
  }
  const { rows, runs } = parsed;
  const values = rows.map((row) => row.value);
  const found = detectSeriesChanges(values, DEFAULT_THRESHOLDS, runs);
  const lines: ChangeLine[] = found.map((change) => ({
    index: change.index,
    time: rows[change.index]!.time,
    before: change.beforeMean,
    after: change.afterMean,
    change: change.relativeChange,
    p: change.pValue,
    kind: kindOf(flags.better ?? 'none', change.beforeMean, change.afterMean),
    nights: change.regimeRuns,
  }));
  if (flags.json) {
    for (const line of lines) io.out(`${JSON.stringify(line)}\n`);
    return EXIT.ok;
  }
  const noise = estimateNoise(values).relative;
  const nights = runs[runs.length - 1]! + 1;
  const t = DEFAULT_THRESHOLDS;
  io.out(
    `${inertText(flags.csv)}: ${rows.length} point(s), ${nights} night(s), noise ${Number.isFinite(noise) ? `${(noise * 100).toFixed(2)}%` : 'unknown (median 0)'}; ` +
      `thresholds: change >= ${(t.minRelativeChange * 100).toFixed(0)}% and >= ${t.noiseFactor} x noise, p <= ${t.pValue}, holding ${t.persistence} nights\n`,
  );
  if (lines.length === 0) {
    io.out('no change points\n');
    return EXIT.ok;
  }
  const table = lines.map((line) => [
    String(line.index),
    inertText(line.time),
    line.before.toPrecision(6),
    line.after.toPrecision(6),
    changeText({ beforeMean: line.before, afterMean: line.after, relativeChange: line.change }, ''),
    line.p.toFixed(3),
    String(line.nights),
    line.kind,
  ]);
  io.out(`${formatTable(['INDEX', 'TIME', 'BEFORE', 'AFTER', 'CHANGE', 'P', 'NIGHTS', 'KIND'], table)}\n`);
  return EXIT.ok;
}

export function registerChangesCommand(program: Command): void {
  program
    .command('changes')
    .description("change points of one series from a CSV file (time,value with a header), with the sweep's detection and default thresholds")
    .requiredOption('--csv <file>', 'the series: a header time,value, then one row per point, oldest first (rows with the same time are one night)')
    .addOption(new Option('--better <direction>', 'which way is better: changes are then regressions or improvements').choices(['lower', 'higher']))
    .option('--json', 'one JSON object per line per change: index, time, before, after, change, p, kind, nights')
    .action(async (flags: ChangesFlags) => {
      process.exitCode = await commandChanges(flags);
    });
}

// One metric's series from a CSV file, for `orchestrate changes --csv FILE`: a header line
// `time,value`, then one row per point, oldest first.
//
// - time: a number (an index, epoch seconds, ...) or a date (anything Date.parse reads, such as
//   2026-01-31 or 2026-01-31T04:30:00Z); every row the same kind as the first. Times must not go
//   back; rows with the same time are one run (the repeated samples of one night).
// - value: a finite number.
// Blank lines are skipped; fields may be in double quotes; CRLF line ends are fine.
// Every problem names its line: `FILE:LINE: message`.

export interface SeriesRow {
  /** 1-based line in the file. */
  line: number;
  /** The time as written. */
  time: string;
  value: number;
}

export interface SeriesCsv {
  rows: SeriesRow[];
  /** The run of each row: rows with equal times share one. */
  runs: number[];
}

export class SeriesCsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'SeriesCsvError';
  }
}

const HEADER = 'time,value';

function fields(line: string): string[] {
  return line.split(',').map((field) => {
    const trimmed = field.trim();
    return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
  });
}

/** A finite number written as one (no empty strings, no "0x", no "Infinity"). */
function numberOf(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

const show = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);

/** Parses the CSV text of `file` (the name is only used in messages). Throws SeriesCsvError. */
export function parseSeriesCsv(text: string, file: string): SeriesCsv {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let index = 0;
  while (index < lines.length && lines[index]!.trim() === '') index++;
  if (index === lines.length) throw new SeriesCsvError(file, 1, `empty: expected a header ${HEADER} and one row per point`);
  const headerLine = index + 1;
  const header = fields(lines[index]!);
  if (header.length >= 2 && numberOf(header[1]!) !== undefined) {
    throw new SeriesCsvError(file, index + 1, `no header: the first line is data; expected a header ${HEADER} first`);
  }
  if (header.length !== 2 || header[0]!.toLowerCase() !== 'time' || header[1]!.toLowerCase() !== 'value') {
    throw new SeriesCsvError(file, index + 1, `header ${show(lines[index]!.trim())} is not ${HEADER}`);
  }
  const rows: SeriesRow[] = [];
  const runs: number[] = [];
  let kind: 'number' | 'date' | undefined;
  let previous: { key: number; line: number; time: string } | undefined;
  for (index++; index < lines.length; index++) {
    const raw = lines[index]!;
    if (raw.trim() === '') continue;
    const line = index + 1;
    const row = fields(raw);
    if (row.length !== 2) throw new SeriesCsvError(file, line, `expected 2 fields (time,value), found ${row.length}`);
    const [time, valueText] = row as [string, string];
    if (time === '') throw new SeriesCsvError(file, line, 'the time is empty');
    const value = numberOf(valueText);
    if (value === undefined) throw new SeriesCsvError(file, line, `value ${show(valueText)} is not a number`);
    const asNumber = numberOf(time);
    kind ??= asNumber !== undefined ? 'number' : 'date';
    let key: number;
    if (kind === 'number') {
      if (asNumber === undefined) throw new SeriesCsvError(file, line, `time ${show(time)} is not a number like the first row's`);
      key = asNumber;
    } else {
      key = Date.parse(time);
      if (Number.isNaN(key)) throw new SeriesCsvError(file, line, `time ${show(time)} is not a date or a number`);
    }
    if (previous && key < previous.key) {
      throw new SeriesCsvError(file, line, `time ${show(time)} is before ${show(previous.time)} on line ${previous.line}: rows must be oldest first`);
    }
    runs.push(previous && key === previous.key ? runs[runs.length - 1]! : runs.length === 0 ? 0 : runs[runs.length - 1]! + 1);
    previous = { key, line, time };
    rows.push({ line, time, value });
  }
  if (rows.length === 0) throw new SeriesCsvError(file, headerLine, 'no rows after the header: expected one row of time,value per point');
  return { rows, runs };
}

// Host data written into the site's files: JSON that is safe inside HTML and script files, and CSV.

/**
 * JSON for a .js file or an HTML attribute: `<`, `>`, `&` and the JS line separators are
 * written as \u escapes, so host text never appears as markup anywhere in the output.
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `window.__site.<bucket>[id] = value;` as a script file (CSP: no inline script, so data lives in files). */
export function dataScript(bucket: string, id: string, value: unknown): string {
  return `(window.__site=window.__site||{});(window.__site.${bucket}=window.__site.${bucket}||{})[${safeJson(id)}]=${safeJson(value)};\n`;
}

/**
 * A chart's rows as the site's charts.js files carry them: by column, each column's repeated
 * values written once. A chart's rows repeat their series, sweep, job, link and build in every
 * row (a midolman trends page: 5,400 rows a chart, 40 charts), so as objects they are most of the
 * bytes a night writes and a browser loads; by column they are about a sixth. Lossless: site.js
 * (expandRows) gives back the same rows, the same fields with the same values in the same order,
 * before vega-embed reads the spec.
 *
 * `{ n, c: [[field, kind, data, absent?], ...] }`, one entry per field in first-seen order:
 * - kind 0: `data` holds each row's value in row order;
 * - kind 1: `data` is `[distinct values, index of each row's value]`;
 * - `absent`: the rows without that field, when any (their place in `data` holds null, or index 0).
 */
export interface ColumnRows {
  n: number;
  c: [field: string, kind: 0 | 1, data: unknown[] | [unknown[], number[]], absent?: number[]][];
}

/** Rows this short stay as they are: nothing to gain. */
const MIN_COLUMN_ROWS = 8;

const isPlainRow = (row: unknown): row is Record<string, unknown> =>
  typeof row === 'object' && row !== null && !Array.isArray(row) && Object.getPrototypeOf(row) === Object.prototype;

/** `rows` by column (ColumnRows), or undefined when they are not all plain objects or too few to gain. */
export function columnRows(rows: readonly unknown[]): ColumnRows | undefined {
  if (rows.length < MIN_COLUMN_ROWS || !rows.every(isPlainRow)) return undefined;
  // each field's value per row, in the order fields are first seen; a row without it: undefined
  const columns = new Map<string, unknown[]>();
  (rows as Record<string, unknown>[]).forEach((row, i) => {
    for (const field of Object.keys(row)) {
      const value = row[field];
      if (value === undefined) continue; // JSON leaves it out: so does the column
      let values = columns.get(field);
      if (!values) columns.set(field, (values = new Array<unknown>(rows.length).fill(undefined)));
      values[i] = value;
    }
  });
  const c: ColumnRows['c'] = [];
  for (const [field, values] of columns) {
    const absent: number[] = [];
    for (let i = 0; i < values.length; i++) if (values[i] === undefined) absent.push(i);
    const byIndex = byDistinct(values);
    // an absent row's place: undefined, which JSON writes as null in a list
    c.push([field, byIndex ? 1 : 0, byIndex ?? values, ...(absent.length > 0 ? [absent] : [])] as ColumnRows['c'][number]);
  }
  return { n: rows.length, c };
}

/** `[distinct values, index per value]` when the values are texts (or other JSON) repeated enough to gain; undefined otherwise. */
function byDistinct(values: readonly unknown[]): [unknown[], number[]] | undefined {
  const distinct: unknown[] = [];
  // texts by themselves; anything else (booleans, null, objects) by its JSON
  const texts = new Map<string, number>();
  const others = new Map<string, number>();
  const index = new Array<number>(values.length);
  const most = values.length / 2;
  for (let row = 0; row < values.length; row++) {
    const value = values[row];
    // an absent row's place (the column lists it as absent)
    if (value === undefined) {
      index[row] = 0;
      continue;
    }
    // numbers stay as they are: their text is about as long as an index
    if (typeof value === 'number') return undefined;
    const map = typeof value === 'string' ? texts : others;
    const key = typeof value === 'string' ? value : JSON.stringify(value);
    let i = map.get(key);
    if (i === undefined) {
      map.set(key, (i = distinct.length));
      distinct.push(value);
      if (distinct.length > most) return undefined;
    }
    index[row] = i;
  }
  return [distinct, index];
}

/**
 * A Vega-Lite spec as charts.js carries it: every inline dataset (`data: { values }`, at any
 * depth: layers, concatenations) of enough plain-object rows by column, as `data: { siteRows }`
 * (columnRows); everything else as it is. The spec given is not changed.
 */
export function compactSpec(spec: unknown): unknown {
  if (Array.isArray(spec)) return spec.map(compactSpec);
  if (typeof spec !== 'object' || spec === null) return spec;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'data' && isPlainRow(value) && Array.isArray(value['values'])) {
      const columns = columnRows(value['values']);
      if (columns) {
        const { values: _values, ...rest } = value;
        out[key] = { ...rest, siteRows: columns };
        continue;
      }
    }
    out[key] = compactSpec(value);
  }
  return out;
}

/** A chart's spec as a charts.js line (`window.__site.charts[key]`), its rows by column (compactSpec). */
export function chartScript(key: string, spec: unknown): string {
  return dataScript('charts', key, compactSpec(spec));
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // a number's text never needs quoting nor a formula guard (most cells of the chart downloads)
  if (typeof value === 'number') return String(value);
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  // spreadsheet formula injection: a cell that starts with = + - @ is read as text
  if (/^[=+\-@\t\r]/.test(text) && typeof value !== 'number') text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly object[], columns?: readonly string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  // a text cell's guarded, quoted form, made once per text: a chart's rows repeat their series,
  // sweeps, jobs and builds (a midolman trends page: 72,000 rows of a few hundred texts)
  const texts = new Map<string, string>();
  const cell = (value: unknown): string => {
    if (typeof value === 'number') return String(value);
    if (typeof value !== 'string') return csvCell(value);
    let text = texts.get(value);
    if (text === undefined) texts.set(value, (text = csvCell(value)));
    return text;
  };
  const lines: string[] = [cols.map(csvCell).join(',')];
  for (const row of rows) {
    const fields = row as Record<string, unknown>;
    let line = cols.length === 0 ? '' : cell(fields[cols[0]!]);
    for (let i = 1; i < cols.length; i++) line += `,${cell(fields[cols[i]!])}`;
    lines.push(line);
  }
  // the last newline as the join's: the text is made once, not copied again to end it
  lines.push('');
  return lines.join('\n');
}

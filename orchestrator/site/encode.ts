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

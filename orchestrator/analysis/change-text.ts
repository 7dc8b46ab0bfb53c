// How a detected change of a mean reads, in the site, the CLI, the feed and alerts: one rule for all.
// A change from a mean of 0 has no relative size (relativeChange() gives it +-1 so that the magnitude
// rule can judge it), so it reads "from 0", never "+100.0 %"; a large change keeps its thousands
// separators ("+10,298.7 %").

export interface MeanChange {
  beforeMean: number;
  afterMean: number;
  /** relativeChange(beforeMean, afterMean): (after - before) / |before|, +-1 from 0. */
  relativeChange: number;
}

// Made on first use: the first Intl object of a process loads ICU's data (about 12 ms here), and
// every command imports this module through the event text, most of them never formatting a change
// (a sweep that finds none, a report with nothing new).
let oneDecimal: Intl.NumberFormat | undefined;
const oneDecimalFormat = (): Intl.NumberFormat => (oneDecimal ??= new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));

/** A fraction as a signed percentage with one decimal: "+12.3 %", "-0.4 %", "+10,298.7 %"; "0 %" when it rounds to nothing. */
export function signedPercentText(fraction: number, separator = ' '): string {
  if (!Number.isFinite(fraction)) return '—';
  const rounded = Number((fraction * 100).toFixed(1));
  if (rounded === 0) return `0${separator}%`;
  return `${rounded > 0 ? '+' : ''}${oneDecimalFormat().format(rounded)}${separator}%`;
}

/** A change of a mean: its signed percentage, or "from 0" when the mean before it was 0. */
export function changeText(change: MeanChange, separator = ' '): string {
  if (change.beforeMean === 0 && change.afterMean !== 0) return 'from 0';
  return signedPercentText(change.relativeChange, separator);
}

/** The mean of a candidate's re-run or baseline values; NaN for none. */
export function evidenceMean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

/** Re-runs against the previous regime's values (a candidate's evidence), read the same way. */
export function rerunChangeText(evidence: { values: readonly number[]; baseline: readonly number[]; relativeChange: number }, separator = ' '): string {
  return changeText({ beforeMean: evidenceMean(evidence.baseline), afterMean: evidenceMean(evidence.values), relativeChange: evidence.relativeChange }, separator);
}

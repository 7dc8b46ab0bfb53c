// Problems found in an inventory, each with the place it was written, and the one error
// type that loadInventory throws carrying all of them. Whatever of the inventory a message
// quotes (values, keys, the file name) has its control characters escaped here, at the one
// door every message goes through, so that no inventory can write to the operator's terminal.

import { clipText, escapeControl } from './display.js';

/** Characters of a message or an expected-text; longer ones are cut. */
const MAX_TEXT = 2000;

export interface InventoryIssue {
  file: string;
  /** 1-based line of the offending node (the key for unknown keys, the value for wrong values). */
  line: number;
  /** 1-based column. */
  column: number;
  message: string;
  /** What would have been accepted, in plain words. */
  expected?: string;
}

/** `file:line:column: message (expected: ...)`, control characters escaped. */
export function formatIssue(issue: InventoryIssue): string {
  const where = `${escapeControl(issue.file)}:${issue.line}:${issue.column}`;
  const expected = issue.expected === undefined ? '' : ` (expected: ${escapeControl(issue.expected)})`;
  return `${where}: ${escapeControl(issue.message)}${expected}`;
}

/** The issue with its file, message and expected text safe to print (escaped, not too long). */
export function safeIssue(issue: InventoryIssue): InventoryIssue {
  const safe: InventoryIssue = {
    file: escapeControl(issue.file),
    line: issue.line,
    column: issue.column,
    message: clipText(issue.message, MAX_TEXT),
  };
  if (issue.expected !== undefined) safe.expected = clipText(issue.expected, MAX_TEXT);
  return safe;
}

/** Sorted by file, line and column; exact repeats (same place and message) dropped. */
export function sortIssues(issues: readonly InventoryIssue[]): InventoryIssue[] {
  const seen = new Set<string>();
  const unique: InventoryIssue[] = [];
  for (const issue of issues) {
    const key = formatIssue(issue);
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(issue);
  }
  return unique.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column,
  );
}

export class InventoryError extends Error {
  readonly issues: InventoryIssue[];

  constructor(issues: readonly InventoryIssue[]) {
    const sorted = sortIssues(issues.map(safeIssue));
    super(sorted.map(formatIssue).join('\n'));
    this.name = 'InventoryError';
    this.issues = sorted;
  }
}

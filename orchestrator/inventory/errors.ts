// Problems found in an inventory, each with the place it was written, and the one error
// type that loadInventory throws carrying all of them.

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

/** `file:line:column: message (expected: ...)` */
export function formatIssue(issue: InventoryIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  const expected = issue.expected === undefined ? '' : ` (expected: ${issue.expected})`;
  return `${where}: ${issue.message}${expected}`;
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
    const sorted = sortIssues(issues);
    super(sorted.map(formatIssue).join('\n'));
    this.name = 'InventoryError';
    this.issues = sorted;
  }
}

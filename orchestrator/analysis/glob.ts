// Metric-name globs of the inventory's regressions config: '*' matches any run of characters
// (dots included); everything else matches itself.

export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** How specific a pattern is: exact names first, then the most literal characters. */
export function specificity(pattern: string): number {
  if (!pattern.includes('*')) return Number.POSITIVE_INFINITY;
  return pattern.replace(/\*/g, '').length;
}

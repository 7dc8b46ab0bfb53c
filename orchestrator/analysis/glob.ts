// Metric-name globs of the inventory's regressions config: '*' matches any run of characters
// (dots and slashes included); everything else, '?' too, matches itself (orchestrator/wildcard.ts).
import { wildcardMatcher } from '../wildcard.js';

/** The pattern as a test of a metric name. */
export function metricGlobMatcher(pattern: string): (metric: string) => boolean {
  return wildcardMatcher(pattern, '*');
}

/** How specific a pattern is: exact names first, then the most literal characters. */
export function specificity(pattern: string): number {
  if (!pattern.includes('*')) return Number.POSITIVE_INFINITY;
  return pattern.replace(/\*/g, '').length;
}

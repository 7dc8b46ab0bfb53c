// Metric-name globs of the inventory's regressions config: '*' matches any run of characters
// (dots and slashes included, none at all too); everything else matches itself. Matching is
// picomatch's: each character but '*' is escaped, and `bash: true` makes a single '*' cross '/'.
// Where picomatch differs from a plain ".*": '*' never matches a path segment that is exactly
// '.' or '..', nor stands alone for the empty name (metric names are never empty, and have no
// such segments).
import picomatch from 'picomatch';

const OPTIONS: picomatch.PicomatchOptions = {
  bash: true,
  dot: true,
  nobrace: true,
  nobracket: true,
  noextglob: true,
  nonegate: true,
};

/** `pattern` with every glob character of picomatch but '*' escaped, so that it means itself. */
function literalExceptStar(pattern: string): string {
  return pattern
    .split('*')
    .map((part) => part.replace(/[\\^$.+?()[\]{}|!@#]/g, '\\$&'))
    .join('*');
}

export function globToRegExp(pattern: string): RegExp {
  return picomatch.makeRe(literalExceptStar(pattern), OPTIONS);
}

/** How specific a pattern is: exact names first, then the most literal characters. */
export function specificity(pattern: string): number {
  if (!pattern.includes('*')) return Number.POSITIVE_INFINITY;
  return pattern.replace(/\*/g, '').length;
}

// Wildcard patterns as people write them in an inventory, on the command line and in known_hosts:
// `*` any run of characters (none too; dots and slashes included), `?` exactly one (where the
// caller allows it), every other character itself. The one matcher behind --limit terms
// (fleet/plan.ts), known_hosts host patterns (connectors/ssh/known-hosts.ts) and metric-name globs
// (analysis/glob.ts).
//
// A pattern becomes an anchored regular expression with everything but the wildcards escaped.
// picomatch (which reads the shell's file-name globs in scenarios/midolman/local-debs.ts) is not
// used here: it is a path glob ('/' separates, '*' skips '.' and '..', brackets, braces and
// parentheses mean something, and some escaped patterns such as `\{\\\\` never return in 4.0.7),
// and mapping punctuation out of its way let a name holding the mapped characters match patterns
// it should not (a hostile metric name could pick another threshold rule).

/** Which characters are wildcards: `*` and `?` (--limit, known_hosts), or `*` alone (metric names). */
export type Wildcards = '*?' | '*';

/** Does the pattern hold a wildcard (else it matches exactly one name, itself)? */
export function hasWildcard(pattern: string, wildcards: Wildcards = '*?'): boolean {
  return wildcards === '*' ? pattern.includes('*') : /[*?]/.test(pattern);
}

/** The pattern compiled once, as a test of a name. */
export function wildcardMatcher(pattern: string, wildcards: Wildcards = '*?'): (name: string) => boolean {
  if (!hasWildcard(pattern, wildcards)) return (name) => name === pattern;
  let source = '';
  for (const c of pattern) {
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?' && wildcards === '*?') source += '[\\s\\S]';
    else source += c.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`, 'u');
  return (name) => re.test(name);
}

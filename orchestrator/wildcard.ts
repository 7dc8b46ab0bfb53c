// Wildcard patterns as people write them in an inventory, on the command line and in known_hosts:
// `*` any run of characters (dots and slashes included), `?` exactly one (where the caller allows
// it), everything else itself. The one matcher behind --limit terms (fleet/plan.ts), known_hosts
// host patterns (connectors/ssh/known-hosts.ts) and metric-name globs (analysis/glob.ts).
//
// Matched by picomatch, which is a path glob: '/' separates, '*' skips '.' and '..', brackets,
// braces, parentheses and backslashes mean something, and some escaped patterns (`\{\\\\`) never
// return in picomatch 4.0.7. So escaping is not used: ASCII punctuation and controls other than
// the wildcards are mapped to private-use characters (U+E000 + code) in the pattern and the name
// alike, and picomatch sees nothing special but the wildcards, each still one character.
// Where it still differs from a plain regex: a lone '*' does not match the empty name (no name
// any caller matches is empty).
import picomatch from 'picomatch';

const OPTIONS: picomatch.PicomatchOptions = { dot: true, nonegate: true, noextglob: true, nobrace: true, nobracket: true };
const NAME_SPECIAL = /[^\w\-\u0080-\uffff]/g;
const PATTERN_SPECIAL: Record<Wildcards, RegExp> = { '*?': /[^\w\-*?\u0080-\uffff]/g, '*': /[^\w\-*\u0080-\uffff]/g };

/** Which characters are wildcards: `*` and `?` (--limit, known_hosts), or `*` alone (metric names). */
export type Wildcards = '*?' | '*';

const plain = (text: string, special: RegExp) => text.replace(special, (c) => String.fromCharCode(0xe000 + c.charCodeAt(0)));

/** Does the pattern hold a wildcard (else it matches exactly one name, itself)? */
export function hasWildcard(pattern: string, wildcards: Wildcards = '*?'): boolean {
  return wildcards === '*' ? pattern.includes('*') : /[*?]/.test(pattern);
}

/** The pattern compiled once, as a test of a name. */
export function wildcardMatcher(pattern: string, wildcards: Wildcards = '*?'): (name: string) => boolean {
  if (!hasWildcard(pattern, wildcards)) return (name) => name === pattern;
  const matches = picomatch(plain(pattern, PATTERN_SPECIAL[wildcards]), OPTIONS);
  return (name) => matches(plain(name, NAME_SPECIAL));
}

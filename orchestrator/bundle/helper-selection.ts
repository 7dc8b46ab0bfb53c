/**
 * Which helpers a host's bundle carries: the agent's own (AGENT_HELPERS) and those of the
 * scenarios the host runs (Scenario.helpers). A sysinfo host gets 8 of the tree's 46 files (57 of
 * its 440 KB of tar): what a first sweep sends and unpacks on each host, and what every sweep
 * checks there, shrink with it. A scenario that declares no helpers gets all of them.
 *
 * A pattern is a path in the bundle ('remote-scripts/kvm', 'topologies'), which takes everything
 * under it when it names a directory, and may hold `*` within one path component
 * ('remote-scripts/lib/kvm-*.sh').
 */

/** What orchestrate-agent runs for every job (its libraries, the provenance helper), whatever the scenario. */
export const AGENT_HELPERS: readonly string[] = [
  'remote-scripts/orchestrate-agent',
  'remote-scripts/provenance',
  'remote-scripts/lib/common.sh',
  'remote-scripts/lib/json.sh',
  'remote-scripts/lib/events.sh',
  'remote-scripts/lib/cpu-count.sh',
  'remote-scripts/lib/provenance.sh',
];

/** A pattern as a test of a bundle path. */
function patternTest(pattern: string): RegExp {
  if (pattern === '' || pattern.startsWith('/') || pattern.endsWith('/') || pattern.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`helper pattern ${JSON.stringify(pattern)}: want a relative path in the bundle, like 'remote-scripts/lib/kvm-*.sh'`);
  }
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*');
  return new RegExp(`^${body}(?:/.*)?$`);
}

/** The bundle paths a host's bundle carries. */
export interface HelperSelection {
  /** One text per distinct selection: equal keys, equal bundles. */
  key: string;
  /** Whether a file at this bundle path goes in. */
  takes(path: string): boolean;
}

/**
 * The selection for a host whose scenarios declare these helper lists (undefined: a scenario
 * that declares none, so the host gets every helper).
 */
export function helperSelection(declared: readonly (readonly string[] | undefined)[]): HelperSelection | undefined {
  if (declared.some((helpers) => helpers === undefined)) return undefined;
  const patterns = [...new Set([...AGENT_HELPERS, ...declared.flatMap((helpers) => helpers ?? [])])].sort();
  const tests = patterns.map(patternTest);
  return { key: patterns.join('\n'), takes: (path) => tests.some((t) => t.test(path)) };
}

/**
 * A host's helper bundle, from the scenarios it runs (helper-selection.ts): the helper trees read
 * and checked once, a bundle packed once per distinct selection and shared by every host that
 * needs the same one.
 */
import type { ScenarioRegistry } from '../scenarios/registry.js';
import { packHelperBundle, projectBundleRoots, readHelperTree, type BundleRoot, type HelperBundle, type HelperTree } from './build-bundle.js';
import { helperSelection } from './helper-selection.js';

/** The bundle for a host running these scenarios (by name). */
export type BundleFor = (scenarios: readonly string[]) => Promise<HelperBundle>;

export function scenarioBundles(roots: BundleRoot[], registry: ScenarioRegistry): BundleFor {
  let tree: Promise<HelperTree> | undefined;
  const packed = new Map<string, Promise<HelperBundle>>();
  return (scenarios) => {
    // a name the registry does not know declares nothing: the host gets every helper
    const selection = helperSelection([...new Set(scenarios)].map((name) => registry.get(name)?.helpers));
    const key = selection?.key ?? '*';
    let bundle = packed.get(key);
    if (bundle === undefined) {
      tree ??= readHelperTree(roots);
      bundle = tree.then((t) => packHelperBundle(t, selection));
      packed.set(key, bundle);
    }
    return bundle;
  };
}

/**
 * Where a sweep or its confirmation re-runs take each host's bundle: the one a caller gave (a
 * test's), for every host; else the project's helpers chosen by the host's scenarios.
 */
export function hostBundles(registry: ScenarioRegistry, given?: HelperBundle): BundleFor {
  return given ? async () => given : scenarioBundles(projectBundleRoots(), registry);
}

/**
 * A host's helper bundle, from the scenarios it runs (helper-selection.ts): built once per
 * distinct selection and shared by every host that needs the same one.
 */
import type { ScenarioRegistry } from '../scenarios/registry.js';
import { buildHelperBundle, type BundleRoot, type HelperBundle } from './build-bundle.js';
import { helperSelection } from './helper-selection.js';

/** The bundle for a host running these scenarios (by name). */
export type BundleFor = (scenarios: readonly string[]) => Promise<HelperBundle>;

export function scenarioBundles(roots: BundleRoot[], registry: ScenarioRegistry): BundleFor {
  const built = new Map<string, Promise<HelperBundle>>();
  return (scenarios) => {
    // a name the registry does not know declares nothing: the host gets every helper
    const selection = helperSelection([...new Set(scenarios)].map((name) => registry.get(name)?.helpers));
    const key = selection?.key ?? '*';
    let bundle = built.get(key);
    if (bundle === undefined) {
      bundle = buildHelperBundle(roots, selection);
      built.set(key, bundle);
    }
    return bundle;
  };
}

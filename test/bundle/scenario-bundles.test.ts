// Each host's bundle carries the agent's helpers and those its scenarios declare
// (bundle/scenario-bundles.ts, Scenario.helpers). These tests hold the project's declarations to
// what its scripts really use: every helper a phase runs, every file a script sources or names in
// the bundle, is in the bundle of every host that runs it, and no file of the tree reaches no host.
// (The end-to-end tests then run each scenario from its own bundle on lab hosts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { buildHelperBundle, projectBundleRoots } from '../../orchestrator/bundle/build-bundle.js';
import { helperSelection, type HelperSelection } from '../../orchestrator/bundle/helper-selection.js';
import { scenarioBundles } from '../../orchestrator/bundle/scenario-bundles.js';
import { entryNames } from './bundle-entries.js';
import { PACKAGE_ROOT } from '../../orchestrator/package-root.js';
import { SCENARIOS, PROVENANCE_PHASE } from '../../orchestrator/scenarios/registry.js';

const roots = projectBundleRoots();


function selectionOf(name: string): HelperSelection {
  const selection = helperSelection([SCENARIOS.get(name)!.helpers]);
  assert.ok(selection, `${name} declares its helpers`);
  return selection!;
}

/** Every file of the whole bundle (what a host got before bundles were chosen by scenario). */
let everything: string[] = [];
test.before(async () => {
  everything = await entryNames(await buildHelperBundle(roots), { filesOnly: true });
});

/** The files a bundle file refers to: sourced (shellcheck directives, BASH_SOURCE and AGENT_LIB lines, a loop over names) or named under the bundle's root or a script's own directory. */
function references(file: string): string[] {
  const text = readFileSync(path.join(PACKAGE_ROOT, file), 'utf8');
  const dir = path.posix.dirname(file);
  const known = new Set(everything);
  const resolve = (rel: string): string => [path.posix.join(dir, rel), `remote-scripts/${rel}`, rel].find((p) => known.has(p)) ?? path.posix.join(dir, rel);
  const refs: string[] = [];
  for (const m of text.matchAll(/#\s*shellcheck source=(\S+)/g)) if (m[1] !== '/dev/null') refs.push(resolve(m[1]!));
  for (const m of text.matchAll(/\.\s+"\$\{BASH_SOURCE\[0\]%\/\*\}\/([^"$]+)"/g)) refs.push(path.posix.join(dir, m[1]!));
  for (const m of text.matchAll(/"\$(?:AGENT_LIB|ORCH_LIB)\/([^"$]+)"/g)) refs.push(`remote-scripts/lib/${m[1]!}`);
  for (const m of text.matchAll(/\$\{?ORCH_BUNDLE\}?\/((?:remote-scripts|topologies)\/[A-Za-z0-9_./-]+)/g)) refs.push(m[1]!);
  // a top-level script's own directory: KVM_SELF_DIR=$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")
  for (const m of text.matchAll(/\$\{?[A-Z]+_SELF_DIR\}?\/([A-Za-z0-9_.\/-]+)/g)) refs.push(`remote-scripts/${m[1]!}`);
  // for f in common json events; do . "$lib/$f.sh"; done
  for (const m of text.matchAll(/for (\w+) in ([\w -]+); do \. "\$[\w{}]+\/\$\1\.sh"/g)) for (const name of m[2]!.trim().split(/\s+/)) refs.push(`remote-scripts/lib/${name}.sh`);
  return refs;
}

test('every file of the helper tree goes to the hosts of at least one scenario', () => {
  const unreached = everything.filter((file) => ![...SCENARIOS.keys()].some((name) => selectionOf(name).takes(file)));
  assert.equal(unreached, [], 'declare these in the scenario that uses them (Scenario.helpers)');
});

test("every helper a scenario's phases run is in its bundle", () => {
  const scenariosDir = path.join(PACKAGE_ROOT, 'orchestrator/scenarios');
  for (const name of SCENARIOS.keys()) {
    const sources = [path.join(scenariosDir, `${name}.ts`)];
    try {
      for (const f of readdirSync(path.join(scenariosDir, name))) if (f.endsWith('.ts')) sources.push(path.join(scenariosDir, name, f));
    } catch {
      // no directory of its own
    }
    const helpers = new Set([PROVENANCE_PHASE.helper]);
    for (const source of sources) for (const m of readFileSync(source, 'utf8').matchAll(/\bhelper: '([^']+)'/g)) helpers.add(m[1]!);
    assert.ok(helpers.size > 1, `${name}: its phases name their helpers`);
    const selection = selectionOf(name);
    for (const helper of helpers) {
      const file = `remote-scripts/${helper}`;
      assert.ok(everything.includes(file), `${name}: ${file} is a helper of the tree`);
      assert.ok(selection.takes(file), `${name}: runs ${file}, which its bundle lacks`);
      assert.ok((statSync(path.join(PACKAGE_ROOT, file)).mode & 0o111) !== 0, `${file} is executable`);
    }
  }
});

test('every file a bundled script sources or names in the bundle is in the same bundle', () => {
  let checked = 0;
  for (const name of SCENARIOS.keys()) {
    const selection = selectionOf(name);
    const files = everything.filter((f) => selection.takes(f));
    for (const file of files) {
      for (const ref of references(file)) {
        checked++;
        const isFile = everything.includes(ref);
        assert.ok(isFile || everything.some((f) => f.startsWith(`${ref}/`)), `${file} refers to ${ref}, which the tree does not hold`);
        // a directory named (the libraries' own, say) must be there; what is taken from it is checked as a file
        assert.ok(isFile ? selection.takes(ref) : files.some((f) => f.startsWith(`${ref}/`)), `${name}'s bundle: ${file} refers to ${ref}, which it lacks`);
      }
    }
  }
  assert.ok(checked > 50, `references were found (${checked})`);
});

test("a sysinfo host's bundle holds the agent and sysinfo, not midolman's or kvm's helpers", async () => {
  const bundleFor = scenarioBundles(roots, SCENARIOS);
  const names = await entryNames(await bundleFor(['sysinfo']), { filesOnly: true });
  assert.ok(names.includes('remote-scripts/orchestrate-agent') && names.includes('remote-scripts/sysinfo') && names.includes('remote-scripts/lib/provenance.sh'));
  assert.equal(names.filter((n) => /midolman|kvm|guest|topologies|traffic|ovs|jmx/.test(n)), []);
  assert.ok(names.length < everything.length / 2, `${names.length} of ${everything.length} files`);
});

test('hosts running the same scenarios share one bundle; a host running two gets both sets; an unknown scenario gets every helper', async () => {
  const bundleFor = scenarioBundles(roots, SCENARIOS);
  const a = bundleFor(['midolman', 'sysinfo']);
  assert.is(bundleFor(['sysinfo', 'midolman', 'sysinfo']), a, 'built once');
  const both = await entryNames(await a, { filesOnly: true });
  assert.ok(both.includes('remote-scripts/sysinfo') && both.includes('remote-scripts/midolman') && both.some((n) => n.startsWith('topologies/')));
  assert.not.ok(both.some((n) => n.includes('kvm')));
  const whole = await buildHelperBundle(roots);
  assert.is((await bundleFor(['no-such-scenario'])).hash, whole.hash);
});

test.run();

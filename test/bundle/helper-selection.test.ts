// Which helpers a host's bundle carries (bundle/helper-selection.ts): the pattern language, and the
// selection made from the scenarios' lists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AGENT_HELPERS, helperSelection } from '../../orchestrator/bundle/helper-selection.js';

test('a path takes itself and everything under it, not a name that only starts like it', () => {
  const s = helperSelection([['remote-scripts/kvm', 'topologies']])!;
  assert.ok(s.takes('remote-scripts/kvm'));
  assert.ok(s.takes('topologies/ovs_l3.sh'));
  assert.ok(s.takes('topologies/deeper/x.sh'));
  assert.not.ok(s.takes('remote-scripts/kvm-prepare-host'));
  assert.not.ok(s.takes('remote-scripts/midolman'));
});

test('* matches within one path component only, and other characters are literal', () => {
  const s = helperSelection([['remote-scripts/lib/kvm-*.sh']])!;
  assert.ok(s.takes('remote-scripts/lib/kvm-net.sh'));
  assert.ok(s.takes('remote-scripts/lib/kvm-.sh'));
  assert.not.ok(s.takes('remote-scripts/lib/kvm-net.shx'));
  assert.not.ok(s.takes('remote-scripts/lib/kvm-netXsh'), 'the dot is a dot');
  assert.not.ok(s.takes('remote-scripts/lib/kvm-a/b.sh'), 'no slash inside a *');
});

test("the agent's own helpers are always in; a scenario without a list means every helper", () => {
  const s = helperSelection([['remote-scripts/sysinfo']])!;
  for (const path of AGENT_HELPERS) assert.ok(s.takes(path), path);
  assert.not.ok(s.takes('remote-scripts/midolman'));
  assert.is(helperSelection([['remote-scripts/sysinfo'], undefined]), undefined);
  assert.ok(helperSelection([]), 'no scenario: the agent alone');
});

test('the same helpers in any order and repeated are one selection (one bundle); others are another', () => {
  const a = helperSelection([['remote-scripts/sysinfo'], ['remote-scripts/kvm', 'remote-scripts/sysinfo']])!;
  const b = helperSelection([['remote-scripts/kvm'], ['remote-scripts/sysinfo']])!;
  assert.is(a.key, b.key);
  assert.is.not(helperSelection([['remote-scripts/kvm']])!.key, a.key);
});

test('a pattern that is not a relative path in the bundle is refused with what is wanted', () => {
  for (const bad of ['', '/etc/passwd', 'remote-scripts/', '../outside', 'remote-scripts//lib', 'remote-scripts/./lib']) {
    assert.throws(() => helperSelection([[bad]]), /want a relative path in the bundle/, JSON.stringify(bad));
  }
});

test.run();

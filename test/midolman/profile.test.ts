// The midolman profile: which profile a host gets (a directory named after the host, else the
// inventory's, else default), the knobs' one precedence (built-in < perftests.conf < inventory vars
// < overrides) with where each value came from, unknown knobs as warnings, values that cannot work
// as inventory errors with their positions, and the agent configuration files a profile carries.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InventoryError } from '../../orchestrator/inventory/errors.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import type { HostSpec, Inventory } from '../../orchestrator/inventory/types.js';
import {
  knobSuggestion,
  profileConfigFiles,
  profileReason,
  resolveKnobs,
  resolveProfileFile,
} from '../../orchestrator/scenarios/midolman/profile.js';
import { midolmanScenario } from '../../orchestrator/scenarios/midolman.js';
import { scenarioHostChecks, scenarioParamSchemas } from '../../orchestrator/scenarios/registry.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const t = suite('midolman profile');
let dir: string;

t.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'midolman-profile-'));
  const profiles = join(dir, 'profiles.d');
  for (const p of ['default', 'compute', 'gw1']) mkdirSync(join(profiles, p), { recursive: true });
  writeFileSync(join(profiles, 'default', 'perftests.conf'), 'THROUGHPUT_SCAN_MAX_RATE=8000\nWARMUP_RATE=100\n');
  writeFileSync(
    join(profiles, 'compute', 'perftests.conf'),
    '# compute hosts\nexport THROUGHPUT_SCAN_MAX_RATE="9000"\nLONG_RUNNING_SCAN_RATE=6000\nLONG_RUNNING_SCAN_ITERATION=40\nsource /etc/other\n',
  );
  writeFileSync(join(profiles, 'gw1', 'perftests.conf'), 'THROUGHPUT_SCAN_MAX_RATE=15000\n');
  mkdirSync(join(profiles, 'default', 'midolman'), { recursive: true });
  writeFileSync(join(profiles, 'default', 'midolman', 'midolman.conf'), '[midolman]\n# default\n');
  writeFileSync(join(profiles, 'default', 'midolman', 'logback.xml'), '<configuration/>\n');
  mkdirSync(join(profiles, 'compute', 'midolman'), { recursive: true });
  writeFileSync(join(profiles, 'compute', 'midolman', 'midolman.conf'), '[midolman]\n# compute\n');
  writeFileSync(join(profiles, 'compute', 'midolman', 'midolman-env.sh'), 'MAX_HEAP_SIZE=2048M\n');
});
t.after(() => rmSync(dir, { recursive: true, force: true }));

const position = (line: number) => ({ file: join(dir, 'lab.yaml'), line, column: 9 });

t('precedence: built-in < profile perftests.conf < inventory vars < overrides, each with where it came from', () => {
  const conf = resolveProfileFile(join(dir, 'profiles.d'), 'compute', 'perftests.conf');
  const { knobs, problems } = resolveKnobs({
    conf,
    vars: { THROUGHPUT_SCAN_MAX_RATE: '12000', LONG_RUNNING_SCAN_RATE: '7000', EDITOR: 'vi' },
    varPositions: { THROUGHPUT_SCAN_MAX_RATE: position(40), LONG_RUNNING_SCAN_RATE: position(41), EDITOR: position(42) },
    overrides: { LONG_RUNNING_SCAN_RATE: 5000 },
    paramsPosition: position(30),
  });
  assert.equal(knobs.WARMUP_BURST, { value: 6000, source: 'builtin', at: 'built-in default' });
  assert.equal(knobs.THROUGHPUT_SCAN_MAX_RATE, { value: 12000, source: 'vars', at: `inventory vars (${dir}/lab.yaml:40:9)` });
  assert.equal(knobs.LONG_RUNNING_SCAN_RATE.value, 5000);
  assert.is(knobs.LONG_RUNNING_SCAN_RATE.source, 'overrides');
  assert.equal(knobs.WARMUP_RATE, { value: 100, source: 'builtin', at: 'built-in default' }, 'the profile has its own file: default/ is not merged in');
  // A knob only the profile sets keeps the profile's value and line.
  const onlyProfile = resolveKnobs({ conf, vars: {}, varPositions: {}, paramsPosition: position(30) }).knobs;
  assert.equal(onlyProfile.THROUGHPUT_SCAN_MAX_RATE, { value: 9000, source: 'profile', at: 'compute/perftests.conf:2' });
  assert.equal(problems.filter((p) => p.severity === 'error'), []);
});

t('unknown knobs are warnings naming where they were written and what was probably meant; other vars are left alone', () => {
  const conf = resolveProfileFile(join(dir, 'profiles.d'), 'compute', 'perftests.conf');
  const { problems } = resolveKnobs({
    conf,
    vars: { THROUGHPUT_MAX_SCAN_RATE: '15000', http_proxy: 'x' },
    varPositions: { THROUGHPUT_MAX_SCAN_RATE: position(12) },
    paramsPosition: position(30),
  });
  const warnings = problems.filter((p) => p.severity === 'warning').map((p) => p.message);
  assert.ok(warnings.some((w) => /unknown knob LONG_RUNNING_SCAN_ITERATION in compute\/perftests\.conf:4; did you mean LONG_RUNNING_SCAN_ITERATIONS\?/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('unknown knob THROUGHPUT_MAX_SCAN_RATE in inventory vars') && w.includes(':12:9') && w.includes('did you mean THROUGHPUT_SCAN_MAX_RATE?')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('compute/perftests.conf:5: not a KEY=VALUE line')), 'shell in perftests.conf is not run and is said');
  assert.not.ok(warnings.some((w) => w.includes('http_proxy')));
  assert.is(knobSuggestion('THROUGHPUT_MAX_SCAN_RATE'), 'THROUGHPUT_SCAN_MAX_RATE', "the original README's own typo");
});

t('values that cannot work are errors at their position: not a number, a burst past 65535, a zero step', () => {
  const { problems } = resolveKnobs({
    conf: { from: 'x/perftests.conf', path: '/p/x/perftests.conf', content: 'THROUGHPUT_SCAN_STEP=0\nTHROUGHPUT_SCAN_BURST=70000\n' },
    vars: { WARMUP_RATE: 'fast' },
    varPositions: { WARMUP_RATE: position(7) },
    paramsPosition: position(30),
  });
  const errors = problems.filter((p) => p.severity === 'error');
  assert.equal(
    errors.map((e) => [e.position.file, e.position.line, e.message, e.expected]),
    [
      ['/p/x/perftests.conf', 1, 'THROUGHPUT_SCAN_STEP is 0 in x/perftests.conf:1', 'a positive whole number'],
      ['/p/x/perftests.conf', 2, 'THROUGHPUT_SCAN_BURST is 70000 in x/perftests.conf:2', 'a whole number from 1 to 65535 (one probe per destination port)'],
      [`${dir}/lab.yaml`, 7, `WARMUP_RATE is "fast" in inventory vars (${dir}/lab.yaml:7:9)`, 'a whole number'],
    ],
  );
});

async function loadLab(yaml: string): Promise<Inventory> {
  const file = join(dir, 'lab.yaml');
  writeFileSync(file, yaml);
  return loadInventory(file, { scenarios: scenarioParamSchemas(), hostChecks: scenarioHostChecks(), env: { HOME: dir, USER: 'me' } });
}

const LAB = (vars: string) => `profiles_dir: ./profiles.d
known_hosts: ./known_hosts
ssh_config: none
defaults: { user: perf, scenarios: { midolman: {} } }
groups:
  compute:
    hosts: [compute1, gw1]
    vars:
      profile: compute
      vars: { ${vars} }
hosts:
  compute1: { address: 127.0.0.1 }
  gw1: { address: 127.0.0.1 }
  other: { address: 127.0.0.1, scenarios: { midolman: false } }
`;

t('a profile directory named after the host wins over the inventory\'s profile; then the inventory\'s; then default', async () => {
  const inv = await loadLab(LAB('LONG_RUNNING_SCAN_RATE: 7000'));
  const host = (n: string): HostSpec => inv.hosts.find((h) => h.name === n)!;
  assert.is(host('compute1').profile, 'compute');
  assert.is(host('compute1').profileChoice.reason, 'inventory');
  assert.is(host('gw1').profile, 'gw1');
  assert.is(host('gw1').profileChoice.reason, 'host-name');
  assert.match(profileReason(host('gw1')), /profiles\.d\/gw1\/ is named after the host: it wins over the inventory's profile 'compute' \(.*lab\.yaml:9:16\)/);
  assert.is(host('other').profile, 'default');
  assert.is(host('other').profileChoice.reason, 'default');
  // What the helper gets: the resolved knobs with their sources, the reason, the warnings.
  const env = midolmanScenario.phases({ host: host('gw1'), params: {}, profilesDir: join(dir, 'profiles.d') })[0]!.env!;
  const knobs = Object.fromEntries(env['MIDOLMAN_KNOBS']!.split('\n').map((l) => [l.split('=')[0], l]));
  assert.match(knobs['THROUGHPUT_SCAN_MAX_RATE']!, /^THROUGHPUT_SCAN_MAX_RATE=15000\tprofile\tgw1\/perftests\.conf:1$/);
  assert.match(knobs['LONG_RUNNING_SCAN_RATE']!, /^LONG_RUNNING_SCAN_RATE=7000\tvars\tinventory vars \(.*lab\.yaml:10:39\)$/);
  assert.is(env['MIDOLMAN_PROFILE_NAME'], 'gw1');
  assert.match(env['MIDOLMAN_PROFILE_REASON']!, /named after the host/);
});

t('a knob var that cannot work stops the inventory with file:line:col before anything connects', async () => {
  try {
    await loadLab(LAB('THROUGHPUT_SCAN_MAX_RATE: lots'));
    assert.unreachable('loaded');
  } catch (error) {
    assert.instance(error, InventoryError);
    const issues = (error as InventoryError).issues;
    assert.is(issues.length, 1, 'one place, reported once though two hosts use it');
    assert.equal([issues[0]!.line, issues[0]!.column], [10, 41]);
    assert.match(issues[0]!.message, /midolman: THROUGHPUT_SCAN_MAX_RATE is "lots" in inventory vars/);
    assert.is(issues[0]!.expected, 'a whole number');
  }
});

t('configuration files: every file under the profile\'s midolman/, falling back file by file to default/', () => {
  const files = profileConfigFiles(join(dir, 'profiles.d'), 'compute');
  assert.equal(
    files.map((f) => [f.path, f.from]),
    [
      ['logback.xml', 'default/midolman/logback.xml'],
      ['midolman-env.sh', 'compute/midolman/midolman-env.sh'],
      ['midolman.conf', 'compute/midolman/midolman.conf'],
    ],
  );
  assert.equal(profileConfigFiles(join(dir, 'profiles.d'), 'gw1').map((f) => f.from), ['default/midolman/logback.xml', 'default/midolman/midolman.conf']);
  assert.equal(profileConfigFiles(join(dir, 'nowhere'), 'x'), []);
});

t("the example inventory's comments come true: group and host vars win over the profile, key by key", async () => {
  const scratch = join(dir, 'example');
  mkdirSync(join(scratch, 'keys'), { recursive: true });
  cpSync(join(REPO, 'inventory', 'profiles.d'), join(scratch, 'profiles.d'), { recursive: true });
  writeFileSync(join(scratch, 'keys', 'perf-lab_ed25519'), 'not a real key\n');
  cpSync(join(REPO, 'inventory', 'example-real-lab.yaml'), join(scratch, 'lab.yaml'));
  const inv = await loadInventory(join(scratch, 'lab.yaml'), { scenarios: scenarioParamSchemas(), hostChecks: scenarioHostChecks(), env: { HOME: scratch, USER: 'me' } });
  const knobsOf = (name: string) => {
    const host = inv.hosts.find((h) => h.name === name)!;
    const params = host.scenarios.find((s) => s.name === 'midolman')!.params;
    const request = host.scenarios.find((s) => s.name === 'midolman')!;
    return resolveKnobs({
      conf: resolveProfileFile(inv.profilesDir, host.profile, 'perftests.conf'),
      vars: host.vars,
      varPositions: host.varPositions,
      overrides: (params as { overrides?: Record<string, number> }).overrides,
      paramsPosition: request.position,
    }).knobs;
  };
  assert.equal([knobsOf('compute1').THROUGHPUT_SCAN_MAX_RATE.value, knobsOf('compute1').LONG_RUNNING_SCAN_ITERATIONS.value, knobsOf('compute1').LONG_RUNNING_SCAN_RATE.value], [8000, 40, 6000]);
  assert.is(knobsOf('compute3').THROUGHPUT_SCAN_MAX_RATE.value, 6000, 'compute3: "an older machine: scan less far"');
  assert.is(knobsOf('compute3').THROUGHPUT_SCAN_MAX_RATE.source, 'vars');
  assert.is(knobsOf('gw1').THROUGHPUT_SCAN_MAX_RATE.value, 15000);
  assert.is(knobsOf('gw1').LONG_RUNNING_SCAN_ITERATIONS.value, 10, 'midonet group vars win over the gateway profile (30)');
});

t.run();

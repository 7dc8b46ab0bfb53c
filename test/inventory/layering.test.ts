// Layering: defaults < groups (parents before children, same depth by name) < host; maps merge
// key by key, scalars and lists replace, `false` removes a scenario.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ENV, fixture, load } from './helpers.js';
import type { HostSpec, Inventory } from '../../orchestrator/inventory/types.js';

const FILE = fixture('valid', 'layering.yaml');
const AGENT_ENV = { ...ENV, SSH_AUTH_SOCK: '/run/test-agent.sock' };

let inventory: Inventory;
const host = (name: string): HostSpec => {
  const found = inventory.hosts.find((candidate) => candidate.name === name);
  assert.ok(found, `host ${name}`);
  return found!;
};

test.before(async () => {
  inventory = await load(FILE, AGENT_ENV);
});

test('hosts come out in file order with their own position', () => {
  assert.equal(
    inventory.hosts.map((h) => h.name),
    ['mm1', 'gw1', 'kvm1', 'plain'],
  );
  assert.equal(host('gw1').position, { file: FILE, line: 50, column: 3 });
});

test('the host layer wins over groups and defaults', () => {
  assert.is(host('kvm1').connection.port, 22); // host 22 over defaults 2022
  assert.is(host('gw1').connection.retries, 0); // host 0 over defaults 5
  assert.is(host('gw1').vars.LAYER, 'host');
});

test('a group layer wins over defaults', () => {
  assert.is(host('mm1').connection.port, 2200); // group alpha over defaults 2022
  assert.is(host('mm1').vars.LAYER, 'alpha');
  assert.is(host('mm1').connection.user, 'root'); // only defaults set user for mm1
});

test("a child group's vars override its parent's; groups at the same depth apply by name", () => {
  const gw1 = host('gw1');
  // compute (parent) says compute-user, gateways (its child) says gw-user.
  assert.is(gw1.connection.user, 'gw-user');
  // alpha, compute, fresh and zulu are top-level: zulu comes last and sets the port.
  assert.is(gw1.connection.port, 2299);
  // compute sets the profile, nothing below changes it.
  assert.is(gw1.profile, 'compute');
  assert.equal(gw1.roles, ['midolman']);
});

test('groups list every group containing the host, directly or through nesting, sorted', () => {
  assert.equal(host('gw1').groups, ['alpha', 'compute', 'fresh', 'gateways', 'zulu']);
  assert.equal(host('mm1').groups, ['alpha']);
  assert.equal(host('plain').groups, []);
});

test('vars merge key by key across layers and are stringified', () => {
  assert.equal(host('gw1').vars, { LAYER: 'host', FROM_DEFAULTS: '1', ALPHA: 'true', FROM_COMPUTE: 'yes' });
  assert.equal(host('kvm1').vars, { LAYER: 'defaults', FROM_DEFAULTS: '1' });
});

test('timeouts merge key by key and fall back to 10s / 1h / 6h / a 60 s stall', () => {
  assert.equal(host('gw1').timeouts, { connectMs: 30_000, phaseMs: 2 * 3_600_000, jobMs: 90 * 60_000, stallMs: 60_000 });
  assert.equal(host('kvm1').timeouts, { connectMs: 30_000, phaseMs: 3_600_000, jobMs: 6 * 3_600_000, stallMs: 60_000 });
  assert.is(host('gw1').connection.connectTimeoutMs, 30_000);
});

test('scenario params merge shallowly, and the position is where the winning layer named it', () => {
  const sysinfo = host('mm1').scenarios.find((s) => s.name === 'sysinfo');
  assert.equal(sysinfo?.params, { disks: true });
  assert.equal(sysinfo?.position, { file: FILE, line: 11, column: 5 }); // defaults
  const stress = host('kvm1').scenarios.find((s) => s.name === 'stress');
  assert.equal(stress?.params, { level: 2 });
  assert.equal(stress?.position, { file: FILE, line: 61, column: 7 }); // the host
});

test('false removes a scenario an outer layer added', () => {
  assert.equal(
    host('kvm1').scenarios.map((s) => s.name),
    ['stress'],
  );
  // compute removes stress for gw1.
  assert.not.ok(host('gw1').scenarios.some((s) => s.name === 'stress'));
});

test('a scenario added again after false starts from its own params only', () => {
  // defaults: sysinfo {disks: true}; group fresh: sysinfo false; host gw1: sysinfo {}.
  const [sysinfo] = host('gw1').scenarios;
  assert.is(sysinfo?.name, 'sysinfo');
  assert.equal(sysinfo?.params, {});
  assert.equal(sysinfo?.position, { file: FILE, line: 55, column: 7 });
});

test('a host with an empty value gets defaults and built-in values', () => {
  const plain = host('plain');
  assert.is(plain.connection.address, 'plain');
  assert.is(plain.connection.port, 2022);
  assert.is(plain.connection.keepaliveIntervalMs, 15_000);
  assert.is(plain.remoteDir, '.orchestrate');
  assert.is(plain.profile, 'default');
  assert.equal(plain.roles, []);
});

test('roles written twice are kept once', () => {
  assert.equal(host('kvm1').roles, ['hypervisor']);
});

test('the agent is used only when no identity file is set and SSH_AUTH_SOCK is', () => {
  assert.is(host('mm1').connection.agent, undefined);
  assert.equal(host('mm1').connection.identityFiles, [fixture('keys', 'id_lab')]);
  assert.is(host('kvm1').connection.agent, '/run/test-agent.sock');
});

test('groups come out in file order with their direct hosts and children', () => {
  const compute = inventory.groups.find((group) => group.name === 'compute');
  assert.equal(compute, { name: 'compute', hosts: [], children: ['gateways'], position: { file: FILE, line: 14, column: 3 } });
  assert.equal(
    inventory.groups.map((group) => group.name),
    ['compute', 'gateways', 'alpha', 'zulu', 'fresh', 'hypervisors'],
  );
});

test('settings brought in by a YAML merge key count as written on the host; x- keys are ignored', async () => {
  const merged = await load(fixture('valid', 'merge-key.yaml'));
  const [kvm1, kvm2] = merged.hosts;
  assert.equal([kvm1?.connection.user, kvm1?.connection.port, kvm1?.roles], ['root', 2200, ['hypervisor']]);
  assert.is(kvm1?.connection.address, '10.0.3.11');
  assert.equal([kvm2?.connection.user, kvm2?.connection.port], ['root', 22]);
});

test.run();

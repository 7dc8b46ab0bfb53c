// inventory/example-real-lab.yaml stays valid: loaded from a scratch copy that has the
// profile directories and key file it names.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import type { HostSpec, Inventory } from '../../orchestrator/inventory/types.js';
import { KvmParams } from '../../orchestrator/scenarios/kvm/params.js';
import { matrixPoints } from '../../orchestrator/scenarios/kvm/matrix.js';

const EXAMPLE = fileURLToPath(new URL('../../inventory/example-real-lab.yaml', import.meta.url));
// midolman's params are checked by its own tests; kvm's example is checked by its real schema.
const ANY_PARAMS = z.record(z.string(), z.unknown());
const SCENARIOS = new Map<string, z.ZodType>([
  ['sysinfo', z.strictObject({})],
  ['midolman', ANY_PARAMS],
  ['kvm', KvmParams],
]);

let dir: string;
let inventory: Inventory;
const host = (name: string): HostSpec => inventory.hosts.find((candidate) => candidate.name === name)!;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inventory-example-'));
  for (const profile of ['default', 'compute', 'gateway-4threads']) mkdirSync(join(dir, 'profiles.d', profile), { recursive: true });
  mkdirSync(join(dir, 'keys'));
  writeFileSync(join(dir, 'keys', 'perf-lab_ed25519'), 'not a real key\n');
  copyFileSync(EXAMPLE, join(dir, 'lab.yaml'));
  inventory = await loadInventory(join(dir, 'lab.yaml'), { scenarios: SCENARIOS, env: { HOME: join(dir, 'home'), USER: 'me' } });
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('the example loads with every host', () => {
  assert.equal(
    inventory.hosts.map((h) => h.name),
    ['bastion', 'reports1', 'compute1', 'compute2', 'compute3', 'gw1', 'gw2', 'kvm1', 'kvm2'],
  );
  assert.is(inventory.resultsDir, join(dir, 'home', 'perf', 'results'));
  assert.equal(inventory.failureBudget, { maxFailedPercent: 25 });
  assert.equal(inventory.reports?.host, 'reports1');
});

test('the hypervisors: the kvm example is valid params, kvm1 prepares its named device, kvm2 uses a directory', () => {
  const kvm1 = host('kvm1').scenarios.find((s) => s.name === 'kvm')!.params as KvmParams;
  const kvm2 = host('kvm2').scenarios.find((s) => s.name === 'kvm')!.params as KvmParams;
  assert.equal(kvm1.host_disk?.device, '/dev/sdb');
  assert.is(kvm1.host_disk?.allow_wipe, true);
  assert.is(kvm1.qaset.timeout, 2 * 3_600_000);
  assert.is(matrixPoints(kvm1.matrix).length, 3 * 2 * 2 * 2 * 2 * 2 * 2 - 3 * 2 * 2 * 2 * 2);
  assert.is(kvm2.host_disk, undefined);
  assert.equal(matrixPoints(kvm2.matrix).map((p) => p.id), ['smp1x4x1-dir.nvme-raw-none-native-virtio-r1']);
});

test('every host but the bastion is reached through the bastion', () => {
  assert.equal(host('bastion').connection.jump, []);
  assert.equal(host('compute1').connection.jump, [
    { label: 'bastion', address: 'bastion.perf.example.net', port: 2222, user: 'perf', identityFiles: [join(dir, 'keys', 'perf-lab_ed25519')] },
  ]);
});

test('nested groups and host settings layer as the comments say', () => {
  const compute3 = host('compute3');
  assert.equal(compute3.groups, ['compute', 'midonet']);
  assert.equal(compute3.roles, ['midolman']);
  assert.is(compute3.profile, 'compute');
  assert.equal(compute3.vars, {
    THROUGHPUT_SCAN_MAX_RATE: '6000',
    LONG_RUNNING_SCAN_ITERATIONS: '40',
    LONG_RUNNING_SCAN_RATE: '6000',
  });
  // Params merge key by key: the gateways change the topology and the generator, the build and the
  // agent come from the midonet group.
  const gw2 = host('gw2').scenarios.find((s) => s.name === 'midolman')?.params as Record<string, unknown>;
  assert.equal(Object.keys(gw2).sort(), ['agent', 'build', 'cluster_check', 'generator', 'topology']);
  assert.is(gw2['topology'], 'l3_basic');
  assert.is(gw2['generator'], 'trafgen');
  assert.equal(host('compute1').scenarios.find((s) => s.name === 'midolman')?.params['topology'], 'basic');
  assert.is(host('gw2').timeouts.phaseMs, 90 * 60_000);
  const kvm1 = host('kvm1');
  assert.is(kvm1.connection.user, 'root');
  assert.is(kvm1.timeouts.jobMs, 12 * 3_600_000);
  const kvm = kvm1.scenarios.find((s) => s.name === 'kvm');
  assert.is((kvm?.params as KvmParams).host_disk?.device, '/dev/sdb');
  assert.is((kvm?.params as KvmParams).libvirt_uri, 'qemu:///system');
  assert.equal(host('reports1').scenarios, []);
});

test.run();

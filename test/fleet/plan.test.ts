import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planSweep } from '../../orchestrator/fleet/plan.js';
import { FailureBudgetTracker } from '../../orchestrator/fleet/failure-budget.js';
import type { HostSpec, Inventory, Role } from '../../orchestrator/inventory/types.js';

const position = { file: 'lab.yaml', line: 1, column: 1 };
function host(name: string, roles: Role[], groups: string[], scenarios: string[]): HostSpec {
  return {
    name,
    connection: { address: '127.0.0.1', port: 22, user: 'root', identityFiles: [], jump: [], connectTimeoutMs: 1000, keepaliveIntervalMs: 1000, retries: 0 },
    roles,
    groups,
    profile: 'default',
    profileChoice: { reason: 'default' },
    scenarios: scenarios.map((s) => ({ name: s, params: {}, position })),
    vars: {},
    varPositions: {},
    timeouts: { connectMs: 1000, phaseMs: 1000, jobMs: 1000, stallMs: 1000 },
    remoteDir: '.orchestrate',
    position,
  };
}
const inventory: Inventory = {
  file: '/lab.yaml',
  hosts: [
    host('mm-01', ['midolman'], ['compute', 'midolman'], ['sysinfo', 'midolman']),
    host('mm-02', ['midolman'], ['gateways', 'midolman'], ['sysinfo']),
    host('kvm-01', ['hypervisor'], ['kvm'], ['sysinfo', 'kvm']),
    host('idle', [], [], []),
  ],
  groups: [],
  resultsDir: '/r',
  knownHostsFile: '/k',
  profilesDir: '/p',
  concurrency: 4,
};

test('without a selection every host with scenarios gets one job per scenario, ids host--scenario', () => {
  const plan = planSweep(inventory, { limit: [], scenarios: [] });
  assert.equal(plan.hosts.map((h) => h.host.name), ['mm-01', 'mm-02', 'kvm-01']);
  assert.is(plan.jobs, 5);
  assert.equal(plan.hosts[0]!.jobs.map((j) => j.jobId), ['mm-01--sysinfo', 'mm-01--midolman']);
});

test('--limit takes host names, groups (also nested), role:, wildcards, comma lists and !exclusions', () => {
  const names = (limit: string[]) => planSweep(inventory, { limit, scenarios: [] }).hosts.map((h) => h.host.name);
  assert.equal(names(['mm-02']), ['mm-02']);
  assert.equal(names(['midolman']), ['mm-01', 'mm-02']);
  assert.equal(names(['role:hypervisor']), ['kvm-01']);
  assert.equal(names(['mm-*,kvm-01']), ['mm-01', 'mm-02', 'kvm-01']);
  assert.equal(names(['mm-*', '!gateways']), ['mm-01']);
});

test('--scenario keeps only those scenarios; a limit term that matches nothing is reported', () => {
  const plan = planSweep(inventory, { limit: ['nope', 'mm-01'], scenarios: ['midolman'] });
  assert.equal(plan.hosts.flatMap((h) => h.jobs.map((j) => j.jobId)), ['mm-01--midolman']);
  assert.equal(plan.unmatched, ['nope']);
});

test('the failure budget trips only when failures exceed the count or the percentage', () => {
  const byCount = new FailureBudgetTracker({ maxFailedHosts: 1 }, 10);
  assert.not.ok(byCount.recordFailure());
  assert.ok(byCount.recordFailure());
  const byPercent = new FailureBudgetTracker({ maxFailedPercent: 25 }, 8);
  assert.not.ok(byPercent.recordFailure());
  assert.not.ok(byPercent.recordFailure());
  assert.ok(byPercent.recordFailure());
  const none = new FailureBudgetTracker(undefined, 2);
  none.recordFailure();
  none.recordFailure();
  assert.not.ok(none.exceeded());
});

test.run();

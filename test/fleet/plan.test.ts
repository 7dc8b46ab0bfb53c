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

test('--limit wildcards are * and ? only: brackets, braces, parentheses, dots and a second ! match themselves', () => {
  const names = (limit: string[]) => planSweep(inventory, { limit, scenarios: [] }).hosts.map((h) => h.host.name);
  assert.equal(names(['?m-0?']), ['mm-01', 'mm-02']);
  assert.equal(names(['*']), ['mm-01', 'mm-02', 'kvm-01']);
  assert.equal(names(['kvm-01*']), ['kvm-01'], '* also matches nothing');
  assert.equal(names(['role:hyper*']), ['kvm-01']);
  assert.equal(names(['mm?01']), ['mm-01'], '? is any one character');
  for (const literal of ['mm-0[12]', 'mm-0{1}', 'mm-0(1|2)', '+(mm-01)', 'mm.01', 'mm-0\\1', 'mm-0*/x']) {
    const plan = planSweep(inventory, { limit: [literal], scenarios: [] });
    assert.equal(plan.hosts, [], literal);
    assert.equal(plan.unmatched, [literal], literal);
  }
  assert.equal(planSweep(inventory, { limit: ['!!mm-01'], scenarios: [] }).unmatched, ['!mm-01'], 'an exclusion of a literal "!mm-01"');
});

/** The matcher plan.ts had before picomatch (* and ? wildcards, all else literal): the semantics kept. */
const before = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

test('--limit selects exactly what the hand-written matcher did, on 1,000 generated terms against names and odd group names', () => {
  const alphabet = ['m', '-', '0', '1', '.', '_', '*', '?', '[', ']', '(', ')', '{', '}', '|', '\\', '+', '@', '^', '$', '!', '/', ' ', 'é'];
  const names = ['mm-01', 'm.1', 'm_0', '0', 'mm', 'm-m-1', '1.0-m', 'm1'];
  // group names may be any string
  const groups = ['.', '..', 'm/1', '{\\\\', 'm (1)', '[m]', 'é-1', '*'];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 1000; i++) {
    const term = Array.from({ length: 1 + Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('').replace(/,/g, '').trim().replace(/^!+/, '');
    if (term === '' || term.startsWith('role:')) continue;
    const hosts = names.map((name, index) => host(name, [], [groups[index]!], ['sysinfo']));
    const plan = planSweep({ ...inventory, hosts }, { limit: [term], scenarios: [] });
    const expected = names.filter((name, index) => before(term).test(name) || before(term).test(groups[index]!));
    assert.equal(plan.hosts.map((h) => h.host.name), expected, JSON.stringify(term));
  }
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

// Malformed inventories: every issue is reported at once, at the exact line and column of the
// node it is about (the key for unknown keys, the value for wrong values), with a message that
// names the offending value and says what was expected.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InventoryError } from '../../orchestrator/inventory/errors.js';
import { assertIssues, fixture, issuesOf, load } from './helpers.js';
import type { ExpectedIssue } from './helpers.js';

const malformed = (name: string) => fixture('malformed', name);

interface Case {
  behaviour: string;
  file: string;
  issues: ExpectedIssue[];
}

const CASES: Case[] = [
  {
    behaviour: 'a file that does not exist is reported at line 1 column 1 of that path',
    file: 'no-such-inventory.yaml',
    issues: [{ line: 1, column: 1, message: 'the file does not exist', expected: 'a readable YAML inventory file' }],
  },
  {
    behaviour: 'a document with nothing but comments is reported as empty',
    file: 'empty.yaml',
    issues: [{ line: 1, column: 1, message: 'the inventory is empty', expected: 'hosts:' }],
  },
  {
    behaviour: 'a document that is a list instead of a mapping is rejected',
    file: 'not-mapping.yaml',
    issues: [{ line: 1, column: 1, message: 'the inventory is a list, not a mapping' }],
  },
  {
    behaviour: "a YAML syntax error is reported where yaml's parser found it",
    file: 'yaml-syntax.yaml',
    issues: [{ line: 5, column: 3, message: 'flow sequence in block collection must be sufficiently indented' }],
  },
  {
    behaviour: 'a tab used for indentation is reported',
    file: 'tab-indent.yaml',
    issues: [{ line: 3, column: 1, message: 'a tab is used for indentation', expected: 'spaces' }],
  },
  {
    behaviour: 'a host defined twice is a duplicate key, pointing back at the first one',
    file: 'duplicate-host.yaml',
    issues: [{ line: 8, column: 3, message: "duplicate key 'mm1' (first at line 4)" }],
  },
  {
    behaviour: 'unknown keys are reported at the key with the closest known key or a hint',
    file: 'unknown-keys.yaml',
    issues: [
      { line: 3, column: 1, message: "unknown key 'concurency'; did you mean 'concurrency'?", expected: 'one of results_dir' },
      { line: 4, column: 1, message: "unknown key 'user'; host settings go under defaults:" },
      { line: 8, column: 5, message: "unknown key 'profile' in groups.compute; host settings of a group go under its vars:" },
      { line: 9, column: 5, message: "unknown key 'varz' in groups.compute; did you mean 'vars'?", expected: 'one of hosts, children, vars' },
      { line: 12, column: 5, message: "unknown key 'adress' in hosts.mm1; did you mean 'address'?", expected: 'one of address, port' },
      { line: 14, column: 7, message: "unknown key 'conect' in hosts.mm1.timeouts; did you mean 'connect'?", expected: 'one of connect, phase, job' },
      { line: 15, column: 5, message: "unknown key 'reports' in hosts.mm1" },
    ],
  },
  {
    behaviour: 'values of the wrong type or out of range are reported at the value',
    file: 'wrong-types.yaml',
    issues: [
      { line: 3, column: 14, message: 'concurrency: 0 is too small', expected: 'a whole number, 1 or more' },
      { line: 6, column: 11, message: "hosts.mm1.port: wrong type, got the string 'ssh'", expected: 'an integer from 1 to 65535' },
      { line: 7, column: 14, message: 'hosts.mm1.retries: -1 is too small', expected: '0 or more' },
      { line: 8, column: 12, message: 'hosts.mm1.agent: wrong type, got the number 1', expected: 'SSH_AUTH_SOCK' },
      { line: 9, column: 11, message: 'hosts.mm1.user: the value is empty', expected: 'a user name' },
      { line: 11, column: 11, message: 'hosts.mm2.port: 70000 is too large', expected: 'an integer from 1 to 65535' },
      { line: 12, column: 37, message: 'hosts.mm2.identity_file[1]: wrong type, got the number 42', expected: 'a private key path' },
      { line: 13, column: 17, message: 'hosts.mm2.remote_dir: wrong type, got a list', expected: 'a directory path on the host' },
      { line: 14, column: 12, message: "hosts.mm2.roles: wrong type, got the string 'midolman'", expected: 'a list of roles' },
      { line: 16, column: 20, message: 'hosts.mm3.identity_file: the value is empty', expected: 'a private key path' },
    ],
  },
  {
    behaviour: 'host names that cannot be directory names are rejected at the name',
    file: 'bad-host-name.yaml',
    issues: [
      { line: 5, column: 3, message: "'mm 2' is not a valid host name", expected: 'starting with a letter or digit' },
      { line: 6, column: 3, message: "'-mm3' is not a valid host name" },
      { line: 7, column: 3, message: "'mm4/x' is not a valid host name" },
    ],
  },
  {
    behaviour: 'vars need environment-variable names and scalar values',
    file: 'bad-vars.yaml',
    issues: [
      { line: 6, column: 5, message: "defaults.vars: '1ST_RATE' is not a valid environment variable name", expected: 'not starting with a digit' },
      { line: 10, column: 7, message: "hosts.mm1.vars: 'RATE-MAX' is not a valid environment variable name" },
      { line: 11, column: 7, message: 'hosts.mm1.vars.EMPTY: wrong type, got an empty value', expected: 'a string, number or boolean' },
      { line: 12, column: 13, message: 'hosts.mm1.vars.LIST: wrong type, got a list' },
    ],
  },
  {
    behaviour: 'durations must be positive and written with known units',
    file: 'bad-durations.yaml',
    issues: [
      { line: 4, column: 14, message: "defaults.keepalive: '1h 30m' is not a duration", expected: '"1h30m"' },
      { line: 8, column: 16, message: "hosts.mm1.timeouts.connect: '10x' is not a duration" },
      { line: 9, column: 14, message: 'hosts.mm1.timeouts.phase: 0 is not a duration', expected: 'greater than zero' },
      { line: 10, column: 12, message: "hosts.mm1.timeouts.job: '-5s' is not a duration" },
      { line: 12, column: 15, message: "hosts.mm2.timeouts: wrong type, got the string '30s'", expected: 'connect, phase and/or job' },
      { line: 13, column: 16, message: 'hosts.mm2.keepalive: true is not a duration' },
    ],
  },
  {
    behaviour: 'a failure budget percentage above 100% is rejected',
    file: 'failure-budget-percent.yaml',
    issues: [{ line: 3, column: 17, message: "failure_budget: '150%' is not a failure budget", expected: '"25%"' }],
  },
  {
    behaviour: 'a negative failure budget is rejected',
    file: 'failure-budget-negative.yaml',
    issues: [{ line: 3, column: 17, message: 'failure_budget: -1 is not a failure budget', expected: 'a whole number of hosts' }],
  },
  {
    behaviour: 'groups listing undefined hosts or groups, or a host twice, are reported at the item',
    file: 'group-references.yaml',
    issues: [
      { line: 5, column: 18, message: "group 'compute' lists host 'mm9', which is not defined under hosts:; did you mean 'mm1'?" },
      { line: 5, column: 28, message: "host 'mm1' is listed twice in group 'compute' (first at line 5, column 13)" },
      { line: 6, column: 16, message: "group 'compute' lists group 'gateway', which is not defined under groups:; did you mean 'gateways'?" },
      { line: 6, column: 25, message: "group 'compute' lists group 'edge', which is not defined" },
      { line: 10, column: 9, message: "group 'gateways' lists host 'gw2'", expected: 'a host name defined under hosts:' },
    ],
  },
  {
    behaviour: 'cycles in group children are reported once, at the child that closes them',
    file: 'group-cycle.yaml',
    issues: [
      { line: 9, column: 16, message: 'groups nest in a cycle: a -> b -> c -> a' },
      { line: 12, column: 16, message: "group 'selfish' lists itself as a child" },
    ],
  },
  {
    behaviour: 'a profile with no directory in profiles_dir is reported in the layer that names it',
    file: 'unknown-profile.yaml',
    issues: [
      { line: 9, column: 16, message: "profile 'compte' has no directory in", expected: 'one of compute, default' },
      { line: 14, column: 14, message: "profile 'gateway' has no directory in" },
    ],
  },
  {
    behaviour: 'scenarios that are not registered are reported at their name, even when removed',
    file: 'unknown-scenario.yaml',
    issues: [
      { line: 5, column: 5, message: "unknown scenario 'sysinf'; did you mean 'sysinfo'?", expected: 'one of sysinfo, stress' },
      { line: 10, column: 7, message: "unknown scenario 'midolmn'" },
      { line: 11, column: 7, message: "unknown scenario 'kvm'" },
    ],
  },
  {
    behaviour: "scenario params rejected by the scenario's schema are placed inside the params, in the layer that set them",
    file: 'scenario-params.yaml',
    issues: [
      { line: 5, column: 22, message: "defaults.scenarios.sysinfo.disks: wrong type, got the string 'yes'", expected: 'a boolean' },
      { line: 12, column: 16, message: "hosts.mm1.scenarios.stress.level: wrong type, got the string 'high'" },
      { line: 13, column: 9, message: "unknown key 'extra' in hosts.mm1.scenarios.stress", expected: 'one of level' },
      { line: 16, column: 31, message: "unknown key 'nics' in hosts.mm2.scenarios.sysinfo" },
      { line: 17, column: 15, message: 'hosts.mm2.scenarios.stress: wrong type, got the boolean true', expected: 'false to remove the scenario' },
    ],
  },
  {
    behaviour: 'a scenario entry must be a mapping, empty, or false',
    file: 'scenario-entry-type.yaml',
    issues: [
      { line: 6, column: 16, message: 'hosts.mm1.scenarios.sysinfo: wrong type, got the boolean true' },
      { line: 7, column: 15, message: 'hosts.mm1.scenarios.stress: wrong type, got a list' },
    ],
  },
  {
    behaviour: 'reports.host must be defined, reports.path must not rely on ~ and reports.url must be a URL',
    file: 'reports-undefined-host.yaml',
    issues: [
      { line: 4, column: 9, message: "reports host 'reports1' is not defined under hosts:; did you mean 'report1'?" },
      { line: 5, column: 9, message: "reports.path: '~/perf' starts with ~, which is not expanded" },
      { line: 6, column: 8, message: "reports.url: 'not a url' is not a URL" },
    ],
  },
  {
    behaviour: 'reports.host must have the role reports after layering',
    file: 'reports-without-role.yaml',
    issues: [{ line: 4, column: 9, message: "reports host 'web1' does not have the role reports (its roles: midolman)" }],
  },
  {
    behaviour: 'a missing required key is reported at the key of the mapping that lacks it',
    file: 'reports-missing-path.yaml',
    issues: [{ line: 3, column: 1, message: "reports: missing required key 'path'", expected: 'a directory on the reports host' }],
  },
  {
    behaviour: 'jump targets that are unknown names or unparseable are reported at the item',
    file: 'jump-targets.yaml',
    issues: [
      { line: 7, column: 11, message: "jump host 'bastoin' is not a host of this inventory, an IP address or a DNS name; did you mean 'bastion'?" },
      { line: 9, column: 21, message: "jump host 'root@@bastion' is not in the form [user@]host[:port]" },
      { line: 9, column: 38, message: "jump host 'gw.example.net:99999' is not in the form" },
    ],
  },
  {
    behaviour: 'jump loops are reported, including a host inheriting itself as its jump host',
    file: 'jump-loop.yaml',
    issues: [
      { line: 4, column: 9, message: "host 'bastion' would jump through itself", expected: 'does not loop' },
      { line: 11, column: 12, message: 'jump hosts form a loop: a -> b -> a' },
    ],
  },
  {
    behaviour: 'an unknown role is reported at the list item',
    file: 'roles.yaml',
    issues: [{ line: 5, column: 23, message: "hosts.mm1.roles[1]: 'compute' is not allowed", expected: 'one of midolman, hypervisor, reports' }],
  },
  {
    behaviour: 'an inventory without a hosts section is rejected',
    file: 'no-hosts.yaml',
    issues: [{ line: 1, column: 1, message: 'the inventory has no hosts: section' }],
  },
  {
    behaviour: 'an empty hosts section is rejected at its key',
    file: 'empty-hosts.yaml',
    issues: [{ line: 3, column: 1, message: 'hosts: no host is defined' }],
  },
  {
    behaviour: 'missing profiles_dir, ssh_config and identity files, and agent without SSH_AUTH_SOCK, are reported',
    file: 'files-missing.yaml',
    issues: [
      { line: 1, column: 15, message: "profiles_dir './no-such-profiles.d' is not a readable directory" },
      { line: 2, column: 13, message: "cannot read ssh_config './no-such-ssh-config': the file does not exist" },
      { line: 5, column: 20, message: "identity file './no-such-key' does not exist" },
      { line: 6, column: 12, message: 'agent is true but SSH_AUTH_SOCK is not set' },
    ],
  },
  {
    behaviour: 'an error inside an aliased mapping points at the anchored node',
    file: 'alias.yaml',
    issues: [
      { line: 4, column: 9, message: "defaults.port: wrong type, got the string '22'" },
      { line: 4, column: 9, message: "hosts.mm1.port: wrong type, got the string '22'" },
    ],
  },
  {
    behaviour: 'keys brought in by a merge key (<<: *base) are checked at the anchored node; top-level x- keys are ignored',
    file: 'merge-key.yaml',
    issues: [
      { line: 4, column: 9, message: 'hosts.mm1.port: 0 is too small' },
      { line: 13, column: 5, message: "unknown key 'adress' in hosts.mm2; did you mean 'address'?" },
    ],
  },
  {
    behaviour: 'regressions thresholds: min_change as a percentage or a fraction, p_value in (0, 1], window 6-1000, known keys only',
    file: 'regressions.yaml',
    issues: [
      { line: 3, column: 25, message: 'regressions.default.min_change: 5 is not a relative change', expected: 'a percentage such as "5%"' },
      { line: 3, column: 37, message: 'regressions.default.p_value: 0 is too small', expected: 'greater than 0 and at most 1' },
      { line: 3, column: 48, message: 'regressions.default.window: 3 is too small', expected: 'from 6 to 1000' },
      { line: 5, column: 34, message: "regressions.metrics.throughput.*.min_change: '150%' is not a relative change", expected: '(0-100%)' },
      { line: 6, column: 19, message: "unknown key 'min_chnge' in regressions.metrics.latency.*; did you mean 'min_change'?", expected: 'one of min_change, p_value, window, persistence, noise_factor' },
      { line: 7, column: 19, message: 'regressions.metrics.host.cpu.*: wrong type, got the number 0.2', expected: 'a mapping with min_change, p_value, window, persistence and/or noise_factor' },
      { line: 8, column: 3, message: "unknown key 'threshold' in regressions", expected: 'one of default, metrics' },
    ],
  },
  {
    behaviour: 'several different errors in one file are all reported together, sorted by line',
    file: 'several-errors.yaml',
    issues: [
      { line: 4, column: 14, message: "concurrency: wrong type, got the string 'many'" },
      { line: 5, column: 17, message: "failure_budget: '10 hosts' is not a failure budget" },
      { line: 7, column: 9, message: "reports host 'web9' is not defined under hosts:" },
      { line: 11, column: 23, message: "defaults.timeouts.connect: 'soon' is not a duration" },
      { line: 14, column: 18, message: "group 'compute' lists host 'mm3', which is not defined" },
      { line: 15, column: 16, message: "group 'compute' lists itself as a child" },
      { line: 17, column: 16, message: "profile 'gpu' has no directory" },
      { line: 20, column: 5, message: "unknown key 'adress' in hosts.mm1; did you mean 'address'?" },
      { line: 21, column: 11, message: 'hosts.mm1.port: 0 is too small' },
      { line: 22, column: 23, message: "hosts.mm1.roles[1]: 'reporting' is not allowed" },
      { line: 23, column: 12, message: "hosts.mm1.vars: '9LIVES' is not a valid environment variable name" },
      { line: 25, column: 24, message: "hosts.mm1.scenarios.sysinfo.disks: wrong type, got the string 'maybe'" },
      { line: 26, column: 7, message: "unknown scenario 'stres'; did you mean 'stress'?" },
      { line: 28, column: 11, message: "jump host 'nowhere' is not a host of this inventory" },
      { line: 29, column: 3, message: "hosts: 'bad_host!' is not a valid host name" },
    ],
  },
];

for (const { behaviour, file, issues } of CASES) {
  test(`${behaviour} (${file})`, async () => {
    const path = malformed(file);
    assertIssues(await issuesOf(path), issues, path);
  });
}

test('the error message lists every issue as file:line:column: message (expected: ...), one per line', async () => {
  const path = malformed('bad-host-name.yaml');
  const error = await load(path).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  assert.instance(error, InventoryError);
  const expected = "(expected: a host name: letters, digits, '.', '_' and '-', starting with a letter or digit)";
  assert.is(
    (error as InventoryError).message,
    [
      `${path}:5:3: hosts: 'mm 2' is not a valid host name ${expected}`,
      `${path}:6:3: hosts: '-mm3' is not a valid host name ${expected}`,
      `${path}:7:3: hosts: 'mm4/x' is not a valid host name ${expected}`,
    ].join('\n'),
  );
});

test('there are at least 20 malformed inventories', () => {
  assert.ok(CASES.length >= 20);
});

test.run();

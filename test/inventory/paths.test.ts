// Relative paths are relative to the inventory file's directory; ~ is $HOME; defaults apply.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolvePath } from '../../orchestrator/inventory/paths.js';
import { ENV, fixture, load } from './helpers.js';

test('relative paths in the file resolve against its directory, ~ against $HOME', async () => {
  const inventory = await load(fixture('valid', 'nested', 'paths.yaml'));
  assert.is(inventory.file, fixture('valid', 'nested', 'paths.yaml'));
  assert.is(inventory.resultsDir, fixture('results-here'));
  assert.is(inventory.knownHostsFile, fixture('valid', 'nested', 'known_hosts'));
  assert.is(inventory.profilesDir, fixture('profiles.d'));
  const [web1] = inventory.hosts;
  assert.equal(web1?.connection.identityFiles, [fixture('home', '.ssh', 'id_default'), fixture('keys', 'id_lab')]);
  assert.is(web1?.connection.agent, fixture('valid', 'nested', 'agent.sock'));
  assert.is(web1?.remoteDir, '/var/tmp/orchestrate');
  assert.is(web1?.connection.keepaliveIntervalMs, 500);
});

test('top-level settings are read: concurrency, failure budget percentage, reports', async () => {
  const inventory = await load(fixture('valid', 'nested', 'paths.yaml'));
  assert.is(inventory.concurrency, 4);
  assert.equal(inventory.failureBudget, { maxFailedPercent: 25 });
  assert.equal(inventory.reports, { host: 'web1', path: '/srv/perf-reports', url: 'http://127.0.0.1:8080/' });
});

test('a failure budget given as a number is a count of hosts', async () => {
  const inventory = await load(fixture('valid', 'failure-budget-count.yaml'));
  assert.equal(inventory.failureBudget, { maxFailedHosts: 3 });
});

test('defaults: ./results and ./profiles.d beside the file, ~/.ssh/known_hosts, concurrency 20, no budget', async () => {
  const inventory = await load(fixture('valid', 'minimal.yaml'));
  assert.is(inventory.resultsDir, fixture('valid', 'results'));
  assert.is(inventory.profilesDir, fixture('valid', 'profiles.d'));
  assert.is(inventory.knownHostsFile, fixture('home', '.ssh', 'known_hosts'));
  assert.is(inventory.concurrency, 20);
  assert.is(inventory.failureBudget, undefined);
  assert.is(inventory.reports, undefined);
  const [mm1] = inventory.hosts;
  assert.equal(mm1?.connection, {
    transport: 'ssh',
    address: 'mm1',
    port: 22,
    user: 'tester',
    identityFiles: [],
    jump: [],
    connectTimeoutMs: 10_000,
    keepaliveIntervalMs: 15_000,
    retries: 3,
  });
  assert.equal(mm1?.scenarios, []);
});

test('a relative inventory path is made absolute', async () => {
  const cwd = process.cwd();
  process.chdir(fixture('valid'));
  try {
    const inventory = await load('minimal.yaml', ENV);
    assert.is(inventory.file, fixture('valid', 'minimal.yaml'));
    assert.is(inventory.hosts[0]?.position.file, 'minimal.yaml');
  } finally {
    process.chdir(cwd);
  }
});

test('resolvePath expands ~ and keeps absolute paths', () => {
  const env = { HOME: '/home/me' };
  assert.is(resolvePath('/inv', '~', env), '/home/me');
  assert.is(resolvePath('/inv', '~/k', env), '/home/me/k');
  assert.is(resolvePath('/inv', '/etc/k', env), '/etc/k');
  assert.is(resolvePath('/inv/sub', '../k', env), '/inv/k');
});

test.run();

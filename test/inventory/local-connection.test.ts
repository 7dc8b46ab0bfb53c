// `connection: local`: the host is this machine, reached as the orchestrator's user; SSH keys
// written beside it or on the host are errors at their position, inherited ones do not apply,
// and a local host cannot be a jump host.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertIssues, issuesOf, load } from './helpers.js';

async function withInventory<T>(lines: string[], use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'inventory-local-'));
  try {
    const file = join(dir, 'lab.yaml');
    await writeFile(file, [...lines, ''].join('\n'));
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a local host is this machine as the local user: localhost, port 0, no keys, no jumps, remote_dir as usual', async () => {
  await withInventory(
    ['ssh_config: none', 'hosts:', '  here: {connection: local, remote_dir: /tmp/orch-here}', '  there: {address: 192.0.2.5, connection: ssh}', '  plain: {address: 192.0.2.6}'],
    async (file) => {
      const inventory = await load(file);
      const host = (name: string) => inventory.hosts.find((h) => h.name === name)!;
      assert.equal(host('here').connection, {
        transport: 'local',
        address: 'localhost',
        port: 0,
        user: 'tester',
        identityFiles: [],
        jump: [],
        connectTimeoutMs: 10_000,
        keepaliveIntervalMs: 15_000,
        retries: 3,
      });
      assert.is(host('here').remoteDir, '/tmp/orch-here');
      assert.is(host('there').connection.transport, 'ssh');
      assert.is(host('plain').connection.transport, 'ssh');
      assert.is(host('plain').connection.address, '192.0.2.6');
    },
  );
});

test('SSH keys on a local host, or beside its connection: local, are errors at the key; each shared one once', async () => {
  await withInventory(
    [
      'ssh_config: none',
      'groups:',
      '  locals:',
      '    hosts: [a, b]',
      '    vars: {connection: local, jump: gw}',
      'hosts:',
      '  gw: {address: 192.0.2.1}',
      '  a:',
      '    address: 192.0.2.2',
      '    port: 2222',
      '  b: {user: perf}',
    ],
    async (file) => {
      assertIssues(await issuesOf(file), [
        { line: 5, column: 31, message: "'jump' is set for 'a', which has connection: local", expected: 'no address, port, user, identity_file, agent, jump on a host with connection: local' },
        { line: 9, column: 5, message: "'address' is set for 'a', which has connection: local" },
        { line: 10, column: 5, message: "'port' is set for 'a', which has connection: local" },
        { line: 11, column: 7, message: "'user' is set for 'b', which has connection: local" },
      ]);
    },
  );
});

test('SSH settings inherited from an outer layer do not apply to a local host', async () => {
  await withInventory(
    ['ssh_config: none', 'defaults: {user: perf, port: 2200, jump: gw}', 'hosts:', '  gw: {address: 192.0.2.1, jump: []}', '  here: {connection: local}', '  far: {address: 192.0.2.9}'],
    async (file) => {
      const inventory = await load(file);
      const here = inventory.hosts.find((h) => h.name === 'here')!;
      assert.is(here.connection.user, 'tester');
      assert.is(here.connection.port, 0);
      assert.equal(here.connection.jump, []);
      const far = inventory.hosts.find((h) => h.name === 'far')!;
      assert.is(far.connection.user, 'perf');
      assert.equal(far.connection.jump.map((hop) => hop.label), ['gw']);
    },
  );
});

test('a local host cannot be a jump host', async () => {
  await withInventory(
    ['ssh_config: none', 'hosts:', '  here: {connection: local}', '  far: {address: 192.0.2.9, jump: here}'],
    async (file) => {
      assertIssues(await issuesOf(file), [{ line: 4, column: 35, message: "jump host 'here' of 'far' has connection: local", expected: 'an inventory host reached over SSH' }]);
    },
  );
});

test('connection accepts only ssh or local', async () => {
  await withInventory(['ssh_config: none', 'hosts:', '  here: {connection: telnet}'], async (file) => {
    assertIssues(await issuesOf(file), [{ line: 3, column: 22, message: "hosts.here.connection: 'telnet'", expected: 'ssh (the default) or local' }]);
  });
});

test.run();

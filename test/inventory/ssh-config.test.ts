// The OpenSSH client config fills only what no inventory layer set, looked up by
// `address ?? host name`, with ~ and %d %u %h %r %n %% expanded in IdentityFile.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import SSHConfig from 'ssh-config';
import { SshClientConfig, expandSshTokens } from '../../orchestrator/inventory/ssh-config.js';
import type { HostSpec, Inventory } from '../../orchestrator/inventory/types.js';
import { ENV, fixture, load } from './helpers.js';

let inventory: Inventory;
const host = (name: string): HostSpec => inventory.hosts.find((candidate) => candidate.name === name)!;
const home = (file: string) => fixture('home', '.ssh', file);

test.before(async () => {
  inventory = await load(fixture('valid', 'ssh-config.yaml'));
});

test('a host with no settings takes HostName, User, Port and IdentityFile from the ssh config', () => {
  const { connection } = host('mm1');
  assert.is(connection.address, '192.0.2.11');
  assert.is(connection.user, 'sshuser');
  assert.is(connection.port, 2201);
  // IdentityFile %d/.ssh/id_%r_%n, then Host *'s ~/.ssh/id_default; files that do not exist are skipped.
  assert.equal(connection.identityFiles, [home('id_sshuser_mm1'), home('id_default')]);
});

test('inventory settings are kept: the ssh config fills only the rest', () => {
  const { connection } = host('mm1b'); // address mm1, user invuser, port 22
  assert.is(connection.address, 'mm1');
  assert.is(connection.user, 'invuser');
  assert.is(connection.port, 22);
  // %r is now invuser: id_invuser_mm1 does not exist, so only the Host * key is left.
  assert.equal(connection.identityFiles, [home('id_default')]);
});

test('the lookup uses the address when a layer sets one', () => {
  const { connection } = host('mm2'); // address lab-mm2
  assert.is(connection.user, 'alias-user');
  assert.is(connection.address, 'lab-mm2');
});

test('without ssh config values, user comes from $USER and port is 22', () => {
  const { connection } = host('other');
  assert.is(connection.user, 'tester');
  assert.is(connection.port, 22);
  assert.is(connection.address, 'other');
});

test("an identity_file in the inventory replaces the ssh config's IdentityFile", () => {
  assert.equal(host('keyed').connection.identityFiles, [fixture('keys', 'id_lab')]);
});

test('ProxyJump from the ssh config is used when no layer sets jump; its hop gets its own ssh config', () => {
  const { connection } = host('gw1');
  assert.is(connection.port, 2222);
  assert.is(connection.user, 'gwuser');
  assert.equal(connection.jump, [
    {
      label: 'jumper@bastion.example.net:2022',
      address: 'bastion.example.net',
      port: 2022,
      user: 'jumper',
      // The hop's own IdentityFile (relative to the home directory), then Host *'s.
      identityFiles: [fixture('keys', 'id_bastion'), home('id_default')],
    },
  ]);
});

test('jump: [] in the inventory overrides a ProxyJump from the ssh config', () => {
  assert.equal(host('gw2').connection.jump, []);
});

test('a jump host named only by an ssh config Host alias is accepted and resolved through it', () => {
  assert.equal(host('edgy').connection.jump, [
    { label: 'edge', address: '198.51.100.7', port: 2200, user: 'tester', identityFiles: [home('id_default')] },
  ]);
});

test('~/.ssh/config is used when the inventory sets no ssh_config', async () => {
  const withConfig = { ...ENV, HOME: fixture('home-with-config') };
  const minimal = await load(fixture('valid', 'minimal.yaml'), withConfig);
  const { connection } = minimal.hosts[0]!;
  assert.is(connection.user, 'homeuser');
  assert.equal(connection.identityFiles, [fixture('home-with-config', '.ssh', 'id_home')]);
});

test('without ~/.ssh/config, nothing is read and defaults apply', async () => {
  const minimal = await load(fixture('valid', 'minimal.yaml'));
  const { connection } = minimal.hosts[0]!;
  assert.is(connection.user, 'tester');
  assert.equal(connection.identityFiles, []);
  assert.is(connection.agent, undefined);
});

test('ssh_config: none disables the ssh config', async () => {
  const layering = await load(fixture('valid', 'layering.yaml'), { ...ENV, HOME: fixture('home-with-config') });
  assert.is(layering.hosts.find((h) => h.name === 'plain')?.connection.user, 'root');
  assert.equal(layering.hosts.find((h) => h.name === 'plain')?.connection.identityFiles, []);
});

test('tokens %d %u %h %r %n %% and ~ are expanded', () => {
  const values = { home: '/home/me', localUser: 'me', host: '10.0.0.1', remoteUser: 'root', originalHost: 'mm1' };
  assert.is(expandSshTokens('%d/.ssh/%u-%h-%r-%n-100%%', values, {}), '/home/me/.ssh/me-10.0.0.1-root-mm1-100%');
  assert.is(expandSshTokens('~/.ssh/id', values, { HOME: '/home/me' }), '/home/me/.ssh/id');
});

test('Include lines pull in other files, relative to ~/.ssh, with wildcards', async () => {
  const config = await SshClientConfig.load(fixture('includes', 'main_config'), { HOME: fixture('includes', 'home') });
  assert.equal(config.lookup('a1').user, 'from-included');
  assert.is(config.lookup('a1').port, '2001');
  assert.is(config.lookup('b1').hostName, '192.0.2.99');
});

test('Match exec is never run', () => {
  const config = SshClientConfig.fromText('inline', 'Match exec "exit 0"\n  User executed\n');
  assert.is(config.lookup('anything').user, undefined);
});

test('a long config is looked up through an index that gives what the whole config gives', () => {
  // 3,000 Host blocks of one name each, blocks of several names, patterns, negations, Match
  // and lines outside any block, in an order where first-match-wins matters.
  const lines = ['User top-level', 'Port 2000', ''];
  for (let i = 0; i < 3000; i++) lines.push(`Host node-${i}`, `  HostName 10.0.${i >> 8}.${i & 255}`, i % 3 === 0 ? '  Port 22' : '  IdentityFile ~/.ssh/id_node', '');
  lines.push('Host edge-a edge-b node-7', '  User edge', '  ProxyJump bastion', '');
  lines.push('Host node-1?? !node-150', '  User pattern', '  IdentityFile %d/.ssh/id_%h', '');
  lines.push('Match host 10.0.0.*', '  Port 2222', '');
  lines.push('Host *', '  IdentityFile ~/.ssh/id_default', '  User everyone', '');
  const text = lines.join('\n');
  const config = SshClientConfig.fromText('inline', text);
  const whole = SSHConfig.parse(text);
  for (const name of ['node-0', 'node-7', 'node-100', 'node-150', 'node-199', 'node-2999', 'edge-a', 'edge-b', 'elsewhere', 'node-', 'Node-7']) {
    const computed = whole.compute(name, { ignoreCase: true, matchExec: false });
    const first = (key: string) => {
      const value = computed[key];
      const text = Array.isArray(value) ? value[0] : value;
      return text === undefined || text === '' ? undefined : text;
    };
    const identity = computed.identityfile;
    const expected = {
      hostName: first('hostname'),
      user: first('user'),
      port: first('port'),
      identityFiles: (Array.isArray(identity) ? identity : identity === undefined ? [] : [identity]).filter((file) => file.toLowerCase() !== 'none'),
      proxyJump: first('proxyjump'),
    };
    assert.equal(config.lookup(name), expected, name);
    assert.equal(config.lookup(name), expected, `${name}, looked up again`);
  }
  assert.ok(config.hasHostAlias('node-2999'));
  assert.ok(config.hasHostAlias('edge-b'));
  assert.not.ok(config.hasHostAlias('node-1??x'));
  assert.not.ok(config.hasHostAlias('elsewhere'));
});

test.run();

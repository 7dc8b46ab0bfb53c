// Jump hosts: specs are parsed, inventory hosts are hops with their own resolved settings
// (after their own chain), and outside hosts get the target's keys.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyJump, parseJumpSpec } from '../../orchestrator/inventory/jump.js';
import type { HostSpec, Inventory, JumpHop } from '../../orchestrator/inventory/types.js';
import { fixture, load } from './helpers.js';

let inventory: Inventory;
const host = (name: string): HostSpec => inventory.hosts.find((candidate) => candidate.name === name)!;
const LAB_KEY = fixture('keys', 'id_lab');
const BASTION: JumpHop = {
  label: 'bastion',
  address: '203.0.113.10',
  port: 2222,
  user: 'jumpuser',
  identityFiles: [fixture('keys', 'id_bastion')],
};

test.before(async () => {
  inventory = await load(fixture('valid', 'jump.yaml'));
});

test('parses [user@]host[:port], bracketed IPv6 and ssh:// forms', () => {
  assert.equal(parseJumpSpec('bastion.example.net'), { host: 'bastion.example.net' });
  assert.equal(parseJumpSpec('ops@10.0.0.1:2222'), { user: 'ops', host: '10.0.0.1', port: 2222 });
  assert.equal(parseJumpSpec('[2001:db8::1]:22'), { host: '2001:db8::1', port: 22 });
  assert.equal(parseJumpSpec('2001:db8::1'), { host: '2001:db8::1' });
  assert.equal(parseJumpSpec('ssh://me@gw.lab:2200'), { user: 'me', host: 'gw.lab', port: 2200 });
});

test('rejects specs that are not [user@]host[:port]', () => {
  for (const bad of ['root@@bastion', 'gw.lab:99999', 'gw.lab:0', 'a b', '', '@gw.lab', 'gw.lab:', '[not-ip]:22']) {
    assert.is(parseJumpSpec(bad), undefined, bad);
  }
});

test('classifies inventory hosts, outside hosts and unknown bare names', () => {
  const inventoryHosts = new Set(['bastion']);
  const classify = (text: string) => classifyJump(text, (name) => inventoryHosts.has(name), (name) => name === 'edge');
  assert.equal(classify('bastion'), { kind: 'inventory', host: 'bastion' });
  assert.equal(classify('ops@bastion:2200'), { kind: 'inventory', user: 'ops', host: 'bastion', port: 2200 });
  assert.is(classify('gw.example.net').kind, 'external');
  assert.is(classify('192.0.2.1').kind, 'external');
  assert.is(classify('localhost').kind, 'external');
  assert.is(classify('edge').kind, 'external');
  assert.equal(classify('bastoin'), { kind: 'unknown', host: 'bastoin' });
  assert.equal(classify('a@@b'), { kind: 'unparseable' });
});

test('a jump host that is an inventory host uses its resolved address, port, user and keys', () => {
  assert.equal(host('mm3').connection.jump, [BASTION]);
});

test("an inventory jump host's own chain comes before it", () => {
  assert.equal(host('mm1').connection.jump, [
    BASTION,
    { label: 'inner-bastion', address: '10.1.0.1', port: 22, user: 'admin', identityFiles: [LAB_KEY] },
  ]);
});

test('user@host:port on an inventory host replaces only its user and port; outside hops use the target keys', () => {
  assert.equal(host('mm2').connection.jump, [
    BASTION,
    { label: 'inner-bastion', address: '10.1.0.1', port: 2200, user: 'ops', identityFiles: [LAB_KEY] },
    { label: '[2001:db8::1]:2022', address: '2001:db8::1', port: 2022, user: 'tester', identityFiles: [LAB_KEY] },
    { label: 'ssh://10.9.9.9', address: '10.9.9.9', port: 22, user: 'tester', identityFiles: [LAB_KEY] },
  ]);
});

test('jump: [] on a host opts out of an inherited jump host', () => {
  assert.equal(host('bastion').connection.jump, []);
});

test.run();

// Large inventories load correctly: 20,000 hosts in 220 nested groups, and shapes that used to
// take quadratic or exponential time (a diamond lattice of groups, thousands of misspelt
// members, thousands of hosts merging one anchor, a chain of jump hosts) give the right answer.
// How fast is the `inventory` bench section's business (test/bench/inventory-load.ts); these
// check results.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Inventory } from '../../orchestrator/inventory/types.js';
import { bigInventoryText, groupName, hostAddress, hostName, rackName } from './big-inventory.js';
import { issuesOf, load } from './helpers.js';

let dir: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-scale-'));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

test('20,000 hosts in 200 pods nested in 20 racks load with every host layered and placed', async () => {
  const text = bigInventoryText({ hosts: 20_000 });
  const file = await write('fleet.yaml', text);
  const inventory: Inventory = await load(file);

  assert.is(inventory.hosts.length, 20_000);
  assert.is(inventory.groups.length, 220);
  assert.equal(
    inventory.hosts.slice(0, 3).map((host) => host.name),
    [hostName(0), hostName(1), hostName(2)],
  );
  const lines = text.split('\n');
  for (const i of [0, 1, 99, 100, 12_345, 19_999]) {
    const host = inventory.hosts[i]!;
    assert.is(host.name, hostName(i));
    assert.is(host.connection.address, hostAddress(i));
    assert.is(host.connection.user, 'perf');
    assert.is(host.connection.port, 2222);
    const pod = Math.floor(i / 100);
    assert.equal(host.groups, [groupName(pod), rackName(Math.floor(pod / 10))]);
    assert.equal(host.roles, ['midolman']);
    assert.equal(host.scenarios.map((s) => s.name), ['sysinfo']);
    // defaults < rack (parent) < pod (child) < host
    assert.equal(host.vars, { LAYER: i % 10 === 0 ? 'host' : 'pod', SITE: 'lab', RACK: String(Math.floor(pod / 10)), POD: String(pod) });
    assert.is(lines[host.position.line - 1], `  ${hostName(i)}:`);
    assert.is(host.position.column, 3);
    const podLine = lines[host.varPositions.POD!.line - 1]!;
    assert.ok(podLine.includes(`POD: "${pod}"`), podLine);
  }
  const rack = inventory.groups.find((group) => group.name === rackName(3))!;
  assert.equal(rack.children, Array.from({ length: 10 }, (_, g) => groupName(30 + g)));
});

test('groups nested as a 30-level diamond lattice layer parents before children (depths computed once)', async () => {
  // Each level has two groups, children of both groups of the level above: 2^30 chains up.
  const levels = 30;
  const lines = ['ssh_config: none', 'groups:'];
  for (let level = 0; level < levels; level++) {
    for (const side of ['a', 'b']) {
      const children = level + 1 < levels ? `[l${level + 1}a, l${level + 1}b]` : '[]';
      const hosts = level + 1 === levels ? '[deep]' : '[]';
      lines.push(`  l${level}${side}:`, `    children: ${children}`, `    hosts: ${hosts}`, `    vars: {vars: {LEVEL: "${level}${side}"}}`);
    }
  }
  lines.push('hosts:', '  deep: {}');
  const inventory = await load(await write('lattice.yaml', `${lines.join('\n')}\n`));
  const deep = inventory.hosts[0]!;
  assert.is(deep.groups.length, 2 * levels);
  // The deepest groups apply last; at the same depth, by name: l29b after l29a.
  assert.is(deep.vars.LEVEL, `${levels - 1}b`);
});

test('20,000 groups nested one in the next load (no recursion deep enough to overflow the stack)', async () => {
  const depth = 20_000;
  const lines = ['ssh_config: none', 'groups:'];
  for (let g = 0; g < depth; g++) lines.push(`  g${g}: {children: [${g + 1 < depth ? `g${g + 1}` : ''}]${g + 1 === depth ? ', hosts: [leaf]' : ''}, vars: {vars: {LEVEL: "${g}"}}}`);
  lines.push('hosts:', '  leaf: {}');
  const inventory = await load(await write('deep.yaml', `${lines.join('\n')}\n`));
  const leaf = inventory.hosts[0]!;
  assert.is(leaf.groups.length, depth);
  assert.is(leaf.vars.LEVEL, String(depth - 1));
});

test('2,000 misspelt group members among 5,000 hosts are all reported; the first ones with a suggestion', async () => {
  const fleet = bigInventoryText({ hosts: 5000 }).replace('\nhosts:\n', `\n  typos:\n    hosts: [${Array.from({ length: 2000 }, (_, i) => `nod-${String(i * 10).padStart(5, '0')}`).join(', ')}]\nhosts:\n`);
  const issues = await issuesOf(await write('typos.yaml', fleet));
  assert.is(issues.length, 2000);
  const prefix = (i: number) => `group 'typos' lists host 'nod-${String(i * 10).padStart(5, '0')}', which is not defined under hosts:`;
  for (const i of [0, 1, 50]) assert.is(issues[i]!.message, `${prefix(i)}; did you mean '${hostName(i * 10)}'?`);
  // Suggestions share a budget per load (2,000,000 comparisons: 400 names against 5,000).
  assert.is(issues[1999]!.message, prefix(1999));
  assert.ok(issues.filter((issue) => issue.message.includes('did you mean')).length >= 300);
});

test('5,000 hosts each merging one anchor load (no "excessive alias count" refusal)', async () => {
  const lines = ['ssh_config: none', 'x-base: &base', '  user: perf', '  port: 2200', 'hosts:'];
  for (let i = 0; i < 5000; i++) lines.push(`  ${hostName(i)}: {<<: *base, address: ${hostAddress(i)}}`);
  const inventory = await load(await write('merge.yaml', `${lines.join('\n')}\n`));
  assert.is(inventory.hosts.length, 5000);
  assert.equal(
    [inventory.hosts[4999]!.connection.user, inventory.hosts[4999]!.connection.port, inventory.hosts[4999]!.connection.address],
    ['perf', 2200, hostAddress(4999)],
  );
});

test('an error in a host merging an anchor still points at the anchored value, among 5,000 such hosts', async () => {
  const lines = ['ssh_config: none', 'x-base: &base', '  user: perf', '  port: "2200"', 'hosts:'];
  for (let i = 0; i < 5000; i++) lines.push(`  ${hostName(i)}: {<<: *base}`);
  const issues = await issuesOf(await write('merge-bad.yaml', `${lines.join('\n')}\n`));
  assert.is(issues.length, 5000);
  assert.ok(issues.every((issue) => issue.line === 4 && issue.column === 9), `${issues[0]!.line}:${issues[0]!.column}`);
});

test('a chain of 2,000 hosts each jumping through the next is refused past the hop limit, not overflowing the stack', async () => {
  const lines = ['ssh_config: none', 'hosts:'];
  for (let i = 0; i < 2000; i++) lines.push(`  ${hostName(i)}: {jump: ${i + 1 < 2000 ? hostName(i + 1) : '[]'}}`);
  const issues = await issuesOf(await write('jump-chain.yaml', `${lines.join('\n')}\n`));
  assert.ok(issues.length > 0);
  assert.ok(issues.every((issue) => issue.message.includes('makes a jump chain of more than 16 hosts')), issues[0]!.message);
});

test.run();

// What an inventory may be (orchestrator/inventory/limits.ts): a file over 8 MiB is refused
// before it is read (by the CLI too, with exit 2 and no host contacted), a file with more
// YAML nodes than the cap is refused where the cap is passed, and aliases that would expand
// past the cap (an alias bomb) are refused at the alias that does it.

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INVENTORY_LIMITS } from '../../orchestrator/inventory/limits.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import { runCli } from '../e2e/cli-helpers.js';
import { ENV, SCENARIOS, assertIssues, issuesOf, load } from './helpers.js';

const MiB = 1024 * 1024;
let dir: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-limits-'));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A valid inventory of one host, then a comment line that makes the file exactly `size` bytes. */
async function paddedInventory(name: string, size: number, head = 'ssh_config: none\nhosts:\n  mm1: {address: 127.0.0.1}\n'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${head}${'#'.repeat(size - head.length - 1)}\n`);
  return file;
}

test('the size cap is 8 MiB', () => {
  assert.is(INVENTORY_LIMITS.maxFileBytes, 8 * MiB);
});

test('a file one byte over 8 MiB is refused at 1:1 with its size and the cap', async () => {
  const file = await paddedInventory('big.yaml', 8 * MiB + 1);
  const issues = await issuesOf(file);
  assert.equal(issues, [
    {
      file,
      line: 1,
      column: 1,
      message: 'the file is 8.0 MiB (8,388,609 bytes), larger than an inventory may be (8 MiB); it was not read',
      expected: 'an inventory file of at most 8 MiB (8,388,608 bytes)',
    },
  ]);
});

test('a file of exactly 8 MiB is read', async () => {
  const inventory = await load(await paddedInventory('at-cap.yaml', 8 * MiB));
  assert.equal(inventory.hosts.map((host) => host.name), ['mm1']);
});

test('a named pipe is read only up to the cap, then refused', async () => {
  const fifo = join(dir, 'endless.fifo');
  execFileSync('mkfifo', [fifo]);
  const loading = issuesOf(fifo);
  const writer = await open(fifo, 'w');
  const chunk = Buffer.alloc(MiB, '# comment\n');
  let written = 0;
  try {
    while (written < 20 * MiB) {
      await writer.write(chunk);
      written += chunk.length;
    }
  } catch {
    // EPIPE: the reader stopped reading.
  } finally {
    await writer.close();
  }
  const issues = await loading;
  assert.is(issues.length, 1);
  assert.is(issues[0]!.message, 'the file is more than 8 MiB, larger than an inventory may be (8 MiB); it was not read');
  assert.ok(written < 20 * MiB, `the whole ${written} bytes were read`);
});

test('a device is refused without being read', async () => {
  assertIssues(await issuesOf('/dev/zero'), [{ line: 1, column: 1, message: 'cannot read /dev/zero: it is a device or socket, not a file' }]);
});

test('the CLI refuses an inventory over the cap with exit 2 and the message, and contacts no host', async () => {
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  let connections = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const head = `ssh_config: none\nresults_dir: ./results\nhosts:\n  mm1: {address: 127.0.0.1, port: ${port}, scenarios: {sysinfo: {}}}\n`;
    const file = await paddedInventory('cli-big.yaml', 9 * MiB, head);
    const { code, stdout, stderr } = await runCli(['--inventory', file, '--no-progress', '--no-report', '--no-publish']);
    assert.is(code, 2, stderr);
    assert.is(
      stderr,
      `${file}:1:1: the file is 9 MiB (9,437,184 bytes), larger than an inventory may be (8 MiB); it was not read (expected: an inventory file of at most 8 MiB (8,388,608 bytes))\n` +
        '1 problem(s) in the inventory; nothing was contacted.\n',
    );
    assert.is(stdout, '');
    assert.is(connections, 0);
  } finally {
    server.close();
  }
});

test('more YAML nodes than the cap: refused where the cap is passed, before the document is built', async () => {
  const file = join(dir, 'nodes.yaml');
  // Counted: each key, each ':', each '[' and each item: 15 on line 1, and the 21st is the '3' of line 2.
  await writeFile(file, 'x-a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\nx-b: [1, 2, 3, 4, 5, 6, 7, 8, 9]\nhosts: {mm1: {}}\n');
  const error = await loadInventory(file, { scenarios: SCENARIOS, env: ENV, limits: { maxNodes: 20 } }).then(
    () => undefined,
    (failure: { issues?: unknown }) => failure,
  );
  assertIssues((error as { issues: never[] }).issues, [
    { line: 2, column: 13, message: 'the inventory has more than 20 YAML nodes (keys, values, list items); it was not read further', expected: 'at most 20 YAML nodes' },
  ]);
});

test('1,100,000 list items in a 2 MB file are refused at the node cap (1,000,000)', async () => {
  const file = join(dir, 'dense.yaml');
  const handle = await open(file, 'w');
  await handle.write('x-a: [');
  await handle.write('1,'.repeat(1_100_000));
  await handle.write('1]\nhosts: {mm1: {}}\n');
  await handle.close();
  const issues = await issuesOf(file);
  assert.is(issues.length, 1);
  assert.is(issues[0]!.line, 1);
  assert.ok(issues[0]!.message.startsWith('the inventory has more than 1,000,000 YAML nodes'), issues[0]!.message);
});

test('an alias bomb (nine levels of nine aliases) is refused at the alias that passes the cap', async () => {
  const file = join(dir, 'bomb.yaml');
  const lines = ['x-0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let level = 1; level <= 9; level++) lines.push(`x-${level}: &l${level} [${Array(9).fill(`*l${level - 1}`).join(', ')}]`);
  lines.push('hosts: {mm1: {}}');
  await writeFile(file, `${lines.join('\n')}\n`);
  const started = Date.now();
  const issues = await issuesOf(file);
  // Sizes: l0 10 nodes, l1 91, l2 820, l3 7,381, l4 66,430, l5 597,871; 672,612 nodes up to
  // the '[' of line 7, and the running total passes 2,000,000 at its third *l5 (column 21).
  assertIssues(issues, [
    {
      line: 7,
      column: 21,
      message: "alias '*l5' takes the inventory past 2,000,000 nodes once aliases and merge keys are expanded (an alias bomb?); it was not read further",
      expected: 'anchors and aliases that expand to at most 2,000,000 nodes in all',
    },
  ]);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('an alias inside its own anchor (an endless structure) is refused at the alias', async () => {
  const file = join(dir, 'recursive.yaml');
  await writeFile(file, 'x-loop: &loop\n  - a\n  - *loop\nhosts: {mm1: {}}\n');
  assertIssues(await issuesOf(file), [{ line: 3, column: 5, message: "alias '*loop' is inside its own anchor '&loop', which makes the data endless" }]);
});

test('an alias with no anchor before it is reported at the alias', async () => {
  const file = join(dir, 'unknown-alias.yaml');
  await writeFile(file, 'hosts:\n  mm1: *later\nx-later: &later {port: 22}\n');
  assertIssues(await issuesOf(file), [{ line: 2, column: 8, message: "alias '*later' has no anchor '&later' before it" }]);
});

test.run();

// Top-level keys added with the limits: max_artifact_size (the per-job artifact cap, 8 GiB
// when unset), as a size or a number of bytes, refused at its value when it is not one.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULTS } from '../../orchestrator/inventory/defaults.js';
import { assertIssues, issuesOf, load } from './helpers.js';

let dir: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-schema-'));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inventoryWith(line: string): Promise<string> {
  const file = join(dir, `lab-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `ssh_config: none\n${line}\nhosts:\n  mm1: {}\n`);
  return file;
}

test('the built-in artifact cap is 8 GiB, and an inventory without max_artifact_size leaves it to that', async () => {
  assert.is(DEFAULTS.maxArtifactBytes, 8 * 1024 ** 3);
  const inventory = await load(await inventoryWith('concurrency: 4'));
  assert.is(inventory.maxArtifactBytes, undefined);
});

test('max_artifact_size takes a size or a number of bytes', async () => {
  assert.is((await load(await inventoryWith('max_artifact_size: 16G'))).maxArtifactBytes, 16 * 1024 ** 3);
  assert.is((await load(await inventoryWith('max_artifact_size: 512M'))).maxArtifactBytes, 512 * 1024 ** 2);
  assert.is((await load(await inventoryWith('max_artifact_size: 1000000'))).maxArtifactBytes, 1_000_000);
});

test('a max_artifact_size that is not a size greater than zero is refused at its value', async () => {
  assertIssues(await issuesOf(await inventoryWith('max_artifact_size: lots')), [
    { line: 2, column: 20, message: "max_artifact_size: 'lots' is not a size", expected: 'a size such as 8G, 512M or 1000000 (bytes), greater than zero' },
  ]);
  assertIssues(await issuesOf(await inventoryWith('max_artifact_size: 0')), [{ line: 2, column: 20, message: 'max_artifact_size: 0 is not a size' }]);
  assertIssues(await issuesOf(await inventoryWith('max_artifact_size: [8G]')), [{ line: 2, column: 20, message: 'max_artifact_size: wrong type, got a list' }]);
});

test.run();

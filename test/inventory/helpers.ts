// Shared by the inventory tests: fixture paths, a tiny scenario registry and issue assertions.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { InventoryError } from '../../orchestrator/inventory/errors.js';
import type { InventoryIssue } from '../../orchestrator/inventory/errors.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import type { Inventory } from '../../orchestrator/inventory/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/inventory/', import.meta.url));

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export const SCENARIOS = new Map<string, z.ZodType>([
  ['sysinfo', z.strictObject({ disks: z.boolean().optional() })],
  ['stress', z.strictObject({ level: z.int().min(1).optional() })],
]);

/** No SSH_AUTH_SOCK, and a home directory without ~/.ssh/config. */
export const ENV: NodeJS.ProcessEnv = { HOME: fixture('home'), USER: 'tester' };

export function load(file: string, env: NodeJS.ProcessEnv = ENV): Promise<Inventory> {
  return loadInventory(file, { scenarios: SCENARIOS, env });
}

/** The issues loading `file` throws; fails the test when it loads. */
export async function issuesOf(file: string, env: NodeJS.ProcessEnv = ENV): Promise<InventoryIssue[]> {
  try {
    await load(file, env);
  } catch (error) {
    assert.instance(error, InventoryError);
    return (error as InventoryError).issues;
  }
  assert.unreachable(`${file} loaded without issues`);
  return [];
}

export interface ExpectedIssue {
  line: number;
  column: number;
  /** A fragment of the message. */
  message: string;
  /** A fragment of the expected text. */
  expected?: string;
}

/** Exactly these issues, in this order, each at its line and column. */
export function assertIssues(actual: readonly InventoryIssue[], expected: readonly ExpectedIssue[], file?: string): void {
  const show = actual.map((issue) => `${issue.line}:${issue.column}: ${issue.message}`).join('\n');
  assert.is(actual.length, expected.length, `issue count; got:\n${show}`);
  expected.forEach((want, index) => {
    const got = actual[index]!;
    if (file !== undefined) assert.is(got.file, file);
    assert.is(`${got.line}:${got.column}`, `${want.line}:${want.column}`, `position of issue ${index + 1}; got:\n${show}`);
    assert.ok(got.message.includes(want.message), `message of issue ${index + 1}: '${got.message}' lacks '${want.message}'`);
    if (want.expected !== undefined) {
      assert.ok(
        got.expected?.includes(want.expected),
        `expected-text of issue ${index + 1}: '${got.expected}' lacks '${want.expected}'`,
      );
    }
  });
}

// Parses a value with a zod schema and, when it fails, keeps what is valid: the parts the
// issues point at are removed and the rest parsed again. All issues come from the first
// parse; the salvaged value lets the later checks (references, layering, scenarios) still
// look at everything that was right, so one load reports as many problems as possible.

import type { z } from 'zod';
import type { Pacer } from './pacing.js';

/**
 * Parses after the first. Each removes what the last one found wrong, so a few suffice; the
 * cap keeps a pathological input from costing a thousand parses of a large inventory.
 */
const MAX_ATTEMPTS = 20;

export interface Salvaged<T> {
  /** The parsed value with invalid parts removed; absent when nothing could be kept. */
  data?: T;
  /** Issues of the first parse (empty when the value was valid). */
  issues: z.core.$ZodIssue[];
}

type Container = Record<PropertyKey, unknown> | unknown[];

export async function parseSalvaging<S extends z.ZodType>(schema: S, input: unknown, pacer?: Pacer): Promise<Salvaged<z.output<S>>> {
  const first = schema.safeParse(input);
  if (first.success) return { data: first.data, issues: [] };
  await pacer?.pause();
  let working: unknown = structuredClone(input);
  let issues = first.error.issues;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    for (const issue of issues) {
      working = removeOffending(working, issue);
      if (working === undefined) break;
    }
    if (working === undefined) break;
    await pacer?.pause();
    const again = schema.safeParse(working);
    if (again.success) return { data: again.data, issues: first.error.issues };
    issues = again.error.issues;
  }
  return { issues: first.error.issues };
}

/** The input without what the issue is about; undefined when the root itself must go. */
function removeOffending(root: unknown, issue: z.core.$ZodIssue): unknown {
  if (issue.code === 'unrecognized_keys') {
    const target = lookup(root, issue.path);
    if (isRecord(target)) for (const key of issue.keys) delete target[key];
    return root;
  }
  let path = [...issue.path];
  // A missing required key cannot be removed: remove the object that needs it.
  if (lookup(root, path) === undefined) path = path.slice(0, -1);
  // Removing one item would shift the others: remove the whole list.
  while (path.length > 0 && Array.isArray(lookup(root, path.slice(0, -1)))) path = path.slice(0, -1);
  if (path.length === 0) return undefined;
  const parent = lookup(root, path.slice(0, -1));
  if (isRecord(parent)) delete parent[path[path.length - 1]!];
  return root;
}

function lookup(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Container as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function isRecord(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

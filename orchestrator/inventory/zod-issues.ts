// Turns zod issues into inventory issues: each placed on the YAML node it is about (the key of
// an unknown key, the value of a wrong value), with a message naming the offending value and
// an "expected" text taken from the schema's description.

import type { z } from 'zod';
import type { InventoryIssue } from './errors.js';
import { issueAt, pathLabel } from './positions.js';
import type { DocPath } from './positions.js';
import type { YamlSource } from './parse-yaml.js';
import { descriptionAt, knownKeysAt } from './schema-walk.js';
import { showValue } from './schema.js';
import { didYouMean } from './suggest.js';

type IssuePath = readonly PropertyKey[];

export interface IssueContext {
  source: YamlSource;
  /** The schema the issue paths are relative to. */
  schema: z.core.$ZodType;
  /** The value that was parsed. */
  input: unknown;
  /** Where the value at an issue path was written in the document. */
  docPath(path: IssuePath): DocPath;
  /** Extra advice for an unknown key. */
  hint?(docPath: DocPath, key: string): string | undefined;
}

export function explainZodIssues(issues: readonly z.core.$ZodIssue[], context: IssueContext): InventoryIssue[] {
  return issues.flatMap((issue) => explain(issue, issue.path, context));
}

function explain(issue: z.core.$ZodIssue, path: IssuePath, context: IssueContext): InventoryIssue[] {
  const { source } = context;
  const value = valueAt(context.input, path);
  const where = context.docPath(path);
  const label = pathLabel(where) || 'the document';
  const expected = descriptionAt(context.schema, path);
  const at = (message: string, wanted: string | undefined) => [issueAt(source, where, 'value', message, wanted)];

  switch (issue.code) {
    case 'invalid_union': {
      // When one alternative matched the value's type and failed only on a constraint or deeper
      // down, its issues are the useful ones ("identity_file[1] is a number", "user is empty").
      const matched = issue.errors.find((branch) => branch.length > 0 && branch.every(typeMatched));
      if (matched) return matched.flatMap((sub) => explain(sub, [...path, ...sub.path], context));
      return at(`${label}: wrong type, got ${describeValue(value)}`, expected);
    }
    case 'unrecognized_keys': {
      const known = knownKeysAt(context.schema, path);
      const within = where.length === 0 ? '' : ` in ${pathLabel(where)}`;
      return issue.keys.map((key) => {
        const hint = context.hint?.(where, key);
        const advice = hint === undefined ? didYouMean(key, known) : `; ${hint}`;
        return issueAt(
          source,
          context.docPath([...path, key]),
          'key',
          `unknown key '${key}'${within}${advice}`,
          known.length === 0 ? 'no keys here' : `one of ${known.join(', ')}`,
        );
      });
    }
    case 'invalid_key': {
      const key = String(path[path.length - 1]);
      const inner = issue.issues[0];
      const parent = pathLabel(context.docPath(path.slice(0, -1)));
      const message = inner?.code === 'custom' ? inner.message : `invalid key '${key}'`;
      const wanted = customExpected(inner) ?? expected;
      return [issueAt(source, where, 'key', `${parent}: ${message}`, wanted)];
    }
    case 'invalid_type': {
      if (value === undefined) {
        const missing = String(path[path.length - 1]);
        const parentWhere = context.docPath(path.slice(0, -1));
        const parent = pathLabel(parentWhere);
        const message = `${parent === '' ? '' : `${parent}: `}missing required key '${missing}'`;
        return [issueAt(source, parentWhere, 'key', message, expected)];
      }
      if (issue.expected === 'int' && typeof value === 'number') {
        return at(`${label}: ${showValue(value)} is not a whole number`, expected ?? 'a whole number');
      }
      return at(`${label}: wrong type, got ${describeValue(value)}`, expected ?? typeWords(issue.expected));
    }
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const limit = big ? (issue as z.core.$ZodIssueTooBig).maximum : (issue as z.core.$ZodIssueTooSmall).minimum;
      const fallback = `${big ? 'at most' : 'at least'} ${String(limit)}`;
      if (typeof value === 'string' && !big && Number(limit) === 1) return at(`${label}: the value is empty`, expected ?? 'some text');
      if (Array.isArray(value)) return at(`${label}: the list has too ${big ? 'many' : 'few'} items`, expected ?? `${fallback} items`);
      return at(`${label}: ${showValue(value)} is too ${big ? 'large' : 'small'}`, expected ?? fallback);
    }
    case 'invalid_value':
      return at(`${label}: ${showValue(value)} is not allowed`, expected ?? `one of ${issue.values.map((v) => showValue(v)).join(', ')}`);
    case 'invalid_format':
      return at(`${label}: ${showValue(value)} is not in the right format`, expected ?? `the ${issue.format} format`);
    case 'custom':
      return at(`${label}: ${issue.message}`, customExpected(issue) ?? expected);
    default:
      return at(`${label}: ${issue.message}`, expected);
  }
}

const CONSTRAINT_CODES: ReadonlySet<string> = new Set(['too_small', 'too_big', 'invalid_format', 'not_multiple_of', 'custom']);

/** The issue is about a part of the value, or about a value of the right type. */
function typeMatched(issue: z.core.$ZodIssue): boolean {
  return issue.path.length > 0 || CONSTRAINT_CODES.has(issue.code);
}

function customExpected(issue: z.core.$ZodIssue | undefined): string | undefined {
  if (issue?.code !== 'custom') return undefined;
  const wanted = (issue.params as { expected?: unknown } | undefined)?.expected;
  return typeof wanted === 'string' ? wanted : undefined;
}

function valueAt(input: unknown, path: IssuePath): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** "the string 'abc'", "the number 3", "an empty value", "a list"... */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return `the string ${showValue(value)}`;
    case 'number':
      return `the number ${value}`;
    case 'boolean':
      return `the boolean ${value}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof value;
  }
}

function typeWords(type: string): string {
  switch (type) {
    case 'object':
    case 'record':
    case 'map':
      return 'a mapping';
    case 'array':
    case 'tuple':
    case 'set':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'string':
    case 'number':
    case 'boolean':
      return `a ${type}`;
    default:
      return type;
  }
}

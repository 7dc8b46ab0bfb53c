// What reading the results store can go wrong with, typed: the file, and what is wrong with it.
// Every reader of the store (results/store-files.ts) throws these, so a caller can report a
// damaged file as a problem of that file and go on with the rest of the store.

/** Why a file of the store could not be read (kept apart from the wording, for callers that word it their own way). */
export type StoreReadReason = 'missing' | 'unreadable' | 'not-json' | 'invalid' | 'schema-version' | 'not-an-id';

export class StoreReadError extends Error {
  override readonly name: string = 'StoreReadError';
  constructor(
    readonly path: string,
    /** What is wrong, without the path. */
    readonly detail: string,
    readonly reason: StoreReadReason = 'invalid',
    /** For `invalid`: the schema's complaints, `field.path: message` each. */
    readonly issues: readonly string[] = [],
  ) {
    super(`${path}: ${detail}`);
  }
}

/**
 * A file whose `schema` names a version this orchestrator has no reader for: one written by a
 * newer orchestrator, an older one no upgrade is registered for, or not a file of this kind.
 */
export class UnknownSchemaVersionError extends StoreReadError {
  override readonly name = 'UnknownSchemaVersionError';
  constructor(
    path: string,
    /** The kind of file expected: job, sweep, metrics, ... */
    readonly kind: string,
    /** What the file's `schema` says (undefined when it has none, or it is not a string). */
    readonly found: string | undefined,
    /** The versions of `kind` this orchestrator reads, oldest first (the last is current). */
    readonly readable: readonly number[],
  ) {
    super(path, describe(kind, found, readable), 'schema-version');
  }
}

function describe(kind: string, found: string | undefined, readable: readonly number[]): string {
  const current = readable.at(-1)!;
  const expected = `orchestrate/${kind}@${current}`;
  const versions = readable.map((v) => `@${v}`).join(', ');
  if (found === undefined) return `has no schema (expected "${expected}")`;
  const version = versionOf(kind, found);
  if (version === undefined) return `is not a ${kind} file: its schema is ${JSON.stringify(found.slice(0, 80))} (expected "${expected}")`;
  if (version > current) return `was written by a newer orchestrator (${found}); this one reads orchestrate/${kind} ${versions}: upgrade the orchestrator to read it`;
  return `is in an old format (${found}) that this orchestrator has no upgrade for (it reads orchestrate/${kind} ${versions})`;
}

/** `orchestrate/<kind>@<n>` -> n; undefined when `schema` is not of that form. */
export function versionOf(kind: string, schema: string): number | undefined {
  const prefix = `orchestrate/${kind}@`;
  if (!schema.startsWith(prefix)) return undefined;
  const digits = schema.slice(prefix.length);
  return /^(0|[1-9]\d{0,8})$/.test(digits) ? Number(digits) : undefined;
}

// A reader of one kind of JSON file of the results store (a job manifest, metrics, ...) that
// knows every version of the kind it can read. A file says its version in its `schema` field
// (`orchestrate/<kind>@<n>`): the current version is validated as it is; an older one is
// validated against its own schema and passed through its upgrade hook (n -> n + 1, repeated)
// to the current type, which is validated again; any other version is an
// UnknownSchemaVersionError that says whether the file is newer than this orchestrator, older
// than any upgrade it has, or not a file of this kind.
//
// Adding version 2 of a kind: the current schema becomes @2, and the @1 schema is kept as an
// older version with an upgrade from a @1 value to a @2 value (see store-files.ts).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { StoreReadError, UnknownSchemaVersionError, versionOf } from './store-errors.js';

export interface OlderVersion {
  /** The version this entry reads (lower than the kind's current one). */
  version: number;
  /** How a file of this version looks (its `schema` field included). */
  schema: z.ZodType<unknown>;
  /** Turns a valid file of this version into a file of the next version, `version + 1`. */
  upgrade: (value: never) => unknown;
}

/** At most this many of a schema's complaints are worded in a message. */
const ISSUES_SHOWN = 5;

export class VersionedFile<T> {
  /** `job` of `orchestrate/job@1`. */
  readonly kind: string;
  /** The version files are written in, `1` of `orchestrate/job@1`. */
  readonly version: number;
  private readonly older: ReadonlyMap<number, OlderVersion>;

  constructor(
    /** The current schema id, `orchestrate/<kind>@<n>`: what the store writes. */
    readonly schemaId: string,
    /** What a person calls such a file, for messages: "a job manifest". */
    readonly noun: string,
    private readonly schema: z.ZodType<T>,
    older: readonly OlderVersion[] = [],
  ) {
    const match = /^orchestrate\/([a-z][a-z-]*)@(\d+)$/.exec(schemaId);
    if (!match) throw new Error(`not a schema id: ${JSON.stringify(schemaId)} (expected orchestrate/<kind>@<n>)`);
    this.kind = match[1]!;
    this.version = Number(match[2]);
    const byVersion = new Map<number, OlderVersion>();
    for (const entry of older) {
      if (!Number.isInteger(entry.version) || entry.version < 0 || entry.version >= this.version) {
        throw new Error(`orchestrate/${this.kind}: an older version must be a whole number below the current @${this.version}, got @${entry.version}`);
      }
      if (byVersion.has(entry.version)) throw new Error(`orchestrate/${this.kind}@${entry.version}: two upgrades registered`);
      byVersion.set(entry.version, entry);
    }
    this.older = byVersion;
  }

  /** The same reader that also reads `older` (a new reader; this one is unchanged). */
  withOlderVersion(older: OlderVersion): VersionedFile<T> {
    return new VersionedFile(this.schemaId, this.noun, this.schema, [...this.older.values(), older]);
  }

  /** Every version this reader reads, oldest first; the last is the current one. */
  get readable(): number[] {
    const versions = [...this.older.keys()].filter((version) => this.upgradable(version));
    return [...versions.sort((a, b) => a - b), this.version];
  }

  private upgradable(version: number): boolean {
    for (let n = version; n < this.version; n++) if (!this.older.has(n)) return false;
    return true;
  }

  /** A parsed JSON value as the current type (`path` only names the file in errors). */
  decode(json: unknown, path: string): T {
    const found = typeof json === 'object' && json !== null && typeof (json as { schema?: unknown }).schema === 'string' ? (json as { schema: string }).schema : undefined;
    if (found === this.schemaId) return validated(this.schema, json, path, this.noun);
    const version = found === undefined ? undefined : versionOf(this.kind, found);
    if (version === undefined || version > this.version || !this.upgradable(version)) {
      throw new UnknownSchemaVersionError(path, this.kind, found, this.readable);
    }
    let value: unknown = json;
    for (let n = version; n < this.version; n++) {
      const step = this.older.get(n)!;
      value = step.upgrade(validated(step.schema, value, path, `${this.noun} (orchestrate/${this.kind}@${n})`) as never);
    }
    return validated(this.schema, value, path, `${this.noun} (upgraded from ${found})`);
  }

  /** The text of a file as the current type. */
  parse(text: string, path: string): T {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new StoreReadError(path, `not valid JSON (${(error as Error).message})`, 'not-json');
    }
    return this.decode(json, path);
  }

  async read(path: string): Promise<T> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw unreadable(path, error);
    }
    return this.parse(text, path);
  }

  /** The same, synchronously (a process on its way out; the history index's per-job reads). */
  readSync(path: string): T {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw unreadable(path, error);
    }
    return this.parse(text, path);
  }

  /** The file, or undefined when there is none; a damaged one still throws. */
  async readOptional(path: string): Promise<T | undefined> {
    try {
      return await this.read(path);
    } catch (error) {
      if (error instanceof StoreReadError && error.reason === 'missing') return undefined;
      throw error;
    }
  }
}

function unreadable(path: string, error: unknown): StoreReadError {
  const code = (error as NodeJS.ErrnoException).code;
  return new StoreReadError(path, (error as Error).message, code === 'ENOENT' ? 'missing' : 'unreadable');
}

function validated<T>(schema: z.ZodType<T>, json: unknown, path: string, noun: string): T {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  const more = issues.length > ISSUES_SHOWN ? `; and ${issues.length - ISSUES_SHOWN} more` : '';
  throw new StoreReadError(path, `not ${noun}: ${issues.slice(0, ISSUES_SHOWN).join('; ')}${more}`, 'invalid', issues);
}

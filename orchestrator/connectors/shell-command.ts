// Shell commands as values (pyinfra's idea): a command is a list of parts, quoted only when it is
// rendered, so no inventory value ever reaches a remote shell unquoted. Secret parts render as
// their value but display (logs, progress, error messages) as `***`.
//
// Target: a POSIX shell (bash, dash, busybox sh) — the remote user's login shell, which is what
// an SSH exec request runs the command string with. csh/fish login shells are not supported.

import { inspect } from 'node:util';
import { quote as shellQuoteList } from 'shell-quote';

const MASK = '***';

/** A value that must never be shown: renders as its value, displays as `***`. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string') throw new TypeError('Secret value must be a string');
    this.#value = value;
  }

  /** The real value: only for render() and for code that hands it to a program. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return `Secret(${MASK})`;
  }
}

/**
 * Shell text the project itself wrote (a literal in our source, never inventory data), inserted
 * verbatim: redirections, pipelines, `$VAR` expansions that must happen remotely. Make it only with
 * raw(); the class is exported for instanceof checks and types, its constructor is not for use.
 */
export class RawShell {
  readonly text: string;

  /** @internal use raw() */
  constructor(text: string, brand: typeof RAW_BRAND) {
    if (brand !== RAW_BRAND) throw new TypeError('use raw() to make raw shell text');
    if (typeof text !== 'string') throw new TypeError('raw() takes a string');
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

const RAW_BRAND: unique symbol = Symbol('RawShell');

/**
 * Marks project-written shell text to be inserted verbatim. NEVER pass inventory values, user
 * input, or anything read from a host here: those go in as plain parts and get quoted.
 */
export function raw(text: string): RawShell {
  return new RawShell(text, RAW_BRAND);
}

export type Part = string | number | Secret | RawShell;

export interface ShellCommand {
  readonly argv: readonly Part[];
  readonly env: Readonly<Record<string, Part>>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function command(argv: Part[], opts: { env?: Record<string, Part> } = {}): ShellCommand {
  if (!Array.isArray(argv) || argv.length === 0) throw new TypeError('command() needs a non-empty argv');
  for (const p of argv) checkPart(p, 'argv');
  const env: Record<string, Part> = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    checkEnvName(k);
    checkPart(v, `env ${k}`);
    env[k] = v;
  }
  const cmd: ShellCommand = { argv: Object.freeze([...argv]), env: Object.freeze(env) };
  return Object.freeze(cmd);
}

/** The command as a string for `sh -c` / an SSH exec request. Contains secrets: never log it. */
export function render(cmd: ShellCommand): string {
  return build(cmd, false);
}

/** The command as people may see it: same as render() but every Secret shows as `***`. */
export function display(cmd: ShellCommand): string {
  return build(cmd, true);
}

/** Longest display() a connector puts in a message (a command may carry a whole script). */
const SHOWN_MAX = 200;

/**
 * What a connector sends (`text`, never to be shown) and what it may show (`shown`: display(),
 * cut to 200 characters) for a command value.
 */
export function commandText(cmd: ShellCommand): { text: string; shown: string } {
  const text = render(cmd);
  const shown = display(cmd);
  return { text, shown: shown.length > SHOWN_MAX ? `${shown.slice(0, SHOWN_MAX)}...` : shown };
}

/**
 * One shell word that sh/bash/dash read back as exactly `value`.
 *
 * Uses shell-quote's quote(): version 1.12's output was checked against every hostile value in
 * test/connectors/shell-command.test.ts (quotes, backslashes, `$(...)`, backticks, `!`, `~`,
 * globs, newlines, tabs, unicode, 10 KB) plus a seeded random fuzz, run for real through bash and
 * dash, and it round-trips all of them. The test suite keeps checking that, so an upgrade that
 * breaks it fails loudly; if it ever does, replace this with the plain single-quote rule:
 * `'` + value.replaceAll("'", `'\''`) + `'`.
 */
export function quote(value: string | number): string {
  const s = typeof value === 'number' ? numberText(value) : value;
  if (typeof s !== 'string') throw new TypeError(`cannot quote a ${typeof value}`);
  // A NUL byte cannot be in an argument or an environment value; the OS would cut it there.
  if (s.includes('\0')) throw new TypeError('a shell word cannot contain a NUL byte');
  if (s === '') return "''";
  return shellQuoteList([s]);
}

function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot put ${n} in a command`);
  return String(n);
}

function checkEnvName(name: string): void {
  if (!ENV_NAME.test(name)) {
    throw new TypeError(`invalid environment variable name ${JSON.stringify(name)}: must match ${ENV_NAME.source}`);
  }
}

function checkPart(p: unknown, where: string): asserts p is Part {
  if (typeof p === 'string') {
    if (p.includes('\0')) throw new TypeError(`${where}: a NUL byte cannot be in a command`);
    return;
  }
  if (typeof p === 'number') {
    numberText(p);
    return;
  }
  if (p instanceof Secret) {
    if (p.reveal().includes('\0')) throw new TypeError(`${where}: a NUL byte cannot be in a command`);
    return;
  }
  if (p instanceof RawShell) return;
  throw new TypeError(`${where}: a command part must be a string, number, Secret or raw(); got ${describe(p)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function word(p: Part, masked: boolean): string {
  checkPart(p, 'part'); // also guards ShellCommand objects not made by command()
  if (p instanceof RawShell) return p.text;
  if (p instanceof Secret) return masked ? MASK : quote(p.reveal());
  return quote(p);
}

function build(cmd: ShellCommand, masked: boolean): string {
  if (cmd.argv.length === 0) throw new TypeError('cannot render an empty command');
  const out: string[] = [];
  // Plain `K='v' cmd` assignments rather than `env K=v cmd`: they also reach shell functions and
  // builtins (our helpers are sourced bash functions), and a quoted argv[0] is never mistaken for
  // an assignment or a reserved word.
  for (const [k, v] of Object.entries(cmd.env)) {
    checkEnvName(k);
    out.push(`${k}=${word(v, masked)}`);
  }
  for (const p of cmd.argv) out.push(word(p, masked));
  return out.join(' ');
}

// Host key verification against an OpenSSH known_hosts file.
//
// Verify by default; refuse a changed key (showing both fingerprints); refuse a revoked key;
// accept and record a new key only when the caller opts in. The file format is OpenSSH's
// (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
//
//   [marker] hostpatterns keytype base64-key [comment]
//
// - blank lines and `#` comments are ignored; CRLF line ends are tolerated;
// - hostpatterns is a comma-separated list with `*` and `?` wildcards (matched by picomatch,
//   checked against `ssh-keygen -F` in the tests); a `!pattern` that matches excludes the line
//   even if another pattern matches; matching is case-insensitive;
// - a host on port 22 is looked up as `host`, any other port as `[host]:port` (so a plain `host`
//   entry only matches port 22, and `[host]:2222` only port 2222);
// - hashed entries `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` with name as above;
// - `@revoked` lines: that key is refused for the matching hosts, whatever other lines say;
// - `@cert-authority` lines are parsed (and validated) but ignored: ssh2 does not do host
//   certificates, so a plain host key is never accepted because of a CA line;
// - lines that cannot be parsed (bad marker, missing fields, bad base64, a blob whose type is not
//   the declared type, old SSH-1 `bits e n` keys, malformed hashes) are skipped and their line
//   numbers kept in `skippedLines`.
//
// Like OpenSSH we only look up the name we were given (the inventory address); there is no
// CheckHostIP-style second lookup by resolved IP.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { wildcardMatcher } from '../../wildcard.js';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import {
  HostKeyChangedError,
  RevokedHostKeyError,
  UnknownHostKeyError,
  hostKeyName,
  type KnownKeyLocation,
  type PresentedKey,
} from './host-key-errors.js';

// Callers get the host-key errors from here, with the checks that raise them.
export * from './host-key-errors.js';

/** 'SHA256:' + unpadded base64 of sha256(blob): what `ssh-keygen -lf` prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** The SSH wire-format type string at the start of a public key blob, e.g. 'ssh-ed25519'. */
export function keyTypeOf(keyBlob: Buffer): string {
  if (!Buffer.isBuffer(keyBlob) || keyBlob.length < 4) throw new Error('malformed SSH public key blob: too short');
  const len = keyBlob.readUInt32BE(0);
  if (len === 0 || len > 256 || 4 + len > keyBlob.length) throw new Error('malformed SSH public key blob: bad type length');
  const type = keyBlob.toString('latin1', 4, 4 + len);
  if (!/^[\x21-\x7e]+$/.test(type)) throw new Error('malformed SSH public key blob: type is not printable ASCII');
  return type;
}

export type HostKeyCheck =
  | { status: 'match' }
  | { status: 'unknown' }
  | { status: 'changed'; presented: PresentedKey; known: KnownKeyLocation[] }
  | { status: 'revoked'; presented: PresentedKey; file: string; line: number };

type Marker = 'none' | 'revoked' | 'cert-authority';

type HostMatcher =
  | { kind: 'patterns'; patterns: HostPattern[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer };

interface Entry {
  line: number;
  marker: Marker;
  hosts: HostMatcher;
  type: string;
  blob: Buffer;
}

/** ssh2's default order, used to append the types we do not know after the ones we do. */
const SSH2_DEFAULT_ORDER: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Host key algorithms ssh2 1.x can negotiate; anything else would make ssh2 throw. */
const SSH2_HOST_KEY_ALGORITHMS: ReadonlySet<string> = new Set<ServerHostKeyAlgorithm>([...SSH2_DEFAULT_ORDER, 'ssh-dss']);

export class KnownHosts {
  /** Absolute path of the known_hosts file. */
  readonly file: string;
  /** 1-based numbers of lines that could not be parsed and were ignored. */
  readonly skippedLines: number[];
  readonly #entries: Entry[];

  private constructor(file: string, entries: Entry[], skipped: number[]) {
    this.file = file;
    this.#entries = entries;
    this.skippedLines = skipped;
  }

  /** Reads and parses the file. A missing file is an empty known_hosts, not an error. */
  static async load(file: string): Promise<KnownHosts> {
    const abs = resolve(file);
    let text = '';
    try {
      text = await readFile(abs, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return KnownHosts.parse(text, abs);
  }

  /** Parses known_hosts text; `file` is only used in messages and by add(). */
  static parse(text: string, file: string): KnownHosts {
    const entries: Entry[] = [];
    const skipped: number[] = [];
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    lines.forEach((l, i) => {
      const r = parseLine(l, i + 1);
      if (r === 'blank') return;
      if (r === 'bad') skipped.push(i + 1);
      else entries.push(r);
    });
    return new KnownHosts(file, entries, skipped);
  }

  check(host: string, port: number, keyBlob: Buffer): HostKeyCheck {
    const name = lookupName(host, port);
    const type = keyTypeOf(keyBlob);
    const presented = { type, fingerprint: fingerprintSha256(keyBlob) };
    const forHost = this.#entries.filter((e) => e.marker !== 'cert-authority' && hostMatches(e.hosts, name));

    const revoked = forHost.find((e) => e.marker === 'revoked' && e.blob.equals(keyBlob));
    if (revoked) return { status: 'revoked', presented, file: this.file, line: revoked.line };

    const plain = forHost.filter((e) => e.marker === 'none');
    if (plain.some((e) => e.blob.equals(keyBlob))) return { status: 'match' };

    const sameType = plain.filter((e) => e.type === type);
    if (sameType.length > 0) {
      return {
        status: 'changed',
        presented,
        known: sameType.map((e) => ({ type: e.type, fingerprint: fingerprintSha256(e.blob), file: this.file, line: e.line })),
      };
    }
    return { status: 'unknown' };
  }

  /** Key types (as written, e.g. 'ssh-rsa') recorded for this host, in file order, no duplicates. */
  knownKeyTypes(host: string, port: number): string[] {
    const name = lookupName(host, port);
    const types: string[] = [];
    for (const e of this.#entries) {
      if (e.marker === 'none' && hostMatches(e.hosts, name) && !types.includes(e.type)) types.push(e.type);
    }
    return types;
  }

  /**
   * Key types already known for this host, in file order: feed to ssh2's
   * `algorithms.serverHostKey` so the server offers the key we know (as OpenSSH does). ssh-rsa is
   * expanded to ['rsa-sha2-512','rsa-sha2-256','ssh-rsa']; types ssh2 cannot negotiate are left
   * out (ssh2 throws on them). Empty when nothing usable is known: then leave ssh2's default.
   *
   * Used as the exact list, a man in the middle cannot make us negotiate a key type we have no
   * record of (which would come out as 'unknown', and be accepted with --accept-new-host-keys);
   * the price is that a host which dropped that key type fails negotiation instead.
   * See preferredKeyAlgorithms() for OpenSSH's exact behaviour (known types first, then the rest).
   */
  knownKeyAlgorithms(host: string, port: number): ServerHostKeyAlgorithm[] {
    const algos: ServerHostKeyAlgorithm[] = [];
    for (const t of this.knownKeyTypes(host, port)) {
      const expanded = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
      for (const a of expanded) {
        if (SSH2_HOST_KEY_ALGORITHMS.has(a) && !algos.includes(a as ServerHostKeyAlgorithm)) algos.push(a as ServerHostKeyAlgorithm);
      }
    }
    return algos;
  }

  /** OpenSSH's order: the known algorithms first, then ssh2's other defaults. */
  preferredKeyAlgorithms(host: string, port: number): ServerHostKeyAlgorithm[] {
    const known = this.knownKeyAlgorithms(host, port);
    return [...known, ...SSH2_DEFAULT_ORDER.filter((a) => !known.includes(a))];
  }

  /**
   * Appends `host-pattern type base64` to the file (pattern `host` for port 22, `[host]:port`
   * otherwise) and to the in-memory index. Calls are serialized per file within this process and
   * each line goes out in a single O_APPEND write, so concurrent adds never interleave. Creates
   * the file (mode 0600) and its directory (mode 0700) when missing.
   *
   * Does nothing if the key is already recorded for the host. Refuses (throws the matching
   * error) a key that is revoked for the host or that conflicts with a known key of the same
   * type: replacing a key is a person's decision (ssh-keygen -R), not something to automate.
   */
  add(host: string, port: number, keyBlob: Buffer): Promise<void> {
    let name: string;
    let type: string;
    try {
      name = lookupName(host, port); // validates host and port before queueing
      type = keyTypeOf(keyBlob);
    } catch (err) {
      return Promise.reject(err);
    }
    return serialize(this.file, async () => {
      const c = this.check(host, port, keyBlob);
      const presented = { type, fingerprint: fingerprintSha256(keyBlob) };
      if (c.status === 'match') return;
      if (c.status === 'revoked') throw new RevokedHostKeyError(host, port, presented, c.file, c.line);
      if (c.status === 'changed') throw new HostKeyChangedError(host, port, c.presented, c.known);

      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      // 'a+' = O_RDWR|O_CREAT|O_APPEND (read to number the line); mode applies only on creation.
      const fh = await open(this.file, 'a+', 0o600);
      try {
        const { size } = await fh.stat();
        let lineNo: number;
        let prefix = '';
        if (size === 0) {
          lineNo = 1;
        } else {
          // Number the new line from the file as it is now (another process may have written),
          // and start on a fresh line if the last one was left unterminated.
          const content = await fh.readFile();
          const newlines = countNewlines(content);
          if (content[content.length - 1] !== 0x0a) {
            prefix = '\n';
            lineNo = newlines + 2;
          } else {
            lineNo = newlines + 1;
          }
        }
        const line = `${name} ${type} ${keyBlob.toString('base64')}\n`;
        const buf = Buffer.from(prefix + line, 'utf8');
        const { bytesWritten } = await fh.write(buf, 0, buf.length);
        if (bytesWritten !== buf.length) throw new Error(`short write to ${this.file}`);
        await fh.sync();
        this.#entries.push({
          line: lineNo,
          marker: 'none',
          hosts: { kind: 'patterns', patterns: [hostPattern(name, false)] },
          type,
          blob: Buffer.from(keyBlob),
        });
      } finally {
        await fh.close();
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// ssh2 glue

export interface HostVerifier {
  /** Pass as ssh2's `hostVerifier` (do NOT set `hostHash`: this needs the raw key blob). */
  verify: (key: Buffer, callback: (ok: boolean) => void) => void;
  /** What the last check found, or undefined if the server never got that far. */
  outcome: () => HostKeyCheck | undefined;
  /** The error to report when the connection failed because of the host key, else undefined. */
  errorFor(): Error | undefined;
  /**
   * Records a newly accepted key (acceptNew && 'unknown') in known_hosts. Call it once the
   * connection is up (ssh2 'ready' / after node-ssh's connect() resolves). Resolves to true when a
   * key was written. It is deliberately not done inside verify(): ssh2 calls the verifier BEFORE
   * checking the server's signature, so at that point nothing proves the server holds the key.
   */
  commit(): Promise<boolean>;
}

/**
 * Builds an ssh2 `hostVerifier` for one host: checks the presented key, records the outcome for
 * the caller to turn into the right error (errorFor()), and accepts an unknown key only when
 * acceptNew is set (then commit() writes it to known_hosts after the handshake has proved it).
 */
export function makeHostVerifier(known: KnownHosts, host: string, port: number, acceptNew: boolean): HostVerifier {
  let last: HostKeyCheck | undefined;
  let presentedBlob: Buffer | undefined;
  let failure: Error | undefined;
  let error: Error | undefined;
  let pendingAdd: Buffer | undefined;

  const verify = (key: Buffer, callback: (ok: boolean) => void): void => {
    let ok = false;
    try {
      if (!Buffer.isBuffer(key)) throw new Error('hostVerifier got a hash, not a key: do not set ssh2 `hostHash`');
      const c = known.check(host, port, key);
      last = c;
      presentedBlob = Buffer.from(key);
      error = undefined;
      if (c.status === 'match') ok = true;
      else if (c.status === 'unknown' && acceptNew) {
        pendingAdd = presentedBlob;
        ok = true;
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
    }
    callback(ok);
  };

  const errorFor = (): Error | undefined => {
    if (failure) return failure;
    if (!last || !presentedBlob) return undefined;
    if (error) return error;
    const presented = { type: keyTypeOf(presentedBlob), fingerprint: fingerprintSha256(presentedBlob) };
    switch (last.status) {
      case 'match':
        return undefined;
      case 'unknown':
        if (acceptNew) return undefined;
        error = new UnknownHostKeyError(host, port, presented, known.file, known.knownKeyTypes(host, port));
        return error;
      case 'changed':
        error = new HostKeyChangedError(host, port, last.presented, last.known);
        return error;
      case 'revoked':
        error = new RevokedHostKeyError(host, port, last.presented, last.file, last.line);
        return error;
    }
  };

  const commit = async (): Promise<boolean> => {
    const blob = pendingAdd;
    if (!blob) return false;
    pendingAdd = undefined;
    await known.add(host, port, blob);
    return true;
  };

  return { verify, outcome: () => last, errorFor, commit };
}

// ---------------------------------------------------------------------------------------------
// Parsing and matching

function parseLine(text: string, lineNo: number): Entry | 'blank' | 'bad' {
  const l = text.replace(/\r$/, '').replace(/^[ \t]+/, '');
  if (l === '' || l.startsWith('#')) return 'blank';
  const fields = l.split(/[ \t]+/);
  let i = 0;
  let marker: Marker = 'none';
  if (fields[0]!.startsWith('@')) {
    if (fields[0] === '@revoked') marker = 'revoked';
    else if (fields[0] === '@cert-authority') marker = 'cert-authority';
    else return 'bad';
    i = 1;
  }
  const hostField = fields[i];
  const type = fields[i + 1];
  const b64 = fields[i + 2];
  if (!hostField || !type || !b64) return 'bad';
  // Old SSH-1 RSA keys are written `bits exponent modulus`: not supported, skipped.
  if (/^\d+$/.test(type)) return 'bad';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) return 'bad';
  const blob = Buffer.from(b64, 'base64');
  let blobType: string;
  try {
    blobType = keyTypeOf(blob);
  } catch {
    return 'bad';
  }
  if (blobType !== type) return 'bad';
  const hosts = parseHosts(hostField);
  if (!hosts) return 'bad';
  return { line: lineNo, marker, hosts, type, blob };
}

function parseHosts(field: string): HostMatcher | undefined {
  if (field.startsWith('|')) {
    // |1|salt|hash — the only hash format OpenSSH writes (HMAC-SHA1, 20-byte salt).
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1') return undefined;
    const salt = strictBase64(parts[2]!);
    const hash = strictBase64(parts[3]!);
    if (!salt || !hash || salt.length !== 20 || hash.length !== 20) return undefined;
    return { kind: 'hashed', salt, hash };
  }
  const patterns = field.split(',').map((p) => (p.startsWith('!') ? hostPattern(p.slice(1), true) : hostPattern(p, false)));
  return { kind: 'patterns', patterns };
}

function strictBase64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  return Buffer.from(s, 'base64');
}

/**
 * The name to look up: lower-cased `host`, or `[host]:port` off port 22. Also refuses hosts that
 * could never be a single known_hosts field (whitespace, commas, wildcards...), so add() cannot
 * be made to write a pattern or a second line.
 */
function lookupName(host: string, port: number): string {
  if (typeof host !== 'string' || !/^[A-Za-z0-9._:%-]+$/.test(host) || host.startsWith('-')) {
    throw new Error(`invalid host for known_hosts: ${JSON.stringify(host)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port: ${port}`);
  return hostKeyName(host.toLowerCase(), port);
}

function hostMatches(m: HostMatcher, name: string): boolean {
  if (m.kind === 'hashed') {
    const h = createHmac('sha1', m.salt).update(name).digest();
    return timingSafeEqual(h, m.hash);
  }
  // OpenSSH match_hostname(): a matching negated pattern vetoes the line.
  let positive = false;
  for (const p of m.patterns) {
    if (hostPatternMatches(p, name)) {
      if (p.negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** One pattern of a hostpatterns field, lower-cased; compiled the first time a lookup needs it. */
interface HostPattern {
  negated: boolean;
  glob: string;
  matcher?: (name: string) => boolean;
}

function hostPattern(glob: string, negated: boolean): HostPattern {
  return { negated, glob: glob.toLowerCase() };
}

/** OpenSSH match_pattern(): `*` any run of characters (none too), `?` exactly one, the rest literal. */
function hostPatternMatches(pattern: HostPattern, name: string): boolean {
  pattern.matcher ??= wildcardMatcher(pattern.glob, '*?');
  return pattern.matcher(name);
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) n++;
  return n;
}

const queues = new Map<string, Promise<unknown>>();

/** Runs fn after every earlier call for the same file has settled. */
function serialize<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(file) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

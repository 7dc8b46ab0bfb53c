// Errors for host key verification. Each one carries the data (host, port, fingerprints,
// known_hosts locations) as fields for programs, and a short message for people that says what
// happened and how to fix it, in the spirit of OpenSSH's warnings.
//
// These are refusals, never transient failures: the SSH connector must not retry them.


/** The key a server presented, as people compare it: type and SHA256 fingerprint. */
export interface PresentedKey {
  type: string;
  fingerprint: string;
}

/** A key already recorded for a host, with where it is written. Lines are 1-based. */
export interface KnownKeyLocation {
  type: string;
  fingerprint: string;
  file: string;
  line: number;
}

/** The name OpenSSH files a host under: `host` for port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * Shell-quotes a word for a command shown to people: bare when plainly safe, else single-quoted
 * (the `'` -> `'\''` rule), which reads better in a message than backslash escapes.
 */
function shownWord(s: string): string {
  return /^[A-Za-z0-9_\/.:,@%+=-]+$/.test(s) && !s.startsWith('-') ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Base class so callers can test `err instanceof HostKeyError` for "never retry". */
export class HostKeyError extends Error {
  readonly host: string;
  readonly port: number;
  readonly presented: PresentedKey;

  constructor(message: string, host: string, port: number, presented: PresentedKey) {
    super(message);
    this.name = new.target.name;
    this.host = host;
    this.port = port;
    this.presented = presented;
  }
}

/** The host presented a key of a type we know for it, but a different key. */
export class HostKeyChangedError extends HostKeyError {
  readonly known: KnownKeyLocation[];

  constructor(host: string, port: number, presented: PresentedKey, known: KnownKeyLocation[]) {
    const name = hostKeyName(host, port);
    const files = [...new Set(known.map((k) => k.file))];
    const lines = [
      `HOST KEY CHANGED for ${name}: refusing to connect (someone may be intercepting the connection, or the host was re-keyed).`,
      `  presented: ${presented.type} ${presented.fingerprint}`,
      ...known.map((k) => `  known:     ${k.type} ${k.fingerprint} (${k.file}:${k.line})`),
      `If the change is expected, check the new fingerprint out of band, then remove the old key with:`,
      ...files.map((f) => `  ssh-keygen -R ${shownWord(name)} -f ${shownWord(f)}`),
    ];
    super(lines.join('\n'), host, port, presented);
    this.known = known;
  }
}

/** No key of the presented type is recorded for the host, and accepting new keys is off. */
export class UnknownHostKeyError extends HostKeyError {
  readonly file: string;
  /** Key types that are recorded for this host (none of them the presented type). */
  readonly otherKnownTypes: string[];

  constructor(host: string, port: number, presented: PresentedKey, file: string, otherKnownTypes: string[] = []) {
    const name = hostKeyName(host, port);
    const portOpt = port === 22 ? '' : ` -p ${port}`;
    const lines = [
      `Host key for ${name} is not in ${file}: refusing to connect.`,
      `  presented: ${presented.type} ${presented.fingerprint}`,
    ];
    if (otherKnownTypes.length > 0) {
      lines.push(`  (keys of other types are known for this host: ${otherKnownTypes.join(', ')})`);
    }
    lines.push(
      `To trust it, check the fingerprint out of band, then either re-run with --accept-new-host-keys, or add it with:`,
      `  ssh-keyscan${portOpt} -t ${presented.type} ${shownWord(host)} >> ${shownWord(file)}`,
    );
    super(lines.join('\n'), host, port, presented);
    this.file = file;
    this.otherKnownTypes = otherKnownTypes;
  }
}

/** The presented key is marked `@revoked` for this host. */
export class RevokedHostKeyError extends HostKeyError {
  readonly file: string;
  readonly line: number;

  constructor(host: string, port: number, presented: PresentedKey, file: string, line: number) {
    const name = hostKeyName(host, port);
    const message = [
      `Host key for ${name} is REVOKED (@revoked at ${file}:${line}): refusing to connect.`,
      `  presented: ${presented.type} ${presented.fingerprint}`,
      `The host must be given a new key; a revoked key is never accepted.`,
    ].join('\n');
    super(message, host, port, presented);
    this.file = file;
    this.line = line;
  }
}

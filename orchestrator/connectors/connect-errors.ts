// Typed errors of the transport. Each carries what a person needs to act on it.

export type ConnectFailure =
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'reset'
  | 'dns'
  | 'auth'
  | 'host-key-changed'
  | 'host-key-unknown'
  | 'host-key-revoked'
  | 'protocol';

const RETRYABLE: ReadonlySet<ConnectFailure> = new Set(['refused', 'timeout', 'unreachable', 'reset', 'dns']);

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly host: string,
    readonly endpoint: string,
    readonly failure: ConnectFailure,
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get retryable(): boolean {
    return RETRYABLE.has(this.failure);
  }
}

export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
  constructor(readonly host: string, message = `connection to ${host} was lost`) {
    super(message);
  }
}

/** Sort a low-level error (socket or ssh2) into a failure kind. */
export function classifyConnectError(error: unknown): ConnectFailure {
  const err = error as { code?: string; level?: string; message?: string };
  switch (err?.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
  }
  if (err?.level === 'client-authentication') return 'auth';
  if (err?.level === 'client-timeout') return 'timeout';
  const message = err?.message ?? '';
  if (/timed out/i.test(message)) return 'timeout';
  if (/connection lost before handshake|socket hang up|ECONNRESET/i.test(message)) return 'reset';
  return 'protocol';
}

export function describeFailure(failure: ConnectFailure): string {
  switch (failure) {
    case 'refused':
      return 'connection refused (is sshd running on that address and port?)';
    case 'timeout':
      return 'connection timed out';
    case 'unreachable':
      return 'host unreachable';
    case 'reset':
      return 'connection reset during the handshake';
    case 'dns':
      return 'address could not be resolved';
    case 'auth':
      return 'authentication failed (no key or agent identity was accepted)';
    case 'host-key-changed':
      return 'host key changed';
    case 'host-key-unknown':
      return 'host key unknown';
    case 'host-key-revoked':
      return 'host key revoked';
    case 'protocol':
      return 'SSH protocol error';
  }
}

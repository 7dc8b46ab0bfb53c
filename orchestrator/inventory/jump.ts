// Jump host specs: "[user@]host[:port]" (or ssh://[user@]host[:port], or an inventory host
// name), and which of them name an inventory host, an outside host, or nothing known.

import { isIP } from 'node:net';

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

export type JumpTarget =
  /** An inventory host, optionally with the user or port replaced. */
  | ({ kind: 'inventory' } & JumpSpec)
  /** A host outside the inventory: an IP address, a dotted DNS name, localhost or an ssh config Host. */
  | ({ kind: 'external' } & JumpSpec)
  | { kind: 'unparseable' }
  /** A bare name that is neither an inventory host nor known to the ssh config. */
  | { kind: 'unknown'; host: string };

export const JUMP_EXPECTED =
  'an inventory host name, or [user@]host[:port] with an IP address, a dotted DNS name or a Host of your ssh config';

export function parseJumpSpec(text: string): JumpSpec | undefined {
  let rest = text.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!/^[^\s@:/]+$/.test(user)) return undefined;
  }
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
    if (isIP(host) !== 6) return undefined;
  } else if (isIP(rest) === 6) {
    host = rest;
  } else {
    const plain = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_])?)(?::(\d+))?$/.exec(rest);
    if (!plain) return undefined;
    host = plain[1]!;
    port = plain[2];
  }
  const spec: JumpSpec = { host };
  if (user !== undefined) spec.user = user;
  if (port !== undefined) {
    const number = Number(port);
    if (!Number.isInteger(number) || number < 1 || number > 65535) return undefined;
    spec.port = number;
  }
  return spec;
}

export function classifyJump(
  text: string,
  isInventoryHost: (name: string) => boolean,
  isSshConfigHost: (name: string) => boolean,
): JumpTarget {
  if (isInventoryHost(text)) return { kind: 'inventory', host: text };
  const spec = parseJumpSpec(text);
  if (!spec) return { kind: 'unparseable' };
  if (isInventoryHost(spec.host)) return { kind: 'inventory', ...spec };
  const { host } = spec;
  if (isIP(host) !== 0 || host.includes('.') || host === 'localhost' || isSshConfigHost(host)) {
    return { kind: 'external', ...spec };
  }
  return { kind: 'unknown', host };
}

// Inventory text shown to people. An inventory may hold anything (a binary file, a value
// written as "\e[2J"), and messages about it go to the operator's terminal: control
// characters are shown as escapes (\x1b, \n, \r, \t, \u202e) and never written as they are,
// and long values are cut.

import { INVENTORY_LIMITS } from './limits.js';
import type { ConnectionSettings } from './types.js';

/**
 * C0 and C1 controls, DEL, the line and paragraph separators, the bidirectional formatting
 * characters (which can make a terminal show text in another order) and the byte-order mark.
 */
const UNSAFE_CLASS = '[\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ufeff]';
const UNSAFE = new RegExp(UNSAFE_CLASS, 'g');
const UNSAFE_ONE = new RegExp(UNSAFE_CLASS);

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with every control character written as a visible escape. */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** True when the text has a character escapeControl would escape. */
export function hasControl(text: string): boolean {
  return UNSAFE_ONE.test(text);
}

/** The text cut to `max` characters (the full length said after it), escaped. */
export function clipText(text: string, max: number = INVENTORY_LIMITS.maxQuotedChars): string {
  if (text.length <= max) return escapeControl(text);
  return `${escapeControl(text.slice(0, max))}... (${text.length} characters)`;
}

/** How a host is reached, for people: `user@address:port via jump -> jump`, or `local (user on this machine)`. */
export function endpointText(connection: Pick<ConnectionSettings, 'transport' | 'user' | 'address' | 'port' | 'jump'>): string {
  const { transport, user, address, port, jump } = connection;
  if (transport === 'local') return `local (${user} on this machine)`;
  return `${user}@${address}:${port}${jump.length ? ` via ${jump.map((j) => j.label).join(' -> ')}` : ''}`;
}

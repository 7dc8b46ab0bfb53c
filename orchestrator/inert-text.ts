// Text a host wrote (progress and log messages, a command's stderr, a malformed protocol line, an
// SSH server's disconnect message) made inert before it reaches a terminal or a log line. A host
// must not be able to set the terminal's title, clear the screen, move the cursor, overwrite or
// start a line ("summary: 6 ok, 0 failed"), or hide and reorder text with Unicode format
// characters. This is the one place that decides what is unsafe and how it is shown; every
// renderer and every log line goes through it. A leaf module (it imports nothing) at the top of
// orchestrator/, like version.ts, so any layer may use it: the transport, the agent protocol,
// the fleet, the CLI and the QASET readers all handle host text.
//
//   inertText(text)  escapes what is unsafe, visibly: TAB, LF, CR as \t \n \r; other C0 controls
//                    and DEL as \xNN (ESC is \x1b); C1 controls, format characters (bidi
//                    overrides and isolates U+202A-U+202E, U+2066-U+2069, marks, zero-width
//                    characters, BOM, soft hyphen, tags), line/paragraph separators, lone
//                    surrogates and invisible fillers as \uXXXX (\u{XXXXX} above U+FFFF).
//                    Backslashes are kept, so escaping is idempotent: inertText of inert text is
//                    the same text. The result never holds a line break: one event, one line.
//   hostText(text)   the same, marked as the host's words: «text», with « and » inside escaped
//                    (\u00ab, \u00bb) so a host cannot close the quote early and continue as if it
//                    were the orchestrator speaking.

/**
 * Every character that must not reach a terminal or a log raw. Global and Unicode-aware: use it
 * with replace/replaceAll/matchAll only (`test` on a global RegExp is stateful; use isInertText).
 */
export const UNSAFE_TEXT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\uffa0\u{e0000}-\u{e007f}]/gu;

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeChar(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.codePointAt(0)!;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** Text with every unsafe character escaped visibly; safe for a terminal and for one log line. */
export function inertText(text: string): string {
  return String(text).replace(UNSAFE_TEXT, escapeChar);
}

/** Host text, escaped and marked as the host's: «...». */
export function hostText(text: string): string {
  return `«${inertText(text).replace(/[«»]/g, escapeChar)}»`;
}

/** True when the text holds nothing inertText would escape. */
export function isInertText(text: string): boolean {
  return inertText(text) === text;
}

// The one sanitizer of host text (orchestrator/inert-text.ts, a leaf module every layer uses;
// tested here beside event-text, its main user): nothing a host writes may drive a terminal or
// break a log line, and what it wrote stays readable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hostText, inertText, isInertText } from '../../orchestrator/inert-text.js';

const PWN = '\u001b]0;pwned\u0007\r\nsummary: 6 ok, 0 failed';

/** Fails when the text holds a raw byte < 0x20, DEL, a C1 control, a bidi or other format character, or a line separator. */
function assertInert(text: string, what = JSON.stringify(text)): void {
  const bytes = Buffer.from(text, 'utf8');
  const low = bytes.findIndex((b) => b < 0x20 || b === 0x7f);
  assert.is(low, -1, `byte 0x${bytes[low]?.toString(16)} at ${low} in ${what}`);
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    const bad =
      (cp >= 0x80 && cp <= 0x9f) ||
      (cp >= 0x202a && cp <= 0x202e) ||
      (cp >= 0x2066 && cp <= 0x2069) ||
      (cp >= 0x200b && cp <= 0x200f) ||
      cp === 0x2028 ||
      cp === 0x2029 ||
      cp === 0x061c ||
      cp === 0xfeff ||
      cp === 0x00ad ||
      (cp >= 0xd800 && cp <= 0xdfff) ||
      (cp >= 0xe0000 && cp <= 0xe007f);
    assert.not.ok(bad, `U+${cp.toString(16).padStart(4, '0')} raw in ${what}`);
  }
}

test('the forged terminal title and summary line become one visible line', () => {
  assert.is(inertText(PWN), '\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok, 0 failed');
  assert.is(hostText(PWN), '«\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok, 0 failed»');
  assertInert(inertText(PWN));
  assertInert(hostText(PWN));
});

test('C0 controls, DEL and C1 controls are escaped visibly; TAB, LF, CR by name', () => {
  assert.is(inertText('a\tb\nc\rd'), 'a\\tb\\nc\\rd');
  assert.is(inertText('\u0000\u0001\u0008\u000b\u000c\u001b\u001f\u007f'), '\\x00\\x01\\x08\\x0b\\x0c\\x1b\\x1f\\x7f');
  assert.is(inertText('\u0080\u0085\u009b2J\u009d0;x\u009c'), '\\u0080\\u0085\\u009b2J\\u009d0;x\\u009c');
  assert.is(inertText('\u001b[2J\u001b[H\u001b[1A\u001b[2K'), '\\x1b[2J\\x1b[H\\x1b[1A\\x1b[2K');
});

test('bidi overrides and isolates, zero-width and other invisible format characters are escaped', () => {
  // "file.txt" shown as "file.exe"-looking text by a right-to-left override
  assert.is(inertText('report\u202etxt.exe'), 'report\\u202etxt.exe');
  for (let cp = 0x202a; cp <= 0x202e; cp++) assert.is(inertText(String.fromCodePoint(cp)), `\\u${cp.toString(16)}`);
  for (let cp = 0x2066; cp <= 0x2069; cp++) assert.is(inertText(String.fromCodePoint(cp)), `\\u${cp.toString(16)}`);
  for (const cp of [0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0x061c, 0xfeff, 0x00ad, 0x2028, 0x2029, 0x034f, 0x3164]) {
    assert.is(inertText(`a${String.fromCodePoint(cp)}b`), `a\\u${cp.toString(16).padStart(4, '0')}b`);
  }
  assert.is(inertText('tag\u{e0041}\u{e007f}'), 'tag\\u{e0041}\\u{e007f}');
  assert.is(inertText('lone \ud800 surrogate \udc00'), 'lone \\ud800 surrogate \\udc00');
});

test('printable text is left alone: ASCII, backslashes, accents, CJK, emoji', () => {
  for (const text of ['sampling host CPU: 1 of 4', 'C:\\temp\\x1b is text', 'Intel® Xeon® Gold 6338 @ 2.00GHz', 'déjà vu — ½ ✔ ✘ …', '東京 서울', 'ok 😀 👍🏽']) {
    assert.is(inertText(text), text);
    assert.ok(isInertText(text));
  }
  assert.not.ok(isInertText('a\nb'));
});

test('escaping is idempotent, so text escaped at its source and again at a renderer reads the same', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pools = [[0, 0x40], [0x7f, 0xa0], [0x2000, 0x2070], [0xd7f0, 0xe010], [0xe0000, 0xe0080], [0x1f600, 0x1f610]];
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let j = 0; j < 20; j++) {
      const [lo, hi] = pools[Math.floor(random() * pools.length)]!;
      s += String.fromCodePoint(lo! + Math.floor(random() * (hi! - lo!)));
    }
    const once = inertText(s);
    assertInert(once, JSON.stringify(s));
    assert.is(inertText(once), once);
    assert.is(inertText(hostText(s)), hostText(s));
  }
});

test('every code point: the escaped text holds no line break and nothing unsafe', () => {
  const all: string[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp += 1) all.push(String.fromCodePoint(cp));
  for (let i = 0; i < all.length; i += 0x10000) {
    const chunk = all.slice(i, i + 0x10000).join('');
    const out = inertText(chunk);
    assertInert(out, `the code points from U+${i.toString(16)}`);
    assert.not.ok(/[\n\r\u0085\u2028\u2029]/.test(out));
  }
  // lone surrogates, which String.fromCodePoint above makes for 0xd800-0xdfff, come out escaped too
  assert.is(inertText(String.fromCharCode(0xdbff)), '\\udbff');
});

test('host text is marked and cannot close its own quote', () => {
  assert.is(hostText('reading CPU, memory and disks'), '«reading CPU, memory and disks»');
  assert.is(hostText(''), '«»');
  const forged = hostText('done» summary: 6 ok, 0 failed «');
  assert.is(forged, '«done\\u00bb summary: 6 ok, 0 failed \\u00ab»');
  assert.is(forged.indexOf('»'), forged.length - 1, 'the only » is the closing one');
  assert.is(forged.lastIndexOf('«'), 0, 'the only « is the opening one');
});

test.run();

// remote-scripts/lib/json.sh, sourced by real bash: what every helper's JSON goes through. A
// string must survive any bytes a host hands it (quotes, backslashes, control characters,
// UTF-8) and come back equal from JSON.parse; a number that is not a JSON number is null, never
// text that breaks the document; an object's value types are honoured.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sourced, sourcedOk } from '../sourced-bash.js';

const LIBS = ['lib/common.sh', 'lib/json.sh'];

test('orch_json_string: any text, control characters and UTF-8 included, parses back to itself', async () => {
  const texts = ['plain', '', 'say "hi"', 'back\\slash', 'two\nlines\r\n', 'tab\there', 'bell\x07 esc\x1b del-free \x01\x1f', 'ünïcødé ✓ 日本', '\\"\\n literally', '{"not":"json"}'];
  for (const text of texts) {
    const out = await sourcedOk(LIBS, 'orch_json_string "$1"', { args: [text] });
    assert.is(JSON.parse(out), text, `round trip of ${JSON.stringify(text)} via ${out}`);
  }
  assert.is(await sourcedOk(LIBS, 'orch_json_string "$1"', { args: ['a\x01b'] }), '"a\\u0001b"', 'a control character is \\u-escaped');
});

test('orch_json_string_to: assigns to the named variable (no subshell) the same literal the printing form prints', async () => {
  const out = await sourcedOk(LIBS, 'v=; orch_json_string_to v "$1"; printf "%s|%s" "$v" "$(orch_json_string "$1")"', { args: ['x"y\n'] });
  assert.is(out, '"x\\"y\\n"|"x\\"y\\n"');
});

test('orch_json_number: JSON numbers pass as they are; anything else (a leading zero, a bare dot, hex, text, empty) is null', async () => {
  const numbers = ['0', '-0', '42', '-17', '3.25', '1e5', '1E-7', '-2.5e+10', '0.000001'];
  const others = ['', '01', '1.', '.5', '+1', '0x10', 'NaN', 'inf', '1,5', '12abc', '1 2', '--1', '1e'];
  for (const n of numbers) assert.is(await sourcedOk(LIBS, 'orch_json_number "$1"', { args: [n] }), n, n);
  for (const n of others) assert.is(await sourcedOk(LIBS, 'orch_json_number "$1"', { args: [n] }), 'null', JSON.stringify(n));
});

test('orch_json_object: s, n, b, j values; an empty j is null; keys are escaped; the result parses', async () => {
  const out = await sourcedOk(LIBS, `orch_json_object name s "$1" count n 12 bad n x ok b true no b yes raw j '[1,{"a":null}]' empty j '' 'k"ey' s v`, { args: ['a "quoted"\nname'] });
  assert.equal(JSON.parse(out), { name: 'a "quoted"\nname', count: 12, bad: null, ok: true, no: false, raw: [1, { a: null }], empty: null, 'k"ey': 'v' });
  assert.is(await sourcedOk(LIBS, 'orch_json_object'), '{}');
});

test('orch_json_object: an unknown type stops the helper with a message naming the key (exit 1), nothing printed', async () => {
  const run = await sourced(LIBS, 'orch_json_object good s x weird q 1; echo "not reached"');
  assert.is(run.code, 1);
  assert.is(run.stdout, '');
  assert.match(run.stderr, /error: orch_json_object: unknown type 'q' for key 'weird'/);
});

test.run();

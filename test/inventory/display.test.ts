// No inventory can write to the operator's terminal through a message about it: a binary
// file is refused as "not a text (YAML) file" without quoting it, raw control characters in
// a text file are refused with their position, and values holding control characters (written
// as escapes in double-quoted strings) are quoted with visible escapes, cut when long.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointText, escapeControl } from '../../orchestrator/inventory/display.js';
import { InventoryError, formatIssue } from '../../orchestrator/inventory/errors.js';
import { runCli } from '../e2e/cli-helpers.js';
import { assertIssues, issuesOf, load } from './helpers.js';

const ESC = '\x1b';
let dir: string;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-display-'));
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Buffer): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, content);
  return file;
}

/** No C0/C1 control character but newline, anywhere in the text. */
function assertNoControl(text: string): void {
  const found = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.exec(text);
  assert.is(found, null, `control character ${JSON.stringify(found?.[0])} at ${found?.index} in ${JSON.stringify(text.slice(0, 300))}`);
}

test('escapeControl shows control characters as escapes and leaves the rest alone', () => {
  assert.is(escapeControl(`a${ESC}[31mred\r\n\ttab\u0007\u009b\u202e!`), 'a\\x1b[31mred\\r\\n\\ttab\\x07\\x9b\\u202e!');
  assert.is(escapeControl('plain: état, ü, 日本, \\x1b as text'), 'plain: état, ü, 日本, \\x1b as text');
});

test('formatIssue and InventoryError escape whatever they quote: file, message, expected', () => {
  const issue = { file: `lab${ESC}.yaml`, line: 2, column: 3, message: `bad '${ESC}[2J'`, expected: `not \r this` };
  assert.is(formatIssue(issue), "lab\\x1b.yaml:2:3: bad '\\x1b[2J' (expected: not \\r this)");
  const error = new InventoryError([issue]);
  assertNoControl(error.message);
  assert.is(error.issues[0]!.message, "bad '\\x1b[2J'");
});

test('a binary file (NUL bytes) is "not a text (YAML) file", its bytes never quoted', async () => {
  const bytes = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0x9b, 0x07]);
  const file = await write('archive.yaml.gz', bytes);
  const issues = await issuesOf(file);
  assert.equal(issues, [
    { file, line: 1, column: 1, message: 'not a text (YAML) file: it has NUL bytes (the first at byte 3); is it a binary file?', expected: 'a UTF-8 text YAML file' },
  ]);
});

test('a file that is not UTF-8 is "not a text (YAML) file"', async () => {
  const file = await write('latin1.yaml', Buffer.from('hosts:\n  caf\xe9: {}\n', 'latin1'));
  assertIssues(await issuesOf(file), [{ line: 1, column: 1, message: 'not a text (YAML) file: it is not valid UTF-8; is it a binary file?' }]);
});

test('a UTF-16 file is refused with the advice to save it as UTF-8', async () => {
  const file = await write('utf16.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hosts:\n  mm1: {}\n', 'utf16le')]));
  assertIssues(await issuesOf(file), [{ line: 1, column: 1, message: 'it starts with a UTF-16 byte-order mark; save it as UTF-8' }]);
});

test('raw control characters (a terminal log saved as YAML) are refused at the first one, shown escaped', async () => {
  const file = await write('ansi.yaml', `ssh_config: none\nhosts:\n  mm1:\n    user: ${ESC}[31mroot${ESC}[0m\n  ${ESC}]0;pwned\u0007: {}\n`);
  const issues = await issuesOf(file);
  assertIssues(issues, [
    {
      line: 4,
      column: 11,
      message: 'not a text (YAML) file: it has 4 control characters, which YAML does not allow (the first, \\x1b, here); is it a binary file or a terminal log?',
      expected: 'a control character in a value is written as an escape in a double-quoted string',
    },
  ]);
  assertNoControl(JSON.stringify(issues).replace(/\\n/g, ''));
});

test('values and keys holding control characters (written as YAML escapes) are quoted with visible escapes', async () => {
  const file = await write(
    'escapes.yaml',
    [
      'ssh_config: none',
      'hosts:',
      '  mm1:',
      '    user: "\\e[31mroot"',
      '    port: "\\e[2J"',
      '    "\\e]0;pwned\\a": 1',
      '    roles: ["\\r\\nmidolman"]',
      '',
    ].join('\n'),
  );
  const issues = await issuesOf(file);
  assertIssues(issues, [
    { line: 4, column: 11, message: "hosts.mm1.user: '\\x1b[31mroot' has spaces or control characters" },
    { line: 5, column: 11, message: "hosts.mm1.port: wrong type, got the string '\\x1b[2J'" },
    { line: 6, column: 5, message: "unknown key '\\x1b]0;pwned\\x07' in hosts.mm1" },
    { line: 7, column: 13, message: "hosts.mm1.roles[0]: '\\r\\nmidolman' is not allowed" },
  ]);
  for (const issue of issues) assertNoControl(`${issue.message} ${issue.expected ?? ''}`);
});

test('a long value is cut in the message, with its length', async () => {
  const file = await write('long.yaml', `ssh_config: none\nhosts:\n  mm1:\n    port: "${'9'.repeat(5000)}"\n`);
  const [issue] = await issuesOf(file);
  assert.is(issue!.message, `hosts.mm1.port: wrong type, got the string '${'9'.repeat(120)}... (5000 characters)'`);
});

test('an address or user with spaces or control characters is refused (it would reach --plan and the progress lines)', async () => {
  const file = await write('address.yaml', 'ssh_config: none\nhosts:\n  mm1: {address: "10.0.0.1 -oProxyCommand=x", user: "a\\tb"}\n');
  assertIssues(await issuesOf(file), [
    { line: 3, column: 18, message: "hosts.mm1.address: '10.0.0.1 -oProxyCommand=x' has spaces or control characters", expected: 'a host name or IP address' },
    { line: 3, column: 53, message: "hosts.mm1.user: 'a\\tb' has spaces or control characters", expected: 'a user name' },
  ]);
});

test('the CLI writes no control byte to stderr for a binary, an ANSI-laden or an escape-laden inventory', async () => {
  const files = [
    await write('cli-binary.yaml', Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x07, 0x9b, 0x31, 0x6d])),
    await write('cli-ansi.yaml', `hosts:\n  ${ESC}[2J${ESC}[31mmm1: {}\n`),
    await write('cli-escapes.yaml', 'ssh_config: none\nhosts:\n  mm1: {user: "\\e[2J\\e[31m", port: "\\e]0;x\\a"}\n'),
  ];
  for (const file of files) {
    const { code, stdout, stderr } = await runCli(['--inventory', file, '--plan']);
    assert.is(code, 2, `${file}: ${stderr}`);
    assert.is(stdout, '');
    assert.ok(stderr.includes('nothing was contacted'), stderr);
    assert.not.ok(stderr.includes(ESC), `raw ESC in stderr for ${file}: ${JSON.stringify(stderr)}`);
    assertNoControl(stderr.replace(/\n/g, ''));
  }
});

test('a valid inventory whose values hold no control characters loads unchanged', async () => {
  const inventory = await load(await write('fine.yaml', 'ssh_config: none\nhosts:\n  mm1: {address: 10.0.0.1, user: perf, vars: {GREETING: "é\\tok"}}\n'));
  assert.is(inventory.hosts[0]!.vars.GREETING, 'é\tok');
});

test('a host is shown as user@address:port with its jump hosts, or as this machine when local', () => {
  const hop = (label: string) => ({ label }) as never;
  assert.is(endpointText({ user: 'perf', address: '10.0.0.1', port: 22, jump: [] }), 'perf@10.0.0.1:22');
  assert.is(endpointText({ transport: 'ssh', user: 'perf', address: 'mm1', port: 2222, jump: [hop('bastion'), hop('inner')] }), 'perf@mm1:2222 via bastion -> inner');
  assert.is(endpointText({ transport: 'local', user: 'root', address: 'localhost', port: 0, jump: [] }), 'local (root on this machine)');
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHostText } from '../../orchestrator/qaset/host-text.js';
import { hostText } from '../../orchestrator/inert-text.js';

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  const err = await p.then(() => null, (e: unknown) => e as Error);
  assert.ok(err, `expected a rejection matching ${re}`);
  assert.match(err!.message, re);
}

test('a host file is read only when it is a small regular file: absent is null, links, fifos and big files are refused', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'qaset-hosttext-'));
  await fsp.writeFile(path.join(dir, 'ok'), ' sysbench_sys\n');
  assert.is(await readHostText(path.join(dir, 'ok')), ' sysbench_sys\n');
  assert.is(await readHostText(path.join(dir, 'absent')), null);
  await fsp.symlink(path.join(dir, 'ok'), path.join(dir, 'link'));
  await rejectsWith(readHostText(path.join(dir, 'link')), /is a symbolic link/);
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  await rejectsWith(readHostText(path.join(dir, 'fifo')), /not a regular file/);
  await fsp.writeFile(path.join(dir, 'big'), 'x'.repeat(2000));
  await rejectsWith(readHostText(path.join(dir, 'big'), 1000), /2000 bytes, more than the 1000-byte limit/);
  await fsp.rm(dir, { recursive: true, force: true });
});

test("the reader keeps the host's text as it is; showing it is the sanitizer's job", async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'qaset-hosttext-'));
  const raw = 'sysbench_sys\u001b]0;pwned\u0007\r\nsummary: 6 ok\u202e\n';
  await fsp.writeFile(path.join(dir, 'list.failed'), raw);
  const text = await readHostText(path.join(dir, 'list.failed'));
  assert.is(text, raw, 'parsers see exactly what the host wrote');
  assert.is(hostText(text!), '«sysbench_sys\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok\\u202e\\n»');
  await fsp.rm(dir, { recursive: true, force: true });
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { readHostText } from '../../orchestrator/qaset/host-text.js';

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

test.run();

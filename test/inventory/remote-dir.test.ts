// remote_dir is a directory of the orchestrator's own on the host (it keeps and prunes
// bundles/, jobs/, files/ and cache/ there): inside the login directory when relative, outside
// the system directories when absolute; a refused one is reported where it is written.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { remoteDirProblem } from '../../orchestrator/inventory/remote-dir.js';
import { assertIssues, issuesOf, load } from './helpers.js';

const ACCEPTED = [
  '.orchestrate',
  'perf/orchestrate',
  'a/../b',
  './x',
  '~/.orchestrate',
  'dir with spaces',
  '/tmp/x',
  '/opt/x',
  '/srv/x',
  '/home/u/x',
  '/root/.orchestrate',
  '/var/tmp/x',
  '/var/lib/orchestrate',
  '/data/orchestrate',
  '/tmp/../opt/x',
];

const REFUSED: [string, string][] = [
  ['/', 'is the root directory'],
  ['//', 'is the root directory'],
  ['/..', 'is the root directory'],
  ['../../etc', 'leads out of the login directory (through ..)'],
  ['..', 'leads out of the login directory'],
  ['a/../../b', 'leads out of the login directory'],
  ['~/../x', 'leads out of the login directory'],
  ['.', 'is the login directory itself'],
  ['~', 'is the login directory itself'],
  ['a/..', 'is the login directory itself'],
  ['/etc', 'is a system directory'],
  ['/etc/orchestrate', 'is inside the system directory /etc'],
  ['/usr/local/x', 'is inside the system directory /usr'],
  ['/bin/x', 'is inside the system directory /bin'],
  ['/sbin', 'is a system directory'],
  ['/lib64/x', 'is inside the system directory /lib64'],
  ['/boot/x', 'is inside the system directory /boot'],
  ['/dev/shm/x', 'is inside the system directory /dev'],
  ['/proc/self', 'is inside the system directory /proc'],
  ['/sys/x', 'is inside the system directory /sys'],
  ['/run/x', 'is inside the system directory /run'],
  ['/var/run/x', 'is inside the system directory /var/run'],
  ['/var', 'is the system directory /var itself'],
  ['/var/log', 'is the system directory /var/log itself'],
  ['/var/tmp', 'is the system directory /var/tmp itself'],
  ['/opt/../etc/x', 'is inside the system directory /etc'],
  ['/tmp', 'is the top-level directory /tmp itself'],
  ['/root', 'is the top-level directory /root itself'],
  ['/home', 'is the top-level directory /home itself'],
  ['/home/u', 'is the home directory /home/u itself'],
  ['~bob/x', 'starts with ~user'],
  ['', 'is empty'],
  ['  ', 'is empty'],
  [' x', 'starts or ends with spaces'],
  ['x\u001b[2J', 'has control characters'],
];

for (const value of ACCEPTED) {
  test(`remote_dir ${JSON.stringify(value)} is accepted`, () => {
    assert.is(remoteDirProblem(value), undefined);
  });
}

for (const [value, why] of REFUSED) {
  test(`remote_dir ${JSON.stringify(value)} is refused: ${why}`, () => {
    const problem = remoteDirProblem(value);
    assert.ok(problem, `${JSON.stringify(value)} was accepted`);
    assert.ok(problem!.message.startsWith(why), problem!.message);
  });
}

test('refused remote_dir values are reported at the value, in whichever layer, with what is expected', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inventory-remote-dir-'));
  try {
    const file = join(dir, 'lab.yaml');
    await writeFile(
      file,
      ['ssh_config: none', 'defaults:', '  remote_dir: /', 'groups:', '  lab:', '    hosts: [mm1]', '    vars: {remote_dir: ../../etc}', 'hosts:', '  mm1:', '    remote_dir: /etc/orchestrate', '  mm2: {remote_dir: /var/tmp/perf}', ''].join('\n'),
    );
    assertIssues(await issuesOf(file), [
      { line: 3, column: 15, message: "defaults.remote_dir: '/' is the root directory", expected: 'relative to the login directory and inside it' },
      { line: 7, column: 24, message: "groups.lab.vars.remote_dir: '../../etc' leads out of the login directory (through ..)", expected: 'an absolute path outside the system directories' },
      { line: 10, column: 17, message: "hosts.mm1.remote_dir: '/etc/orchestrate' is inside the system directory /etc" },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an accepted remote_dir reaches the host spec as written', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'inventory-remote-dir-'));
  try {
    const file = join(dir, 'lab.yaml');
    await writeFile(file, 'ssh_config: none\nhosts:\n  mm1: {remote_dir: /var/tmp/perf}\n  mm2: {}\n');
    const inventory = await load(file);
    assert.equal(inventory.hosts.map((host) => host.remoteDir), ['/var/tmp/perf', '.orchestrate']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();

// Job files put on a real lab host (sshd on loopback, subnet 151) once per content hash: the first
// push sends the bytes, the second sends nothing, the host's copy is byte for byte the local file
// (sha256 checked on the host before the rename), and a file that changes while it is sent is
// refused, leaving nothing under its final name. A 64 MiB file is streamed: the test process'
// memory stays far below the file's size.
import { suite } from 'uvu';
import { execa } from 'execa';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { KnownHosts } from '../../orchestrator/connectors/ssh/known-hosts.js';
import { SshConnector } from '../../orchestrator/connectors/ssh/ssh-connector.js';
import { remoteLayout } from '../../orchestrator/remote/layout.js';
import { fileSha256, JobFileError, jobFilesEnv, pushJobFiles, putFile } from '../../orchestrator/remote/push-job-files.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const t = suite('job files on a host once per content hash');
const test = guardedSuite(t, await missingRequirement(needsRoot), 'the job files tests');
let lab: Lab | undefined;
let work = '';
let connector: SshConnector;

t.before(async () => {
  if (process.getuid?.() !== 0) return;
  work = await mkdtemp(join(tmpdir(), 'job-files-'));
  lab = await labUp({ subnet: 151, hosts: 1, dir: join(work, 'lab'), reports: false });
  const h = lab.hosts[0]!;
  connector = new SshConnector(h.name, { address: h.address, port: h.port, user: 'root', identityFiles: [lab.clientKey], jump: [], connectTimeoutMs: 5000, keepaliveIntervalMs: 5000, retries: 0 }, { knownHosts: await KnownHosts.load(lab.knownHostsFile), acceptNew: false });
  await connector.connect();
});
t.after(async () => {
  await connector?.close();
  await lab?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('first push sends the file, a second push sends nothing; the host holds the same bytes under files/<sha256>/', async () => {
  const layout = remoteLayout('.orchestrate');
  const deb = join(work, 'midolman_2.0.0-lab1_all.deb');
  const bytes = randomBytes(300_000);
  await writeFile(deb, bytes);
  const conf = join(work, 'midolman.conf');
  await writeFile(conf, '[standin]\npps = 800\n');
  const files = [
    { local: deb, label: 'build' },
    { local: conf, label: 'config:midolman.conf' },
  ];
  const first = await pushJobFiles(connector, layout, files);
  assert.equal(first.map((f) => f.uploaded), [true, true]);
  assert.is(first[0]!.sha256, sha(bytes));
  assert.is(first[0]!.remote, `.orchestrate/files/${sha(bytes)}/midolman_2.0.0-lab1_all.deb`);
  // The lab host's HOME is on this machine: the file is there, whole, under its final name only.
  const onHost = join(lab!.hosts[0]!.home, first[0]!.remote);
  assert.is(sha(await readFile(onHost)), sha(bytes));
  assert.equal(readdirSync(join(onHost, '..')), ['midolman_2.0.0-lab1_all.deb']);
  assert.is(jobFilesEnv(first), `build\t${first[0]!.remote}\nconfig:midolman.conf\t${first[1]!.remote}`);

  const second = await pushJobFiles(connector, layout, files);
  assert.equal(second.map((f) => f.uploaded), [false, false]);
  assert.equal(second.map((f) => f.remote), first.map((f) => f.remote));
});

test('content unused on the host for 30 days is removed by the next push; content in use is kept', async () => {
  const files = join(lab!.hosts[0]!.home, '.orchestrate/files');
  const old = join(files, 'a'.repeat(64));
  const recent = join(files, 'b'.repeat(64));
  for (const d of [old, recent]) {
    await execa('mkdir', ['-p', d]);
    await writeFile(join(d, 'x.deb'), 'x');
  }
  await execa('touch', ['-d', '31 days ago', old]);
  await execa('touch', ['-d', '29 days ago', recent]);
  const deb = join(work, 'keep_1.0_all.deb');
  await writeFile(deb, 'keep me');
  await pushJobFiles(connector, remoteLayout('.orchestrate'), [{ local: deb, label: 'build' }]);
  assert.not.ok(existsSync(old), 'unused for 31 days: removed');
  assert.ok(existsSync(recent), 'unused for 29 days: kept');
  assert.ok(existsSync(join(files, sha(Buffer.from('keep me')), 'keep_1.0_all.deb')));
});

test('a 64 MiB file is streamed from disk, not held in memory', async () => {
  const big = join(work, 'big_1.0_all.deb');
  const handle = await open(big, 'w');
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < 64; i++) await handle.write(chunk);
  await handle.close();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const [pushed] = await pushJobFiles(connector, remoteLayout('.orchestrate'), [{ local: big, label: 'build' }]);
    assert.ok(pushed!.uploaded);
    assert.is(pushed!.bytes, 64 << 20);
    assert.is(pushed!.sha256, (await fileSha256(big)).sha256);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(peak - before < 48 << 20, `memory grew by ${((peak - before) / 1048576).toFixed(1)} MiB while sending 64 MiB`);
});

test('bytes that do not match the hash (a file changed after it was hashed) are refused by the host, nothing left behind', async () => {
  const layout = remoteLayout('.orchestrate');
  const deb = join(work, 'changing_1.0_all.deb');
  await writeFile(deb, 'version one');
  const stale = sha(Buffer.from('version zero'));
  try {
    await putFile(connector, layout, deb, stale);
    assert.unreachable('the host accepted bytes that do not match the hash');
  } catch (error) {
    assert.instance(error, JobFileError);
    assert.match((error as Error).message, new RegExp(`not ${stale}: the file changed after it was hashed`));
  }
  const dir = join(lab!.hosts[0]!.home, '.orchestrate/files', stale);
  assert.equal(existsSync(dir) ? readdirSync(dir) : [], [], 'no file, not even a partial one');
});

test('a file that is not there is an error naming it', async () => {
  try {
    await pushJobFiles(connector, remoteLayout('.orchestrate'), [{ local: join(work, 'missing.deb'), label: 'build' }]);
    assert.unreachable('pushed a missing file');
  } catch (error) {
    assert.instance(error, JobFileError);
    assert.match((error as Error).message, /missing\.deb/);
  }
});

t.run();

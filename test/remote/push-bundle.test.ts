// The helper bundle on a real lab host (sshd on loopback, subnet 46): installed once per hash, and a
// cached copy is verified before every use. A copy edited, extended, chmod-ed, retyped or trimmed on
// the host is caught, set aside unused and reinstalled byte for byte, with a warning that names the
// host and the first differing file. An install that fails, unpacks wrong bytes or is interrupted
// leaves no `<hash>.partial.<pid>`; one killed outright leaves one that the next push removes (its
// PID is dead), while a live installer's partial is left alone.
import { entryListing } from '../support/file-tree.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { labUp, type Lab } from '../lab/lab.js';
import { KnownHosts } from '../../orchestrator/connectors/ssh/known-hosts.js';
import { SshConnector } from '../../orchestrator/connectors/ssh/ssh-connector.js';
import { buildHelperBundle, type HelperBundle } from '../../orchestrator/bundle/build-bundle.js';
import { remoteLayout } from '../../orchestrator/remote/layout.js';
import { BundlePushError, bundleListing, ENSURE_BUNDLE_FILE, firstDifference, pushBundle, TAR_RECORD_BYTES, wireTar } from '../../orchestrator/remote/push-bundle.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const run = promisify(execFile);
const t = suite('the helper bundle on a host: verified before use, no partial left behind');
const test = guardedSuite(t, await missingRequirement(needsRoot), 'the helper bundle lab tests');
const local = suite('the helper bundle check, on this machine');
let lab: Lab | undefined;
let work = '';
let connector: SshConnector;
let bundle: HelperBundle;
let genuine = ''; // the bundle unpacked on this machine

const layout = remoteLayout('.orchestrate');
const host = () => lab!.hosts[0]!;
const bundlesDir = () => join(host().home, '.orchestrate/bundles');
const bundleDir = () => join(bundlesDir(), bundle.hash);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.before(async () => {
  if (process.getuid?.() !== 0) return;
  work = await fsp.mkdtemp(join(tmpdir(), 'push-bundle-'));
  const repo = join(work, 'repo');
  await fsp.mkdir(join(repo, 'remote-scripts/lib'), { recursive: true });
  await fsp.mkdir(join(repo, 'topologies'), { recursive: true });
  await fsp.writeFile(join(repo, 'remote-scripts/orchestrate-agent'), '#!/bin/bash\necho genuine agent\n', { mode: 0o755 });
  await fsp.writeFile(join(repo, 'remote-scripts/lib/common.sh'), 'log() { echo "$@"; }\n', { mode: 0o644 });
  // Big enough that an install takes more than one pipe buffer of gzip output.
  await fsp.writeFile(join(repo, 'remote-scripts/lib/big.sh'), Array.from({ length: 20_000 }, (_, i) => `# line ${i} ${sha(Buffer.from(String(i)))}`).join('\n'), { mode: 0o644 });
  await fsp.writeFile(join(repo, 'topologies/basic.sh'), 'setup_topology() { :; }\n', { mode: 0o644 });
  bundle = await buildHelperBundle([
    { dir: join(repo, 'remote-scripts'), prefix: 'remote-scripts' },
    { dir: join(repo, 'topologies'), prefix: 'topologies' },
  ]);
  genuine = join(work, 'genuine');
  await fsp.mkdir(genuine);
  await fsp.writeFile(join(work, 'bundle.tgz'), bundle.bytes);
  await run('tar', ['-xzf', join(work, 'bundle.tgz'), '-C', genuine]);

  lab = await labUp({ subnet: 46, hosts: 1, dir: join(work, 'lab'), reports: false });
  const h = host();
  connector = new SshConnector(h.name, { address: h.address, port: h.port, user: 'root', identityFiles: [lab.clientKey], jump: [], connectTimeoutMs: 5000, keepaliveIntervalMs: 5000, retries: 0 }, { knownHosts: await KnownHosts.load(lab.knownHostsFile), acceptNew: false });
  await connector.connect();
});
t.after(async () => {
  await connector?.close();
  await lab?.down();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});
t.before.each(async () => {
  if (!lab) return;
  await lab.shadowTools(host().name, null);
  await fsp.rm(join(host().home, '.orchestrate'), { recursive: true, force: true });
});


/** The host's copy is the bundle exactly: same paths, types, modes and bytes (plus the install's marker). */
async function assertGenuineOnHost(): Promise<void> {
  const want = await entryListing(genuine);
  want.set('.complete', `file 644 ${sha(Buffer.alloc(0))}`);
  assert.equal(Object.fromEntries(await entryListing(bundleDir())), Object.fromEntries(want));
  assert.is((await fsp.stat(bundleDir())).mode & 0o7777, 0o755);
}

/** What is in the bundles directory besides the installed hashes: partial or set-aside copies. */
async function leftovers(): Promise<string[]> {
  if (!existsSync(bundlesDir())) return [];
  return (await fsp.readdir(bundlesDir())).filter((n) => /\.(partial|stale)\./.test(n));
}

async function install(): Promise<void> {
  const first = await pushBundle(connector, layout, bundle);
  assert.equal(first, { uploaded: true, bytes: wireTar(bundle.bytes).length });
  await assertGenuineOnHost();
}

/** Tampers with the installed copy, pushes again and checks the copy was caught and put right. */
async function assertRepaired(tamper: (dir: string) => Promise<void>, file: string, problem: RegExp): Promise<void> {
  await install();
  await tamper(bundleDir());
  const pushed = await pushBundle(connector, layout, bundle);
  assert.ok(pushed.uploaded, 'the tampered copy was not used: the bundle was sent again');
  assert.is(pushed.bytes, wireTar(bundle.bytes).length);
  assert.ok(pushed.repaired, 'the repair is reported');
  assert.is(pushed.repaired!.file, file);
  assert.match(pushed.repaired!.problem, problem);
  assert.ok(pushed.repaired!.message.startsWith(`${host().name}: `), `names the host: ${pushed.repaired!.message}`);
  assert.ok(pushed.repaired!.message.includes(bundle.hash), 'names the bundle');
  assert.ok(pushed.repaired!.message.includes(file), `names the file: ${pushed.repaired!.message}`);
  await assertGenuineOnHost();
  assert.equal(await leftovers(), [], 'the set-aside copy is gone');
  assert.equal(await pushBundle(connector, layout, bundle), { uploaded: false, bytes: 0 }, 'and the next push finds it genuine');
}

/** PIDs of pid and everything below it (from /proc). */
async function processTree(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const name of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await fsp.readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!parents.has(ppid)) parents.set(ppid, []);
    parents.get(ppid)!.push(Number(name));
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(parents.get(out[i]!) ?? []));
  return out;
}

/** Starts a push whose host-side tar hangs, and waits for its partial directory: [push, installer PID]. */
async function hangingInstall(): Promise<[Promise<unknown>, number]> {
  await lab!.shadowTools(host().name, { tar: 'exec sleep 120' });
  const push = pushBundle(connector, layout, bundle).then(
    () => assert.unreachable('the interrupted install succeeded'),
    (error: unknown) => error,
  );
  for (let i = 0; i < 200; i++) {
    const partial = (await leftovers()).find((n) => n.startsWith(`${bundle.hash}.partial.`));
    if (partial) return [push, Number(partial.split('.').pop())];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the install never made its partial directory');
}

const alive = (pid: number) => existsSync(`/proc/${pid}`);

test('a first push installs the bundle exactly (paths, modes, bytes); a second finds it genuine and sends nothing', async () => {
  await install();
  assert.equal(await pushBundle(connector, layout, bundle), { uploaded: false, bytes: 0 });
  assert.equal(await leftovers(), []);
});

test('a helper edited on the host (same size) is caught, never used, and restored byte for byte', async () => {
  await assertRepaired(
    async (dir) => fsp.writeFile(join(dir, 'remote-scripts/orchestrate-agent'), '#!/bin/bash\necho EVIL! agent\n'),
    'remote-scripts/orchestrate-agent',
    /^content differs$/,
  );
});

test('a file added to the cached copy is caught and gone after the reinstall', async () => {
  await assertRepaired(async (dir) => fsp.writeFile(join(dir, 'remote-scripts/lib/aaa-extra.sh'), 'echo sourced too\n'), 'remote-scripts/lib/aaa-extra.sh', /not part of the bundle/);
});

test('a chmod-ed helper is caught (its mode) and its mode restored', async () => {
  await assertRepaired(async (dir) => fsp.chmod(join(dir, 'topologies/basic.sh'), 0o777), 'topologies/basic.sh', /^mode 777, expected 644$/);
});

test('a chmod-ed bundle directory is caught too', async () => {
  await assertRepaired(async (dir) => fsp.chmod(join(dir, 'remote-scripts/lib'), 0o777), 'remote-scripts/lib', /^mode 777, expected 755$/);
});

test('a removed helper is caught (missing) and put back', async () => {
  await assertRepaired(async (dir) => fsp.rm(join(dir, 'remote-scripts/lib/common.sh')), 'remote-scripts/lib/common.sh', /^missing/);
});

test('a helper replaced by a symlink to identical bytes is caught (its type)', async () => {
  await assertRepaired(
    async (dir) => {
      const target = join(work, 'same-bytes.sh');
      await fsp.copyFile(join(dir, 'topologies/basic.sh'), target);
      await fsp.rm(join(dir, 'topologies/basic.sh'));
      await fsp.symlink(target, join(dir, 'topologies/basic.sh'));
    },
    'topologies/basic.sh',
    /a symlink, expected a file/,
  );
});

test('a bundle directory replaced by a symlink to a genuine copy elsewhere is not trusted', async () => {
  await install();
  const elsewhere = join(host().home, 'elsewhere');
  await fsp.rename(bundleDir(), elsewhere);
  await fsp.symlink(elsewhere, bundleDir());
  const pushed = await pushBundle(connector, layout, bundle);
  assert.ok(pushed.uploaded);
  assert.equal([pushed.repaired?.file, pushed.repaired?.problem], ['.', 'not a directory']);
  assert.match(pushed.repaired!.message, /first difference: the bundle directory itself: not a directory/);
  assert.not.ok((await fsp.lstat(bundleDir())).isSymbolicLink());
  await assertGenuineOnHost();
  assert.ok(existsSync(join(elsewhere, 'remote-scripts/orchestrate-agent')), 'what the link pointed at is not touched');
  await fsp.rm(elsewhere, { recursive: true });
});

test('a name with a newline in it cannot forge the listing: two entries replaced by one that prints as both are caught', async () => {
  const repo = join(work, 'repo-empty-dirs');
  for (const d of ['e1', 'e2', 'remote-scripts']) await fsp.mkdir(join(repo, d), { recursive: true });
  await fsp.writeFile(join(repo, 'remote-scripts/orchestrate-agent'), '#!/bin/bash\n', { mode: 0o755 });
  const small = await buildHelperBundle(['e1', 'e2', 'remote-scripts'].map((d) => ({ dir: join(repo, d), prefix: d })));
  assert.equal(await pushBundle(connector, layout, small), { uploaded: true, bytes: wireTar(small.bytes).length });
  // The host lists "e1 41ed" and "e2 41ed" for the two empty directories; one directory named
  // "e1 41ed<LF>e2" prints as exactly those two lines.
  const dir = join(bundlesDir(), small.hash);
  await fsp.rmdir(join(dir, 'e1'));
  await fsp.rmdir(join(dir, 'e2'));
  await fsp.mkdir(join(dir, 'e1 41ed\ne2'));
  const pushed = await pushBundle(connector, layout, small);
  assert.ok(pushed.uploaded, 'the forged copy was not used');
  assert.equal([pushed.repaired?.file, pushed.repaired?.problem], ['.', '5 entries, expected 6 (a name with a line break in it?)']);
  assert.equal((await fsp.readdir(dir)).sort(), ['.complete', 'e1', 'e2', 'remote-scripts']);
});

test('a command asked to run next runs in the same session once the bundle is in place (installed, present, or repaired), with its own status and a time limit', async () => {
  const next = { argv: ['bash', '-c', 'printf "next %s\\n" "$1"; test -e "$2/remote-scripts/orchestrate-agent"; echo warn >&2; exit 3', 'next', 'arg', bundleDir()], timeoutMs: 30_000 };
  const installed = await pushBundle(connector, layout, bundle, next);
  assert.ok(installed.uploaded);
  assert.equal([installed.next?.stdout, installed.next?.exitCode, installed.next?.timedOut], ['next arg\n', 3, false], 'it ran after the install, saw the bundle, and its status is its own (no failure of the push)');
  assert.match(installed.next!.stderr, /warn/);
  const present = await pushBundle(connector, layout, bundle, next);
  assert.equal([present.uploaded, present.next?.stdout, present.next?.exitCode], [false, 'next arg\n', 3]);
  await fsp.writeFile(join(bundleDir(), 'remote-scripts/orchestrate-agent'), '#!/bin/bash\necho tampered\n');
  const repaired = await pushBundle(connector, layout, bundle, next);
  assert.ok(repaired.repaired, 'the tampered copy was caught');
  assert.is(repaired.next?.stdout, 'next arg\n');
  await assertGenuineOnHost();
  assert.equal(await leftovers(), [], 'the set-aside copy is removed before the next command runs in its place');
  const slow = await pushBundle(connector, layout, bundle, { argv: ['sleep', '5'], timeoutMs: 500 });
  assert.ok(slow.next?.timedOut, 'a next command over its limit is cut off');
});

test('a held next command: its first line comes back with the session still open, and it reads what is sent next on the same stdin (installed, present, or repaired)', async () => {
  await fsp.rm(bundlesDir(), { recursive: true, force: true });
  const next = { argv: ['bash', '-c', 'echo ready; IFS= read -r line; echo "got $line"; echo "size ${ORCH_BUNDLE_BYTES:-unset}"'], timeoutMs: 30_000, hold: true };
  const converse = async (pushed: Awaited<ReturnType<typeof pushBundle>>) => {
    assert.is(pushed.next?.stdout, 'ready\n');
    assert.ok(pushed.held, 'the session is handed on open');
    const held = pushed.held!;
    let out = '';
    held.stdout.on('data', (d: Buffer) => (out += d.toString()));
    held.stdout.resume();
    held.stdin.end('hello\n');
    const exit = await held.done;
    return { out, exit: exit.exitCode };
  };
  const installed = await pushBundle(connector, layout, bundle, next);
  assert.ok(installed.uploaded);
  assert.equal(await converse(installed), { out: 'got hello\nsize unset\n', exit: 0 }, 'after an install too: the host read exactly the bundle, the rest of stdin is the next command\'s');
  await assertGenuineOnHost();
  const present = await pushBundle(connector, layout, bundle, next);
  assert.not.ok(present.uploaded);
  assert.equal(await converse(present), { out: 'got hello\nsize unset\n', exit: 0 });
  await fsp.writeFile(join(bundleDir(), 'remote-scripts/orchestrate-agent'), '#!/bin/bash\necho tampered\n');
  const repaired = await pushBundle(connector, layout, bundle, next);
  assert.ok(repaired.repaired, 'the tampered copy was caught');
  assert.equal(await converse(repaired), { out: 'got hello\nsize unset\n', exit: 0 });
  await assertGenuineOnHost();
  const ended = await pushBundle(connector, layout, bundle, { argv: ['bash', '-c', 'echo ready; exit 4'], timeoutMs: 30_000, hold: true });
  assert.is(ended.next?.stdout, 'ready\n');
  const slow = await pushBundle(connector, layout, bundle, { argv: ['sleep', '5'], timeoutMs: 500, hold: true });
  assert.ok(slow.next?.timedOut, 'a next command that prints no line within its limit is cut off');
  assert.is(slow.held, undefined);
});

test('a cached copy that is only its .complete marker (the old check passed it) is reinstalled', async () => {
  await fsp.mkdir(bundleDir(), { recursive: true });
  await fsp.writeFile(join(bundleDir(), '.complete'), '');
  const pushed = await pushBundle(connector, layout, bundle);
  assert.ok(pushed.uploaded);
  assert.match(pushed.repaired?.problem ?? '', /^missing/);
  await assertGenuineOnHost();
});

test('a failed install (the host tar fails half way) leaves no partial and no bundle; the error names the host', async () => {
  await lab!.shadowTools(host().name, { tar: '/usr/bin/tar "$@"; echo "tar: simulated write error" >&2; exit 2' });
  try {
    await pushBundle(connector, layout, bundle);
    assert.unreachable('a failed install was reported as done');
  } catch (error) {
    assert.instance(error, BundlePushError);
    assert.match((error as Error).message, new RegExp(`^${host().name}: could not install the helper bundle ${bundle.hash}.*simulated write error`, 's'));
  }
  assert.equal(await leftovers(), []);
  assert.not.ok(existsSync(bundleDir()));
  await lab!.shadowTools(host().name, null);
  await install();
});

test('an install that unpacks other bytes than the bundle is refused before it is renamed into place', async () => {
  await lab!.shadowTools(host().name, { tar: '/usr/bin/tar "$@" && echo corrupted >> "$4/remote-scripts/lib/common.sh"' });
  try {
    await pushBundle(connector, layout, bundle);
    assert.unreachable('a corrupted install was used');
  } catch (error) {
    assert.instance(error, BundlePushError);
    assert.match((error as Error).message, /does not match this machine's listing/);
  }
  assert.equal(await leftovers(), []);
  assert.not.ok(existsSync(bundleDir()));
});

test('a tampered copy whose reinstall fails is not left in place to be used', async () => {
  await install();
  await fsp.appendFile(join(bundleDir(), 'remote-scripts/orchestrate-agent'), 'echo evil\n');
  await lab!.shadowTools(host().name, { tar: 'echo "tar: no space left on device" >&2; exit 2' });
  try {
    await pushBundle(connector, layout, bundle);
    assert.unreachable('a failed reinstall was reported as done');
  } catch (error) {
    assert.instance(error, BundlePushError);
  }
  assert.not.ok(existsSync(bundleDir()), 'the tampered copy is gone');
  assert.equal(await leftovers(), []);
});

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test(`an install interrupted by ${signal} removes its partial directory`, async () => {
    const [push, pid] = await hangingInstall();
    assert.ok(existsSync(join(bundlesDir(), `${bundle.hash}.partial.${pid}`)));
    for (const p of await processTree(pid)) process.kill(p, signal);
    const error = await push;
    assert.instance(error, BundlePushError);
    assert.equal(await leftovers(), []);
    assert.not.ok(existsSync(bundleDir()));
  });
}

const DAY_MS = 24 * 3600 * 1000;
const markFile = () => join(bundlesDir(), '.prune-mark');

/** A bundle directory `name` beside the installed one, last used (its .complete's mtime) `daysAgo`. */
async function otherBundle(name: string, daysAgo: number): Promise<string> {
  const dir = join(bundlesDir(), name);
  await fsp.cp(bundleDir(), dir, { recursive: true });
  const when = new Date(Date.now() - daysAgo * DAY_MS);
  await fsp.utimes(join(dir, '.complete'), when, when);
  return dir;
}

/** The prune mark as a check `daysAgo` left it: its time in it, and as its mtime. */
async function markChecked(daysAgo: number, text?: string): Promise<void> {
  const when = new Date(Date.now() - daysAgo * DAY_MS);
  await fsp.writeFile(markFile(), text ?? `${Math.floor(when.getTime() / 1000)}\n`);
  await fsp.utimes(markFile(), when, when);
}

const markedSecondsAgo = async () => Math.floor(Date.now() / 1000) - Number((await fsp.readFile(markFile(), 'utf8')).trim());

test('bundles not used since a check 30 days ago are removed; the bundle in use, one used since, and what is not a bundle stay', async () => {
  await install();
  const old = [await otherBundle('aaaaaaaaaaaaaaaa', 40), await otherBundle('bbbbbbbbbbbbbbbb', 31)];
  const usedSince = await otherBundle('cccccccccccccccc', 2);
  const notABundle = await otherBundle('notes-by-hand', 40);
  await markChecked(31);
  const before = (await fsp.stat(join(bundleDir(), '.complete'))).mtimeMs;
  assert.equal(await pushBundle(connector, layout, bundle), { uploaded: false, bytes: 0 });
  for (const dir of old) assert.not.ok(existsSync(dir), `${dir} was unused for 30 days`);
  for (const dir of [usedSince, notABundle]) assert.ok(existsSync(dir), `${dir} stays`);
  await assertGenuineOnHost();
  assert.ok((await fsp.stat(join(bundleDir(), '.complete'))).mtimeMs > before, 'the bundle in use is marked used');
  assert.ok((await markedSecondsAgo()) < 60, 'the mark says the check ran now');
  // the next check is 30 days on: the bundle used 2 days ago stays then too
  assert.equal(await pushBundle(connector, layout, bundle), { uploaded: false, bytes: 0 });
  assert.ok(existsSync(usedSince));
});

test('a first check, one within 30 days of the last, or a mark that does not read as a time removes nothing', async () => {
  await install();
  await fsp.rm(markFile());
  const old = await otherBundle('aaaaaaaaaaaaaaaa', 400);
  await pushBundle(connector, layout, bundle);
  assert.ok(existsSync(old), 'a first check only sets the mark');
  assert.ok((await markedSecondsAgo()) < 60);
  await markChecked(29);
  await pushBundle(connector, layout, bundle);
  assert.ok(existsSync(old), 'within 30 days of the last check');
  assert.ok((await markedSecondsAgo()) > 28 * 86400, 'the mark is left as it was');
  await markChecked(400, 'half-writ');
  await pushBundle(connector, layout, bundle);
  assert.ok(existsSync(old), 'a mark that is not a time (being written) removes nothing');
  assert.ok((await markedSecondsAgo()) < 60, 'and is written again');
});

test('a fresh install is marked and checks for unused bundles too', async () => {
  await fsp.mkdir(bundlesDir(), { recursive: true });
  const old = join(bundlesDir(), 'aaaaaaaaaaaaaaaa');
  await fsp.mkdir(old);
  await fsp.writeFile(join(old, '.complete'), '');
  const when = new Date(Date.now() - 40 * DAY_MS);
  await fsp.utimes(join(old, '.complete'), when, when);
  await fsp.writeFile(markFile(), `${Math.floor(when.getTime() / 1000) + 5 * 86400}\n`);
  const markTime = new Date(when.getTime() + 5 * DAY_MS);
  await fsp.utimes(markFile(), markTime, markTime);
  await install();
  assert.not.ok(existsSync(old), 'unused since the last check, 35 days ago');
});

test("a check also removes the empty jobs/<sweep>/ directories of the earlier layout, and nothing else of jobs/", async () => {
  const jobs = join(host().home, '.orchestrate/jobs');
  const emptyOld = join(jobs, '20261101T020000Z-116d');
  const keptJob = join(jobs, '20261102T020000Z-3fa2', 'lab-01--sysinfo');
  const current = join(jobs, '20261103T020000Z-b43e_lab-01--sysinfo');
  const notASweep = join(jobs, 'by-hand');
  for (const dir of [emptyOld, keptJob, current, notASweep]) await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(join(keptJob, 'rc'), '0\n');
  await install();
  assert.not.ok(existsSync(emptyOld), 'an empty sweep directory of the earlier layout goes');
  for (const dir of [keptJob, current, notASweep]) assert.ok(existsSync(dir), `${dir} stays`);
  // not again until the next check: a new empty one stays within 30 days of this check
  await fsp.mkdir(emptyOld);
  await pushBundle(connector, layout, bundle);
  assert.ok(existsSync(emptyOld));
});

test('an install killed outright leaves its partial; the next push removes it (PID dead) and keeps a live installer\'s', async () => {
  const [push, pid] = await hangingInstall();
  for (const p of await processTree(pid)) process.kill(p, 'SIGKILL');
  assert.instance(await push, BundlePushError);
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(alive(pid));
  assert.equal(await leftovers(), [`${bundle.hash}.partial.${pid}`], 'SIGKILL cannot be trapped: the partial is there');

  // A stale set-aside copy of another crashed install, and a partial of an install still running.
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const livePid = other.pid!;
    await fsp.mkdir(join(bundlesDir(), `0123456789abcdef.stale.${pid}`));
    await fsp.mkdir(join(bundlesDir(), `0123456789abcdef.partial.${livePid}`));
    await lab!.shadowTools(host().name, null);
    await install();
    assert.equal(await leftovers(), [`0123456789abcdef.partial.${livePid}`], 'only the live installer\'s partial is left');
  } finally {
    other.kill('SIGKILL');
  }
});

local('the host script is a shellcheck clean file that runs under set -euo pipefail with a trap on its partial dir', async () => {
  const result = await run('shellcheck', ['-S', 'style', ENSURE_BUNDLE_FILE]).catch((error: { stdout: string; code: number }) => error);
  assert.is((result as { code?: number }).code ?? 0, 0, (result as { stdout: string }).stdout);
  const text = await fsp.readFile(ENSURE_BUNDLE_FILE, 'utf8');
  assert.match(text, /^set -euo pipefail$/m);
  assert.match(text, /^  trap remove_own_leftovers EXIT$/m);
  assert.match(text, /^remove_own_leftovers\(\) \{\n  if \[ -e "\$t" \] \|\| \[ -e "\$old" \]; then rm -rf -- "\$t" "\$old"; fi\n\}$/m);
});

local('sourced, the host script only defines its functions; run as `bash -c TEXT`, it runs main', async () => {
  const dir = await fsp.mkdtemp(join(tmpdir(), 'ensure-bundle-'));
  try {
    // Sourced: nothing is installed, and the functions are there.
    const sourced = await run('bash', ['-c', `source "$1"; declare -F main state differences then_run | wc -l; ls -A "$2"`, 'test', ENSURE_BUNDLE_FILE, dir]);
    assert.is(sourced.stdout, '4\n');
    // Run as push-bundle.ts sends it: main runs (nothing there: it answers "need", and an empty stdin is no bundle: it fails).
    const text = await fsp.readFile(ENSURE_BUNDLE_FILE, 'utf8');
    const ran = spawnSync('bash', ['-c', text, 'orchestrate-bundle', dir, '0123456789abcdef', 'count=1', ''], { input: '', encoding: 'utf8', timeout: 20_000 });
    assert.is(ran.stdout.split('\n')[0], 'need');
    assert.ok(ran.status !== 0 && ran.status !== null, `an empty upload is not the bundle (exit ${ran.status})`);
    assert.equal(await fsp.readdir(join(dir, 'bundles')), [], 'no partial left behind');
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

async function tarGz(entries: { name: string; type: 'file' | 'directory' | 'symlink'; mode: number; content?: string; linkname?: string }[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer));
    p.on('end', () => resolve(Buffer.concat(chunks)));
  });
  for (const e of entries) {
    const { content, ...header } = e;
    if (content === undefined) p.entry(header);
    else p.entry({ ...header, size: Buffer.byteLength(content) }, content);
  }
  p.finalize();
  return gzipSync(await done);
}

local('on the wire the bundle is its tar padded with zeros to whole tar records, which GNU tar reads to the end-of-archive and no further', async () => {
  for (const content of ['', 'x', 'y'.repeat(TAR_RECORD_BYTES - 3 * 512), 'z'.repeat(3 * TAR_RECORD_BYTES)]) {
    const gz = await tarGz([
      { name: 'remote-scripts/', type: 'directory', mode: 0o755 },
      { name: 'remote-scripts/f', type: 'file', mode: 0o644, content },
    ]);
    const tar = gunzipSync(gz);
    const wire = wireTar(gz);
    assert.is(wire.length % TAR_RECORD_BYTES, 0, `${content.length} bytes of content: whole records`);
    assert.ok(wire.length >= tar.length && wire.length - tar.length < TAR_RECORD_BYTES, 'at most one record of padding');
    assert.ok(wire.subarray(0, tar.length).equals(tar), 'the tar itself first');
    assert.ok(wire.subarray(tar.length).every((b) => b === 0), 'then zeros');
    assert.is(wireTar(gz), wire, 'made once per bundle');
    // The host's reading: tar on a stdin that goes on after the bundle leaves what follows unread.
    const dir = await fsp.mkdtemp(join(tmpdir(), 'wire-tar-'));
    try {
      const read = spawnSync('bash', ['-c', 'tar -xf - -C "$1" -b 20 && IFS= read -r rest && printf "%s" "$rest"', 'test', dir], { input: Buffer.concat([wire, Buffer.from('next request\n')]), encoding: 'utf8', timeout: 20_000 });
      assert.is(read.status, 0, read.stderr);
      assert.is(read.stdout, 'next request', 'the bytes after the bundle are still on stdin');
      assert.is(await fsp.readFile(join(dir, 'remote-scripts/f'), 'utf8'), content);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  }
});

local('the expected listing: every entry with its type and mode in byte order, and each file\'s sha256 for sha256sum -c', async () => {
  const bytes = await tarGz([
    { name: 'remote-scripts/', type: 'directory', mode: 0o755 },
    { name: 'remote-scripts/a b', type: 'file', mode: 0o755, content: 'x' },
    { name: 'remote-scripts/a', type: 'file', mode: 0o644, content: '' },
  ]);
  const e = sha(Buffer.alloc(0));
  const listing = await bundleListing(bytes);
  assert.is(listing.entries, ['count=5', '. 41ed', '.complete 81a4', 'remote-scripts 41ed', 'remote-scripts/a 81a4', 'remote-scripts/a b 81ed'].join('\n'));
  assert.is(listing.sums, [`${e}  .complete`, `${e}  remote-scripts/a`, `${sha(Buffer.from('x'))}  remote-scripts/a b`].join('\n'));
});

local('a bundle that build-bundle would never make is refused before any host sees it', async () => {
  const cases: [string, Parameters<typeof tarGz>[0], RegExp][] = [
    ['a symlink', [{ name: 'l', type: 'symlink', mode: 0o777, linkname: '/etc/passwd' }], /directories and regular files only/],
    ['a mode 777 file', [{ name: 'f', type: 'file', mode: 0o777, content: '' }], /mode 777/],
    ['a path out of the bundle', [{ name: '../f', type: 'file', mode: 0o644, content: '' }], /not a plain relative path/],
    ['a name with a newline', [{ name: 'a\nb', type: 'file', mode: 0o644, content: '' }], /not a plain relative path/],
    ['a file with no directory entry', [{ name: 'd/f', type: 'file', mode: 0o644, content: '' }], /no directory entry for d/],
  ];
  for (const [what, entries, message] of cases) {
    try {
      await pushBundle(null as never, layout, { hash: '0123456789abcdef', bytes: await tarGz(entries), files: 1 });
      assert.unreachable(`${what} was accepted`);
    } catch (error) {
      assert.instance(error, BundlePushError, what);
      assert.match((error as Error).message, message, what);
    }
  }
  try {
    await pushBundle(null as never, layout, { hash: '0123456789abcdef', bytes: Buffer.from('not gzip'), files: 1 });
    assert.unreachable('garbage was accepted');
  } catch (error) {
    assert.instance(error, BundlePushError);
    assert.match((error as Error).message, /cannot be read on this machine/);
  }
});

local('the first difference is the first path in byte order, described by kind', () => {
  const lines = (...l: string[]) => l.map((x) => `orchestrate-bundle: ${x}`).join('\n');
  assert.equal(firstDifference(lines('~ b/x: FAILED')), { file: 'b/x', problem: 'content differs' });
  assert.equal(firstDifference(lines('+ count=9', '- count=8', '+ b/x 81a4', '- a 81ed', '~ a: FAILED open or read', '~ b/x: FAILED')), { file: 'a', problem: 'missing (a file of the bundle)' });
  assert.equal(firstDifference(lines('+ b y 81a4')), { file: 'b y', problem: 'a file that is not part of the bundle' });
  assert.equal(firstDifference(lines('+ c 81ff', '- c 81a4')), { file: 'c', problem: 'mode 777, expected 644' });
  assert.equal(firstDifference(lines('+ c 81ff', '- c 81a4', '~ c: FAILED')), { file: 'c', problem: 'mode 777, expected 644; content differs' });
  assert.equal(firstDifference(lines('+ c a1ff', '- c 81a4')), { file: 'c', problem: 'a symlink, expected a file' });
  assert.equal(firstDifference(lines('+ .a 41ed', '+ . 41ff', '- . 41ed')), { file: '.', problem: 'mode 777, expected 755' });
  assert.equal(firstDifference(lines('+ count=5', '- count=6')), { file: '.', problem: '5 entries, expected 6 (a name with a line break in it?)' });
  assert.equal(firstDifference(lines('! could not be listed')), { file: '.', problem: 'could not be listed' });
  assert.equal(firstDifference(lines('! not a directory')), { file: '.', problem: 'not a directory' });
  assert.is(firstDifference('some other stderr'), undefined);
});

t.run();
local.run();

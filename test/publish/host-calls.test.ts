// The reports host's scripts (remote-scripts/publish/lib/*.sh) as host-calls.ts sends them, run
// here under dash, the plainest POSIX sh a reports host may have: their functions one at a time
// (the libraries are sourceable), and whole calls on edge cases the lab tests do not reach. The
// lab tests (publish*.test.ts, drop-off.test.ts) run the same text over SSH.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { hostScript, RELEASE_ID } from '../../orchestrator/publish/host-calls.js';
import { packagePath } from '../../orchestrator/package-root.js';

const t = suite('the reports host scripts under dash');
let work = '';
const RELEASES = packagePath('remote-scripts', 'publish', 'lib', 'releases.sh');

t.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'host-calls-'));
});
t.after.each(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs `body` in dash with `library` sourced and the shell set up as an entry point does (releases_shell), in `work`. */
function sourced(library: string, body: string, args: string[] = []) {
  const r = spawnSync('dash', ['-c', `. "$0"; releases_shell; ${body}`, library, ...args], { cwd: work, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A whole call, as host-calls.ts sends it: `sh -c TEXT NAME ARGS...`. */
async function call(name: 'list' | 'rollback' | 'dropOff', args: string[], input: string | Buffer = '') {
  const script = await hostScript(name);
  const r = spawnSync('dash', ['-c', script.text, script.name, ...args], { cwd: work, input, encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const id = (seq: number, stamp = '20261206T120000Z') => `r${String(seq).padStart(6, '0')}-${stamp}`;

t('release_ids lists only release directories, oldest first, whatever else lies beside them', async () => {
  await mkdir(join(work, 'releases'));
  for (const d of [id(10), id(2), `${id(3)}.partial`, `${id(2)}.prelink`, 'r1-bad', `${id(4)}.trash`]) await mkdir(join(work, 'releases', d));
  const r = sourced(RELEASES, 'release_ids');
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `${id(2)}\n${id(10)}\n`);
});

t('next_release_id: one past the newest sequence, at the given stamp, or the host\'s time for a bad one', async () => {
  await mkdir(join(work, 'releases'));
  const first = sourced(RELEASES, 'next_release_id 20261206T131415Z; echo "$new"');
  assert.is(first.stdout, `${id(1, '20261206T131415Z')}\n`, first.stderr);
  await mkdir(join(work, 'releases', id(41)));
  const next = sourced(RELEASES, 'next_release_id "$1"; echo "$new"', ['not-a-stamp;rm -rf /']);
  assert.ok(RELEASE_ID.test(next.stdout.trim()), next.stdout);
  assert.ok(next.stdout.startsWith('r000042-'), next.stdout);
});

t('next_release_id refuses to go past sequence 999999 (exit 3)', async () => {
  await mkdir(join(work, 'releases', id(999999)), { recursive: true });
  const r = sourced(RELEASES, 'next_release_id 20261206T131415Z');
  assert.is(r.code, 3);
  assert.match(r.stderr, /release sequence exhausted/);
});

t('live_id refuses a current that is not a symlink into releases/ (exit 3), and reads one that is', async () => {
  await writeFile(join(work, 'current'), 'a file\n');
  const file = sourced(RELEASES, 'live_id');
  assert.is(file.code, 3);
  assert.match(file.stderr, /current exists and is not a symlink/);
  await rm(join(work, 'current'));
  await symlink('/etc', join(work, 'current'));
  const outside = sourced(RELEASES, 'live_id');
  assert.is(outside.code, 3);
  assert.match(outside.stderr, /current points at \/etc, not into releases\//);
  await rm(join(work, 'current'));
  await symlink(`releases/${id(7)}`, join(work, 'current'));
  assert.is(sourced(RELEASES, 'live_id; echo "[$cur]"').stdout, `[${id(7)}]\n`);
});

t('list: a root that does not exist has nothing live; one with releases lists them', async () => {
  const none = await call('list', [join(work, 'nowhere')]);
  assert.is(none.code, 0, none.stderr);
  assert.is(none.stdout, 'live \n');
  for (const d of [id(1), id(2)]) await mkdir(join(work, 'site', 'releases', d), { recursive: true });
  await symlink(`releases/${id(2)}`, join(work, 'site', 'current'));
  const some = await call('list', [join(work, 'site')]);
  assert.is(some.stdout, `live ${id(2)}\nrelease ${id(1)}\nrelease ${id(2)}\n`, some.stderr);
});

t('rollback: to the release before the live one, or a named one; never to one that is not there (exit 4)', async () => {
  const root = join(work, 'site');
  for (const d of [id(1), id(2), id(3)]) await mkdir(join(root, 'releases', d), { recursive: true });
  await symlink(`releases/${id(3)}`, join(root, 'current'));
  const back = await call('rollback', [root, '']);
  assert.is(back.stdout, `from ${id(3)}\nto ${id(2)}\n`, back.stderr);
  const missing = await call('rollback', [root, id(9)]);
  assert.is(missing.code, 4);
  assert.match(missing.stderr, new RegExp(`no release ${id(9)} \\(have: ${id(1)} ${id(2)} ${id(3)} \\)`));
  const named = await call('rollback', [root, id(1)]);
  assert.is(named.stdout, `from ${id(2)}\nto ${id(1)}\n`, named.stderr);
  assert.equal((await readdir(root)).sort(), ['current', 'releases'], 'no temporary symlink is left');
});

t('drop_off: a whole archive is renamed into place, then marked done', async () => {
  const archive = gzipSync(Buffer.from('a tar would be here'));
  const r = await call('dropOff', ['incoming', '20261206T120000Z-abcd'], archive);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, `dropped ${archive.length}\n`);
  assert.equal((await readdir(join(work, 'incoming'))).sort(), ['20261206T120000Z-abcd.tar.gz', '20261206T120000Z-abcd.tar.gz.done']);
});

t('drop_off: a cut archive (exit 77) leaves nothing, not even its partial file', async () => {
  const archive = gzipSync(Buffer.from('x'.repeat(100_000) + Math.random()));
  const r = await call('dropOff', ['incoming', '20261206T120000Z-abcd'], archive.subarray(0, archive.length - 20));
  assert.is(r.code, 77);
  assert.match(r.stderr, /the archive arrived incomplete; nothing was dropped off/);
  assert.equal(await readdir(join(work, 'incoming')), []);
  assert.not.ok(existsSync(join(work, 'incoming', '20261206T120000Z-abcd.tar.gz.done')));
});

t.run();

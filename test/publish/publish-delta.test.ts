// Incremental publishing details on the lab: the index travels as a delta and the host rebuilds it
// byte for byte (checked by sha256); a live index that is not the one the client knows makes it
// fall back to the whole index; a file changed during the upload fails the publish; the local
// hash cache; the prelinked copy of the live release.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, readlink, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import { scenarioParamSchemas } from '../../orchestrator/scenarios/registry.js';
import type { Inventory } from '../../orchestrator/inventory/types.js';
import { PublishError, publishSite, rollback, type PublishResult } from '../../orchestrator/publish/publish-site.js';
import { buildIndex, scanSite, scanSiteCached, serializeIndex, sortLinesBytewise } from '../../orchestrator/publish/site-index.js';
import { makeSite, put } from './site-fixture.js';

const SUBNET = 39;
const t = suite('publish: index delta, fallbacks, caches');
let lab: Lab;
let work: string;
let inventory: Inventory;
let site: string;
let publishPath: string;

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

// Names that test the index's escaping and byte order: JSON escapes, non-ASCII, a character past
// U+FFFF next to one in U+E000..U+FFFF (UTF-16 and UTF-8 order them differently), prefixes, and a
// name that looks like the end of an entry line.
const ODD = [
  'odd/quote"and\\backslash.txt',
  'odd/new\nline.txt',
  'odd/tab\there.txt',
  'odd/ünïcödé €.html',
  'odd/astral 😀.txt',
  'odd/private \uE000 area.txt',
  'odd/a',
  'odd/a.b',
  'odd/a-b',
  'odd/with space/x.txt',
  `odd/looks like :{"sha256":"${'a'.repeat(64)}","size":1,"mode":420}`,
];

function settle(): void {
  execFileSync('flock', ['-w', '60', join(publishPath, 'releases', '.lock'), 'true']);
}
async function liveId(): Promise<string> {
  return (await readlink(join(publishPath, 'current'))).replace(/^releases\//, '');
}
function indexPath(id: string): string {
  return join(publishPath, 'releases', id, '.publish-index.json');
}
async function walk(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), p)));
    else out.push(p);
  }
  return out;
}

/**
 * The release's index is, byte for byte, the index of the local site (computed here independently),
 * hashes to what the publish reported, and the release holds exactly those files with those bytes.
 */
async function assertReleaseIsSite(r: PublishResult, dir = site): Promise<void> {
  const hostText = await readFile(indexPath(r.releaseId), 'utf8');
  const createdAt = (JSON.parse(hostText) as { createdAt: string }).createdAt;
  const expected = serializeIndex(buildIndex(r.releaseId, await scanSite(dir), new Date(createdAt)));
  assert.ok(hostText === expected, `the host's index differs from the local one:\n--- host\n${hostText.slice(0, 2000)}\n--- local\n${expected.slice(0, 2000)}`);
  assert.is(sha(hostText), r.indexSha256);
  const files = (JSON.parse(hostText) as { files: Record<string, { sha256: string }> }).files;
  const present = (await walk(join(publishPath, 'releases', r.releaseId))).filter((p) => p !== '.publish-index.json').sort();
  assert.equal(present, Object.keys(files).sort(), 'the release holds exactly the indexed files');
  for (const [p, e] of Object.entries(files)) assert.is(sha(await readFile(join(publishPath, 'releases', r.releaseId, p))), e.sha256, `${p} intact`);
}

t.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'publish-delta-test-'));
  lab = await labUp({ subnet: SUBNET, hosts: 1, dir: join(work, 'lab') });
  inventory = await loadInventory(await lab.writeInventory({ file: join(work, 'inventory.yaml'), resultsDir: join(work, 'results') }), { scenarios: scenarioParamSchemas() });
  publishPath = lab.reports!.publishPath;
  site = join(work, 'site');
  await makeSite(site, { small: 240, big: [] });
  for (const [i, p] of ODD.entries()) await put(site, p, `odd file ${i}\n`);
});
t.after(async () => {
  if (publishPath) settle();
  await lab?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

t('sortLinesBytewise orders like LC_ALL=C sort (UTF-8 bytes), also past U+FFFF', () => {
  const lines = ['"b"', '"a\uE000"', '"a😀"', '"a"', '"a-"', '"A"', '"é"', '"a\\""'];
  const sorted = sortLinesBytewise([...lines]);
  const bySort = execFileSync('sort', { input: `${lines.join('\n')}\n`, env: { ...process.env, LC_ALL: 'C' } }).toString('utf8').trimEnd().split('\n');
  assert.equal(sorted, bySort);
});

t('first publish sends the whole index; then the host derives each new index from the live one and a delta, byte for byte', async () => {
  const first = await publishSite({ inventory, siteDir: site });
  assert.is(first.indexUpload, 'full', 'no live index yet');
  assert.is(first.uploadedFiles, first.totalFiles);
  await assertReleaseIsSite(first);
  const fullIndexBytes = (await stat(indexPath(first.releaseId))).size;

  // Changes, additions, removals (odd names included) and a mode-only change.
  await put(site, ODD[0]!, 'changed quote file\n');
  await put(site, 'data/d1.json', '{"changed":true}\n');
  await unlink(join(site, ODD[1]!));
  await unlink(join(site, 'data/d4.json'));
  await put(site, 'odd/new 😀 \uE001 "file".txt', 'added\n');
  await put(site, 'odd/a.c', 'added too\n');
  await put(site, 'zz/last.txt', 'sorts last\n');
  await chmod(join(site, 'data/d7.json'), 0o755);
  const r = await publishSite({ inventory, siteDir: site });
  assert.is(r.indexUpload, 'delta');
  assert.is(r.fallback, undefined);
  assert.is(r.previousId, first.releaseId);
  assert.is(r.uploadedFiles, 6, '2 changed + 3 new + 1 mode change');
  assert.is(r.removedFiles, 2);
  assert.ok(r.compressed, 'a small upload is gzip\'ed');
  assert.ok(r.stateBytes < 300, `the live index was not downloaded again (${r.stateBytes} bytes received)`);
  assert.ok(r.wireBytes < fullIndexBytes / 4, `wire ${r.wireBytes} bytes, whole index ${fullIndexBytes}`);
  await assertReleaseIsSite(r);
  assert.is((await stat(join(publishPath, 'releases', r.releaseId, 'data/d7.json'))).mode & 0o777, 0o755);

  // Nothing changed: an empty delta; only removals: a delta with drops only.
  const same = await publishSite({ inventory, siteDir: site });
  assert.is(same.indexUpload, 'delta');
  assert.is(same.uploadedFiles, 0);
  await assertReleaseIsSite(same);
  await unlink(join(site, ODD[2]!));
  await unlink(join(site, 'zz/last.txt'));
  const removals = await publishSite({ inventory, siteDir: site });
  assert.is(removals.indexUpload, 'delta');
  assert.is(removals.removedFiles, 2);
  await assertReleaseIsSite(removals);
});

t('a live index changed on the host after the client read the state: the host refuses the delta (nothing changes), the client publishes again with the whole index', async () => {
  settle();
  const live = await liveId();
  await put(site, 'index.html', '<html><body><h1>fleet report tamper</h1></body></html>\n');
  let tampered = false;
  const r = await publishSite({
    inventory,
    siteDir: site,
    log: (line) => {
      // After the host said "index-cached" and before the delta arrives: rewrite the live index in
      // place (same layout, one entry's sha256 wrong).
      if (!tampered && line.startsWith('release ')) {
        tampered = true;
        const text = readFileSync(indexPath(live), 'utf8');
        const next = text.replace(/("data\/d10\.json":\{"sha256":")[0-9a-f]{64}/, `$1${'0'.repeat(64)}`);
        assert.is.not(next, text);
        writeFileSync(indexPath(live), next);
      }
    },
  });
  assert.ok(tampered);
  assert.match(r.fallback ?? '', /does not match/);
  assert.is(r.indexUpload, 'full');
  assert.is(r.previousId, live);
  // The retry diffed against the (tampered) live index: the file it misdescribes is sent again.
  assert.is(r.uploadedFiles, 2);
  await assertReleaseIsSite(r);
  // Only one release was made; the refused attempt left nothing behind.
  settle();
  assert.equal((await readdir(join(publishPath, 'releases'))).filter((n) => n.includes('.') && n !== '.lock'), [`${r.releaseId}.prelink`]);
  // And the next publish is a delta again.
  await put(site, 'index.html', '<html><body><h1>fleet report after tamper</h1></body></html>\n');
  const next = await publishSite({ inventory, siteDir: site });
  assert.is(next.indexUpload, 'delta');
  await assertReleaseIsSite(next);
});

t('a live index rewritten by hand (valid, other layout) is downloaded and replaced by a whole index; an unreadable one makes every file upload', async () => {
  settle();
  let live = await liveId();
  const pretty = `${JSON.stringify(JSON.parse(await readFile(indexPath(live), 'utf8')), null, 2)}\n`;
  await writeFile(`${indexPath(live)}.tmp`, pretty);
  await rename(`${indexPath(live)}.tmp`, indexPath(live));
  await put(site, 'data/d13.json', '{"changed":"again"}\n');
  const r = await publishSite({ inventory, siteDir: site });
  assert.is(r.indexUpload, 'full');
  assert.is(r.fallback, undefined);
  assert.is(r.uploadedFiles, 1);
  assert.ok(r.stateBytes > pretty.length, 'the live index was downloaded');
  await assertReleaseIsSite(r);

  settle();
  live = await liveId();
  await writeFile(`${indexPath(live)}.tmp`, '{"not": "an index"');
  await rename(`${indexPath(live)}.tmp`, indexPath(live));
  const all = await publishSite({ inventory, siteDir: site });
  assert.is(all.uploadedFiles, all.totalFiles);
  assert.is(all.indexUpload, 'full');
  await assertReleaseIsSite(all);

  const back = await publishSite({ inventory, siteDir: site });
  assert.is(back.indexUpload, 'delta');
  assert.is(back.uploadedFiles, 0);
  assert.ok(back.stateBytes < 300);
  await assertReleaseIsSite(back);
});

t('a file that changes while it is being published fails the publish; the live site stays as it was', async () => {
  settle();
  const live = await liveId();
  const liveIndex = await readFile(indexPath(live), 'utf8');
  const target = join(site, 'data/d16.json');
  await put(site, 'data/d16.json', '{"version":1111}\n');
  try {
    await publishSite({
      inventory,
      siteDir: site,
      log: (line) => {
        // Same size, other bytes: only the hash tells.
        if (line.startsWith('release ')) writeFileSync(target, '{"version":2222}\n');
      },
    });
    assert.unreachable('the publish should have failed');
  } catch (error) {
    assert.instance(error, PublishError);
    assert.match((error as Error).message, /changed while it was being published/);
  }
  assert.is(await liveId(), live);
  assert.is(await readFile(indexPath(live), 'utf8'), liveIndex);
  const r = await publishSite({ inventory, siteDir: site });
  assert.is(r.uploadedFiles, 1);
  await assertReleaseIsSite(r);
  assert.is(await readFile(join(publishPath, 'releases', r.releaseId, 'data/d16.json'), 'utf8'), '{"version":2222}\n');
});

t('the prelinked copy shares the live release\'s inodes; after a rollback a stale one is dropped and publishing still works', async () => {
  settle();
  const live = await liveId();
  const pre = join(publishPath, 'releases', `${live}.prelink`);
  assert.is((await stat(join(pre, 'data/d19.json'))).ino, (await stat(join(publishPath, 'releases', live, 'data/d19.json'))).ino);
  const { to } = await rollback({ inventory });
  await put(site, 'index.html', '<html><body><h1>fleet report after rollback</h1></body></html>\n');
  const r = await publishSite({ inventory, siteDir: site });
  assert.is(r.previousId, to);
  // The cached index was the newer release's: the rolled-back live index is downloaded, then a delta.
  assert.is(r.indexUpload, 'delta');
  assert.ok(r.stateBytes > 1000);
  await assertReleaseIsSite(r);
  settle();
  const leftovers = (await readdir(join(publishPath, 'releases'))).filter((n) => n.includes('.') && n !== '.lock');
  assert.equal(leftovers, [`${r.releaseId}.prelink`]);
  // The rolled-back-from release itself was not touched.
  assert.ok((await stat(join(publishPath, 'releases', live, '.publish-index.json'))).isFile());
});

t('the site builder\'s own records (.site-build.json, .site-state.json) are never published; a page named like them deeper down is', async () => {
  const dir = join(work, 'records-site');
  await makeSite(dir, { small: 3, big: [] });
  await put(dir, '.site-build.json', '{"schema":"orchestrate/site-build@1"}\n');
  await put(dir, '.site-state.json', '{"resultsDir":"/srv/perf/results"}\n');
  await put(dir, 'data/.site-state.json', 'a page of the site\n');
  const paths = (await scanSite(dir)).map((f) => f.path);
  assert.not.ok(paths.includes('.site-build.json'));
  assert.not.ok(paths.includes('.site-state.json'));
  assert.ok(paths.includes('data/.site-state.json'));
});

t('a temp file of an atomic write (a build killed mid-write leaves one) is never published; a page merely named .tmp is', async () => {
  const dir = join(work, 'temps-site');
  await makeSite(dir, { small: 3, big: [] });
  await put(dir, 'jobs/s/j/.phases.json.4242.1.a.tmp', '[{"half":');
  await put(dir, '.index.html.4242.0.0.tmp', '<html');
  await put(dir, 'jobs/s/j/notes.tmp', 'a page of the site\n');
  await put(dir, 'jobs/s/j/.hidden.tmp', 'a page of the site\n');
  const paths = (await scanSite(dir)).map((f) => f.path);
  assert.not.ok(paths.includes('jobs/s/j/.phases.json.4242.1.a.tmp'));
  assert.not.ok(paths.includes('.index.html.4242.0.0.tmp'));
  assert.ok(paths.includes('jobs/s/j/notes.tmp'));
  assert.ok(paths.includes('jobs/s/j/.hidden.tmp'));
});

t('the hash cache: unchanged files are not read again; rewritten ones are, even with the same size and mtime; fresh ones are not cached', async () => {
  const dir = join(work, 'cache-site');
  const cacheFile = join(work, 'cache', 'hashes.json');
  await makeSite(dir, { small: 30, big: [] });
  // A small margin instead of the default 2 s: files are cached once they are 20 ms old.
  const margin = { racyMarginMs: 20 };
  await new Promise((r) => setTimeout(r, 100));
  const first = await scanSiteCached(dir, cacheFile, margin);
  assert.is(first.hashed, first.files.length);
  await first.saveCache();
  const second = await scanSiteCached(dir, cacheFile, margin);
  assert.is(second.hashed, 0);
  assert.equal(second.files.map((f) => f.sha256), first.files.map((f) => f.sha256));

  // In place, same size, mtime put back: ctime still moves.
  const a = join(dir, 'data/d1.json');
  const before = await stat(a);
  const text = await readFile(a, 'utf8');
  await writeFile(a, text.replace(/x/, 'y'));
  await utimes(a, before.atime, before.mtime);
  // Replaced by rename with the very same bytes: a new inode.
  const b = join(dir, 'data/d4.json');
  await writeFile(`${b}.new`, await readFile(b));
  await rename(`${b}.new`, b);
  await second.saveCache();
  await new Promise((r) => setTimeout(r, 100));
  const third = await scanSiteCached(dir, cacheFile, margin);
  assert.is(third.hashed, 2);
  assert.is(third.files.find((f) => f.path === 'data/d1.json')!.sha256, sha(text.replace(/x/, 'y')));
  await third.saveCache();

  // With the default margin, a file written just now is hashed on every scan until it is older.
  await put(dir, 'fresh.txt', 'fresh\n');
  const fourth = await scanSiteCached(dir, cacheFile);
  assert.is(fourth.hashed, 1);
  await fourth.saveCache();
  const fifth = await scanSiteCached(dir, cacheFile);
  assert.ok(fifth.hashed >= 1, 'the fresh file was not trusted from the cache');
  assert.equal(fifth.files.map((f) => f.sha256), (await scanSite(dir)).map((f) => f.sha256));
});

t.run();

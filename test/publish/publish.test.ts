// Publishing on the local lab: a real sshd reports host and the lab's web server serving
// <publishPath>/current. Checks incremental uploads, hard-link safety, interruption at any point,
// rollback and the keep limit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, stat, unlink, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labUp, type Lab } from '../lab/lab.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import { scenarioParamSchemas } from '../../orchestrator/scenarios/registry.js';
import type { Inventory } from '../../orchestrator/inventory/types.js';
import { listReleases, publishSite, rollback, type PublishResult } from '../../orchestrator/publish/publish-site.js';
import { makeSite, noise, put } from './site-fixture.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SUBNET = 40;
const t = suite('publish on the lab');
let lab: Lab;
let work: string;
let inventoryFile: string;
let inventory: Inventory;
let site: string;
let publishPath: string;
let url: string;
const history: PublishResult[] = [];

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
async function get(path: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(new URL(path, url));
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}
async function liveId(): Promise<string> {
  return (await readlink(join(publishPath, 'current'))).replace(/^releases\//, '');
}
/** Waits for the background job of the last publish (deletions, the next prelinked copy): it holds the lock. */
function settle(): void {
  execFileSync('flock', ['-w', '60', join(publishPath, 'releases', '.lock'), 'true']);
}
async function releaseDirs(): Promise<string[]> {
  return (await readdir(join(publishPath, 'releases'))).filter((n) => n !== '.lock').sort();
}

function runChild(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'orchestrator/cli.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, exit, output: () => out };
}

/** SIGKILL the child once `ready()` says so (polled every 2 ms). Returns what was seen. */
async function killWhen(run: ReturnType<typeof runChild>, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void run.exit.then(() => (exited = true));
  while (Date.now() < until && !exited) {
    if (await ready()) {
      process.kill(run.child.pid!, 'SIGKILL');
      await run.exit;
      return;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`the kill point was never reached (exited: ${exited}):\n${run.output()}`);
}

t.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'publish-test-'));
  lab = await labUp({ subnet: SUBNET, hosts: 1, dir: join(work, 'lab') });
  inventoryFile = await lab.writeInventory({ file: join(work, 'inventory.yaml'), resultsDir: join(work, 'results') });
  inventory = await loadInventory(inventoryFile, { scenarios: scenarioParamSchemas() });
  publishPath = lab.reports!.publishPath;
  url = lab.reports!.httpUrl;
  site = join(work, 'site');
  await makeSite(site);
});
t.after(async () => {
  if (publishPath) settle();
  await lab?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

t('first publish uploads every file and the lab web server serves it', async () => {
  const before = await get('index.html');
  assert.is(before.status, 404, 'nothing is live before the first publish');
  const r = await publishSite({ inventory, siteDir: site });
  history.push(r);
  assert.is(r.totalFiles, 303);
  assert.is(r.uploadedFiles, 303);
  assert.is(r.unchangedFiles, 0);
  assert.is(r.removedFiles, 0);
  assert.is(r.previousId, null);
  assert.is(r.url, url);
  assert.ok(r.totalBytes > 7 << 20);
  assert.is(await liveId(), r.releaseId);
  const index = await get('');
  assert.is(index.status, 200);
  assert.match(index.body.toString(), /fleet report v1/);
  const big = await get('assets/big-1.bin');
  assert.is(sha(big.body), sha(await readFile(join(site, 'assets/big-1.bin'))));
  const indexJson = JSON.parse(await readFile(join(publishPath, 'releases', r.releaseId, '.publish-index.json'), 'utf8'));
  assert.is(Object.keys(indexJson.files).length, 303);
});

t('second publish after changing 3 files and deleting 1 uploads exactly those 3; the old release is untouched', async () => {
  const old = history[0]!.releaseId;
  const oldIndexHtml = await readFile(join(site, 'index.html'));
  const oldBig = await readFile(join(site, 'assets/big-0.bin'));
  const oldJson = await readFile(join(site, 'data/d1.json'));
  const changed = {
    'index.html': Buffer.from('<html><body><h1>fleet report v2</h1></body></html>\n'),
    'assets/big-0.bin': noise(2 << 20, 'big-0 v2'),
    'data/d1.json': Buffer.from('{"changed":true}\n'),
  };
  for (const [rel, data] of Object.entries(changed)) await writeFile(join(site, rel), data);
  await unlink(join(site, 'data/d4.json'));
  const r = await publishSite({ inventory, siteDir: site });
  history.push(r);
  assert.is(r.uploadedFiles, 3);
  assert.is(r.uploadedBytes, Object.values(changed).reduce((n, b) => n + b.length, 0));
  assert.is(r.removedFiles, 1);
  assert.is(r.unchangedFiles, 299);
  assert.is(r.totalFiles, 302);
  assert.is(r.previousId, old);
  assert.ok(r.wireBytes < r.uploadedBytes + 64 * 1024, `wire ${r.wireBytes} for ${r.uploadedBytes} content bytes`);
  // Served: new content, the deleted file is gone.
  assert.match((await get('')).body.toString(), /fleet report v2/);
  assert.is(sha((await get('assets/big-0.bin')).body), sha(changed['assets/big-0.bin']));
  assert.is((await get('data/d4.json')).status, 404);
  // Hard-link safety: the old release still has the old bytes of every changed file.
  const oldDir = join(publishPath, 'releases', old);
  const newDir = join(publishPath, 'releases', r.releaseId);
  assert.ok((await readFile(join(oldDir, 'index.html'))).equals(oldIndexHtml));
  assert.ok((await readFile(join(oldDir, 'assets/big-0.bin'))).equals(oldBig));
  assert.ok((await readFile(join(oldDir, 'data/d1.json'))).equals(oldJson));
  assert.ok((await readFile(join(oldDir, 'data/d4.json'))).length > 0, 'the deleted file is still in the old release');
  const oldIndex = JSON.parse(await readFile(join(oldDir, '.publish-index.json'), 'utf8'));
  assert.is(Object.keys(oldIndex.files).length, 303, 'the old index was not touched');
  // Unchanged files are shared (same inode); changed ones are new inodes.
  assert.is((await stat(join(oldDir, 'data/d7.json'))).ino, (await stat(join(newDir, 'data/d7.json'))).ino);
  assert.is.not((await stat(join(oldDir, 'index.html'))).ino, (await stat(join(newDir, 'index.html'))).ino);
  // Unchanged publish: nothing to upload.
  const same = await publishSite({ inventory, siteDir: site });
  history.push(same);
  assert.is(same.uploadedFiles, 0);
  assert.is(same.removedFiles, 0);
  assert.is(same.unchangedFiles, 302);
});

async function assertLiveIntact(id: string): Promise<void> {
  assert.is(await liveId(), id, 'the previous release stays live');
  const index = JSON.parse(await readFile(join(publishPath, 'releases', id, '.publish-index.json'), 'utf8')) as { files: Record<string, { sha256: string }> };
  for (const [rel, entry] of Object.entries(index.files)) {
    assert.is(sha(await readFile(join(publishPath, 'releases', id, rel))), entry.sha256, `${rel} intact`);
  }
  assert.match((await get('')).body.toString(), /fleet report v2/);
  assert.is(sha((await get('assets/big-0.bin')).body), index.files['assets/big-0.bin']!.sha256);
}

t('a publish SIGKILLed when its partial release appears, or in the middle of the tar upload, leaves the previous site live and intact', async () => {
  const live = await liveId();
  const site3 = join(work, 'site3');
  await cp(site, site3, { recursive: true });
  await put(site3, 'index.html', '<html><body><h1>fleet report v3</h1></body></html>\n');
  await put(site3, 'assets/huge.bin', noise(48 << 20, 'huge'));
  const args = ['publish', '--inventory', inventoryFile, '--site', site3];

  const partialAppears = async () => (await readdir(join(publishPath, 'releases'))).some((n) => n.endsWith('.partial'));
  const first = runChild(args);
  await killWhen(first, partialAppears);
  assert.is((await first.exit).signal, 'SIGKILL');
  await assertLiveIntact(live);

  // Mid-upload: the big file has started to arrive in the upload directory.
  const uploading = async () => {
    const u = (await readdir(join(publishPath, 'releases'))).find((n) => n.endsWith('.upload'));
    if (!u) return false;
    const s = await stat(join(publishPath, 'releases', u, 'files/assets/huge.bin')).catch(() => undefined);
    return !!s && s.size > 0;
  };
  const second = runChild(args);
  await killWhen(second, uploading);
  await assertLiveIntact(live);
  const leftovers = (await releaseDirs()).filter((n) => n.endsWith('.partial') || n.endsWith('.upload'));
  assert.ok(leftovers.length > 0, 'the killed publish left its staging dirs (the next publish cleans them)');

  // The next publish waits for the orphaned remote script (flock), cleans up and succeeds.
  const r = await publishSite({ inventory, siteDir: site3 });
  history.push(r);
  assert.ok(r.cleaned.length > 0, `cleaned: ${r.cleaned.join(', ')}`);
  assert.is(r.uploadedFiles, 2);
  assert.is(r.compressed, false, '48 MB of random bytes: gzip would only cost time');
  settle();
  assert.equal((await releaseDirs()).filter((n) => !/^r\d{6}-\d{8}T\d{6}Z$/.test(n)), [`${r.releaseId}.prelink`], 'only the prelinked copy of the live release is left');
  assert.match((await get('')).body.toString(), /fleet report v3/);
  assert.is(sha((await get('assets/huge.bin')).body), sha(noise(48 << 20, 'huge')));
});

t('an aborted publishSite (AbortSignal) changes nothing', async () => {
  const live = await liveId();
  const site4 = join(work, 'site4');
  await cp(join(work, 'site3'), site4, { recursive: true });
  await put(site4, 'assets/huge.bin', noise(48 << 20, 'huge v4'));
  const controller = new AbortController();
  const watcher = setInterval(async () => {
    if ((await readdir(join(publishPath, 'releases'))).some((n) => n.endsWith('.upload'))) controller.abort();
  }, 2);
  try {
    await publishSite({ inventory, siteDir: site4, signal: controller.signal });
    assert.unreachable('should have been aborted');
  } catch (error) {
    assert.ok(controller.signal.aborted, `failed without abort: ${(error as Error).message}`);
  } finally {
    clearInterval(watcher);
  }
  assert.is(await liveId(), live);
  assert.match((await get('')).body.toString(), /fleet report v3/);
});

t('rollback switches current back to the previous release, and forward with --to', async () => {
  const live = await liveId();
  const { releases } = await listReleases({ inventory });
  const previous = releases[releases.indexOf(live) - 1]!;
  const back = await rollback({ inventory });
  assert.equal(back, { from: live, to: previous });
  assert.is(await liveId(), previous);
  assert.match((await get('')).body.toString(), /fleet report v2/);
  assert.is((await get('assets/huge.bin')).status, 404);
  const forward = await rollback({ inventory, to: live });
  assert.equal(forward, { from: previous, to: live });
  assert.match((await get('')).body.toString(), /fleet report v3/);
});

t('keep K: older releases are deleted, the live one and the newest K-1 stay', async () => {
  for (let i = 0; i < 4; i++) {
    await put(site, 'index.html', `<html><body><h1>fleet report k${i}</h1></body></html>\n`);
    history.push(await publishSite({ inventory, siteDir: site, keep: 3 }));
  }
  const { live, releases } = await listReleases({ inventory });
  assert.is(releases.length, 3);
  assert.is(live, history[history.length - 1]!.releaseId);
  assert.equal(releases, history.slice(-3).map((r) => r.releaseId));
  assert.ok(history[history.length - 1]!.prunedReleases.length >= 1);
  assert.match((await get('')).body.toString(), /fleet report k3/);
});

t('the CLI publishes and rolls back (exit 0), and refuses a bad --keep (exit 2)', async () => {
  await put(site, 'index.html', '<html><body><h1>fleet report cli</h1></body></html>\n');
  const pub = runChild(['publish', '--inventory', inventoryFile, '--site', site, '--keep', '3']);
  const exit = await pub.exit;
  assert.is(exit.code, 0, pub.output());
  assert.match(pub.output(), /published r\d{6}-\S+: 1 file\(s\) uploaded/);
  assert.match((await get('')).body.toString(), /fleet report cli/);
  const back = runChild(['publish', '--inventory', inventoryFile, '--rollback']);
  assert.is((await back.exit).code, 0, back.output());
  assert.match(back.output(), /rolled back: r\d{6}-\S+ is live/);
  assert.match((await get('')).body.toString(), /fleet report k3/);
  const bad = runChild(['publish', '--inventory', inventoryFile, '--keep', '1']);
  assert.is((await bad.exit).code, 2, bad.output());
});

t.run();

// The lab's web server (test/lab/static-server.ts) sends each of the report site's files with the
// type a browser or feed reader expects: the Atom feed as application/atom+xml, not as a download.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, terminate } from './proc.js';
import { spawnStaticServer } from './static-server-process.js';

let work = '';
let pid: number | undefined;
let base = '';

/** A port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'lab-static-'));
  const site = join(work, 'site-1');
  await mkdir(join(site, 'assets'), { recursive: true });
  await writeFile(join(site, 'index.html'), '<!doctype html><title>x</title>');
  await writeFile(join(site, 'regressions.atom'), '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>');
  await writeFile(join(site, 'regressions.json'), '{}');
  await writeFile(join(site, 'assets', 'site.css'), 'body{}');
  await symlink(site, join(work, 'current'));
  const port = await freePort();
  const pidFile = join(work, 'server.pid');
  const runningPid = () => {
    try {
      const named = Number(readFileSync(pidFile, 'utf8').trim());
      return isAlive(named) ? named : undefined;
    } catch {
      return undefined;
    }
  };
  pid = await spawnStaticServer({ what: 'test web server', root: work, address: '127.0.0.1', port, pidFile, logFile: join(work, 'server.log'), runningPid });
  base = `http://127.0.0.1:${port}/`;
});

test.after(async () => {
  if (pid !== undefined) await terminate([pid]);
  if (work) await rm(work, { recursive: true, force: true });
});

test('the Atom feed is sent as application/atom+xml', async () => {
  const response = await fetch(`${base}regressions.atom`);
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'application/atom+xml; charset=utf-8');
  assert.match(await response.text(), /<feed xmlns="http:\/\/www\.w3\.org\/2005\/Atom">/);
});

test('pages, data and styles keep their types', async () => {
  for (const [path, type] of [
    ['index.html', 'text/html; charset=utf-8'],
    ['', 'text/html; charset=utf-8'],
    ['regressions.json', 'application/json; charset=utf-8'],
    ['assets/site.css', 'text/css; charset=utf-8'],
  ] as const) {
    const response = await fetch(`${base}${path}`);
    assert.is(response.status, 200, path);
    assert.is(response.headers.get('content-type'), type, path);
    await response.arrayBuffer();
  }
});

test.run();

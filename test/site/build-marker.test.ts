// site/build-marker.ts: the mark a drawing build leaves in the site's root tells the next build
// whether the last one was killed (its process gone, or its pid now another process's), and is
// taken away when a build ends, unless that build failed with a killed one's leftovers to clean.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD_MARKER, markBuilding } from '../../orchestrator/site/build-marker.js';
import type { ProcessProbe } from '../../orchestrator/local-process.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'build-marker-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const gone = (dir: string) => stat(join(dir, BUILD_MARKER)).then(() => false, () => true);
const runs = (start: string | null): ProcessProbe => () => ({ alive: true, start });
const dead: ProcessProbe = () => ({ alive: false });

test('no mark: the last build ended; the mark names this process while it builds and goes when it ends', () =>
  withDir(async (dir) => {
    const mark = await markBuilding(dir, dead);
    assert.is(mark.lastBuildKilled, false);
    assert.is((JSON.parse(await readFile(join(dir, BUILD_MARKER), 'utf8')) as { pid: number }).pid, process.pid);
    await mark.release(true);
    assert.ok(await gone(dir));
  }));

test('a mark whose process is gone, whose pid now runs another process, or that cannot be read: the last build was killed', () =>
  withDir(async (dir) => {
    const cases: [string, string, ProcessProbe, boolean][] = [
      ['its process is gone', '{"pid":4242,"start":"100"}\n', dead, true],
      ['its pid runs a process started later', '{"pid":4242,"start":"100"}\n', runs('900'), true],
      ['damaged', '{"pid":', runs('100'), true],
      ['its builder still runs', '{"pid":4242,"start":"100"}\n', runs('100'), false],
      ['its builder runs, start unknown', '{"pid":4242,"start":null}\n', runs('100'), false],
    ];
    for (const [what, text, probe, killed] of cases) {
      await writeFile(join(dir, BUILD_MARKER), text);
      const mark = await markBuilding(dir, probe);
      assert.is(mark.lastBuildKilled, killed, what);
      await mark.release(true);
    }
  }));

test('a build that fails with a killed build\u2019s leftovers to clean keeps its mark, so the next one still cleans; one that fails otherwise takes it away', () =>
  withDir(async (dir) => {
    await writeFile(join(dir, BUILD_MARKER), '{"pid":4242,"start":"100"}\n');
    const failing = await markBuilding(dir, dead);
    assert.ok(failing.lastBuildKilled);
    await failing.release(false);
    assert.not.ok(await gone(dir), 'kept');
    // the next build, once this process is gone, sees a killed build
    assert.ok((await markBuilding(dir, dead)).lastBuildKilled);
    await rm(join(dir, BUILD_MARKER));
    const plain = await markBuilding(dir, dead);
    await plain.release(false);
    assert.ok(await gone(dir), 'taken away');
  }));

test.run();

// site/output.ts on a real filesystem: a unit's files written where they were drawn (a render
// worker, writeUnitFiles) and recorded by the SiteWriter from their paths, sizes and hashes
// alone: unchanged files left alone, a unit that fails while writing changes nothing of its page
// set and leaves no temp file, stale files of an earlier build still removed, manifest last.
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BUILD_MANIFEST, SiteWriter, fileHash, readBuildManifest, writeFileAtomic, writeUnitFiles, type OutFile } from '../../orchestrator/site/output.js';
import { BUILD_STATE, readBuildState, writeBuildState } from '../../orchestrator/site/build-state.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'output-unit-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every file under dir, relative, sorted (temp files included: they start with a dot). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  await walk(dir);
  return out.sort();
}

const unit = (page: string): OutFile[] => [
  { path: 'jobs/s1/j1/charts.js', data: 'the charts' },
  { path: 'jobs/s1/j1/logs/run.txt', data: Buffer.from('log bytes \u00e9') },
  { path: 'jobs/s1/j1.html', data: `<p>${page}</p>` },
];

test('writeUnitFiles writes every file into directories it makes and reports paths, sizes and hashes', () =>
  withDir(async (dir) => {
    const files = unit('one');
    const written = writeUnitFiles(dir, files, undefined);
    assert.equal(
      written.files,
      files.map((f) => ({ path: f.path, hash: fileHash(f.data), bytes: Buffer.byteLength(f.data), written: true })),
    );
    for (const f of files) assert.is(await readFile(join(dir, f.path), 'utf8'), f.data.toString());
    assert.equal(await tree(dir), ['jobs/s1/j1.html', 'jobs/s1/j1/charts.js', 'jobs/s1/j1/logs/run.txt'], 'no temp file left');
  }));

test('writeUnitFiles leaves a file alone when the last build wrote the same content and it is still there', () =>
  withDir(async (dir) => {
    const first = writeUnitFiles(dir, unit('one'), undefined);
    const before = Object.fromEntries(first.files.map((f) => [f.path, f.hash]));
    const inode = (await stat(join(dir, 'jobs/s1/j1/charts.js'))).ino;
    await rm(join(dir, 'jobs/s1/j1/logs/run.txt'));
    const second = writeUnitFiles(dir, unit('two'), before);
    // charts.js is unchanged content: left alone; the log was deleted: written again; the page changed
    assert.equal(second.files.map((f) => [f.path, f.written]), [
      ['jobs/s1/j1/charts.js', false],
      ['jobs/s1/j1/logs/run.txt', true],
      ['jobs/s1/j1.html', true],
    ]);
    assert.is((await stat(join(dir, 'jobs/s1/j1/charts.js'))).ino, inode, 'the unchanged file was not replaced');
    assert.is(await readFile(join(dir, 'jobs/s1/j1.html'), 'utf8'), '<p>two</p>');
  }));

test('a unit that fails while writing changes no file of its page set and leaves no temp file', () =>
  withDir(async (dir) => {
    writeUnitFiles(dir, unit('old'), undefined);
    // the second file's directory is a regular file now: staging it fails after the first was staged
    await rm(join(dir, 'jobs/s1/j1/logs'), { recursive: true });
    await writeFile(join(dir, 'jobs/s1/j1/logs'), 'in the way');
    try {
      writeUnitFiles(dir, [{ path: 'jobs/s1/j1/charts.js', data: 'new charts' }, ...unit('new').slice(1)], undefined);
      assert.unreachable('a file under a regular file cannot be written');
    } catch (error) {
      assert.is((error as NodeJS.ErrnoException).code, 'ENOTDIR');
    }
    assert.is(await readFile(join(dir, 'jobs/s1/j1/charts.js'), 'utf8'), 'the charts', 'the asset staged before the failure was not put in place');
    assert.is(await readFile(join(dir, 'jobs/s1/j1.html'), 'utf8'), '<p>old</p>', 'the page is the old one');
    assert.equal(await tree(dir), ['jobs/s1/j1.html', 'jobs/s1/j1/charts.js', 'jobs/s1/j1/logs'], 'no temp file left');
  }));

test('SiteWriter records units written elsewhere, skips them when unchanged, and removes what a later build no longer makes', () =>
  withDir(async (dir) => {
    const build = async (files: OutFile[], fp: string) => {
      const writer = new SiteWriter(dir);
      await writer.open();
      let rendered = false;
      await writer.unit('job:s1/j1', fp, () => {
        rendered = true;
        return writeUnitFiles(dir, files, writer.before('job:s1/j1'));
      });
      const removed = await writer.finish();
      return { writer, removed, rendered };
    };
    const first = await build(unit('one'), 'fp1');
    assert.is(first.writer.unitsWritten, 1);
    assert.equal(first.writer.writtenFiles, unit('one').map((f) => f.path));
    assert.is(first.writer.bytes, unit('one').reduce((n, f) => n + Buffer.byteLength(f.data), 0));
    const manifest = await readBuildManifest(dir);
    assert.equal(manifest['job:s1/j1'], { fp: 'fp1', files: Object.fromEntries(unit('one').map((f) => [f.path, fileHash(f.data)])) });

    const same = await build(unit('one'), 'fp1');
    assert.not.ok(same.rendered, 'an unchanged unit is not drawn again');
    assert.is(same.writer.unitsUnchanged, 1);

    // the next build of the unit has no log any more: the old log is a stale file, removed
    const fewer = unit('two').filter((f) => !f.path.includes('/logs/'));
    const next = await build(fewer, 'fp2');
    assert.equal(next.removed, ['jobs/s1/j1/logs/run.txt']);
    assert.equal(next.writer.writtenFiles, ['jobs/s1/j1.html'], 'charts.js had the same content: not rewritten');
    assert.equal(await tree(dir), [BUILD_MANIFEST, 'jobs/s1/j1.html', 'jobs/s1/j1/charts.js'].sort());
    assert.is(await stat(join(dir, 'jobs/s1/j1/logs')).catch(() => 'gone'), 'gone', 'the directory the stale log left empty is removed');
  }));

test('the directories stale files leave empty go, up to the root; one holding anything else stays', () =>
  withDir(async (dir) => {
    const build = async (id: string, files: OutFile[] | undefined) => {
      const writer = new SiteWriter(dir);
      await writer.open();
      if (files) await writer.unit(id, 'fp', () => writeUnitFiles(dir, files, writer.before(id)));
      return writer.finish();
    };
    await build('job:s1/j1', [{ path: 'jobs/s1/j1/deep/er/a.txt', data: 'a' }, { path: 'jobs/s1/j1.html', data: 'p' }]);
    // a file put there by hand, in a directory the unit's next files leave
    await writeFile(join(dir, 'jobs/s1/j1/deep/mine.txt'), 'mine');
    assert.equal(await build('job:s1/j1', undefined), ['jobs/s1/j1/deep/er/a.txt', 'jobs/s1/j1.html']);
    assert.equal(await tree(dir), [BUILD_MANIFEST, 'jobs/s1/j1/deep/mine.txt'].sort(), 'the hand-made file is left');
    assert.is(await stat(join(dir, 'jobs/s1/j1/deep/er')).catch(() => 'gone'), 'gone', 'its emptied sibling is removed');

    await rm(join(dir, 'jobs/s1/j1/deep/mine.txt'));
    await build('job:s2/j1', [{ path: 'jobs/s2/j1/x/b.txt', data: 'b' }]);
    assert.equal(await build('job:s2/j1', undefined), ['jobs/s2/j1/x/b.txt']);
    assert.equal(await readdir(join(dir, 'jobs')), ['s1'], 'every directory emptied by the removal went, up to jobs/; s1 was not emptied by it');
  }));

test('after a killed build, temp files it left in the directories a build writes in, and in the root, are removed; a live process\u2019s and this one\u2019s stay', () =>
  withDir(async (dir) => {
    // a pid that ran and has ended, and one that runs (stopped by its pid at the end)
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const live = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const temps = {
        dead: `jobs/s1/j1/.charts.js.${dead}.1.a.tmp`,
        deadRoot: `.index.html.${dead}.0.0.tmp`,
        live: `jobs/s1/j1/.charts.js.${live.pid}.1.b.tmp`,
        own: `jobs/s1/j1/.charts.js.${process.pid}.2.c.tmp`,
        untouched: `jobs/s9/.j9.html.${dead}.0.1.tmp`,
        notTemp: 'jobs/s1/j1/.charts.js.tmp',
      };
      for (const path of Object.values(temps)) {
        await mkdir(join(dir, path, '..'), { recursive: true });
        await writeFile(join(dir, path), 'half a page');
      }
      // an ordinary build (the last one was not killed) does not look
      const ordinary = new SiteWriter(dir);
      await ordinary.open();
      await ordinary.unit('job:s1/j1', 'fp0', () => writeUnitFiles(dir, unit('zero'), ordinary.before('job:s1/j1')));
      await ordinary.finish();
      assert.is(ordinary.deadTempsRemoved, 0);
      for (const path of Object.values(temps)) assert.ok((await tree(dir)).includes(path), `${path} not looked at`);
      const writer = new SiteWriter(dir, undefined, { removeDeadTemps: true });
      await writer.open();
      await writer.unit('job:s1/j1', 'fp', () => writeUnitFiles(dir, unit('one'), writer.before('job:s1/j1')));
      await writer.finish();
      assert.is(writer.deadTempsRemoved, 2);
      const left = await tree(dir);
      assert.not.ok(left.includes(temps.dead), 'the dead writer\u2019s temp in a directory this build wrote in is gone');
      assert.not.ok(left.includes(temps.deadRoot), 'and in the site\u2019s root');
      for (const kept of [temps.live, temps.own, temps.untouched, temps.notTemp]) assert.ok(left.includes(kept), `${kept} stays`);
    } finally {
      live.kill();
    }
  }));

test('an unchanged unit whose first file was removed since the last build is drawn again', () =>
  withDir(async (dir) => {
    const build = async () => {
      const writer = new SiteWriter(dir);
      await writer.open();
      let rendered = false;
      await writer.unit('job:s1/j1', 'fp1', () => {
        rendered = true;
        return writeUnitFiles(dir, unit('one'), writer.before('job:s1/j1'));
      });
      await writer.finish();
      return rendered;
    };
    assert.ok(await build());
    assert.not.ok(await build(), 'kept while its files are there');
    const first = unit('one')[0]!.path;
    await rm(join(dir, first));
    assert.ok(await build(), 'drawn again once its first file is gone');
    assert.is(await readFile(join(dir, first), 'utf8'), unit('one')[0]!.data);
  }));

test('a file that moved from a unit drawn again to a kept unit stays; what no unit makes any more is removed', () =>
  withDir(async (dir) => {
    const build = async (units: Record<string, { fp: string; files: OutFile[] }>) => {
      const writer = new SiteWriter(dir);
      await writer.open();
      for (const [id, u] of Object.entries(units)) await writer.unit(id, u.fp, () => u.files);
      return { removed: await writer.finish(), writer };
    };
    const shared = { path: 'data/shared.js', data: 'shared' };
    await build({ a: { fp: 'a1', files: [{ path: 'a.html', data: 'a' }, shared] }, b: { fp: 'b1', files: [{ path: 'b.html', data: 'b' }, { path: 'b-old.js', data: 'old' }] } });
    // a is drawn again without the shared file, which b (drawn again too) now makes; b's old asset is gone
    const next = await build({ a: { fp: 'a2', files: [{ path: 'a.html', data: 'a2' }] }, b: { fp: 'b2', files: [{ path: 'b.html', data: 'b' }, shared] } });
    assert.equal(next.removed, ['b-old.js']);
    // a kept, b drawn again without the shared file: it goes
    const last = await build({ a: { fp: 'a2', files: [] }, b: { fp: 'b3', files: [{ path: 'b.html', data: 'b3' }] } });
    assert.is(last.writer.unitsUnchanged, 1, 'a kept');
    assert.equal(last.removed, ['data/shared.js']);
    assert.equal(await tree(dir), [BUILD_MANIFEST, 'a.html', 'b.html'].sort());
    assert.equal(await readBuildManifest(dir), { a: { fp: 'a2', files: { 'a.html': fileHash('a2') } }, b: { fp: 'b3', files: { 'b.html': fileHash('b3') } } });
  }));

test('a manifest of an earlier format draws every unit again; a damaged unit record draws that unit again', () =>
  withDir(async (dir) => {
    const draw = async () => {
      const writer = new SiteWriter(dir);
      await writer.open();
      const drawn: string[] = [];
      for (const id of ['a', 'b']) {
        await writer.unit(id, 'fp', () => {
          drawn.push(id);
          return [{ path: `${id}.html`, data: id }];
        });
      }
      await writer.finish();
      return drawn;
    };
    assert.equal(await draw(), ['a', 'b']);
    assert.equal(await draw(), []);
    const text = await readFile(join(dir, BUILD_MANIFEST), 'utf8');
    const manifest = JSON.parse(text) as { schema: string; units: unknown[] };
    assert.is(manifest.schema, 'orchestrate/site-build@3', 'one JSON document');
    assert.equal(manifest.units, [['a', 'fp', 'a.html', ['fp', '', 'a.html', fileHash('a')]], ['b', 'fp', 'b.html', ['fp', '', 'b.html', fileHash('b')]]]);
    assert.is(text.split('\n').length, 5, 'a line per unit');
    await writeFile(join(dir, BUILD_MANIFEST), text.replace('["b","fp"', '["b",fp"'));
    assert.equal(await draw(), ['b'], "b's line damaged");
    await writeFile(join(dir, BUILD_MANIFEST), JSON.stringify({ schema: 'orchestrate/site-build@1', units: { a: { fp: 'fp', files: { 'a.html': fileHash('a') } } } }));
    assert.equal(await draw(), ['a', 'b']);
    await writeFile(join(dir, BUILD_MANIFEST), 'null');
    assert.equal(await draw(), ['a', 'b']);
  }));

test('a manifest of version 2 (one JSON object) is read as it was: the first build after an upgrade draws nothing again', () =>
  withDir(async (dir) => {
    for (const id of ['a', 'b']) await writeFile(join(dir, `${id}.html`), id);
    await writeFile(join(dir, BUILD_MANIFEST), JSON.stringify({ schema: 'orchestrate/site-build@2', units: { a: ['fp', '', 'a.html', fileHash('a')], b: ['fp', '', 'b.html', fileHash('b')] } }));
    const writer = new SiteWriter(dir);
    await writer.open();
    const drawn: string[] = [];
    for (const id of ['a', 'b']) await writer.unit(id, 'fp', () => (drawn.push(id), [{ path: `${id}.html`, data: id }]));
    await writer.finish();
    assert.equal(drawn, []);
    assert.is(JSON.parse(await readFile(join(dir, BUILD_MANIFEST), 'utf8')).schema, 'orchestrate/site-build@3', 'written in the new format');
    assert.equal(await readBuildManifest(dir), { a: { fp: 'fp', files: { 'a.html': fileHash('a') } }, b: { fp: 'fp', files: { 'b.html': fileHash('b') } } });
  }));

test('a kept unit is carried over as its line was read; a unit whose record is found damaged when it is drawn again has all its files written and none removed', () =>
  withDir(async (dir) => {
    const build = async (units: Record<string, { fp: string; files: OutFile[] }>) => {
      const writer = new SiteWriter(dir);
      await writer.open();
      const drawn: string[] = [];
      for (const [id, u] of Object.entries(units)) await writer.unit(id, u.fp, () => (drawn.push(id), u.files));
      return { removed: await writer.finish(), drawn, writer };
    };
    const a = { fp: 'a1', files: [{ path: 'a.html', data: 'a' }, { path: 'a-old.js', data: 'old' }] };
    await build({ a, b: { fp: 'b1', files: [{ path: 'b.html', data: 'b' }] } });
    const lineOf = (text: string, id: string) => text.split('\n').find((line) => line.startsWith(`["${id}"`))!;
    // a's record damaged after its first file (the page stays kept: its fingerprint and page are at hand)
    const text = await readFile(join(dir, BUILD_MANIFEST), 'utf8');
    const aLine = lineOf(text, 'a');
    const damagedA = aLine.replace('a-old.js', 'a-old.js\\u');
    await writeFile(join(dir, BUILD_MANIFEST), text.replace(aLine, damagedA));
    const kept = await build({ a, b: { fp: 'b1', files: [{ path: 'b.html', data: 'b' }] } });
    assert.equal(kept.drawn, []);
    assert.is(lineOf(await readFile(join(dir, BUILD_MANIFEST), 'utf8'), 'a'), damagedA, 'carried over as read');
    // drawn again without its old asset: its files are unknown, so the old one is not removed
    const redrawn = await build({ a: { fp: 'a2', files: [{ path: 'a.html', data: 'a2' }] }, b: { fp: 'b1', files: [{ path: 'b.html', data: 'b' }] } });
    assert.equal(redrawn.drawn, ['a']);
    assert.equal(redrawn.writer.writtenFiles, ['a.html']);
    assert.equal(redrawn.removed, []);
    assert.equal(await readBuildManifest(dir), { a: { fp: 'a2', files: { 'a.html': fileHash('a2') } }, b: { fp: 'b1', files: { 'b.html': fileHash('b') } } });
  }));

test('a unit whose render fails is not recorded and leaves the files of the last build in place', () =>
  withDir(async (dir) => {
    await mkdir(dir, { recursive: true });
    const writer = new SiteWriter(dir);
    await writer.open();
    await writer.unit('job:s1/j1', 'fp1', () => writeUnitFiles(dir, unit('one'), undefined));
    await writer.finish();
    const again = new SiteWriter(dir);
    await again.open();
    try {
      await again.unit('job:s1/j1', 'fp2', () => {
        throw new Error('drawing failed');
      });
      assert.unreachable('the failure goes on');
    } catch (error) {
      assert.match(String(error), /drawing failed/);
    }
    assert.is(await readFile(join(dir, 'jobs/s1/j1.html'), 'utf8'), '<p>one</p>');
  }));

/** A build of units x (x/x.html) and y (y/y.html), recorded as a site build records it: manifest, then state. */
async function buildWithState(dir: string, fps: { x: string; y: string }) {
  const writer = new SiteWriter(dir);
  await writer.open();
  const drawn: string[] = [];
  for (const id of ['x', 'y'] as const) {
    await writer.unit(id, fps[id], () => {
      drawn.push(id);
      return [{ path: `${id}/${id}.html`, data: `${id} ${fps[id]}` }];
    });
  }
  await writer.finish();
  const pages = writer.pages();
  await writeBuildState(dir, { inputs: 'i', probes: [], pages, regressions: 0, problems: [] }, writeFileAtomic);
  return { drawn, pages };
}

/** Past the filesystem's coarse directory timestamp tick, so that a change is seen in a directory's mtime. */
const tick = () => new Promise((done) => setTimeout(done, 30));

test('kept pages in directories as the last build left them are taken by their directory, whose identity the next state keeps', () =>
  withDir(async (dir) => {
    const first = await buildWithState(dir, { x: '1', y: '1' });
    assert.equal(first.drawn, ['x', 'y']);
    assert.is(first.pages.unchangedDirs.size, 0, 'a first build saw no directory of an earlier one');
    const state = (await readBuildState(dir))!;
    assert.equal(Object.keys(state.dirs).sort(), ['x', 'y']);
    const second = await buildWithState(dir, { x: '1', y: '1' });
    assert.equal(second.drawn, []);
    assert.equal(Object.fromEntries(second.pages.unchangedDirs), state.dirs, 'both directories seen unchanged and not written in');
    assert.equal((await readBuildState(dir))!.dirs, state.dirs);
  }));

test('a page removed from a directory the last build recorded is drawn again, and its directory looked at again for the next state', () =>
  withDir(async (dir) => {
    await buildWithState(dir, { x: '1', y: '1' });
    await tick();
    await rm(join(dir, 'x/x.html'));
    const again = await buildWithState(dir, { x: '1', y: '1' });
    assert.equal(again.drawn, ['x'], 'x drawn again, y kept');
    assert.is(await readFile(join(dir, 'x/x.html'), 'utf8'), 'x 1');
    assert.equal([...again.pages.unchangedDirs.keys()], ['y'], 'x was written in: its identity is taken afresh');
    const state = (await readBuildState(dir))!;
    assert.is.not(state.dirs['x'], '-');
    await tick();
    // a page drawn again with other content: its directory is written in, the other one kept
    const changed = await buildWithState(dir, { x: '1', y: '2' });
    assert.equal(changed.drawn, ['y']);
    assert.equal([...changed.pages.unchangedDirs.keys()], ['x']);
  }));

test('a state that does not go with the manifest (another build wrote one since) is not used: kept pages are looked at one by one', () =>
  withDir(async (dir) => {
    await buildWithState(dir, { x: '1', y: '1' });
    // the manifest written again (same content, another file): the state was not written after it
    await writeFileAtomic(join(dir, BUILD_MANIFEST), await readFile(join(dir, BUILD_MANIFEST)));
    await tick();
    await rm(join(dir, 'y/y.html'));
    const again = await buildWithState(dir, { x: '1', y: '1' });
    assert.equal(again.drawn, ['y'], 'the removed page is drawn again');
    assert.is(again.pages.unchangedDirs.size, 0, 'no directory taken on the word of a state of another manifest');
    // a damaged state: the same, page by page
    await writeFile(join(dir, BUILD_STATE), '{"schema":"orchestrate/site-state@3","manifest":');
    await tick();
    await rm(join(dir, 'x/x.html'));
    const damaged = await buildWithState(dir, { x: '1', y: '1' });
    assert.equal(damaged.drawn, ['x']);
    assert.is(damaged.pages.unchangedDirs.size, 0);
  }));

test('a unit whose id needs an escape in JSON is drawn again each time, the others kept; the manifest stays one JSON document', () =>
  withDir(async (dir) => {
    const ids = ['plain', 'with "quote"', 'tab\there', 'back\\slash'];
    const draw = async () => {
      const writer = new SiteWriter(dir);
      await writer.open();
      const drawn: string[] = [];
      for (const [i, id] of ids.entries()) await writer.unit(id, 'fp', () => (drawn.push(id), [{ path: `p${i}.html`, data: id }]));
      await writer.finish();
      return drawn;
    };
    assert.equal(await draw(), ids);
    assert.equal(await draw(), ids.slice(1));
    assert.equal((JSON.parse(await readFile(join(dir, BUILD_MANIFEST), 'utf8')) as { units: string[][] }).units.map((u) => u[0]), ['plain']);
  }));

test.run();

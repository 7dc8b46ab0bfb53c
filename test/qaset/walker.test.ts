import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack as tarPack } from 'tar-stream';
import { parseQasetPath } from '../../orchestrator/qaset/walker.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'qaset');

async function tmp(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'qaset-test-'));
}

/** A collected /var/log/qaset tree with a ctcs2 log tarball made by tar -cjf. */
async function makeTree(): Promise<string> {
  const root = await tmp();
  const work = path.join(root, 'work');
  const ctcs = path.join(work, 'var/log/qa/ctcs2/qa_bonnie-2026-11-22-06-00-00');
  await fsp.mkdir(ctcs, { recursive: true });
  await fsp.writeFile(path.join(ctcs, 'test_results'), 'bonnie++-async\n0 1 1 95 0 0\ndbench-default\n0 1 1 4 0 0\nmystery\n0 1 1 2 0 0\n');
  await fsp.copyFile(path.join(FIX, 'bonnie-2.00.csv'), path.join(ctcs, 'bonnie++-async'));
  await fsp.copyFile(path.join(FIX, 'dbench.txt'), path.join(ctcs, 'dbench-default'));
  await fsp.copyFile(path.join(FIX, 'unknown.txt'), path.join(ctcs, 'mystery'));
  await fsp.writeFile(path.join(ctcs, 'done'), 'Sun Nov 22 06:10:00 UTC 2026\n');
  await fsp.writeFile(path.join(ctcs, 'lscpu.txt'), 'CPU(s): 2\n');
  const q = path.join(root, 'qaset');
  await fsp.mkdir(path.join(q, 'control'), { recursive: true });
  await fsp.mkdir(path.join(q, 'log'));
  await fsp.mkdir(path.join(q, 'runs'));
  await fsp.writeFile(path.join(q, 'control/DONE'), '2026-11-22-06-15-53\n');
  await fsp.writeFile(path.join(q, 'control/NEXT_RUN'), '2 bonniepp_async_xfs\n');
  await fsp.writeFile(path.join(q, 'control/RUN_ID'), 'SQ_TEST_RUN_ID=20261122\n');
  await fsp.writeFile(path.join(q, 'runs/bonniepp_async_xfs-1122T0600.screenlog'), 'screen noise\n');
  execFileSync('tar', ['-cjf', path.join(q, 'log/bonniepp_async_xfs-ACAP2-20261122-20261122T061000.tar.bz2'), '-C', work, 'var/log/qa/ctcs2']);
  return q;
}

test('QASET tree end to end: control files, ctcs2 results, bonnie + dbench samples, unknown kept', async () => {
  const q = await makeTree();
  const r = await parseQasetPath(q);
  assert.is(r.done, '2026-11-22T06:15:53');
  assert.equal(r.nextRun, { index: 2, name: 'bonniepp_async_xfs' });
  assert.is(r.runId, '20261122');
  assert.is(r.tests.length, 3);
  assert.is(r.tests[0]!.name, 'bonnie++-async');
  assert.is(r.tests[0]!.tcf, 'qa_bonnie-2026-11-22-06-00-00');
  assert.is(r.tests[0]!.time, 95);
  const dbench = r.samples.find((s) => s.metric === 'dbench.throughput');
  assert.is(dbench?.value, 402.139);
  assert.is(dbench?.labels['test'], 'dbench-default');
  assert.is(dbench?.labels['tcf'], 'qa_bonnie-2026-11-22-06-00-00');
  assert.match(dbench?.labels['source'] ?? '', /\.tar\.bz2!var\/log\/qa\/ctcs2\/qa_bonnie-[^/]+\/dbench-default$/);
  assert.ok(r.samples.some((s) => s.metric === 'bonnie.putc' && s.value === 1090));
  assert.ok(r.samples.some((s) => s.metric === 'ctcs2.succeed' && s.labels['test'] === 'mystery'));
  assert.is(r.unparsed.length, 1);
  assert.match(r.unparsed[0]!.path, /\/mystery$/);
  assert.ok(r.parsed.some((p) => p.benchmark === 'bonnie' && (p.notes?.length ?? 0) > 0));
  // metadata (lscpu.txt, done) and bookkeeping (runs/) are not reported as unparsed
  assert.not.ok(r.unparsed.some((u) => /lscpu|done$|screenlog/.test(u.path)));
  await fsp.rm(path.dirname(q), { recursive: true, force: true });
});

test('extractTo keeps the unpacked logs and loses nothing, even when its directories are new (bzip2 done before the extractor reads)', async () => {
  const q = await makeTree();
  for (let i = 0; i < 3; i++) {
    const out = path.join(path.dirname(q), `unpacked-${i}`, 'deeper');
    const r = await parseQasetPath(q, { extractTo: out });
    assert.equal(r.unparsed.map((u) => path.basename(u.path)), ['mystery'], JSON.stringify(r.unparsed));
    assert.ok(r.samples.some((s) => s.metric === 'dbench.throughput' && s.value === 402.139), `run ${i}`);
    const kept = path.join(out, 'log_bonniepp_async_xfs-ACAP2-20261122-20261122T061000.tar.bz2', 'var/log/qa/ctcs2/qa_bonnie-2026-11-22-06-00-00', 'dbench-default');
    assert.is(await fsp.readFile(kept, 'utf8'), await fsp.readFile(path.join(FIX, 'dbench.txt'), 'utf8'));
  }
  await fsp.rm(path.dirname(q), { recursive: true, force: true });
});

test('a single log tarball and a single raw file', async () => {
  const q = await makeTree();
  const tarball = (await fsp.readdir(path.join(q, 'log')))[0]!;
  const r = await parseQasetPath(path.join(q, 'log', tarball));
  assert.is(r.runId, '20261122');
  assert.is(r.done, null);
  assert.is(r.tests.length, 3);
  const raw = await parseQasetPath(path.join(FIX, 'fio.json'));
  assert.ok(raw.samples.some((s) => s.metric === 'fio.iops'));
  await fsp.rm(path.dirname(q), { recursive: true, force: true });
});

test('a tarball with ../ entries does not escape; the rest is still parsed', async () => {
  const dir = await tmp();
  const inner = path.join(dir, 'inner');
  await fsp.mkdir(inner);
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
  const ended = new Promise<void>((res) => p.on('end', () => res()));
  p.entry({ name: '../../../escaped-qaset-test.txt' }, 'Throughput 1.0 MB/sec 1 clients 1 procs max_latency=1.0 ms\n');
  p.entry({ name: 'ctcs2/x/dbench-default' }, 'Throughput 7.5 MB/sec 2 clients 2 procs max_latency=3.0 ms\n');
  p.finalize();
  await ended;
  const tarFile = path.join(inner, 'evil.tar');
  await fsp.writeFile(tarFile, Buffer.concat(chunks));
  execFileSync('bzip2', ['-k', tarFile]);
  const r = await parseQasetPath(`${tarFile}.bz2`);
  assert.is(r.rejected.length, 1);
  assert.match(r.rejected[0]!.path, /escaped-qaset-test/);
  assert.is(r.samples.filter((s) => s.metric === 'dbench.throughput').map((s) => s.value).join(), '7.5');
  assert.not.ok(existsSync(path.join(os.tmpdir(), '..', 'escaped-qaset-test.txt')));
  assert.not.ok(existsSync(path.join(dir, 'escaped-qaset-test.txt')));
  assert.not.ok(existsSync(path.join(path.dirname(os.tmpdir()), 'escaped-qaset-test.txt')));
  await fsp.rm(dir, { recursive: true, force: true });
});

test('an unreadable path throws; a corrupt tarball is reported unparsed', async () => {
  let threw = false;
  try {
    await parseQasetPath('/nonexistent/qaset');
  } catch {
    threw = true;
  }
  assert.ok(threw);
  const dir = await tmp();
  await fsp.writeFile(path.join(dir, 'broken.tar.bz2'), 'not bzip2 at all');
  const r = await parseQasetPath(path.join(dir, 'broken.tar.bz2'));
  assert.is(r.unparsed.length, 1);
  assert.match(r.unparsed[0]!.reason, /could not be extracted/);
  await fsp.rm(dir, { recursive: true, force: true });
});

test.run();

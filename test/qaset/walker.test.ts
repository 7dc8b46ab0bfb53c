import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
  assert.equal(r.nextRun, { index: 2, name: 'bonniepp_async_xfs' }, 'the NEXT case, as NEXT_RUN names it');
  assert.equal(r.control?.next, r.nextRun);
  assert.is(r.control?.current, null, 'no run list: the case running cannot be told');
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
  // metadata (lscpu.txt, done) is listed as sysinfo; bookkeeping (runs/) is skipped; neither is unparsed
  assert.not.ok(r.unparsed.some((u) => /lscpu|done$|screenlog/.test(u.path)));
  assert.equal(r.sysinfo.map((f) => f.file), ['done', 'lscpu.txt']);
  // the tarball's name says which case the results are of
  assert.is(dbench?.labels['case'], 'bonniepp_async_xfs');
  assert.is(r.tests[0]!.case, 'bonniepp_async_xfs');
  assert.is(r.runIdSource, 'control/RUN_ID');
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
  assert.is(r.runIdSource, 'tarball-name');
  assert.is(r.control, null);
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

// ------------------------------------------------------------ QASET's real layout, collected

/** Writes files (path -> text) under root. */
async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, text] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await fsp.writeFile(path.join(root, p), text);
  }
}

/** A QASET log tarball as QASET makes it: the CONTENTS of /var/log/qa/ctcs2 (no ctcs2/ prefix). */
async function qasetTarball(dest: string, ctcs2: string, tcfs: string[]): Promise<void> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  execFileSync('tar', ['-cjf', dest, '-C', ctcs2, ...tcfs]);
}

const fixture = (f: string) => readFileSync(path.join(FIX, f), 'utf8');
const SYSINFO = ['syslog-journalctl.txt', 'installed-pattern.txt', 'lsscsi.txt', 'lspci-k.txt', 'lsmod.txt', 'lscpu.txt', 'cpu-frequency-info.txt', 'partition-mount.txt', 'cmdline.txt', 'meminfo.txt', 'zoneinfo.txt', 'systemctl-list-units.txt', 'tenv.txt', 'messages.shortlog'];

test('the ~14 system-information files of a ctcs2 result directory are listed as sysinfo, not unparsed', async () => {
  const dir = await tmp();
  const tcf = path.join(dir, 'qa_sysbench-2026-12-06-00-50-00');
  await writeFiles(tcf, {
    test_results: 'sysbench-cpu\n0 1 1 30 0 0\n',
    'sysbench-cpu': fixture('sysbench-0.4.8/sysbench-cpu'),
    done: 'Sun Dec  6 00:51:00 UTC 2026\n',
    ...Object.fromEntries(SYSINFO.map((f) => [f, `${f} from the guest\n`])),
  });
  const r = await parseQasetPath(tcf);
  assert.equal(r.unparsed, []);
  assert.equal(r.sysinfo.map((f) => f.file).sort(), [...SYSINFO, 'done'].sort());
  assert.is(r.samples.filter((x) => x.metric === 'sysbench.cpu.events_per_sec').length, 9, 'all nine 0.4.8 runs');
  assert.ok(r.samples.every((x) => x.labels['tcf'] === 'qa_sysbench-2026-12-06-00-50-00'));
  await fsp.rm(dir, { recursive: true, force: true });
});

/** A collected point: /var/log/qaset, /var/log/qa, /root/qaset/{list,list.failed}, and the orchestrator's own files. */
async function collection(): Promise<string> {
  const col = await tmp();
  const stage = path.join(col, '..', `${path.basename(col)}-stage`);
  const sysTcf = 'qa_sysbench-2026-12-06-00-50-00';
  const sysFiles = { test_results: 'sysbench-cpu\n0 1 1 30 0 0\nsysbench-threads\n0 1 1 5 0 0\n', 'sysbench-cpu': fixture('sysbench-0.4.8/sysbench-cpu'), 'sysbench-threads': fixture('sysbench-0.4.8/sysbench-threads'), 'lscpu.txt': 'CPU(s): 2\n' };
  await writeFiles(path.join(stage, sysTcf), sysFiles);
  await qasetTarball(path.join(col, 'qaset/log/sysbench_sys-ACAP2-20261206-20261206T010000.tar.bz2'), stage, [sysTcf]);
  await writeFiles(col, {
    list: 'SQ_TEST_RUN_LIST=(\n  _reboot_off\n  sysbench_sys\n  dbench4_async_xfs\n  bonniepp_async_xfs\n)\n',
    'list.failed': ' kernbench\ngarbage words here\n',
    'qaset/control/NEXT_RUN': '3 bonniepp_async_xfs\n',
    'qaset/control/RUN_ID': 'SQ_TEST_RUN_ID=20261206\n',
    'qaset/control/SYSTEM_DIRTY': '2026-12-06-01-00-00\n',
    'qaset/runs/sysbench_sys-1206T0050.screenlog': 'screen noise\n',
    'qaset/submission/submission-sysbench_sys.log': 'ID 1: nothing\n',
    // the unpacked copy of what the tarball holds (QASET could not empty ctcs2/), and the case running now
    ...Object.fromEntries(Object.entries(sysFiles).map(([f, t]) => [`qa/ctcs2/${sysTcf}/${f}`, t])),
    'qa/ctcs2/qa_dbench-2026-12-06-01-05-00/test_results': 'dbench-4_0-async\n0 1 1 4 0 0\n',
    'qa/ctcs2/qa_dbench-2026-12-06-01-05-00/dbench-4_0-async': fixture('dbench.txt'),
    'qa/oldlogs/2026-12-05-23-00-00/ctcs2/qa_kernbench-2026-12-05-22-00-00/test_results': 'kernbench\n0 1 1 1200 0 0\n',
    'qa/oldlogs/2026-12-05-23-00-00/ctcs2/qa_kernbench-2026-12-05-22-00-00/kernbench': fixture('kernbench.txt'),
    'point.json': '{"id": "p1"}\n',
    'serial.log': 'not a benchmark\n',
  });
  await fsp.rm(stage, { recursive: true, force: true });
  return col;
}

test('a collected /var/log/qaset + /var/log/qa + /root/qaset: each result read once (the tarball wins), cases labelled, run id from RUN_ID', async () => {
  const col = await collection();
  const r = await parseQasetPath(col);
  assert.is(r.runId, '20261206');
  assert.is(r.runIdSource, 'control/RUN_ID');
  assert.equal(r.runList, ['_reboot_off', 'sysbench_sys', 'dbench4_async_xfs', 'bonniepp_async_xfs']);
  assert.equal(r.control?.next, { index: 3, name: 'bonniepp_async_xfs' });
  assert.equal(r.control?.current, { index: 2, name: 'dbench4_async_xfs' }, 'the entry before the one NEXT_RUN names');
  assert.is(r.control?.systemDirty, true);
  // the same ctcs2 directory, packed and unpacked: read once, from the tarball
  assert.equal(r.duplicates, [{ tcf: 'qa_sysbench-2026-12-06-00-50-00', path: 'qa/ctcs2/qa_sysbench-2026-12-06-00-50-00', kept: 'qaset/log/sysbench_sys-ACAP2-20261206-20261206T010000.tar.bz2!qa_sysbench-2026-12-06-00-50-00' }]);
  const eps = r.samples.filter((x) => x.metric === 'sysbench.cpu.events_per_sec');
  assert.is(eps.length, 9, 'nine runs, not eighteen');
  assert.ok(eps.every((x) => x.labels['case'] === 'sysbench_sys'));
  assert.is(r.samples.filter((x) => x.metric === 'sysbench.threads.events_per_sec').length, 4);
  // what is left unpacked in ctcs2/ is the running case's; oldlogs/ has no case to tell
  assert.is(r.samples.find((x) => x.metric === 'dbench.throughput')?.labels['case'], 'dbench4_async_xfs');
  const kb = r.samples.find((x) => x.metric === 'kernbench.elapsed_time');
  assert.ok(kb && kb.labels['case'] === undefined);
  assert.equal(r.tests.map((t) => [t.name, t.case]), [['sysbench-cpu', 'sysbench_sys'], ['sysbench-threads', 'sysbench_sys'], ['dbench-4_0-async', 'dbench4_async_xfs'], ['kernbench', undefined]]);
  assert.equal(r.samples.filter((x) => x.metric === 'ctcs2.succeed').map((x) => [x.labels['test'], x.labels['case'] ?? '']), [['sysbench-cpu', 'sysbench_sys'], ['sysbench-threads', 'sysbench_sys'], ['dbench-4_0-async', 'dbench4_async_xfs'], ['kernbench', '']]);
  // list.failed: the real " <case>" form read; a line that is none is a problem, not a case
  assert.equal(r.failedCases, [{ case: 'kernbench', at: null, line: 1 }]);
  assert.equal(r.problems, [{ path: 'list.failed:2', reason: 'not "[YYYYMMDDTHHMMSS] <case>": "garbage words here"' }]);
  // nothing but QASET's files is read from the collection; bookkeeping is skipped; sysinfo listed
  assert.equal(r.unparsed, []);
  assert.equal(r.sysinfo.map((f) => f.path), ['qaset/log/sysbench_sys-ACAP2-20261206-20261206T010000.tar.bz2!qa_sysbench-2026-12-06-00-50-00/lscpu.txt']);
  await fsp.rm(col, { recursive: true, force: true });
});

test('the same ctcs2 directory in two tarballs: the earlier one (by the time in its name) wins, whatever the name order', async () => {
  const dir = await tmp();
  const stage = path.join(dir, 'stage');
  await writeFiles(path.join(stage, 'qa_dbench-2026-12-06-01-05-00'), { test_results: 'dbench-4_0-async\n0 1 1 4 0 0\n', 'dbench-4_0-async': fixture('dbench.txt') });
  const q = path.join(dir, 'qaset');
  await qasetTarball(path.join(q, 'log/aaa_later-ACAP2-20261206-20261206T030000.tar.bz2'), stage, ['qa_dbench-2026-12-06-01-05-00']);
  await qasetTarball(path.join(q, 'log/zzz_earlier-ACAP2-20261206-20261206T020000.tar.bz2'), stage, ['qa_dbench-2026-12-06-01-05-00']);
  const r = await parseQasetPath(q);
  assert.equal(r.samples.filter((x) => x.metric === 'dbench.throughput').map((x) => x.labels['case']), ['zzz_earlier']);
  assert.equal(r.duplicates.map((d) => d.path), ['log/aaa_later-ACAP2-20261206-20261206T030000.tar.bz2!qa_dbench-2026-12-06-01-05-00']);
  assert.is(r.runIdSource, 'tarball-name', 'no control/RUN_ID: the run id in the tarball names');
  await fsp.rm(dir, { recursive: true, force: true });
});

test('a case the run list names twice: the second run\'s samples say occurrence 2, so the two never merge', async () => {
  const dir = await tmp();
  const stage = path.join(dir, 'stage');
  const q = path.join(dir, 'qaset');
  for (const [i, tcf] of ['qa_sysbench-sys-2026-12-06-00-50-00', 'qa_sysbench-sys-2026-12-06-02-50-00'].entries()) {
    await writeFiles(path.join(stage, tcf), { test_results: 'sysbench-mutex\n0 1 1 3 0 0\n', 'sysbench-mutex': fixture('sysbench-0.4.8/sysbench-mutex') });
    await qasetTarball(path.join(q, `log/sysbench_sys-ACAP2-20261206-20261206T0${i * 2 + 1}0000.tar.bz2`), stage, [tcf]);
    await fsp.rm(stage, { recursive: true, force: true });
  }
  // and a third run of it in progress: its results still unpacked in /var/log/qa/ctcs2
  await writeFiles(dir, {
    'qaset/control/NEXT_RUN': ' \n',
    'qaset/runs/sysbench_sys-1206T0450.screenlog': '',
    'qa/ctcs2/qa_sysbench-sys-2026-12-06-04-50-00/sysbench-mutex': fixture('sysbench-0.4.8/sysbench-mutex'),
  });
  const r = await parseQasetPath(q, { qaDir: path.join(dir, 'qa'), runList: ['sysbench_sys', 'sysbench_sys', 'sysbench_sys'] });
  assert.equal(r.control?.current, { index: 2, name: 'sysbench_sys' });
  const total = r.samples.filter((x) => x.metric === 'sysbench.mutex.total_time' && x.labels['threads'] === '1');
  assert.equal(total.map((x) => [x.labels['case'], x.labels['occurrence']]), [['sysbench_sys', undefined], ['sysbench_sys', '2'], ['sysbench_sys', '3']]);
  assert.equal(r.tests.map((t) => t.occurrence), [undefined, 2]);
  await fsp.rm(dir, { recursive: true, force: true });
});

test('options: a /var/log/qa tree beside a /var/log/qaset target, list.failed and the run list given; blank NEXT_RUN', async () => {
  const col = await collection();
  await fsp.writeFile(path.join(col, 'qaset/control/NEXT_RUN'), ' \n');
  const list = ['sysbench_sys', 'dbench4_async_xfs'];
  // blank NEXT_RUN, no screen log of the last case yet: a reset run not begun
  let r = await parseQasetPath(path.join(col, 'qaset'), { qaDir: path.join(col, 'qa'), listFailed: path.join(col, 'list.failed'), runList: list });
  assert.is(r.control?.nextRunState, 'blank');
  assert.is(r.control?.current, null);
  assert.equal(r.runList, list);
  assert.equal(r.failedCases?.map((f) => f.case), ['kernbench']);
  assert.is(r.duplicates[0]?.path, 'qa/ctcs2/qa_sysbench-2026-12-06-00-50-00', 'the qaDir tree is read after the tarballs');
  // with the last case's screen log: the last case is running
  await fsp.writeFile(path.join(col, 'qaset/runs/dbench4_async_xfs-1206T0105.screenlog'), '');
  r = await parseQasetPath(path.join(col, 'qaset'), { qaDir: path.join(col, 'qa'), runList: list });
  assert.equal(r.control?.current, { index: 1, name: 'dbench4_async_xfs' });
  assert.is(r.failedCases, null, 'no list.failed read');
  // done: nothing runs
  await fsp.writeFile(path.join(col, 'qaset/control/DONE'), '2026-12-06-02-00-00\n');
  r = await parseQasetPath(col);
  assert.is(r.control?.current, null);
  assert.is(r.done, '2026-12-06T02:00:00');
  await fsp.rm(col, { recursive: true, force: true });
});

test('host files that are links are not followed: a symlinked list.failed is a problem, not a list', async () => {
  const col = await collection();
  await fsp.rm(path.join(col, 'list.failed'));
  await fsp.symlink('/etc/passwd', path.join(col, 'list.failed'));
  await fsp.writeFile(path.join(col, 'qaset/control/NEXT_RUN'), '1 not_in_list\n');
  const r = await parseQasetPath(col);
  assert.is(r.failedCases, null);
  assert.match(r.problems.map((p) => `${p.path}: ${p.reason}`).join('\n'), /list\.failed: .*is a symbolic link, not read/);
  assert.match(r.problems.map((p) => `${p.path}: ${p.reason}`).join('\n'), /qaset\/control\/NEXT_RUN: NEXT_RUN names not_in_list at index 1/);
  await fsp.rm(col, { recursive: true, force: true });
});

test.run();

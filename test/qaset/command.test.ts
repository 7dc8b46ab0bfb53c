import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Command } from 'commander';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import { inertJson, registerQasetCommand } from '../../orchestrator/cli/command-qaset.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'qaset');

async function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command().exitOverride();
  registerQasetCommand(program);
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string) => ((out += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write;
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'orchestrate', ...args]);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  const code = process.exitCode as number | undefined;
  process.exitCode = saved;
  return { out, err, code };
}

test('qaset parse prints JSON and exits 0', async () => {
  const r = await run(['qaset', 'parse', path.join(FIX, 'dbench.txt')]);
  assert.is(r.code, 0);
  const j = JSON.parse(r.out);
  assert.is(j.samples[0].metric, 'dbench.throughput');
  assert.equal(j.unparsed, []);
});

test('qaset parse of a QASET tree with --qa, --list-failed and --run-list: the case running, failed cases, sysinfo', async () => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'qaset-cmd-'));
  const files: Record<string, string> = {
    'qaset/control/NEXT_RUN': '2 dbench4_async_xfs\n',
    'qaset/control/RUN_ID': 'SQ_TEST_RUN_ID=20261206\n',
    'qa/ctcs2/qa_sysbench-2026-12-06-00-50-00/test_results': 'sysbench-cpu\n0 1 1 30 0 0\n',
    'qa/ctcs2/qa_sysbench-2026-12-06-00-50-00/sysbench-cpu': readFileSync(path.join(FIX, 'sysbench-0.4.8/sysbench-cpu'), 'utf8'),
    'qa/ctcs2/qa_sysbench-2026-12-06-00-50-00/meminfo.txt': 'MemTotal: 1 kB\n',
    'root/list': 'SQ_TEST_RUN_LIST=( _reboot_off sysbench_sys dbench4_async_xfs )\n',
    'root/list.failed': ' sysbench_sys\n',
  };
  for (const [p, t] of Object.entries(files)) {
    await fsp.mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await fsp.writeFile(path.join(dir, p), t);
  }
  const r = await run(['qaset', 'parse', path.join(dir, 'qaset'), '--qa', path.join(dir, 'qa'), '--list-failed', path.join(dir, 'root/list.failed'), '--run-list', path.join(dir, 'root/list')]);
  assert.is(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.control.current, { index: 1, name: 'sysbench_sys' });
  assert.equal(j.control.next, { index: 2, name: 'dbench4_async_xfs' });
  assert.equal(j.failedCases, [{ case: 'sysbench_sys', at: null, line: 1 }]);
  assert.is(j.runId, '20261206');
  assert.equal(j.sysinfo.map((f: { file: string }) => f.file), ['meminfo.txt']);
  assert.is(j.samples.filter((s: { metric: string; labels: Record<string, string> }) => s.metric === 'sysbench.cpu.events_per_sec' && s.labels['case'] === 'sysbench_sys').length, 9);
  // a run list that is not one is refused with the line
  await fsp.writeFile(path.join(dir, 'root/list'), 'SQ_TEST_RUN_LIST=( ok `reboot` )\n');
  const bad = await run(['qaset', 'parse', path.join(dir, 'qaset'), '--run-list', path.join(dir, 'root/list')]);
  assert.is(bad.code, 1);
  assert.match(bad.err, /root\/list:1: not a QASET case name/);
  await fsp.rm(dir, { recursive: true, force: true });
});

test('text from a host cannot drive the terminal: C1 controls in names are escaped in the JSON', () => {
  const out = inertJson({ path: 'a\u009b2Jb\u001b[0m\u2028' });
  assert.not.ok(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028]/.test(out), 'only the pretty-printing newlines stay raw');
  assert.equal(JSON.parse(out), { path: 'a\u009b2Jb\u001b[0m\u2028' });
});

test('qaset parse of an unreadable path exits 1', async () => {
  const r = await run(['qaset', 'parse', '/nonexistent/qaset-path']);
  assert.is(r.code, 1);
  assert.match(r.err, /nonexistent/);
});

test.run();

// The kvm normalizer over a job's artifacts laid out as remote-scripts/kvm writes them: one
// point finished (QASET tarball with ctcs2 results, sysbench output and an output nobody parses,
// host series exported from RRD), one timed out, one never ran. Real tar+bzip2 archives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KvmParams } from '../../orchestrator/scenarios/kvm/params.js';
import { KvmArtifactError, normalizeKvm } from '../../orchestrator/scenarios/kvm/normalize.js';

const run = promisify(execFile);
const FIXTURES = new URL('../fixtures/qaset/', import.meta.url).pathname;
let dir = '';

const params = KvmParams.parse({
  matrix: {
    topologies: [
      { vcpus: 2, sockets: 1, cores: 2, threads: 1 },
      { vcpus: 2, sockets: 2, cores: 1, threads: 1 },
      { vcpus: 1, sockets: 1, cores: 1, threads: 1 },
    ],
    backing: [{ dir: '/srv/a', name: 'a' }],
  },
  guest: { base_image: '/srv/base.qcow2', base_format: 'qcow2' },
  qaset: { run_list: ['sysbench_cpu'] },
});
const [DONE, LATE, NEVER] = ['smp1x2x1-dir.a-raw-none-native-virtio-r1', 'smp2x1x1-dir.a-raw-none-native-virtio-r1', 'smp1x1x1-dir.a-raw-none-native-virtio-r1'];

function pointJson(id: string, index: number, status: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    index,
    status,
    domain_name: `orch-lab-01-${id}-0a1b2c3d`,
    domain_type: 'qemu',
    next_run: '1 sysbench_cpu',
    done: status === 'done' ? '2026-11-30-23-59-01' : '',
    qaset_collected: true,
    error: '',
    timings_ms: { prepare: 120, inject: 35, define: 40, boot: 4100, run: 9000, collect: 30, teardown: 60 },
    ...extra,
  };
}

async function qasetTree(point: string, done: boolean): Promise<void> {
  const root = join(dir, 'raw/artifacts/points', point, 'qaset');
  const stage = join(dir, 'stage', point);
  const tcf = join(stage, 'ctcs2', 'qa_sysbench-2026-11-30-23-58-00');
  await mkdir(tcf, { recursive: true });
  await writeFile(join(tcf, 'test_results'), 'sysbench-cpu\n0 1 1 10.5 0 0\nmystery\n0 1 1 1 0 0\n');
  await copyFile(join(FIXTURES, 'sysbench-cpu.txt'), join(tcf, 'sysbench-cpu'));
  await writeFile(join(tcf, 'mystery'), 'nothing any parser knows\n');
  await mkdir(join(root, 'log'), { recursive: true });
  await mkdir(join(root, 'control'), { recursive: true });
  await run('tar', ['-cjf', join(root, 'log', 'sysbench_cpu-ACAP2-n1p1-20261130T235800.tar.bz2'), '-C', stage, 'ctcs2']);
  await writeFile(join(root, 'control', 'NEXT_RUN'), '1 sysbench_cpu\n');
  if (done) await writeFile(join(root, 'control', 'DONE'), '2026-11-30-23-59-01\n');
}

async function hostSeries(point: string): Promise<void> {
  const rrd = join(dir, 'raw/artifacts/points', point, 'rrd');
  await mkdir(rrd, { recursive: true });
  const xport = (values: (number | null)[]) => ({ meta: { start: 1_764_547_000, step: 1, end: 1_764_547_003, legend: ['average', 'min', 'max'] }, data: values.map((v) => [v, v, v]) });
  await writeFile(join(rrd, 'host.host.cpu_busy_percent.json'), JSON.stringify(xport([40, 60, null, 80])));
  await writeFile(join(rrd, 'host.host.disk.write_bytes.json'), JSON.stringify(xport([0, 1024, 2048, null])));
  await writeFile(
    join(rrd, 'index.json'),
    JSON.stringify({
      step: 1,
      heartbeat: 400,
      series: [
        { collector: 'host', alias: 'host.cpu_busy_percent', type: 'GAUGE', rrd: `points/${point}/rrd/host.host.cpu_busy_percent.rrd`, json: `points/${point}/rrd/host.host.cpu_busy_percent.json` },
        { collector: 'host', alias: 'host.disk.write_bytes', type: 'COUNTER', rrd: `points/${point}/rrd/host.host.disk.write_bytes.rrd`, json: `points/${point}/rrd/host.host.disk.write_bytes.json` },
      ],
    }),
  );
}

async function writePoint(id: string, index: number, status: string, extra: Record<string, unknown> = {}): Promise<void> {
  await mkdir(join(dir, 'raw/artifacts/points', id), { recursive: true });
  await writeFile(join(dir, 'raw/artifacts/points', id, 'point.json'), JSON.stringify(pointJson(id, index, status, extra)));
}

/** normalizeKvm fails with a message matching `pattern`. */
async function failsWith(pattern: RegExp): Promise<void> {
  const error = await normalizeKvm(join(dir, 'raw'), params).then(
    () => null,
    (e: unknown) => e as Error,
  );
  assert.ok(error, `expected a failure matching ${pattern}`);
  assert.match(error!.message, pattern);
}

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-normalize-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a finished point, a timed-out point and one that never ran: labels, timings, QASET results, host series, the points summary', async () => {
  await writePoint(DONE, 1, 'done');
  await qasetTree(DONE, true);
  await hostSeries(DONE);
  await writePoint(LATE, 2, 'timed-out', { error: '' });
  await qasetTree(LATE, false);
  const m = await normalizeKvm(join(dir, 'raw'), params);
  const get = (metric: string, point: string) => m.samples.filter((s) => s.metric === metric && s.labels['point'] === point);

  assert.is(get('kvm.point.completed', DONE)[0]!.value, 1);
  assert.is(get('kvm.point.completed', LATE)[0]!.value, 0);
  assert.equal(get('kvm.point.completed', NEVER), []);
  assert.is(get('kvm.point.boot', DONE)[0]!.value, 4.1);
  assert.is(get('kvm.point.run', DONE)[0]!.unit, 's');
  const eps = get('sysbench.cpu.events_per_sec', DONE)[0]!;
  assert.ok(eps.value > 0);
  assert.equal(
    { topology: eps.labels['topology'], backing: eps.labels['backing'], format: eps.labels['format'], cache: eps.labels['cache'], io: eps.labels['io'], bus: eps.labels['bus'], repetition: eps.labels['repetition'], vcpus: eps.labels['vcpus'] },
    { topology: 'smp1x2x1', backing: 'dir.a', format: 'raw', cache: 'none', io: 'native', bus: 'virtio-blk', repetition: '1', vcpus: '2' },
  );
  const succeed = get('ctcs2.succeed', DONE);
  assert.is(succeed.length, 2);
  // labels stay the same from one night to the next: no tarball name, no ctcs2 timestamp
  for (const s of m.samples) {
    assert.is(s.labels['source'], undefined, `${s.metric} has a source label`);
    if (s.labels['tcf'] !== undefined) assert.is(s.labels['tcf'], 'qa_sysbench', s.metric);
  }
  // the timed-out point's results count too: what it collected is kept
  assert.ok(get('sysbench.cpu.events_per_sec', LATE).length === 1);

  const cpu = m.series.find((s) => s.metric === 'host.cpu_busy_percent' && s.labels['point'] === DONE)!;
  assert.equal(cpu.points.map(([, v]) => v), [40, 60, null, 80]);
  assert.is(cpu.unit, '%');
  assert.is(m.series.find((s) => s.metric === 'host.disk.write_bytes')!.unit, 'bytes/s');
  assert.is(get('kvm.host.cpu_busy.mean', DONE)[0]!.value, 60);
  assert.is(get('kvm.host.cpu_busy.max', DONE)[0]!.value, 80);
  assert.is(m.samples.find((s) => s.metric === 'kvm.points.done')!.value, 1);
  assert.is(m.samples.find((s) => s.metric === 'kvm.points.planned')!.value, 3);
  assert.is(m.samples.find((s) => s.metric === 'qaset.outputs.unparsed')!.value, 2, 'the mystery output of both points');

  const summary = JSON.parse(await readFile(join(dir, 'kvm-points.json'), 'utf8'));
  assert.equal(summary.points.map((p: { id: string; status: string }) => [p.id, p.status]), [[DONE, 'done'], [LATE, 'timed-out'], [NEVER, 'not-run']]);
  const unparsed = summary.points[0].qaset.unparsed;
  assert.is(unparsed.length, 1);
  assert.match(unparsed[0].path, /sysbench_cpu-ACAP2-n1p1-20261130T235800\.tar\.bz2!ctcs2\/qa_sysbench-2026-11-30-23-58-00\/mystery$/);
  assert.is(summary.points[0].qaset.runId, 'n1p1');
  // the ctcs2 logs, unpacked beside raw/ for reading
  const unpacked = join(dir, 'qaset-logs', DONE, 'log_sysbench_cpu-ACAP2-n1p1-20261130T235800.tar.bz2', 'ctcs2', 'qa_sysbench-2026-11-30-23-58-00');
  assert.is(await readFile(join(unpacked, 'sysbench-cpu'), 'utf8'), await readFile(join(FIXTURES, 'sysbench-cpu.txt'), 'utf8'));
  assert.match(await readFile(join(unpacked, 'test_results'), 'utf8'), /^sysbench-cpu\n0 1 1 10.5 0 0\n/);
});

test('no point finished: the job fails with every point named, the summary is still written', async () => {
  await writePoint(DONE, 1, 'failed', { error: 'domain XML rejected' });
  await writePoint(LATE, 2, 'timed-out');
  try {
    await normalizeKvm(join(dir, 'raw'), params);
    assert.unreachable('should fail');
  } catch (error) {
    assert.instance(error, KvmArtifactError);
    assert.match((error as Error).message, new RegExp(`${DONE} failed \\(domain XML rejected\\); ${LATE} timed-out; ${NEVER} not-run`));
  }
  const summary = JSON.parse(await readFile(join(dir, 'kvm-points.json'), 'utf8'));
  assert.is(summary.points.length, 3);
});

test('cases and reboots: each case that ran to its end is passed 1 or 0, a stopped point keeps its finished cases, boots and reboot time per point', async () => {
  const cases = { finished: ['sysbench_sys', 'dbench4_async_xfs', 'sysbench_sys'], passed: ['sysbench_sys', 'sysbench_sys'], failed: ['dbench4_async_xfs'], unfinished: '', last: '' };
  await writePoint(DONE, 1, 'done', { boots: 3, reboots_ms: [9000, 11000], run_id: 'SQ_TEST_RUN_ID=20261206', progress_from: 'channel', watch_lines: 40, watch_rejected: 0, stop: false, qaset_start: 'service', qaset_unit: '/usr/lib/systemd/system/qaperf.service', cases });
  await qasetTree(DONE, true);
  // collected beside /var/log/qaset: /root/qaset/list.failed (real QASET's line: no date) and /var/log/qa
  await writeFile(join(dir, 'raw/artifacts/points', DONE, 'list.failed'), ' dbench4_async_xfs\n');
  const qaTcf = join(dir, 'raw/artifacts/points', DONE, 'qa', 'ctcs2', 'qa_sysbench-2026-12-06-03-00-00');
  await mkdir(qaTcf, { recursive: true });
  await writeFile(join(qaTcf, 'test_results'), 'sysbench-threads\n0 1 1 3.5 0 0\n');
  await writePoint(LATE, 2, 'stopped', { error: 'QASET was stopped (control/STOP): the run ended without DONE', boots: 2, reboots_ms: [10000], stop: true, cases: { finished: ['sysbench_sys'], passed: ['sysbench_sys'], failed: [], unfinished: '', last: 'sysbench_sys' } });
  const m = await normalizeKvm(join(dir, 'raw'), params);
  const get = (metric: string, point: string) => m.samples.filter((s) => s.metric === metric && s.labels['point'] === point);
  assert.equal(get('qaset.case.passed', DONE).map((s) => [s.labels['case'], s.labels['occurrence'], s.value]), [
    ['sysbench_sys', undefined, 1],
    ['dbench4_async_xfs', undefined, 0],
    ['sysbench_sys', '2', 1],
  ]);
  assert.is(get('qaset.case.passed', DONE)[0]!.better, 'higher');
  assert.is(get('qaset.cases.failed', DONE)[0]!.value, 1);
  assert.is(get('qaset.cases.finished', DONE)[0]!.value, 3);
  assert.is(get('kvm.point.boots', DONE)[0]!.value, 3);
  assert.is(get('kvm.point.reboot', DONE)[0]!.value, 10);
  assert.equal(get('qaset.case.passed', LATE).map((s) => [s.labels['case'], s.value]), [['sysbench_sys', 1]]);
  assert.is(get('kvm.point.completed', LATE)[0]!.value, 0);
  const summary = JSON.parse(await readFile(join(dir, 'kvm-points.json'), 'utf8'));
  assert.equal(summary.points[0].cases, cases);
  assert.equal([summary.points[0].boots, summary.points[0].reboots_ms, summary.points[0].run_id, summary.points[0].progress_from], [3, [9000, 11000], 'SQ_TEST_RUN_ID=20261206', 'channel']);
  assert.equal(summary.points[0].qaset.failedCases.map((c: { case: string; at: null }) => [c.case, c.at]), [['dbench4_async_xfs', null]]);
  assert.ok(m.samples.some((s) => s.metric === 'ctcs2.succeed' && s.labels['test'] === 'sysbench-threads' && s.labels['point'] === DONE), 'the /var/log/qa tree was read');
  assert.is(summary.points[1].status, 'stopped');
  assert.is(summary.points[1].error, 'QASET was stopped (control/STOP): the run ended without DONE');
  // a case name the host could not have written is refused
  await writePoint(DONE, 1, 'done', { cases: { ...cases, failed: ['x; reboot'] } });
  await failsWith(/cases\.failed/);
});

test('host output is validated: a malformed point.json, a point.json naming another point, an index escaping the artifacts', async () => {
  await mkdir(join(dir, 'raw/artifacts/points', DONE), { recursive: true });
  await writeFile(join(dir, 'raw/artifacts/points', DONE, 'point.json'), '{"id": 1');
  await failsWith(/point\.json: not JSON/);
  await writePoint(DONE, 1, 'done', { id: LATE });
  await failsWith(/names point smp2x1x1/);
  await writePoint(DONE, 1, 'done', { status: 'great' });
  await failsWith(/status/);
  await writePoint(DONE, 1, 'done');
  await mkdir(join(dir, 'raw/artifacts/points', DONE, 'rrd'), { recursive: true });
  await writeFile(
    join(dir, 'raw/artifacts/points', DONE, 'rrd', 'index.json'),
    JSON.stringify({ step: 1, heartbeat: 400, series: [{ collector: 'host', alias: 'x', type: 'GAUGE', rrd: 'x', json: '../../../../etc/passwd.json' }] }),
  );
  await failsWith(/a path without/);
});

test.run();

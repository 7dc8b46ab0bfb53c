// The kvm scenario's adaptive repetitions without a hypervisor: the `repeat` params and what a
// point phase is told; remote-scripts/lib/kvm-repeat.sh reading the judged measurement out of a
// QASET log tarball (real tar, real awk); remote-scripts/kvm's repetition loop (kvm_point_repeat,
// sourced by real bash) with each further run stood in for by a function that leaves the logs a
// run would (target met early, max, a failed run, the deadline); normalize turning the runs into
// repeated samples of the point's keys, repeat.* samples and the point's `repeat` summary.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KvmParams } from '../../orchestrator/scenarios/kvm/params.js';
import { kvmPhases, REPEAT_RESERVE_S } from '../../orchestrator/scenarios/kvm/phases.js';
import { kvmScenario } from '../../orchestrator/scenarios/kvm.js';
import { normalizeKvm, RepeatRecordSchema } from '../../orchestrator/scenarios/kvm/normalize.js';
import { meanInterval } from '../../orchestrator/analysis/confidence-interval.js';
import type { HostSpec } from '../../orchestrator/inventory/types.js';

const exec = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../remote-scripts/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/qaset/', import.meta.url));
let dir = '';

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-repeat-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base = {
  matrix: { topologies: [{ vcpus: 1, sockets: 1, cores: 1, threads: 1 }], backing: [{ dir: '/srv/a', name: 'a' }] },
  guest: { base_image: '/srv/base.img' },
  qaset: { run_list: ['_reboot_off', 'sysbench_sys', 'dbench4_async_xfs'], timeout: '30m' },
};
const SYSBENCH = { case: 'sysbench_sys', test: 'sysbench-cpu', pattern: 'events per second: *[0-9.]+' };

test('params: off by default; a metric case outside the run list, a pattern without its test, run without a pattern, cases without the metric\'s case are refused', () => {
  assert.is(KvmParams.parse(base).repeat, undefined);
  assert.equal(KvmParams.parse({ ...base, repeat: { metric: SYSBENCH } }).repeat, { min: 1, max: 5, target_ci: 0.02, metric: SYSBENCH });
  const refused = (repeat: unknown, pattern: RegExp) => {
    const r = KvmParams.safeParse({ ...base, repeat });
    assert.not.ok(r.success, JSON.stringify(repeat));
    assert.match(JSON.stringify(r.error!.issues), pattern);
  };
  refused({ metric: { case: 'kernbench' } }, /case kernbench is not in qaset.run_list/);
  refused({ metric: { case: 'sysbench_sys', pattern: 'x [0-9]+' } }, /a pattern needs the test/);
  refused({ metric: { case: 'sysbench_sys', test: 'sysbench-cpu', run: 2 } }, /run picks one of the pattern/);
  refused({ metric: SYSBENCH, cases: ['_reboot_off', 'dbench4_async_xfs'] }, /do not include the metric's case/);
  refused({ metric: SYSBENCH, cases: ['sysbench_sys', 'nosuch'] }, /case nosuch is not in qaset.run_list/);
  refused({ metric: { ...SYSBENCH, pattern: 'events (' } }, /not a valid regular expression/);
  refused({ metric: SYSBENCH, min: 3, max: 2 }, /max must be at least min/);
});

test('phases: a point is told the rule, what to judge and its budget; its time limit has room for max - 1 more runs; off, nothing changes', () => {
  const host = {} as HostSpec;
  const point = (params: unknown) => kvmPhases({ host, profilesDir: '', params: KvmParams.parse(params) }).find((p) => p.name.startsWith('point-'))!;
  const off = point(base);
  const once = point({ ...base, repeat: { metric: SYSBENCH, max: 1 } });
  const on = point({ ...base, repeat: { metric: { ...SYSBENCH, run: 2 }, min: 2, max: 3, target_ci: 0.05, cases: ['_reboot_off', 'sysbench_sys'] } });
  assert.not.ok(Object.keys(off.env!).some((k) => k.startsWith('KVM_REPEAT_')));
  assert.not.ok(Object.keys(once.env!).some((k) => k.startsWith('KVM_REPEAT_')));
  assert.is(once.timeoutMs, off.timeoutMs);
  const env = on.env!;
  assert.equal(
    [env['KVM_REPEAT_MIN'], env['KVM_REPEAT_MAX'], env['KVM_REPEAT_TARGET_CI'], env['KVM_REPEAT_CASES'], env['KVM_REPEAT_CASE'], env['KVM_REPEAT_TEST'], env['KVM_REPEAT_PATTERN'], env['KVM_REPEAT_RUN']],
    ['2', '3', '0.05', '_reboot_off sysbench_sys', 'sysbench_sys', 'sysbench-cpu', 'events per second: *[0-9.]+', '2'],
  );
  assert.is(on.timeoutMs! - off.timeoutMs!, 2 * (30 * 60_000 + 10 * 60_000), 'two more runs of up to qaset.timeout, 10 min each besides');
  assert.is(Number(env['KVM_REPEAT_BUDGET_S']), Math.floor(on.timeoutMs! / 1000) - REPEAT_RESERVE_S);
  assert.is(point({ ...base, repeat: { metric: { case: 'sysbench_sys' } } }).env!['KVM_REPEAT_CASES'], 'sysbench_sys', 'default: the metric\'s case alone');
  const summary = (params: unknown) => kvmScenario.summary!(KvmParams.parse(params));
  assert.match(summary({ ...base, repeat: { metric: SYSBENCH, min: 2, max: 3, target_ci: 0.05, cases: ['_reboot_off', 'sysbench_sys'] } }), /; repeat _reboot_off sysbench_sys 2\.\.3 runs to \+-5% on sysbench_sys:sysbench-cpu;/);
  assert.not.match(summary(base), /repeat/);
});

/** Runs SCRIPT in bash with remote-scripts/kvm sourced (its functions, not a verb). */
async function kvmSh(script: string, env: Record<string, string> = {}): Promise<{ stdout: string; events: string }> {
  const events = join(dir, 'events.jsonl');
  const { stdout } = await exec('bash', ['-c', `set -euo pipefail\nexec 3>>${JSON.stringify(events)}\n. ${JSON.stringify(join(SCRIPTS, 'kvm'))}\n${script}`], {
    env: { PATH: process.env.PATH!, ORCH_JOB_DIR: join(dir, 'job'), ORCH_ARTIFACTS: join(dir, 'job/artifacts'), ...env },
  });
  return { stdout, events: await readFile(events, 'utf8').catch(() => '') };
}

/**
 * A QASET log tarball of `case` under DEST/qaset/log as QASET packs it (the ctcs2 result
 * directory's contents, no ctcs2/ prefix; `prefix` true: with one, as some copies have), its
 * sysbench-cpu output saying `eps` events per second per run.
 */
async function tarball(dest: string, kase: string, stamp: string, eps: number[], prefix = false): Promise<string> {
  const stage = join(dir, 'stage', `${kase}-${stamp}`);
  const result = join(stage, 'ctcs2', `qa_sysbench-sys-2026-01-01-00-00-${stamp.slice(-2)}`);
  await mkdir(result, { recursive: true });
  const fixture = await readFile(join(FIXTURES, 'sysbench-cpu.txt'), 'utf8');
  await writeFile(join(result, 'sysbench-cpu'), eps.map((e) => fixture.replace(/events per second:\s+[0-9.]+/, `events per second:  ${e}`)).join('\n'));
  await writeFile(join(result, 'test_results'), `sysbench-cpu\n0 1 1 ${eps.length * 10} 0 0\nsysbench-threads\n0 1 1 7 0 0\n`);
  await mkdir(join(dest, 'qaset/log'), { recursive: true });
  const file = join(dest, 'qaset/log', `${kase}-ACAP2-20260101-${stamp}.tar.bz2`);
  if (prefix) await exec('tar', ['-cjf', file, '-C', stage, 'ctcs2']);
  else await exec('bash', ['-c', `cd ${JSON.stringify(join(stage, 'ctcs2'))} && tar -cjf ${JSON.stringify(file)} *`]);
  return file;
}

test('the judged measurement: the numbers a pattern\'s matches end with (mean, or the run\'th), the ctcs2 time, the case\'s newest tarball, the reason when none', async () => {
  const art = join(dir, 'art');
  await tarball(art, 'sysbench_sys', '20260101T000001', [100, 200, 400]);
  await tarball(art, 'sysbench_sys', '20260101T000002', [1000, 3000], true);
  await tarball(art, 'sysbench_sys_other', '20260101T000009', [7]);
  const value = (env: Record<string, string>) => kvmSh(`kvm_repeat_value ${JSON.stringify(art)} || echo " FAILED"`, env).then((r) => r.stdout);
  assert.is(await value({ KVM_REPEAT_CASE: 'sysbench_sys', KVM_REPEAT_TEST: 'sysbench-cpu', KVM_REPEAT_PATTERN: 'events per second: *[0-9.]+' }), '2000', 'the newest tarball (ctcs2/ prefix or not), the mean of its runs');
  assert.is(await value({ KVM_REPEAT_CASE: 'sysbench_sys', KVM_REPEAT_TEST: 'sysbench-cpu', KVM_REPEAT_PATTERN: 'events per second: *[0-9.]+', KVM_REPEAT_RUN: '2' }), '3000');
  assert.is(await value({ KVM_REPEAT_CASE: 'sysbench_sys', KVM_REPEAT_TEST: 'sysbench-cpu', KVM_REPEAT_PATTERN: 'events per second: *[0-9.]+', KVM_REPEAT_RUN: '3' }), 'no value in sysbench-cpu of sysbench_sys-ACAP2-20260101-20260101T000002.tar.bz2 FAILED\n');
  assert.is(await value({ KVM_REPEAT_CASE: 'sysbench_sys', KVM_REPEAT_TEST: 'sysbench-cpu' }), '20', 'no pattern: the ctcs2 time of the test');
  assert.is(await value({ KVM_REPEAT_CASE: 'sysbench_sys' }), '27', 'no test either: of every test');
  assert.is(await value({ KVM_REPEAT_CASE: 'sysbench_sys_other', KVM_REPEAT_TEST: 'sysbench-cpu', KVM_REPEAT_PATTERN: 'events per second: *[0-9.]+' }), '7');
  assert.is(await value({ KVM_REPEAT_CASE: 'dbench4_async_xfs' }), 'no QASET log tarball of case dbench4_async_xfs FAILED\n');
  // a pattern's backslashes reach awk as written (no -v escape processing); a number's sign is kept
  const dbench = await readFile(join(FIXTURES, 'dbench.txt'), 'utf8');
  await writeFile(join(dir, 'dbench'), dbench);
  assert.is((await kvmSh(`kvm_repeat_extract 'Throughput [0-9]+\\.[0-9]+' <${JSON.stringify(join(dir, 'dbench'))}`)).stdout, '402.13900000000001\n');
  assert.is((await kvmSh(`printf 'delta: -2.5 x\\ndelta: 4.5\\n' | kvm_repeat_extract 'delta: -?[0-9.]+'`)).stdout, '1\n');
  assert.is((await kvmSh(`printf 'nothing\\n' | kvm_repeat_extract 'x [0-9]+'; echo end`)).stdout, 'end\n');
});

/**
 * kvm_point_repeat with a point whose own run (eps FIRST) is collected, and each further run k
 * stood in for: it leaves a tarball with RUNS[k-2] events per second and run.json with STATUS.
 */
async function loop(first: number, runs: number[], env: Record<string, string>, extra = ''): Promise<{ record: ReturnType<typeof RepeatRecordSchema.parse>; events: string }> {
  const art = join(dir, 'job/artifacts/points/p1');
  await tarball(art, 'sysbench_sys', '20260101T000000', [first]);
  const script = `
KVM_POINT_ID=p1 KVM_P_ART=${JSON.stringify(art)} KVM_P_STATUS=done KVM_P_UUID=fake
KVM_P_MS=([boot]=2000 [run]=9000)
KVM_P_DEADLINE_MS=$(($(kvm_now_ms) + \${DEADLINE_S:-3600} * 1000))
RUNS=(${runs.join(' ')})
kvm_domain_shutdown() { :; }
kvm_point_repetition() {
  local k=$1 d=$2
  mkdir -p "$d/qaset/log"
  ${extra}
  local stage=$d/stage/r
  mkdir -p "$stage"
  sed -E "s/events per second:[[:space:]]+[0-9.]+/events per second:  \${RUNS[k - 2]}/" ${JSON.stringify(join(FIXTURES, 'sysbench-cpu.txt'))} >"$stage/sysbench-cpu"
  (cd "$stage" && tar -cjf "$d/qaset/log/sysbench_sys-ACAP2-20260101-20260101T00000$k.tar.bz2" sysbench-cpu)
  rm -rf "$d/stage"
  printf '{"status":"%s","error":"","by_deadline":%s}\\n' "\${STATUS:-done}" "\${BY_DEADLINE:-false}" >"$d/run.json"
}
kvm_point_repeat`;
  const { events } = await kvmSh(script, {
    KVM_REPEAT_MIN: '2', KVM_REPEAT_MAX: '4', KVM_REPEAT_TARGET_CI: '0.02', KVM_REPEAT_CASES: '_reboot_off sysbench_sys',
    KVM_REPEAT_CASE: 'sysbench_sys', KVM_REPEAT_TEST: 'sysbench-cpu', KVM_REPEAT_PATTERN: 'events per second: *[0-9.]+', ...env,
  });
  return { record: RepeatRecordSchema.parse(JSON.parse(await readFile(join(art, 'repeat.json'), 'utf8'))), events };
}

test('the point\'s repetition loop: target met early, max reached, each run recorded with its value and logs', async () => {
  const { record: early } = await loop(1000, [1010, 995, 1500], {});
  assert.equal([early.stop, early.repetitions, early.values, early.target_met], ['target', 3, [1000, 1010, 995], true]);
  assert.equal(early.runs.map((r) => [r.repetition, r.status, r.value, r.dir]), [[1, 'done', 1000, ''], [2, 'done', 1010, 'repeat/2'], [3, 'done', 995, 'repeat/3']]);
  assert.equal(early.runs[0]!.seconds, 11, 'the point\'s own run: boot + run');
  assert.equal([early.case, early.test, early.cases], ['sysbench_sys', 'sysbench-cpu', ['_reboot_off', 'sysbench_sys']]);
  const ci = meanInterval([1000, 1010, 995]);
  assert.ok(Math.abs(early.ci_relative! - ci.relative) < 1e-12 && Math.abs(early.mean! - ci.mean) < 1e-9);
  await rm(join(dir, 'job'), { recursive: true, force: true });
  const { record: noisy } = await loop(1000, [1500, 700, 1200, 1], {});
  assert.equal([noisy.stop, noisy.repetitions, noisy.values, noisy.target_met], ['max', 4, [1000, 1500, 700, 1200], false]);
});

test('the loop ends on a run that failed, on a run the deadline cut short, at the deadline; a point whose own run did not finish is not repeated', async () => {
  const { record: failed, events } = await loop(1000, [1500], { STATUS: 'stalled' });
  assert.equal([failed.stop, failed.repetitions, failed.values], ['failed', 2, [1000]]);
  assert.equal([failed.runs[1]!.status, failed.runs[1]!.value, failed.runs[1]!.error], ['stalled', null, 'the repetition ended stalled']);
  assert.match(events, /repetition 2 has no value/);
  await rm(join(dir, 'job'), { recursive: true, force: true });
  const { record: cut } = await loop(1000, [1500], { STATUS: 'timed-out', BY_DEADLINE: 'true' });
  assert.is(cut.stop, 'deadline');
  await rm(join(dir, 'job'), { recursive: true, force: true });
  const { record: late, events: lateEvents } = await loop(1000, [1500], { DEADLINE_S: '-1' });
  assert.equal([late.stop, late.repetitions, late.values], ['deadline', 1, [1000]], 'no time left: no further run, even below min');
  assert.match(lateEvents, /stopped at the phase's deadline after 1 run/);
  await rm(join(dir, 'job'), { recursive: true, force: true });
  const art = join(dir, 'job/artifacts/points/p1');
  await mkdir(art, { recursive: true });
  await kvmSh('KVM_P_ART=' + JSON.stringify(art) + ' KVM_P_STATUS=stalled; kvm_point_repeat', { KVM_REPEAT_MAX: '4', KVM_REPEAT_CASE: 'sysbench_sys', KVM_REPEAT_CASES: 'sysbench_sys' });
  assert.ok(await readFile(join(art, 'repeat.json')).then(() => false, () => true), 'no repeat.json');
});

test('normalize: each further run\'s QASET results are repeated samples of the point\'s keys; the loop is repeat.* samples and the point\'s `repeat` summary', async () => {
  const params = KvmParams.parse({ ...base, qaset: { ...base.qaset, run_list: ['sysbench_sys'] }, repeat: { metric: SYSBENCH, min: 2, max: 3 } });
  const id = 'smp1x1x1-dir.a-raw-none-native-virtio-r1';
  const art = join(dir, 'job/raw/artifacts/points', id);
  await tarball(art, 'sysbench_sys', '20260101T000000', [1000]);
  await tarball(join(art, 'repeat/2'), 'sysbench_sys', '20260101T000002', [1010]);
  await mkdir(join(art, 'qaset/control'), { recursive: true });
  await writeFile(join(art, 'qaset/control/DONE'), '2026-01-01-00-00-09\n');
  await writeFile(join(art, 'point.json'), JSON.stringify({
    id, index: 1, status: 'done', domain_name: 'd', domain_type: 'qemu', next_run: ' ', done: '2026-01-01-00-00-09', qaset_collected: true, error: '',
    timings_ms: { boot: 1000, run: 2000 }, cases: { finished: ['sysbench_sys'], passed: ['sysbench_sys'], failed: [], unfinished: '', last: '' },
  }));
  const ci = meanInterval([1000, 1010]);
  await writeFile(join(art, 'repeat.json'), JSON.stringify({
    case: 'sysbench_sys', test: 'sysbench-cpu', pattern: SYSBENCH.pattern, run: null, cases: ['sysbench_sys'], repetitions: 2,
    runs: [{ repetition: 1, status: 'done', value: 1000, dir: '', error: '', seconds: 3 }, { repetition: 2, status: 'done', value: 1010, dir: 'repeat/2', error: '', seconds: 3 }],
    min: 2, max: 3, target_ci: 0.02, n: 2, values: [1000, 1010], mean: ci.mean, sd: ci.sd, ci_half_width: ci.halfWidth, ci_relative: ci.relative, target_met: false, stop: 'max', seconds: 7,
  }));
  const m = await normalizeKvm(join(dir, 'job/raw'), params);
  const eps = m.samples.filter((s) => s.metric === 'sysbench.cpu.events_per_sec');
  assert.equal(eps.map((s) => s.value), [1000, 1010], 'the point\'s run and its repetition');
  assert.is(new Set(eps.map((s) => JSON.stringify(s.labels))).size, 1, 'one key');
  assert.is(eps[0]!.labels['point'], id);
  assert.equal(m.samples.filter((s) => s.metric === 'qaset.case.passed').length, 1, 'the point\'s own case record only');
  const measure = 'sysbench_sys:sysbench-cpu:/events per second: *[0-9.]+/';
  const rep = (metric: string) => m.samples.filter((s) => s.metric === metric).map((s) => [s.value, s.labels['measure'], s.labels['point']]);
  assert.equal(rep('repeat.value'), [[1000, measure, id], [1010, measure, id]]);
  assert.equal(rep('repeat.repetitions'), [[2, measure, id]]);
  assert.equal(rep('repeat.target_met'), [[0, measure, id]]);
  assert.equal(rep('repeat.deadline'), [[0, measure, id]]);
  assert.ok(Math.abs(rep('repeat.ci_relative')[0]![0] as number - ci.relative) < 1e-12);
  const summary = JSON.parse(await readFile(join(dir, 'job/kvm-points.json'), 'utf8')).points[0];
  assert.equal([summary.repeat.stop, summary.repeat.values, summary.repeat.parsed.map((p: { dir: string; qaset: { parsed: unknown[] } }) => [p.dir, p.qaset.parsed.length > 0])], ['max', [1000, 1010], [['repeat/2', true]]]);
  // a repeat.json naming a directory outside the point is refused
  await writeFile(join(art, 'repeat.json'), JSON.stringify({ ...JSON.parse(await readFile(join(art, 'repeat.json'), 'utf8')), runs: [{ repetition: 2, status: 'done', value: 1, dir: '../../x', error: '', seconds: 1 }] }));
  assert.match(await normalizeKvm(join(dir, 'job/raw'), params).then(() => '', (e: Error) => e.message), /repeat\.json: runs\.0\.dir/);
});

test.run();

// The confirmation decision: a one-sided rank test of the re-runs against the previous regime, plus
// the magnitude; and the re-running itself under its budget (a fake runner stores the re-runs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricHistory } from '../../orchestrator/analysis/history.js';
import { DEFAULT_THRESHOLDS, type DetectedChange, type Thresholds } from '../../orchestrator/analysis/regressions.js';
import {
  bestPossibleP,
  confirmCandidates,
  confirmPolicy,
  decide,
  isRerunJobId,
  oneSidedP,
  oneSidedTest,
  previousRegime,
  rerunJobId,
  type ConfirmInput,
} from '../../orchestrator/fleet/confirm-regressions.js';
import { eventText } from '../../orchestrator/fleet/event-text.js';
import { fakeRunner, inventoryOf, METRIC, sweepIdOf } from './confirm-fixtures.js';

const T: Thresholds = { ...DEFAULT_THRESHOLDS, pValue: 0.05, minRelativeChange: 0.1 };
const BASELINE = [10, 11, 9, 10.5, 9.5, 10, 10.2, 9.8];

function change(host = 'h1', overrides: Partial<DetectedChange> = {}): DetectedChange {
  return {
    keyId: `key-${host}`,
    key: { host, scenario: 'sysinfo', metric: METRIC, labels: {} },
    unit: '%',
    better: 'lower',
    kind: 'regression',
    sweepId: sweepIdOf(8),
    at: '2026-01-09T02:00:00.000Z',
    beforeMean: 10,
    afterMean: 20,
    relativeChange: 1,
    pValue: 0.01,
    ...overrides,
  };
}

test('oneSidedP: small when the values lie on the worse side, large on the other; the best possible p of a sample size', () => {
  assert.ok(oneSidedP([20, 21], BASELINE, 'higher') < 0.05);
  assert.ok(oneSidedP([20, 21], BASELINE, 'lower') > 0.9);
  assert.ok(oneSidedP([1, 2], BASELINE, 'lower') < 0.05);
  assert.ok(oneSidedP([10, 10.1], BASELINE, 'higher') > 0.3);
  // 2 re-runs against 8 points: 1 / C(10, 2) = 1/45.
  assert.ok(Math.abs(bestPossibleP(2, 8) - 1 / 45) < 1e-9, String(bestPossibleP(2, 8)));
  assert.ok(Math.abs(bestPossibleP(1, 3) - 1 / 4) < 1e-9);
  assert.is(bestPossibleP(0, 8), 1);
  // Ties (a host reporting the same figure night after night) are handled exactly: 1 split in C(6, 2).
  const tied = oneSidedTest([20, 20], [10, 10, 10, 10], 'higher');
  assert.ok(Math.abs(tied.pValue - 1 / 15) < 1e-9 && Math.abs(tied.minPValue - 1 / 15) < 1e-9, JSON.stringify(tied));
  assert.is(oneSidedTest([10, 10], [10, 10, 10, 10], 'higher').pValue, 1);
});

test('decide: confirmed when the re-runs are worse, significantly and by min_change; the evidence is kept', () => {
  const decision = decide(change(), ['h1--sysinfo~rerun1', 'h1--sysinfo~rerun2'], [20, 21], BASELINE, T);
  assert.is(decision.status, 'confirmed');
  assert.equal(decision.evidence?.jobIds, ['h1--sysinfo~rerun1', 'h1--sysinfo~rerun2']);
  assert.equal(decision.evidence?.values, [20, 21]);
  assert.equal(decision.evidence?.baseline, BASELINE);
  assert.ok(decision.evidence!.relativeChange > 0.9);
  assert.ok(decision.evidence!.pValue <= 0.05);
});

test('decide: higher-is-better metrics regress downwards', () => {
  const down = change('h1', { better: 'higher', beforeMean: 10, afterMean: 5, relativeChange: -0.5 });
  assert.is(decide(down, ['a', 'b'], [5, 5.5], BASELINE, T).status, 'confirmed');
  assert.is(decide(down, ['a', 'b'], [20, 21], BASELINE, T).status, 'not-reproduced');
});

test('decide: not reproduced when the re-runs look like the previous regime, or are worse by less than min_change', () => {
  const same = decide(change(), ['a', 'b'], [10.1, 9.9], BASELINE, T);
  assert.is(same.status, 'not-reproduced');
  assert.match(same.note!, /p=/);
  // Above every baseline point (significant) but only ~6% worse: the magnitude does not hold.
  const small = decide(change(), ['a', 'b'], [11.1, 11.2], BASELINE, { ...T, minRelativeChange: 0.2 });
  assert.is(small.status, 'not-reproduced');
  assert.match(small.note!, /under the 20.0%/);
});

test('decide: unconfirmed when the test could never reach p_value, without values, or without a previous regime', () => {
  const few = decide(change(), ['a'], [30], [10, 11, 9], T);
  assert.is(few.status, 'unconfirmed');
  assert.match(few.note!, /cannot reach p <= 0.05 \(at best p=0.250\)/);
  assert.ok(few.evidence, 'the evidence is still kept');
  assert.is(decide(change(), ['a'], [], BASELINE, T).status, 'unconfirmed');
  assert.is(decide(change(), ['a'], [30], [], T).status, 'unconfirmed');
});

test('previousRegime: the points before the change, after the change point before it, at most a window', () => {
  const points = [...[50, 50, 50], ...[10, 11, 9, 10], ...[20, 21]].map((value, i) => ({ sweepId: sweepIdOf(i), jobId: 'h1--sysinfo', at: '', value }));
  const history: MetricHistory = { key: change().key, keyId: 'key-h1', unit: '%', better: 'lower', points };
  const now = change('h1', { sweepId: sweepIdOf(7) });
  const earlier = change('h1', { sweepId: sweepIdOf(3), kind: 'improvement' });
  assert.equal(previousRegime(history, now, [earlier, now], 30), [10, 11, 9, 10]);
  assert.equal(previousRegime(history, now, [now], 30), [50, 50, 50, 10, 11, 9, 10]);
  assert.equal(previousRegime(history, now, [now], 2), [9, 10]);
});

test('re-run job ids', () => {
  assert.is(rerunJobId('h1--sysinfo', 2), 'h1--sysinfo~rerun2');
  assert.ok(isRerunJobId('h1--sysinfo~rerun2'));
  assert.not.ok(isRerunJobId('h1--sysinfo'));
});

test('confirmPolicy: defaults 2 re-runs, 30 minutes, required; the inventory overrides each', () => {
  assert.equal(confirmPolicy(undefined), { reruns: 2, budgetMs: 1_800_000, required: true });
  assert.equal(confirmPolicy({ default: {}, metrics: [], confirm: { reruns: 3, required: false } }), { reruns: 3, budgetMs: 1_800_000, required: false });
});

// --- re-running under a budget

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'confirm-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

function historyOf(host: string, values: number[]): MetricHistory {
  return {
    key: { host, scenario: 'sysinfo', metric: METRIC, labels: {} },
    keyId: `key-${host}`,
    unit: '%',
    better: 'lower',
    points: values.map((value, i) => ({ sweepId: sweepIdOf(i), jobId: `${host}--sysinfo`, at: '', value })),
  };
}

function input(overrides: Partial<ConfirmInput>): ConfirmInput {
  const sweepDir = join(dir, 'results', 'sweeps', sweepIdOf(10));
  return {
    candidates: [change('h1', { sweepId: sweepIdOf(8) }), change('h2', { sweepId: sweepIdOf(8) })],
    histories: [historyOf('h1', [...BASELINE, 20, 21, 20]), historyOf('h2', [...BASELINE, 20, 21, 20])],
    changesOf: () => [],
    thresholdsFor: () => T,
    policy: { reruns: 2, budgetMs: 60_000, required: true },
    inventory: inventoryOf(join(dir, 'results'), ['h1', 'h2']),
    sweepDir,
    runner: fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => 20).runner,
    jobDurationMs: () => 1000,
    existingJobIds: [],
    emit: () => undefined,
    ...overrides,
  };
}

test('confirmCandidates: one re-run set per job, confirmed where it reproduces and not where it does not', async () => {
  const fake = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), (host) => (host === 'h1' ? 20.5 : 10));
  const lines: string[] = [];
  const outcomes = await confirmCandidates(input({ runner: fake.runner, emit: (event) => lines.push(eventText(event)) }));
  assert.equal(outcomes.map((o) => [o.change.key.host, o.decision.status]), [['h1', 'confirmed'], ['h2', 'not-reproduced']]);
  assert.equal(fake.calls.map((c) => [c.host.name, c.jobs.map((j) => [j.plan.jobId, j.rerunOf, j.attempt])]).sort(), [
    ['h1', [['h1--sysinfo~rerun1', 'h1--sysinfo', 1], ['h1--sysinfo~rerun2', 'h1--sysinfo', 2]]],
    ['h2', [['h2--sysinfo~rerun1', 'h2--sysinfo', 1], ['h2--sysinfo~rerun2', 'h2--sysinfo', 2]]],
  ]);
  assert.equal(outcomes[0]!.decision.evidence?.values, [20.5, 20.5]);
  assert.equal(outcomes[0]!.decision.evidence?.baseline, BASELINE);
  assert.ok(lines.some((line) => /h1: confirming 1 regression candidate\(s\): re-running h1--sysinfo x2/.test(line)), lines.join('\n'));
});

test('confirmCandidates: two candidates of one job share its re-runs; numbering continues past earlier re-runs', async () => {
  const fake = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => 20);
  const max = { ...change('h1'), keyId: 'key-h1-max', key: { ...change('h1').key, metric: METRIC } };
  const outcomes = await confirmCandidates(
    input({ runner: fake.runner, candidates: [change('h1'), max], existingJobIds: ['h1--sysinfo', 'h1--sysinfo~rerun1', 'h1--sysinfo~rerun2'] }),
  );
  assert.is(fake.calls.length, 1);
  assert.equal(fake.calls[0]!.jobs.map((j) => j.plan.jobId), ['h1--sysinfo~rerun3', 'h1--sysinfo~rerun4']);
  assert.equal(outcomes.map((o) => o.decision.status), ['confirmed', 'unconfirmed']);
  assert.match(outcomes[1]!.decision.note!, /no earlier regime/, 'the second key has no history here');
});

test('confirmCandidates: a budget smaller than one re-run runs nothing: unconfirmed, saying why', async () => {
  const fake = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => 20);
  const outcomes = await confirmCandidates(input({ runner: fake.runner, policy: { reruns: 2, budgetMs: 1500, required: true }, jobDurationMs: () => 2000 }));
  assert.is(fake.calls.length, 0);
  for (const o of outcomes) {
    assert.is(o.decision.status, 'unconfirmed');
    assert.match(o.decision.note!, /confirmation budget is used up/);
  }
});

test('confirmCandidates: a budget for some of the re-runs runs those that fit (shared across hosts, one at a time)', async () => {
  const fake = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => 20);
  const outcomes = await confirmCandidates(
    input({
      runner: fake.runner,
      inventory: inventoryOf(join(dir, 'results'), ['h1', 'h2'], { concurrency: 1 }),
      policy: { reruns: 2, budgetMs: 10_000, required: true },
      jobDurationMs: () => 4000,
    }),
  );
  // Each host plans from the budget left when it starts: the fake takes no time, so both get 2 (8 s of 10 s each).
  // With a clock that moves 4 s per re-run, h2 starts with 2 s left: not enough for one.
  assert.equal(fake.calls.map((c) => c.jobs.length), [2, 2]);
  assert.equal(outcomes.map((o) => o.decision.status), ['confirmed', 'confirmed']);
  const now = { t: 0 };
  const timed = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => {
    now.t += 4000;
    return 20;
  });
  const limited = await confirmCandidates(
    input({
      runner: timed.runner,
      inventory: inventoryOf(join(dir, 'results'), ['h1', 'h2'], { concurrency: 1 }),
      policy: { reruns: 2, budgetMs: 10_000, required: true },
      jobDurationMs: () => 4000,
      existingJobIds: ['h1--sysinfo~rerun1', 'h1--sysinfo~rerun2', 'h2--sysinfo~rerun1', 'h2--sysinfo~rerun2'],
      now: () => now.t,
    }),
  );
  assert.equal(timed.calls.map((c) => c.jobs.length), [2], 'after h1 used 8 s of 10, one 4 s re-run does not fit');
  assert.equal(limited.map((o) => o.decision.status), ['confirmed', 'unconfirmed']);
  assert.match(limited[1]!.decision.note!, /budget is used up/);
});

test('confirmCandidates: the budget running out during the re-runs stops them; a host that is unreachable; a runner that throws', async () => {
  const slow = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), (_host, _attempt, signal) =>
    signal.aborted ? 'interrupted' : new Promise((resolve) => signal.addEventListener('abort', () => resolve('interrupted'), { once: true })),
  );
  const started = Date.now();
  const stopped = await confirmCandidates(input({ runner: slow.runner, candidates: [change('h1')], policy: { reruns: 2, budgetMs: 200, required: true }, jobDurationMs: () => undefined }));
  assert.ok(Date.now() - started < 5000);
  assert.is(stopped[0]!.decision.status, 'unconfirmed');
  assert.match(stopped[0]!.decision.note!, /budget ran out during the re-runs/);

  const down = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => 'unreachable');
  const unreachable = await confirmCandidates(input({ runner: down.runner, candidates: [change('h1')] }));
  assert.equal(unreachable.map((o) => [o.decision.status, o.decision.note]), [['unconfirmed', 'the host was unreachable for the re-runs']]);

  const broken = await confirmCandidates(input({ candidates: [change('h1')], runner: async () => Promise.reject(new Error('no bundle')) }));
  assert.equal(broken.map((o) => [o.decision.status, o.decision.note]), [['unconfirmed', 'the re-runs could not run: no bundle']]);
});

test('confirmCandidates: one failed re-run of two still decides with the other when it can', async () => {
  const half = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), (_host, attempt) => (attempt === 1 ? 'failed' : 20));
  const long = Array.from({ length: 24 }, (_, i) => 9 + i * 0.05);
  const outcomes = await confirmCandidates(
    input({ runner: half.runner, candidates: [change('h1', { sweepId: sweepIdOf(24) })], histories: [historyOf('h1', [...long, 20, 20])] }),
  );
  // 1 value against 24 points: p = 1/25 <= 0.05.
  assert.is(outcomes[0]!.decision.status, 'confirmed');
  assert.equal(outcomes[0]!.decision.evidence?.jobIds, ['h1--sysinfo~rerun2']);
});

test('confirmCandidates: confirmation off, and a host the inventory no longer runs the scenario on', async () => {
  const off = await confirmCandidates(input({ policy: { reruns: 0, budgetMs: 1, required: true } }));
  assert.equal(off.map((o) => o.decision.status), ['unconfirmed', 'unconfirmed']);
  assert.match(off[0]!.decision.note!, /off/);
  const gone = await confirmCandidates(input({ inventory: inventoryOf(join(dir, 'results'), ['h1']) }));
  assert.equal(gone.map((o) => o.decision.status), ['confirmed', 'unconfirmed']);
  assert.match(gone[1]!.decision.note!, /no longer runs sysinfo on h2/);
});

test('confirmCandidates: an interrupted sweep starts no re-run', async () => {
  const fake = fakeRunner(join(dir, 'results'), () => sweepIdOf(10), () => 20);
  const outcomes = await confirmCandidates(input({ runner: fake.runner, interrupt: AbortSignal.abort(new Error('SIGINT')) }));
  assert.is(fake.calls.length, 0);
  assert.match(outcomes[0]!.decision.note!, /interrupted/);
});

test.run();

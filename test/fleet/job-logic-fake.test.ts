// The engine's job logic through a fake connector (test/fleet/fake-connector.ts), in
// milliseconds: which phases run after a failure or an interrupt (`always` ones only), what an
// optional phase's failure does, a host that cannot be reached or cannot take the bundle, a host
// whose recorded rc contradicts what it reported, and the failure budget's arithmetic. The real
// host side of the same logic is covered end to end (test/e2e/sweep.e2e.test.ts, faults.e2e).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHelperBundle, type HelperBundle } from '../../orchestrator/bundle/build-bundle.js';
import { ConnectError } from '../../orchestrator/connectors/connect-errors.js';
import { runHost, type HostRunContext, type HostRunResult } from '../../orchestrator/fleet/run-host.js';
import { FailureBudgetTracker } from '../../orchestrator/fleet/failure-budget.js';
import type { EventSink } from '../../orchestrator/fleet/events.js';
import type { HostPlan } from '../../orchestrator/fleet/plan.js';
import { SweepStore } from '../../orchestrator/results/store.js';
import { JobManifestSchema, type JobManifest } from '../../orchestrator/results/manifest.js';
import { sample } from '../../orchestrator/results/metrics.js';
import type { Scenario, PhaseSpec } from '../../orchestrator/scenarios/types.js';
import { z } from 'zod';
import { FakeConnector, agentHost, type AgentHostOptions } from './fake-connector.js';
import { hostSpec, inventoryOf, sweepIdOf, sweepRequest } from './confirm-fixtures.js';
import type { HostSpec } from '../../orchestrator/inventory/types.js';
import { sweep } from '../../orchestrator/fleet/sweep.js';
import type { SweepManifest } from '../../orchestrator/results/manifest.js';

const PHASES: PhaseSpec[] = [
  { name: 'setup', helper: 'setup' },
  { name: 'measure', helper: 'measure' },
  { name: 'extra', helper: 'extra', optional: true },
  { name: 'teardown', helper: 'teardown', always: true },
];

/** A scenario of four phases whose metric is the number in artifacts/value.txt. */
const STEPS: Scenario = {
  name: 'steps',
  description: 'setup, measure, an optional extra, an always teardown',
  params: z.record(z.string(), z.unknown()),
  phases: () => PHASES,
  normalize: async (rawDir) => {
    const value = Number((await readFile(join(rawDir, 'artifacts', 'value.txt'), 'utf8')).trim());
    if (!Number.isFinite(value)) throw new Error('value.txt holds no number');
    return { samples: [sample('steps.value', value, 'count', 'higher')], series: [] };
  },
};

const fake = suite('job logic through a fake connector');
let work: string;
let bundle: HelperBundle;
let run = 0;

fake.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'job-logic-fake-'));
  const scripts = join(work, 'bundle-src');
  await mkdir(scripts);
  await writeFile(join(scripts, 'orchestrate-agent'), '#!/bin/bash\n', { mode: 0o755 });
  bundle = await buildHelperBundle([{ dir: scripts, prefix: 'remote-scripts' }]);
});
fake.after(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Outcome {
  result: HostRunResult;
  manifest: JobManifest;
  connector: FakeConnector;
  ran: string[];
  stopped: string[];
  events: Parameters<EventSink>[0][];
  store: SweepStore;
}

async function runOnFakeHost(
  host: AgentHostOptions,
  options: { connectError?: Error; interrupt?: AbortController; interruptAt?: string; phases?: PhaseSpec[] } = {},
): Promise<Outcome> {
  run++;
  const store = new SweepStore(join(work, `results-${run}`), sweepIdOf(run));
  await store.init();
  const interrupt = options.interrupt ?? new AbortController();
  const phases = { ...host.phases };
  if (options.interruptAt) phases[options.interruptAt] = { ...phases[options.interruptAt], untilStopped: true, onStart: () => interrupt.abort() };
  const agent = agentHost({ artifacts: { 'value.txt': '42\n' }, ...host, phases });
  const connector = new FakeConnector('fake-01', agent.script, options.connectError ? { connectError: options.connectError } : {});
  const spec = hostSpec('fake-01');
  const plan: HostPlan = { host: spec, jobs: [{ jobId: 'fake-01--steps', host: spec, scenario: 'steps', params: {} }] };
  const events: Parameters<EventSink>[0][] = [];
  const context: HostRunContext = {
    connector,
    bundle,
    store,
    scenarios: new Map([['steps', options.phases ? { ...STEPS, phases: () => options.phases! } : STEPS]]),
    profilesDir: join(work, 'profiles.d'),
    maxArtifactBytes: 1024 * 1024,
    emit: (event) => events.push(event),
    interrupt: interrupt.signal,
    force: new AbortController().signal,
  };
  const result = await runHost(plan, context);
  const manifest = JobManifestSchema.parse(JSON.parse(await readFile(join(store.jobDir('fake-01--steps'), 'manifest.json'), 'utf8')));
  return { result, manifest, connector, ran: agent.log.ran, stopped: agent.log.stopped, events, store };
}

const phaseStatuses = (manifest: JobManifest) => manifest.phases.map((p) => `${p.name}:${p.status}`);

fake('every phase ok: the job is ok, its metrics are normalized, the connection is closed', async () => {
  const { result, manifest, connector, ran, store } = await runOnFakeHost({});
  assert.equal(result, { host: 'fake-01', statuses: ['ok'], failed: false });
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  assert.equal(phaseStatuses(manifest), ['provenance:ok', 'setup:ok', 'measure:ok', 'extra:ok', 'teardown:ok']);
  assert.equal(ran, ['setup', 'measure', 'extra', 'teardown']);
  assert.is(manifest.environment?.kernel.release, '6.1.0-fake');
  assert.equal(manifest.metrics, { samples: 1, series: 0 });
  const metrics = JSON.parse(await readFile(join(store.jobDir('fake-01--steps'), 'metrics.json'), 'utf8'));
  assert.is(metrics.samples[0].value, 42);
  assert.ok(connector.closed, 'the host connection was closed');
  // The provenance came in the bundle check's session: no session of its own.
  assert.not.ok(connector.calls.some((call) => call.argv.includes('provenance') && !call.argv.includes('orchestrate-bundle')));
});

fake('the last phase sends the artifacts in its own session (after the NUL): no collect session of its own', async () => {
  const { manifest, connector } = await runOnFakeHost({});
  assert.is(manifest.artifacts?.status, 'complete');
  const agentCalls = connector.calls.filter((call) => !call.argv.includes('orchestrate-bundle'));
  const verbs = agentCalls.map((call) => call.argv[call.argv.findIndex((word) => word.endsWith('/orchestrate-agent')) + 2]);
  assert.equal(verbs, ['run', 'run', 'run', 'run']);
  assert.ok(connector.calls.at(-1)!.argv.includes('--collect'), 'teardown was asked to collect');
});

fake('a last phase that never ran: the artifacts come on a collect session of their own', async () => {
  const { manifest, connector, ran } = await runOnFakeHost({ phases: { setup: { rc: 2 } } }, { phases: PHASES.slice(0, 2) });
  assert.equal(ran, ['setup']);
  assert.equal(phaseStatuses(manifest), ['provenance:ok', 'setup:failed', 'measure:skipped']);
  assert.is(manifest.artifacts?.status, 'complete');
  const verbs = connector.calls.filter((call) => !call.argv.includes('orchestrate-bundle')).map((call) => call.argv[call.argv.findIndex((word) => word.endsWith('/orchestrate-agent')) + 2]);
  assert.equal(verbs, ['run', 'collect']);
});

fake('a failed phase: the phases after it are skipped, the always phase still runs, the job and the host fail', async () => {
  const { result, manifest, ran } = await runOnFakeHost({ phases: { setup: { rc: 3 } } });
  assert.equal(result.statuses, ['failed']);
  assert.ok(result.failed, 'counts against the failure budget');
  assert.equal(ran, ['setup', 'teardown']);
  assert.equal(phaseStatuses(manifest), ['provenance:ok', 'setup:failed', 'measure:skipped', 'extra:skipped', 'teardown:ok']);
  assert.equal(manifest.errors.map((e) => [e.kind, e.phase]), [['phase-failed', 'setup']]);
  assert.match(manifest.errors[0]!.message, /helper setup exited with status 3/);
  assert.is(manifest.metrics, null, 'a failed job is not normalized');
});

fake('an optional phase that fails is recorded but does not fail the job', async () => {
  const { result, manifest, ran } = await runOnFakeHost({ phases: { extra: { rc: 1 } } });
  assert.equal(result.statuses, ['ok']);
  assert.equal(ran, ['setup', 'measure', 'extra', 'teardown']);
  assert.equal(phaseStatuses(manifest), ['provenance:ok', 'setup:ok', 'measure:ok', 'extra:failed', 'teardown:ok']);
  assert.equal(manifest.errors, []);
});

fake('an interrupt during a phase stops it on the host (TERM), skips to the always phase, and marks the job interrupted, not failed', async () => {
  const { result, manifest, ran, stopped } = await runOnFakeHost({}, { interruptAt: 'measure' });
  assert.equal(result, { host: 'fake-01', statuses: ['interrupted'], failed: false });
  assert.equal(stopped, ['measure TERM']);
  assert.equal(ran, ['setup', 'measure', 'teardown']);
  assert.equal(phaseStatuses(manifest), ['provenance:ok', 'setup:ok', 'measure:interrupted', 'extra:skipped', 'teardown:ok']);
  assert.is(manifest.phases.find((p) => p.name === 'measure')?.exitCode, 143);
  assert.is(manifest.artifacts?.status, 'complete', 'partial results are collected');
});

fake('an unreachable host: every job is unreachable with the reason, nothing is run, the host counts as failed', async () => {
  const error = new ConnectError('fake-01', 'perf@127.0.0.1:22', 'refused', 'fake-01: connection refused at perf@127.0.0.1:22', 4);
  const { result, manifest, connector, events } = await runOnFakeHost({}, { connectError: error });
  assert.equal(result, { host: 'fake-01', statuses: ['unreachable'], failed: true });
  assert.equal(manifest.errors.map((e) => e.kind), ['connect-refused']);
  assert.equal(manifest.phases, []);
  assert.is(connector.calls.length, 0);
  assert.ok(events.some((e) => e.kind === 'host-unreachable'));
});

fake('a host that cannot take the bundle: every job fails with the reason, no phase runs', async () => {
  const { result, manifest, ran } = await runOnFakeHost({ bundleFails: 'mkdir: cannot create directory: Read-only file system' });
  assert.equal(result, { host: 'fake-01', statuses: ['failed'], failed: true });
  assert.equal(manifest.errors.map((e) => e.kind), ['bundle']);
  assert.match(manifest.errors[0]!.message, /Read-only file system/);
  assert.equal(ran, []);
});

fake('a sweep interrupted before the host started: its jobs are skipped and nothing connects', async () => {
  const interrupt = new AbortController();
  interrupt.abort();
  const { result, manifest, connector } = await runOnFakeHost({}, { interrupt });
  assert.equal(result, { host: 'fake-01', statuses: ['skipped'], failed: false });
  assert.equal(manifest.errors.map((e) => e.kind), ['interrupted']);
  assert.is(connector.connects, 0);
});

fake('a phase reported ok whose collected rc says otherwise was not proven: the job fails', async () => {
  const { result, manifest } = await runOnFakeHost({ phases: { measure: { rc: 0, recordedRc: '1\n' } } });
  assert.equal(result.statuses, ['failed']);
  const problem = manifest.errors.find((e) => e.kind === 'phase-unproven');
  assert.ok(problem, JSON.stringify(manifest.errors));
  assert.is(problem!.phase, 'measure');
  assert.is(manifest.phases.find((p) => p.name === 'measure')?.status, 'failed');
});

fake('a phase whose rc is missing from a complete collection fails the job', async () => {
  const { result, manifest } = await runOnFakeHost({ phases: { setup: { recordedRc: null } } });
  assert.equal(result.statuses, ['failed']);
  assert.match(manifest.errors.find((e) => e.kind === 'phase-unproven')?.message ?? '', /rc\) is missing/);
});

fake('jobs starting and ending together share the writes of the sweep record, and its last write has every job as it ended', async () => {
  const results = join(work, `results-sweep-${++run}`);
  await mkdir(results, { recursive: true });
  await writeFile(join(work, 'lab.yaml'), 'hosts: {}\n');
  const names = Array.from({ length: 20 }, (_, i) => `fake-${String(i + 1).padStart(2, '0')}`);
  const inventory = inventoryOf(results, names, { concurrency: 20 });
  const written: SweepManifest[] = [];
  const original = SweepStore.prototype.writeSweepManifest;
  SweepStore.prototype.writeSweepManifest = function (manifest: SweepManifest) {
    written.push(structuredClone(manifest));
    return original.call(this, manifest);
  };
  try {
    const run = { bundle, scenarios: new Map([['sysinfo', STEPS]]), connectorFor: (host: HostSpec) => new FakeConnector(host.name, agentHost({ artifacts: { 'value.txt': '42\n' } }).script) };
    const outcome = await sweep(sweepRequest(inventory, { run }), () => undefined);
    assert.is(outcome.kind, 'completed');
    // one write per job start and end, plus the first and the last, would be 42
    assert.ok(written.length < 2 * names.length, `${written.length} writes of the sweep record`);
    const last = written.at(-1)!;
    assert.is(last.status, 'ok');
    assert.equal(last.counts, { ok: 20, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 });
    const onDisk = JSON.parse(await readFile(join(results, 'sweeps', last.sweepId, 'sweep.json'), 'utf8')) as SweepManifest;
    assert.equal(onDisk.jobs.map((j) => j.status), names.map(() => 'ok'));
  } finally {
    SweepStore.prototype.writeSweepManifest = original;
  }
});

fake.run();

const budget = suite('failure budget');

budget('no budget: never exceeded', () => {
  const tracker = new FailureBudgetTracker(undefined, 4);
  for (let i = 0; i < 4; i++) assert.not.ok(tracker.recordFailure());
  assert.is(tracker.failedHosts, 4);
  assert.is(tracker.describe(), 'none');
});

budget('a count: exceeded by the failure after the allowed number', () => {
  const tracker = new FailureBudgetTracker({ maxFailedHosts: 1 }, 10);
  assert.not.ok(tracker.recordFailure());
  assert.ok(tracker.recordFailure());
  assert.ok(tracker.exceeded());
  assert.is(tracker.describe(), '1 host(s)');
});

budget('a percentage of the sweep\'s hosts, and whichever of the two is passed first', () => {
  const percent = new FailureBudgetTracker({ maxFailedPercent: 25 }, 8);
  assert.equal([percent.recordFailure(), percent.recordFailure(), percent.recordFailure()], [false, false, true]);
  const both = new FailureBudgetTracker({ maxFailedHosts: 5, maxFailedPercent: 10 }, 10);
  assert.equal([both.recordFailure(), both.recordFailure()], [false, true]);
  assert.is(both.describe(), '5 host(s) or 10%');
  const zero = new FailureBudgetTracker({ maxFailedHosts: 0 }, 3);
  assert.ok(zero.recordFailure(), 'a budget of 0: the first failure exceeds it');
});

budget.run();

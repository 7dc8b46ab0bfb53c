// Runs one job on a connected host: records the host's provenance (collected once per host
// per sweep by run-host.ts), the scenario's phases in order (after a failure or an
// interrupt only `always` phases run, so teardown always happens), then collection and
// normalization. Every outcome lands in the manifest.
import { readFile } from 'node:fs/promises';
import type { Connector } from '../connectors/types.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import type { RemoteLayout } from '../remote/layout.js';
import { runPhase } from '../remote/run-phase.js';
import type { PhaseHandover } from '../remote/phase-handover.js';
import { collectArtifacts, isLoopbackLink, receiveArtifacts, type ArtifactSource } from '../remote/collect-artifacts.js';
import { jobFilesEnv, pushJobFiles } from '../remote/push-job-files.js';
import type { SweepStore } from '../results/store.js';
import { JOB_SCHEMA, type JobError, type JobManifest, type JobStatus, type PhaseRecord } from '../results/manifest.js';
import { collectHostProvenance, type HostProvenance } from '../remote/host-provenance.js';
import { PROVENANCE_PHASE, type ScenarioRegistry } from '../scenarios/registry.js';
import type { ScenarioContext } from '../scenarios/types.js';
import { ORCHESTRATOR } from '../version.js';
import { hostText } from '../inert-text.js';
import type { EventSink } from './events.js';
import type { JobPlan } from './plan.js';
import { jobFiles, phasePaths } from '../results/store.js';

export interface JobContext {
  connector: Connector;
  layout: RemoteLayout;
  bundle: HelperBundle;
  store: SweepStore;
  scenarios: ScenarioRegistry;
  profilesDir: string;
  maxArtifactBytes: number;
  emit: EventSink;
  /** First interrupt: stop the current phase, skip to teardown. */
  interrupt: AbortSignal;
  /** Second interrupt: stop teardown phases too. */
  force: AbortSignal;
  /** The host's provenance for this sweep (run-host.ts); collected here when absent. */
  provenance?: HostProvenance;
  /** The bundle check's session, held for this job's first phase that runs (run-host.ts). */
  handover?: PhaseHandover;
}

export function baseManifest(job: JobPlan, sweepId: string, status: JobStatus): JobManifest {
  const { host } = job;
  return {
    schema: JOB_SCHEMA,
    sweepId,
    jobId: job.jobId,
    host: {
      name: host.name,
      address: host.connection.address,
      port: host.connection.port,
      user: host.connection.user,
      roles: [...host.roles],
      groups: [...host.groups],
    },
    scenario: { name: job.scenario, params: job.params },
    profile: host.profile,
    status,
    startedAt: null,
    endedAt: null,
    environment: null,
    phases: [],
    errors: [],
    artifacts: null,
    metrics: null,
    orchestrator: { ...ORCHESTRATOR },
  };
}

/**
 * A phase's status came from the rc its supervisor wrote, read back by the agent; the
 * collected copy of that rc must say the same. A phase recorded with an exit status whose
 * rc is missing from a complete collection, or differs, was not proven: it fails.
 */
async function crossCheckStatuses(phases: PhaseRecord[], rawPhasesDir: string, complete: boolean, ranHere: ReadonlySet<string>): Promise<JobError[]> {
  const problems: JobError[] = [];
  for (const phase of phases) {
    if (!ranHere.has(phase.name) || phase.exitCode === null || !['ok', 'failed', 'timed-out'].includes(phase.status)) continue;
    const rcFile = phasePaths(rawPhasesDir, phase.name).rc;
    const text = await readFile(rcFile, 'utf8').catch(() => null);
    if (text === null && !complete) continue;
    const recorded = text === null ? null : Number.parseInt(text.trim(), 10);
    if (recorded === phase.exitCode) continue;
    const claim = `phase ${phase.name} was reported with exit status ${phase.exitCode}`;
    const message = text === null ? `${claim} but the host's record of it (rc) is missing` : `${claim} but the host recorded ${JSON.stringify(text.trim().slice(0, 20))}`;
    phase.status = 'failed';
    phase.error = message;
    problems.push({ kind: 'phase-unproven', message, phase: phase.name });
  }
  return problems;
}

/**
 * A job's manifest writes while it runs, one after the other, each of the manifest as it was
 * when asked for: they go on while the host works (a write costs an fsync), and the job waits
 * for them where it must know they held (before a later phase, before its last write).
 */
class ManifestWrites {
  private last: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private reported = false;
  constructor(private readonly store: SweepStore) {}

  queue(manifest: JobManifest): void {
    const snapshot = structuredClone(manifest);
    this.last = this.last
      .then(() => this.store.writeJobManifest(snapshot))
      .catch((error: unknown) => {
        this.failure ??= error as Error;
      });
  }

  /** Waits for the writes asked for so far; the first that failed, once (undefined after). */
  async failed(): Promise<Error | undefined> {
    await this.last;
    if (!this.failure || this.reported) return undefined;
    this.reported = true;
    return this.failure;
  }
}

export async function runJob(job: JobPlan, context: JobContext): Promise<JobStatus> {
  const writes = new ManifestWrites(context.store);
  try {
    return await runJobSteps(job, context, writes);
  } finally {
    context.handover?.release();
    // A job that threw (run-host.ts records it) leaves no write of its own in flight.
    await writes.failed();
  }
}

async function runJobSteps(job: JobPlan, context: JobContext, writes: ManifestWrites): Promise<JobStatus> {
  const { connector, layout, bundle, store, emit } = context;
  const scenario = context.scenarios.get(job.scenario);
  const manifest = baseManifest(job, store.sweepId, 'running');
  manifest.startedAt = new Date().toISOString();
  const at = () => Date.now();
  const host = job.host.name;
  const jobId = job.jobId;
  // Without a scenario there is nothing to overlap: the running record is written at once.
  if (!scenario) await store.writeJobManifest(manifest);
  emit({ kind: 'job-start', at: at(), host, jobId, scenario: job.scenario });

  const errors: JobError[] = manifest.errors;
  const scenarioContext: ScenarioContext<Record<string, unknown>> = { host: job.host, params: job.params, profilesDir: context.profilesDir };
  if (!scenario) errors.push({ kind: 'scenario', message: `unknown scenario ${job.scenario}` });
  const phases = scenario ? scenario.phases(scenarioContext) : [];
  const remoteJobDir = layout.jobDir(store.sweepId, jobId);
  // Detached phases this job ran on the host: their rc is collected and checked.
  const ranHere = new Set<string>();
  const env: Record<string, string> = {
    ...job.host.vars,
    ORCH_HOST: host,
    ORCH_SWEEP_ID: store.sweepId,
    ORCH_JOB_ID: jobId,
    ORCH_SCENARIO: job.scenario,
    ORCH_PROFILE: job.host.profile,
    // host-wide, across sweeps: for what a helper learns once per host (kvm's /dev/kvm probe)
    ORCH_CACHE: `${layout.root}/cache`,
  };

  let failed = !scenario;
  let storeFailed = false;
  /** Waits for the manifest writes so far: one that failed fails the job (teardowns still run). */
  const checkWrites = async () => {
    const error = await writes.failed();
    if (error && !storeFailed) {
      storeFailed = failed = true;
      errors.push({ kind: 'results-store', message: error.message });
    }
  };
  // The host's one provenance record of this sweep: the manifest's environment, and the
  // collection as the job's first phase record. A collection that failed fails the job as
  // a failed first phase did (later phases skipped, `always` ones still run).
  if (scenario) {
    emit({ kind: 'phase-start', at: at(), host, jobId, phase: PROVENANCE_PHASE.name });
    const provenance =
      context.provenance ??
      (await collectHostProvenance(connector, layout, bundle.hash, { ...job.host.vars, ORCH_HOST: host, ORCH_SWEEP_ID: store.sweepId }, PROVENANCE_PHASE.timeoutMs ?? job.host.timeouts.phaseMs));
    const record = { ...provenance.record };
    manifest.phases.push(record);
    manifest.environment = provenance.value;
    emit({ kind: 'phase-end', at: at(), host, jobId, phase: record.name, status: record.status, durationMs: record.durationMs ?? 0, ...(record.error ? { error: record.error } : {}) });
    if (record.status !== 'ok') {
      failed = true;
      errors.push({ kind: `phase-${record.status}`, message: record.error ?? record.status, phase: record.name });
    }
    // The job's first record (running) already carries it: a store that fails later keeps it.
    // The write goes on while the first phase starts; it is waited for after that phase.
    writes.queue(manifest);
  }
  // Files the job needs from this machine, put on the host once per content hash before any phase.
  if (scenario?.jobFiles && phases.length > 0 && !context.interrupt.aborted) {
    const started = at();
    try {
      const files = await scenario.jobFiles(scenarioContext);
      if (files.length > 0) {
        const pushed = await pushJobFiles(connector, layout, files);
        env['ORCH_JOB_FILES'] = jobFilesEnv(pushed);
        emit({
          kind: 'job-files',
          at: at(),
          host,
          jobId,
          files: pushed.length,
          uploaded: pushed.filter((f) => f.uploaded).length,
          bytes: pushed.filter((f) => f.uploaded).reduce((n, f) => n + f.bytes, 0),
          durationMs: at() - started,
        });
      }
    } catch (error) {
      failed = true;
      errors.push({ kind: 'job-files', message: (error as Error).message });
    }
  }
  // The last phase's session also brings the artifacts back (one session fewer on the host).
  const compress = !isLoopbackLink(job.host.connection.address, job.host.connection.jump.length);
  let inlineArtifacts: ArtifactSource | undefined;
  for (const [index, spec] of phases.entries()) {
    const last = index === phases.length - 1;
    const record: PhaseRecord = {
      name: spec.name,
      helper: spec.helper,
      status: 'skipped',
      exitCode: null,
      startedAt: null,
      endedAt: null,
      durationMs: null,
      reattached: 0,
    };
    manifest.phases.push(record);
    const stopped = context.interrupt.aborted;
    if ((failed || stopped) && !spec.always) {
      emit({ kind: 'phase-end', at: at(), host, jobId, phase: spec.name, status: 'skipped', durationMs: 0 });
      continue;
    }
    emit({ kind: 'phase-start', at: at(), host, jobId, phase: spec.name });
    ranHere.add(spec.name);
    // The phase's last error-level log line says why it failed better than its exit status.
    let lastError: string | undefined;
    const outcome = await runPhase(
      connector,
      layout,
      bundle.hash,
      remoteJobDir,
      {
        name: spec.name,
        helper: spec.helper,
        args: spec.args ?? [],
        env: { ...env, ...spec.env, ORCH_PHASE_NAME: spec.name },
        timeoutMs: spec.timeoutMs ?? job.host.timeouts.phaseMs,
      },
      {
        signal: spec.always ? context.force : context.interrupt,
        // The held session serves the first phase that runs; later ones open their own.
        ...(ranHere.size === 1 && context.handover ? { handover: context.handover } : {}),
        ...(last ? { collect: compress ? ('gzip' as const) : ('tar' as const) } : {}),
        onEvent: (event) => {
          if (event.kind === 'progress') {
            emit({ kind: 'phase-progress', at: at(), host, jobId, phase: spec.name, message: event.message, ...(typeof event.fraction === 'number' ? { fraction: event.fraction } : {}) });
          } else if (event.kind === 'log') {
            // host text: escaped and marked «...» before it reaches a manifest, a terminal or a log
            if (event.level === 'error') lastError = hostText(event.message.slice(0, 500));
            emit({ kind: 'phase-log', at: at(), host, jobId, phase: spec.name, level: event.level, message: event.message });
          }
        },
        onProtocolError: (line, problem) => emit({ kind: 'protocol-error', at: at(), host, jobId, phase: spec.name, line, problem }),
        onReconnecting: (attempt, error) => emit({ kind: 'reconnecting', at: at(), host, jobId, phase: spec.name, attempt, error: error.message }),
      },
    );
    inlineArtifacts = outcome.artifacts;
    Object.assign(record, {
      status: outcome.status,
      exitCode: outcome.exitCode,
      startedAt: outcome.startedAt,
      endedAt: outcome.endedAt,
      durationMs: outcome.durationMs,
      reattached: outcome.reattached,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    emit({ kind: 'phase-end', at: at(), host, jobId, phase: spec.name, status: outcome.status, durationMs: outcome.durationMs, ...(outcome.error ? { error: outcome.error } : {}) });
    // An interrupted phase is not a failure of the host: later phases are skipped
    // (teardowns still run) and the job is marked interrupted below.
    if (outcome.status !== 'ok' && outcome.status !== 'interrupted' && !spec.optional) {
      failed = true;
      const message = outcome.error ?? outcome.status;
      errors.push({ kind: `phase-${outcome.status}`, message: lastError ? `${message}: ${lastError}` : message, phase: spec.name });
    }
    // A results store that cannot take this write (a full disk) must not skip the teardowns:
    // the job fails with the reason and goes on to its `always` phases. After the last phase
    // the write goes on during collection and is waited for before the job's last write.
    writes.queue(manifest);
    if (!last) await checkWrites();
  }

  const rawDir = store.rawDir(jobId);
  // The host deletes its copy of the job only once the manifest below is written.
  let releaseHostCopy: (stored: boolean) => Promise<void> = async () => undefined;
  if (ranHere.size > 0) {
    const limits = {
      maxBytes: context.maxArtifactBytes,
      stallMs: job.host.timeouts.stallMs,
      deadline: Date.now() + job.host.timeouts.phaseMs,
      signal: context.force,
      interrupt: context.interrupt,
      compress,
    };
    // In the last phase's session when it sent them; else (it did not run, or ended without
    // sending them) on a session of their own.
    const collected = inlineArtifacts
      ? await receiveArtifacts(connector, layout, bundle.hash, remoteJobDir, inlineArtifacts, rawDir, limits)
      : await collectArtifacts(connector, layout, bundle.hash, remoteJobDir, rawDir, limits);
    releaseHostCopy = collected.release;
    manifest.artifacts = { status: collected.status, files: collected.files, bytes: collected.bytes, rejected: collected.rejected };
    emit({ kind: 'collected', at: at(), host, jobId, status: collected.status, files: collected.files, bytes: collected.bytes, ...(collected.error ? { error: collected.error } : {}) });
    // Results that did not all arrive are not results: the job fails (an interrupt keeps its own status).
    if (collected.error) {
      failed = true;
      errors.push({ kind: 'collect', message: collected.error });
    }
    for (const entry of collected.rejected) errors.push({ kind: 'unsafe-artifact', message: `rejected ${JSON.stringify(entry.path)}: ${entry.reason}` });
    for (const problem of await crossCheckStatuses(manifest.phases, jobFiles(store.jobDir(jobId)).rawPhases, collected.status === 'complete', ranHere)) {
      failed = true;
      errors.push(problem);
    }

    if (scenario?.build) {
      try {
        manifest.build = (await scenario.build(rawDir, scenarioContext)) ?? null;
      } catch (error) {
        errors.push({ kind: 'artifact', message: `build identity: ${(error as Error).message}` });
      }
    }
  }

  // The job's own time limit also aborts the job's signal; that is a failure, while
  // the sweep's interrupt is not.
  const jobTimedOut = context.interrupt.aborted && (context.interrupt.reason as { name?: string } | undefined)?.name === 'TimeoutError';
  const interrupted = context.interrupt.aborted && !jobTimedOut;
  if (jobTimedOut) {
    failed = true;
    errors.push({ kind: 'job-timeout', message: `job exceeded its ${Math.round(job.host.timeouts.jobMs / 1000)} s limit; it was stopped and torn down` });
  }
  // Interrupted jobs are normalized too: their partial results are worth keeping.
  if (scenario && !failed) {
    try {
      const metrics = await scenario.normalize(rawDir, scenarioContext);
      await store.writeMetrics(jobId, metrics);
      manifest.metrics = { samples: metrics.samples.length, series: metrics.series.length };
    } catch (error) {
      if (!interrupted) failed = true;
      errors.push({ kind: 'normalize', message: (error as Error).message });
    }
  }

  await checkWrites();
  manifest.status = interrupted ? 'interrupted' : failed ? 'failed' : 'ok';
  manifest.endedAt = new Date().toISOString();
  try {
    await store.writeJobManifest(manifest);
  } catch (error) {
    await releaseHostCopy(false);
    throw error;
  }
  await releaseHostCopy(true);
  emit({ kind: 'job-end', at: at(), host, jobId, status: manifest.status, errors: errors.map((e) => e.message) });
  return manifest.status;
}

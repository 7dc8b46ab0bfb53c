// Everything one host does in a sweep: connect once (jump hosts, host-key checks,
// retries), make sure it has the helper bundle, collect the host's provenance once (every
// job's manifest carries that one record), then run its jobs one at a time on that same
// connection. An unreachable host gets manifests that say why; it never affects other hosts.
import { ConnectError } from '../connectors/connect-errors.js';
import { remoteLayout } from '../remote/layout.js';
import { pushBundle } from '../remote/push-bundle.js';
import { HeldSession, type PhaseHandover } from '../remote/phase-handover.js';
import { collectHostProvenance, provenanceAfterBundle, provenanceArgv } from '../remote/host-provenance.js';
import { PROVENANCE_PHASE } from '../scenarios/registry.js';
import type { JobStatus } from '../results/manifest.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import type { HostPlan } from './plan.js';
import { baseManifest, runJob, type JobContext } from './run-job.js';

/**
 * What a host run needs: a job's context minus the remote layout, which it derives. The bundle may
 * still be being built (run-sweep.ts): a host connects meanwhile and waits for it after.
 */
export type HostRunContext = Omit<JobContext, 'layout' | 'provenance' | 'bundle'> & { bundle: HelperBundle | Promise<HelperBundle> };

export interface HostRunResult {
  host: string;
  statuses: JobStatus[];
  /** Counts against the failure budget: unreachable, or a job that failed. */
  failed: boolean;
}

async function markAll(plan: HostPlan, context: HostRunContext, status: JobStatus, kind: string, message: string): Promise<JobStatus[]> {
  for (const job of plan.jobs) {
    const manifest = baseManifest(job, context.store.sweepId, status);
    manifest.errors.push({ kind, message });
    manifest.endedAt = new Date().toISOString();
    await context.store.writeJobManifest(manifest);
    context.emit({ kind: 'job-end', at: Date.now(), host: plan.host.name, jobId: job.jobId, status, errors: [message] });
  }
  return plan.jobs.map(() => status);
}

export async function runHost(plan: HostPlan, context: HostRunContext): Promise<HostRunResult> {
  const { host } = plan;
  const { connector, emit } = context;
  if (context.interrupt.aborted) {
    return { host: host.name, statuses: await markAll(plan, context, 'skipped', 'interrupted', 'sweep was interrupted before this host started'), failed: false };
  }
  emit({ kind: 'host-connect', at: Date.now(), host: host.name });
  const started = Date.now();
  try {
    await connector.connect(context.interrupt);
  } catch (error) {
    if (context.interrupt.aborted && !(error instanceof ConnectError)) {
      return { host: host.name, statuses: await markAll(plan, context, 'skipped', 'interrupted', 'sweep was interrupted while connecting'), failed: false };
    }
    const failure = error instanceof ConnectError ? error.failure : 'protocol';
    const message = (error as Error).message;
    emit({ kind: 'host-unreachable', at: Date.now(), host: host.name, failure, message });
    return { host: host.name, statuses: await markAll(plan, context, 'unreachable', `connect-${failure}`, message), failed: true };
  }
  // The bundle check's session, held open for the first job's first phase (phase-handover.ts).
  let handover: PhaseHandover | undefined;
  try {
    const layout = remoteLayout(host.remoteDir);
    const provenanceEnv = { ...host.vars, ORCH_HOST: host.name, ORCH_SWEEP_ID: context.store.sweepId };
    const provenanceTimeoutMs = PROVENANCE_PHASE.timeoutMs ?? host.timeouts.phaseMs;
    let pushed;
    let bundle: HelperBundle;
    try {
      bundle = await context.bundle;
      // The provenance verb runs in the bundle check's session, once the bundle is in place, and
      // then waits there for the first phase of the host's first job (phase-handover.ts).
      pushed = await pushBundle(connector, layout, bundle, {
        argv: provenanceArgv(layout, bundle.hash, provenanceEnv, { handover: true }),
        timeoutMs: provenanceTimeoutMs,
        hold: true,
      });
    } catch (error) {
      return { host: host.name, statuses: await markAll(plan, context, 'failed', 'bundle', (error as Error).message), failed: true };
    }
    if (pushed.repaired) {
      emit({ kind: 'bundle-repaired', at: Date.now(), host: host.name, hash: bundle.hash, file: pushed.repaired.file, problem: pushed.repaired.problem });
    }
    emit({ kind: 'host-ready', at: Date.now(), host: host.name, connectMs: Date.now() - started, bundleUploaded: pushed.uploaded, bundleBytes: pushed.bytes });
    // Once per host per sweep, never per job: the host answers from its cache while its boot,
    // name and package database are unchanged. Asked for in the bundle check's session; only
    // when that gave no record, on a session of its own (which retries once after a lost connection).
    const checked = pushed.next ? provenanceAfterBundle(pushed.next, provenanceTimeoutMs) : null;
    // The held session runs a phase only after a record that passed the check; else it ends unused.
    handover = pushed.held ? new HeldSession(pushed.held) : undefined;
    if (checked?.record.status !== 'ok') handover?.release();
    const provenance = checked ?? (await collectHostProvenance(connector, layout, bundle.hash, provenanceEnv, provenanceTimeoutMs));
    const statuses: JobStatus[] = [];
    for (const job of plan.jobs) {
      if (context.interrupt.aborted) {
        const manifest = baseManifest(job, context.store.sweepId, 'skipped');
        manifest.errors.push({ kind: 'interrupted', message: 'sweep was interrupted before this job started' });
        await context.store.writeJobManifest(manifest);
        statuses.push('skipped');
        continue;
      }
      const jobSignal = AbortSignal.any([context.interrupt, AbortSignal.timeout(host.timeouts.jobMs)]);
      // The held session goes to the first job that starts; it releases what it does not use.
      const jobHandover = handover;
      handover = undefined;
      try {
        statuses.push(await runJob(job, { ...context, bundle, layout, provenance, interrupt: jobSignal, ...(jobHandover ? { handover: jobHandover } : {}) }));
      } catch (error) {
        // A bug or an I/O failure in one job must not lose the others: record it.
        const manifest = baseManifest(job, context.store.sweepId, 'failed');
        manifest.errors.push({ kind: 'internal', message: (error as Error).stack ?? String(error) });
        await context.store.writeJobManifest(manifest);
        emit({ kind: 'job-end', at: Date.now(), host: host.name, jobId: job.jobId, status: 'failed', errors: [(error as Error).message] });
        statuses.push('failed');
      } finally {
        jobHandover?.release();
      }
    }
    return { host: host.name, statuses, failed: statuses.some((s) => s === 'failed' || s === 'unreachable') };
  } finally {
    handover?.release();
    await connector.close();
  }
}

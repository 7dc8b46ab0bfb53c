// The RerunRunner of a real sweep: a host's confirmation re-runs go through the fleet's own
// runHost (a fresh connection with the same connector, host-key checks and retries, the helper
// bundle, runJob for each job), into the same sweep's store under their own job ids. Their events
// go to the sweep's events.jsonl and sweep.log and to each re-run's orchestrator.log, as the
// night's jobs' do; their manifests say which job they repeat (`rerunOf`).
import type { HostSpec, Inventory } from '../inventory/types.js';
import type { Connector } from '../connectors/types.js';
import { connectorFor as openConnector, type HostKeyPolicy } from '../connectors/open-connector.js';
import { KnownHosts } from '../connectors/ssh/known-hosts.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import { hostBundles } from '../bundle/scenario-bundles.js';
import { DEFAULTS } from '../inventory/defaults.js';
import type { JobManifest, JobStatus } from '../results/manifest.js';
import { SweepStore } from '../results/store.js';
import { SCENARIOS, type ScenarioRegistry } from '../scenarios/registry.js';
import type { EngineEvent, EventSink } from './events.js';
import { sweepEventLog } from './sweep-event-log.js';
import type { RerunRunner } from './confirm-regressions.js';
import { runHost } from './run-host.js';

/** What a re-run's manifest adds to the job manifest: the night's job it repeats. */
export interface RerunMark {
  jobId: string;
  attempt: number;
}

/** The sweep's store, writing `rerunOf` into the manifests of re-run jobs. */
class RerunStore extends SweepStore {
  readonly marks = new Map<string, RerunMark>();

  override writeJobManifest(manifest: JobManifest): Promise<void> {
    const mark = this.marks.get(manifest.jobId);
    if (!mark) return super.writeJobManifest(manifest);
    const marked: JobManifest & { rerunOf: RerunMark } = { ...manifest, rerunOf: mark };
    return super.writeJobManifest(marked);
  }
}

export interface SshRerunnerOptions {
  inventory: Inventory;
  sweepId: string;
  acceptNewHostKeys: boolean;
  /** Second interrupt: stops teardown phases too. */
  force?: AbortSignal;
  /** Told of the re-runs' job starts and ends and unreachable hosts, as `rerun` events. */
  emit: EventSink;
  bundle?: HelperBundle;
  scenarios?: ScenarioRegistry;
  connectorFor?: (host: HostSpec, policy: HostKeyPolicy) => Connector;
}

const SHOWN: ReadonlySet<EngineEvent['kind']> = new Set(['job-start', 'job-end', 'host-unreachable']);

export function sshRerunner(options: SshRerunnerOptions): RerunRunner {
  const { inventory } = options;
  const store = new RerunStore(inventory.resultsDir, options.sweepId);
  const registry = options.scenarios ?? SCENARIOS;
  // the host's bundle for the scenarios re-run there (bundle/helper-selection.ts)
  const bundleFor = hostBundles(registry, options.bundle);
  let ready: Promise<{ policy: HostKeyPolicy }> | undefined;
  const prepare = () => (ready ??= (async () => ({ policy: { knownHosts: await KnownHosts.load(inventory.knownHostsFile), acceptNew: options.acceptNewHostKeys } }))());
  const connectorFor = options.connectorFor ?? openConnector;
  const log = sweepEventLog(store);
  const emit = (event: EngineEvent) => {
    if (SHOWN.has(event.kind)) options.emit({ kind: 'rerun', at: event.at, event });
    log.append(event, { rerun: true });
  };
  const never = new AbortController().signal;

  return async (request, signal) => {
    const [bundle, { policy }] = await Promise.all([bundleFor(request.jobs.map((job) => job.plan.scenario)), prepare()]);
    for (const job of request.jobs) store.marks.set(job.plan.jobId, { jobId: job.rerunOf, attempt: job.attempt });
    try {
      const result = await runHost(
        { host: request.host, jobs: request.jobs.map((job) => job.plan) },
        {
          connector: connectorFor(request.host, policy),
          bundle,
          store,
          scenarios: registry,
          profilesDir: inventory.profilesDir,
          maxArtifactBytes: inventory.maxArtifactBytes ?? DEFAULTS.maxArtifactBytes,
          emit,
          interrupt: signal,
          force: options.force ?? never,
        },
      );
      return new Map<string, JobStatus>(request.jobs.map((job, index) => [job.plan.jobId, result.statuses[index] ?? 'skipped']));
    } finally {
      await log.written();
    }
  };
}

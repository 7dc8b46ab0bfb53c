// midolman: the MidoNet agent performance test (seed: MidoNet perftests), rebuilt as phases of
// remote-scripts/midolman. Per host: check (tools, topology contract), cleanup of this job's
// leftovers (and the agent, as the original stopped it), profile, the cluster check, the build's
// install and the profile's agent configuration, the agent's restart (ready when its process runs
// and JMX answers; then proven to be the installed build), build info, topology + connectivity
// check, collectors, warm-up, throughput scan (linear or NDR), long-running, collectors stop (RRD),
// heap dump, and teardown (always, so a failure anywhere still tears down: traffic, topology, the
// agent's logs collected, the agent stopped, its configuration restored).
import { agentIsManaged, MidolmanParams, repeatIsOn, type MidolmanRepeat, type ProfileValues } from './midolman/params.js';
import { agentEnv, agentReadyTimeoutMs, midolmanJobFiles } from './midolman/agent-env.js';
import { checkMidolmanHost, knobValues, profileConfigFiles, profileReason, resolveKnobs, resolveProfileFile, type ResolvedKnobs } from './midolman/profile.js';
import type { PhaseSpec, Scenario, ScenarioContext } from './types.js';

export { MidolmanParams } from './midolman/params.js';

const MIN = 60_000;

/** Seconds of traffic a profile asks for (bursts / rates), for the phases' time limits. */
export function trafficSeconds(p: ProfileValues, mode: 'linear' | 'ndr'): { warmUp: number; throughput: number; longRunning: number } {
  const burst = (count: number, rate: number) => (rate > 0 ? count / rate : 0) + 3; // + per-step overhead
  const warmUp = p.WARMUP_ITERATIONS * burst(p.WARMUP_BURST, p.WARMUP_RATE) + p.WARMUP_SETTLE_SECONDS;
  let throughput = 0;
  if (mode === 'ndr') {
    const trials = 2 + Math.ceil(Math.log2(Math.max(2, (p.THROUGHPUT_SCAN_MAX_RATE - p.THROUGHPUT_SCAN_START_RATE) / Math.max(1, p.THROUGHPUT_SCAN_STEP)))) + 1;
    throughput = trials * burst(p.THROUGHPUT_SCAN_BURST, Math.max(1, p.THROUGHPUT_SCAN_START_RATE));
  } else {
    for (let rate = p.THROUGHPUT_SCAN_START_RATE; rate <= p.THROUGHPUT_SCAN_MAX_RATE && p.THROUGHPUT_SCAN_STEP > 0; rate += p.THROUGHPUT_SCAN_STEP) {
      throughput += burst(p.THROUGHPUT_SCAN_BURST, rate) + p.THROUGHPUT_SCAN_PAUSE_SECONDS;
    }
  }
  const longRunning = p.LONG_RUNNING_SCAN_ITERATIONS * burst(p.LONG_RUNNING_SCAN_BURST, p.LONG_RUNNING_SCAN_RATE);
  return { warmUp, throughput, longRunning };
}

/** What the throughput phase keeps for itself after its last repetition (captures read, files written). */
export const REPEAT_RESERVE_S = 60;

/**
 * The throughput phase's repetition rule (remote-scripts/lib/traffic-repeat.sh): min, max, target,
 * metric, and the seconds from the phase's start after which no repetition may end (its time
 * limit less REPEAT_RESERVE_S). The phase's time limit has room for max bursts a step.
 */
export function repeatEnv(repeat: MidolmanRepeat, phaseTimeoutMs: number): Record<string, string> {
  return {
    MIDOLMAN_REPEAT_MIN: String(repeat.min),
    MIDOLMAN_REPEAT_MAX: String(repeat.max),
    MIDOLMAN_REPEAT_TARGET_CI: String(repeat.target_ci),
    MIDOLMAN_REPEAT_METRIC: repeat.metric,
    MIDOLMAN_REPEAT_BUDGET_S: String(Math.max(1, Math.floor(phaseTimeoutMs / 1000) - REPEAT_RESERVE_S)),
  };
}

/** "KEY=VALUE<TAB>SOURCE<TAB>AT" lines: what the host's profile phase applies and records. */
function knobLines(knobs: ResolvedKnobs): string {
  return Object.entries(knobs)
    .map(([key, k]) => `${key}=${k.value}\t${k.source}\t${k.at.replace(/[\t\n]/g, ' ')}`)
    .join('\n');
}

export function midolmanPhases({ host, params, profilesDir }: ScenarioContext<MidolmanParams>): PhaseSpec[] {
  const profile = host.profile;
  const conf = resolveProfileFile(profilesDir, profile, 'perftests.conf');
  const mbeanSet = params.mbean_set ?? 'midolman-1.x';
  const mbeans = resolveProfileFile(profilesDir, profile, `jmx-mbeans-${mbeanSet}.conf`);
  const request = host.scenarios.find((s) => s.name === 'midolman');
  const { knobs, problems } = resolveKnobs({
    conf,
    vars: host.vars,
    varPositions: host.varPositions,
    overrides: params.overrides,
    paramsPosition: request?.position ?? host.position,
  });
  const values = knobValues(knobs);
  const mode = params.scan_mode ?? 'linear';
  const seconds = trafficSeconds(values, mode);
  const env: Record<string, string> = {
    MIDOLMAN_TOPOLOGY: params.topology ?? 'linux_bridge',
    MIDOLMAN_GENERATOR: params.generator ?? 'nmap',
    MIDOLMAN_SCAN_MODE: mode,
    MIDOLMAN_NDR_LOSS: String(params.ndr_loss ?? 0),
    MIDOLMAN_PROFILE_NAME: profile,
    MIDOLMAN_PROFILE_REASON: profileReason(host),
    MIDOLMAN_PROFILE_PERFTESTS_FROM: conf.from,
    MIDOLMAN_KNOBS: knobLines(knobs),
    MIDOLMAN_PROFILE_WARNINGS: problems
      .filter((p) => p.severity === 'warning')
      .map((p) => p.message.replace(/[\t\n]/g, ' '))
      .join('\n'),
    MIDOLMAN_PROFILE_MBEANS: mbeans.content,
    MIDOLMAN_PROFILE_MBEANS_FROM: mbeans.from,
    MIDOLMAN_MBEAN_SET: mbeanSet,
  };
  const optional: [string, string | undefined][] = [
    ['MIDOLMAN_TOPOLOGY_PATH', params.topology_path],
    ['MIDOLMAN_NDR_RESOLUTION', params.ndr_resolution_pps?.toString()],
    ['MIDOLMAN_GIT_REVISION', params.git_revision],
    ['MIDOLMAN_SHAPE_RATE_PPS', params.shape?.rate_pps?.toString()],
    ['MIDOLMAN_SHAPE_DROP_ONE_IN', params.shape?.drop_one_in?.toString()],
  ];
  for (const [key, value] of optional) if (value !== undefined) env[key] = value;
  const repeat = params.repeat;
  const throughputMs = 2 * MIN + seconds.throughput * 2000 * (repeatIsOn(repeat) ? repeat.max : 1);
  if (repeatIsOn(repeat)) Object.assign(env, repeatEnv(repeat, throughputMs));
  const configFiles = profileConfigFiles(profilesDir, profile);
  Object.assign(env, agentEnv(params, configFiles));
  const managed = agentIsManaged(params.agent);

  const phase = (name: string, timeoutMs: number, extra: Partial<PhaseSpec> = {}): PhaseSpec => ({ name, helper: 'midolman', args: [name], env, timeoutMs, ...extra });
  const phases: PhaseSpec[] = [
    phase('check', MIN),
    // stops the agent it manages (up to ~35 s for a JVM that ignores TERM) and restores leftovers
    phase('cleanup', 3 * MIN),
    phase('profile', MIN),
  ];
  if (params.cluster_check) {
    const checks = (params.cluster_check.endpoints?.length ?? 0) + (params.cluster_check.commands?.length ?? 0);
    phases.push(phase('cluster-check', MIN + checks * (params.cluster_check.timeout ?? 10_000)));
  }
  phases.push(phase('install', 10 * MIN));
  if (managed) phases.push(phase('agent-start', 2 * MIN + agentReadyTimeoutMs(params)));
  phases.push(
    phase('build-info', MIN),
    phase('topology', 3 * MIN),
    phase('collectors-start', 2 * MIN),
    phase('warm-up', 2 * MIN + seconds.warmUp * 2000),
    phase('throughput', throughputMs),
    phase('long-running', 2 * MIN + seconds.longRunning * 2000),
    phase('collectors-stop', 5 * MIN),
  );
  if (params.heap_dump !== false) phases.push(phase('heap-dump', 10 * MIN));
  phases.push(phase('teardown', managed ? 4 * MIN : 3 * MIN, { always: true }));
  return phases;
}

export const midolmanScenario: Scenario<MidolmanParams> = {
  name: 'midolman',
  description:
    'MidoNet agent performance test (after the perftests scripts): SYN-scan traffic through a topology between two namespaces; offered vs delivered rate, loss and one-way latency per step, highest lossless rate or NDR, agent CPU/RSS/heap and JMX metrics into RRD files, heap dump.',
  params: MidolmanParams,
  phases: midolmanPhases,
  // the JMX collector's source is compiled on the host; topologies/ are the setups a job can pick
  helpers: [
    'remote-scripts/midolman',
    'remote-scripts/lib/midolman-*.sh',
    'remote-scripts/lib/ovs.sh',
    'remote-scripts/lib/traffic-*.sh',
    'remote-scripts/lib/repeat.sh',
    'remote-scripts/lib/host-sampler.sh',
    'remote-scripts/lib/rrd.sh',
    'remote-scripts/jmx',
    'topologies',
  ],
  checkHost: checkMidolmanHost,
  jobFiles: ({ host, params, profilesDir }) => midolmanJobFiles(params, profileConfigFiles(profilesDir, host.profile)),
  // Reading results back is loaded only by the commands that collect them (`--plan` does not).
  normalize: async (rawDir, { params }) => {
    const { normalizeMidolman } = await import('./midolman/normalize.js');
    return normalizeMidolman(rawDir, { losslessLoss: params.ndr_loss ?? 0 });
  },
  build: async (rawDir, { params }) => {
    const { readBuildIdentity } = await import('./midolman/build-identity.js');
    return readBuildIdentity(rawDir, params.git_revision);
  },
  // The job page's charts and summary draw with the site's chart builders: loaded by the report only.
  jobPage: async () => (await import('./midolman/job-page.js')).jobPage,
};

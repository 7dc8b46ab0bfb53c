// Params of the midolman scenario (the inventory's `scenarios: { midolman: {...} }`), and the
// profile knobs of perftests.conf.
import * as z from 'zod';
import { DurationMs } from '../../inventory/durations.js';

/** perftests.conf knobs with the helper's built-in defaults (remote-scripts/lib/midolman-common.sh). */
export const PROFILE_KNOBS = {
  THROUGHPUT_SCAN_START_RATE: 1000,
  THROUGHPUT_SCAN_STEP: 500,
  THROUGHPUT_SCAN_MAX_RATE: 3000,
  THROUGHPUT_SCAN_BURST: 65000,
  THROUGHPUT_SCAN_PAUSE_SECONDS: 10,
  WARMUP_RATE: 100,
  WARMUP_BURST: 6000,
  WARMUP_ITERATIONS: 10,
  WARMUP_SETTLE_SECONDS: 90,
  LONG_RUNNING_SCAN_ITERATIONS: 120,
  LONG_RUNNING_SCAN_RATE: 1000,
  LONG_RUNNING_SCAN_BURST: 50000,
} as const;
export type ProfileKnob = keyof typeof PROFILE_KNOBS;
export type ProfileValues = Record<ProfileKnob, number>;

const knob = z.number().int().min(0).max(100_000_000);
const Overrides = z.strictObject(
  Object.fromEntries(Object.keys(PROFILE_KNOBS).map((k) => [k, knob.optional()])) as Record<ProfileKnob, z.ZodOptional<typeof knob>>,
);


/** An absolute path without whitespace (it travels to the host in newline-separated lists). */
const HostPath = z.string().regex(/^\/[^\s]*$/, 'an absolute path without spaces');
const DebName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name');
const DebVersion = z.string().regex(/^([0-9]+:)?[0-9][A-Za-z0-9.+~-]*$/, 'a Debian version such as 2.0.0-1');
/** A command as a list of words (never a shell string): run as is on the host. */
const Argv = z.array(z.string().min(1).regex(/^[^\n\r\0]*$/, 'one line')).min(1).describe('a command as a list of words, e.g. [systemctl, restart, midolman]');

/**
 * The build under test: exactly one source. Its packages are installed with dependency
 * resolution (apt-get install), then the agent is restarted and checked to be that build.
 */
export const MidolmanBuild = z
  .strictObject({
    /** .deb files on the orchestrator's machine (wildcards allowed in the file name), pushed to each host once per content hash. */
    local_debs: z.array(HostPath.describe('an absolute path or glob of .deb files on this machine')).min(1).optional(),
    /** .deb files already on the host. */
    host_debs: z.array(HostPath.describe('an absolute path of a .deb file on the host')).min(1).optional(),
    /** An apt repository and the versions to install from it (its source is written to a private list for that apt run only). */
    apt: z
      .strictObject({
        /** The repository's URL, e.g. http://ci.example/midonet/ */
        url: z.string().regex(/^https?:\/\/[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]+$/, 'an http(s) URL'),
        /** The suite (default './': a flat repository). */
        suite: z.string().regex(/^[A-Za-z0-9._~+/-]+$/, 'a suite such as bookworm or ./').optional(),
        /** Components (with a suite that is not flat), e.g. [main]. */
        components: z.array(z.string().regex(/^[A-Za-z0-9._+-]+$/, 'a component such as main')).optional(),
        /** package -> version, e.g. { midolman: 5.4.1-1 } */
        packages: z.record(DebName, DebVersion).refine((p) => Object.keys(p).length > 0, 'at least one package'),
        /** The repository is unsigned: trust it ([trusted=yes]). */
        trusted: z.boolean().optional(),
        /** Keyring file on the host that signs the repository ([signed-by=...]). */
        signed_by: HostPath.optional(),
        /** Also use the host's own apt sources (to resolve dependencies); default false: only this repository. */
        system_sources: z.boolean().optional(),
      })
      .optional(),
  })
  .superRefine((b, ctx) => {
    const given = (['local_debs', 'host_debs', 'apt'] as const).filter((k) => b[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: given.length === 0 ? 'names no build' : `names ${given.join(' and ')}: one build source at a time`,
        params: { expected: 'exactly one of local_debs, host_debs, apt' },
      });
    }
    if (b.apt && b.apt.trusted && b.apt.signed_by) {
      ctx.addIssue({ code: 'custom', path: ['apt', 'trusted'], message: 'trusted and signed_by exclude each other' });
    }
  });
export type MidolmanBuild = z.infer<typeof MidolmanBuild>;

/**
 * The agent: how to start, stop and check it (a service name, or commands), how to find its
 * process and its JMX, and where its log and configuration live.
 */
export const MidolmanAgent = z
  .strictObject({
    /** A service: `systemctl` where systemd runs, else `service NAME start|stop|status`. */
    service: z.string().regex(/^[A-Za-z0-9@._-]+$/, 'a service name such as midolman').optional(),
    /** Or explicit commands (lists of words; no shell). */
    start: Argv.optional(),
    stop: Argv.optional(),
    status: Argv.optional(),
    /** The agent's package, whose version must be what runs (default midolman). */
    package: DebName.optional(),
    /** How to find the agent's process: its PID file, its program's name (any process, not only a JVM), or its main class among java processes. */
    pid_file: HostPath.optional(),
    /** The agent's program (its executable's file name, e.g. ovs-vswitchd); one such process must run. */
    process_name: z.string().regex(/^[A-Za-z0-9_.+-]{1,64}$/, 'a program name such as ovs-vswitchd').optional(),
    main_class: z.string().regex(/^[A-Za-z0-9_.$]+$/, 'a Java class name').optional(),
    /** JMX service URL of the agent, e.g. service:jmx:rmi:///jndi/rmi://127.0.0.1:7200/jmxrmi; none = no JMX series. */
    jmx_url: z.string().regex(/^service:jmx:[^\s]+$/, 'a JMX service URL').optional(),
    /** How long a (re)started agent may take until its process runs and JMX answers (default 2m). */
    ready_timeout: DurationMs.optional(),
    /** Stop the agent at teardown, as the original perftests did (default true; only with service/start). */
    stop_at_teardown: z.boolean().optional(),
    /** The agent's log (default /var/log/midolman/midolman.log): its lines of the job's window are collected. */
    log_file: HostPath.optional(),
    /** The GC log (default: the file the running JVM's -Xlog:gc / -Xloggc option names). */
    gc_log: HostPath.optional(),
    /** Where the profile's configuration files go (default /etc/midolman). */
    config_dir: HostPath.optional(),
  })
  .superRefine((a, ctx) => {
    if (a.service !== undefined && (a.start || a.stop || a.status)) {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'service and start/stop/status commands exclude each other' });
    }
    if ((a.start === undefined) !== (a.stop === undefined)) {
      ctx.addIssue({ code: 'custom', path: [a.start ? 'stop' : 'start'], message: 'start and stop commands go together' });
    }
    if (a.process_name !== undefined && (a.pid_file !== undefined || a.main_class !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['process_name'], message: `process_name and ${a.pid_file !== undefined ? 'pid_file' : 'main_class'} exclude each other: one way to find the agent` });
    }
    if (a.status && !a.start) ctx.addIssue({ code: 'custom', path: ['status'], message: 'a status command needs start and stop commands' });
  });
export type MidolmanAgent = z.infer<typeof MidolmanAgent>;

/** Whether the scenario starts and stops the agent (a service, or start/stop commands). */
export function agentIsManaged(agent: MidolmanAgent | undefined): boolean {
  return agent?.service !== undefined || agent?.start !== undefined;
}

const HostPort = z.string().regex(/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$/, 'host:port, e.g. 10.0.0.5:2181');

/** What must answer before the test: endpoints (TCP connect) and commands (exit 0). */
export const MidolmanClusterCheck = z
  .strictObject({
    endpoints: z.array(HostPort).optional(),
    commands: z.array(Argv).optional(),
    /** Per endpoint or command (default 10s). */
    timeout: DurationMs.optional(),
  })
  .refine((c) => (c.endpoints?.length ?? 0) + (c.commands?.length ?? 0) > 0, 'names nothing to check');

/** A key that was replaced: any value is refused with a message naming the new key. */
const moved = (message: string) =>
  z
    .unknown()
    .superRefine((_, ctx) => {
      ctx.addIssue({ code: 'custom', message, params: { expected: message.replace(/^.*?use /, '') } });
    })
    .optional();

/** What a throughput step's repetitions are judged on (remote-scripts/lib/traffic-repeat.sh reads it per burst). */
export const MIDOLMAN_REPEAT_METRICS = ['delivered_pps', 'achieved_pps', 'loss', 'latency_p50_ns', 'latency_p99_ns', 'agent_cpu_percent'] as const;
export type MidolmanRepeatMetric = (typeof MIDOLMAN_REPEAT_METRICS)[number];

/**
 * Adaptive repetitions of the throughput phase's steps (as Phoronix Test Suite does): each step's
 * burst is sent again until the 95% confidence interval of the mean of `metric` over its bursts
 * is at most `target_ci` of that mean, or `max` bursts ran, or the phase's time limit comes.
 * Absent (or max 1): one burst a step, as before.
 */
export const MidolmanRepeat = z
  .strictObject({
    /** Bursts a step always sends (the interval needs two; default 1, so a step repeats at least once when max > 1). */
    min: z.number().int().min(1).max(100).default(1),
    /** Bursts a step sends at most (default 5). */
    max: z.number().int().min(1).max(100).default(5),
    /** Relative half-width of the 95% interval of the mean that ends a step's repetitions (0.02 = +-2%). */
    target_ci: z.number().positive().max(10).default(0.02),
    /** The step's measurement judged (default delivered_pps). */
    metric: z.enum(MIDOLMAN_REPEAT_METRICS).default('delivered_pps'),
  })
  .refine((r) => r.max >= r.min, { message: 'max must be at least min', path: ['max'] });
export type MidolmanRepeat = z.infer<typeof MidolmanRepeat>;

/** Whether the params ask for repetitions at all (max above 1). */
export function repeatIsOn(repeat: MidolmanRepeat | undefined): repeat is MidolmanRepeat {
  return repeat !== undefined && repeat.max > 1;
}

export const MidolmanParams = z.strictObject({
  /** A topology of the bundle's topologies/ (NAME.sh); default linux_bridge. ovs_bridge and ovs_l3 put
   * Open vSwitch's userspace datapath on the path (the host's switch, or a private one per job); its
   * ovs-vswitchd is then the agent measured unless `agent` names another. */
  topology: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/).optional(),
  /** Or an absolute path to a topology file on the host (site-local topologies, test fixtures). */
  topology_path: z.string().startsWith('/').optional(),
  /** Traffic generator (the helpers' generator table, remote-scripts/lib/traffic-*.sh); default nmap
   * (a SYN scan). trafgen (netsniff-ng): the same TCP SYN probes from a packet socket, paced by an HTB
   * class on the source interface, for rates past nmap's ceiling; refused at the check phase when it
   * is not installed or cannot send. pktgen: the kernel's packet generator (/proc/net/pktgen,
   * CONFIG_NET_PKTGEN), refused at the check phase (where the kernel lacks it, and until it has a sender). */
  generator: z.enum(['nmap', 'trafgen', 'pktgen']).optional(),
  /** linear: the seed's scan; ndr: binary search for the highest rate with loss <= ndr_loss. */
  scan_mode: z.enum(['linear', 'ndr']).optional(),
  /** NDR loss threshold, a fraction (0 = no loss at all); also the "lossless" tolerance of a linear scan. */
  ndr_loss: z.number().min(0).max(1).optional(),
  /** NDR search stops when the bracket is this narrow (pps); default THROUGHPUT_SCAN_STEP. */
  ndr_resolution_pps: z.number().int().positive().optional(),
  /** Git revision of the agent build under test (recorded in build-info.json). */
  git_revision: z.string().regex(/^[0-9a-fA-F]{4,40}$/).optional(),
  /** The build under test; none = the agent's installed build is measured as it is. */
  build: MidolmanBuild.optional(),
  /** The agent's lifecycle, process, JMX, log and configuration. */
  agent: MidolmanAgent.optional(),
  /** Checked before the agent starts: ZooKeeper, Cassandra, the MidoNet cluster... */
  cluster_check: MidolmanClusterCheck.optional(),
  packages: moved('packages was replaced: use build: { host_debs: [...] } (or local_debs, or apt)'),
  agent_pid_file: moved('agent_pid_file was moved: use agent: { pid_file: ... }'),
  agent_main_class: moved('agent_main_class was moved: use agent: { main_class: ... }'),
  jmx_url: moved('jmx_url was moved: use agent: { jmx_url: ... }'),
  /** MBean name set: profile file jmx-mbeans-<set>.conf (default midolman-1.x). */
  mbean_set: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  /** Dump the agent's heap after the test (default true). */
  heap_dump: z.boolean().optional(),
  /** Profile knobs that win over the profile files. */
  overrides: Overrides.optional(),
  /** Adaptive repetitions of each throughput step (default none: one burst a step). */
  repeat: MidolmanRepeat.optional(),
  /** Shape the path to the destination (calibration: a known answer for the measurement chain). */
  shape: z
    .strictObject({
      rate_pps: z.number().int().positive().optional(),
      drop_one_in: z
        .number()
        .int()
        .min(2)
        .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
        .optional(),
    })
    .optional(),
}).superRefine((p, ctx) => {
  if (p.build && !agentIsManaged(p.agent)) {
    ctx.addIssue({
      code: 'custom',
      path: ['build'],
      message: 'a build needs agent.service or agent.start/stop: without a restart the old build keeps running',
      params: { expected: 'agent: { service: midolman } or agent: { start: [...], stop: [...] }' },
    });
  }
});
export type MidolmanParams = z.infer<typeof MidolmanParams>;

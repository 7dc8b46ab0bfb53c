// Params of the midolman scenario (the inventory's `scenarios: { midolman: {...} }`), and the
// profile knobs of perftests.conf.
import { z } from 'zod';

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

export const MidolmanParams = z.strictObject({
  /** A topology of the bundle's topologies/ (NAME.sh); default linux_bridge. */
  topology: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/).optional(),
  /** Or an absolute path to a topology file on the host (site-local topologies, test fixtures). */
  topology_path: z.string().startsWith('/').optional(),
  /** Traffic generator (the helpers' generator table); default nmap. pktgen: the kernel's packet
   * generator (/proc/net/pktgen, CONFIG_NET_PKTGEN), refused at the check phase where the kernel lacks it. */
  generator: z.enum(['nmap', 'pktgen']).optional(),
  /** linear: the seed's scan; ndr: binary search for the highest rate with loss <= ndr_loss. */
  scan_mode: z.enum(['linear', 'ndr']).optional(),
  /** NDR loss threshold, a fraction (0 = no loss at all); also the "lossless" tolerance of a linear scan. */
  ndr_loss: z.number().min(0).max(1).optional(),
  /** NDR search stops when the bracket is this narrow (pps); default THROUGHPUT_SCAN_STEP. */
  ndr_resolution_pps: z.number().int().positive().optional(),
  /** Git revision of the agent build under test (recorded in build-info.json). */
  git_revision: z.string().regex(/^[0-9a-fA-F]{4,40}$/).optional(),
  /** .deb files on the host to install with dpkg -i before the test; none = install skipped. */
  packages: z.array(z.string().startsWith('/').regex(/^[^\s]+$/)).optional(),
  /** How to find the agent: a PID file on the host, or its main class among java processes. */
  agent_pid_file: z.string().startsWith('/').optional(),
  agent_main_class: z.string().regex(/^[A-Za-z0-9_.$]+$/).optional(),
  /** JMX service URL of the agent, e.g. service:jmx:rmi:///jndi/rmi://127.0.0.1:7200/jmxrmi; none = no JMX series. */
  jmx_url: z.string().startsWith('service:jmx:').optional(),
  /** MBean name set: profile file jmx-mbeans-<set>.conf (default midolman-1.x). */
  mbean_set: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  /** Dump the agent's heap after the test (default true). */
  heap_dump: z.boolean().optional(),
  /** Profile knobs that win over the profile files. */
  overrides: Overrides.optional(),
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
});
export type MidolmanParams = z.infer<typeof MidolmanParams>;

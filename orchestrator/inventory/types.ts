// The validated, fully layered inventory: what everything after loading works with.
// Values here have been checked (types, references, files) and resolved (defaults, group
// and host layers, the user's OpenSSH client config), so code inside can trust them.

export const ROLES = ['midolman', 'hypervisor', 'reports'] as const;
export type Role = (typeof ROLES)[number];

/** Where something was written in an inventory file (1-based line and column). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** One hop of a jump-host chain, already resolved to an endpoint. */
export interface JumpHop {
  /** Inventory host name when the hop is an inventory host, else the spec as written. */
  label: string;
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
  agent?: string;
}

/** How the orchestrator reaches a host (the inventory's `connection`). */
export const TRANSPORTS = ['ssh', 'local'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface ConnectionSettings {
  /**
   * 'ssh' (also when absent), or 'local': the host is this machine and its commands run as the
   * orchestrator's user (then address is 'localhost', port 0, user the local user, no keys or jumps).
   */
  transport?: Transport;
  address: string;
  port: number;
  user: string;
  /** Absolute paths of private keys to try, in order. */
  identityFiles: string[];
  /** ssh-agent socket path when the agent is to be used. */
  agent?: string;
  /** Jump hosts, outermost (the one we connect to first) first. */
  jump: JumpHop[];
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** How many times a connection error (never an auth or host-key error) is retried. */
  retries: number;
}

export interface ScenarioRequest {
  name: string;
  /** Parameters after the scenario's own schema has validated them. */
  params: Record<string, unknown>;
  position: SourcePosition;
}

export interface HostTimeouts {
  connectMs: number;
  /** Default limit for one phase; a scenario's phase may set its own. */
  phaseMs: number;
  /** Limit for a whole job on the host. */
  jobMs: number;
  /** A stream from the host that moves no byte for this long is stalled and stopped. */
  stallMs: number;
}

export interface HostSpec {
  name: string;
  connection: ConnectionSettings;
  roles: Role[];
  /** Every group the host belongs to, directly or through nested groups, sorted. */
  groups: string[];
  /** Profile name (a directory in profilesDir); 'default' when nothing chose one. */
  profile: string;
  /** Why `profile` was chosen (see ProfileChoice). */
  profileChoice: ProfileChoice;
  scenarios: ScenarioRequest[];
  /** Free variables, exported to the host's helpers as environment variables. */
  vars: Record<string, string>;
  /** Where each of `vars` was written (the layer that won). */
  varPositions: Record<string, SourcePosition>;
  timeouts: HostTimeouts;
  /** Directory on the host for bundles and job state; relative paths are from the login directory. */
  remoteDir: string;
  position: SourcePosition;
}

/**
 * The original perftests' rule: a profile directory named after the host wins; else the profile the
 * inventory names (in whichever layer); else "default". Files then fall back one by one to default/.
 */
export interface ProfileChoice {
  reason: 'host-name' | 'inventory' | 'default';
  /** Where the inventory named a profile (also when a host-name directory overrode it). */
  inventoryProfile?: { name: string; position: SourcePosition };
}

/** A problem a scenario finds in a host's settings (its vars, its profile files) at load time. */
export interface HostCheckIssue {
  position: SourcePosition;
  message: string;
  expected?: string;
}

/** A scenario's check of a host that requests it, run once the host's settings are layered. */
export type HostCheck = (host: HostSpec, params: Record<string, unknown>, profilesDir: string) => HostCheckIssue[];

export interface GroupSpec {
  name: string;
  hosts: string[];
  children: string[];
  position: SourcePosition;
}

export interface FailureBudget {
  /** Abort the sweep once more than this many hosts have failed... */
  maxFailedHosts?: number;
  /** ...or more than this percentage of the sweep's hosts. */
  maxFailedPercent?: number;
}

export interface ReportsTarget {
  host: string;
  path: string;
  url?: string;
  /** Drop-off directory on the reports host for sweep archives (the original perftests' way). */
  incoming?: string;
}

/** Raw artifacts kept after each sweep (manifests and metrics are kept for good). */
export interface RetentionPolicy {
  keepRawDays?: number;
  maxRawBytes?: number;
}

/** Regression-detection thresholds as written; unset fields fall back (see RegressionConfig). */
export interface RegressionThresholdSettings {
  /** Smallest relative change of a metric's mean that counts, as a fraction (0.05 = 5%). */
  minRelativeChange?: number;
  /** Largest p-value that counts as significant (0 < p <= 1). */
  pValue?: number;
  /** Points per change-point analysis window. */
  window?: number;
  /** Nights a new regime must span and hold before it counts (the inventory's `persistence`). */
  persistence?: number;
  /** Smallest change in units of the metric's noise sd (the inventory's `noise_factor`); 0: off. */
  noiseFactor?: number;
}

export interface RegressionMetricRule {
  /** A metric name, or a glob where '*' matches any run of characters. */
  pattern: string;
  thresholds: RegressionThresholdSettings;
  position: SourcePosition;
}

/**
 * The inventory's regressions: section. A metric uses the most specific rule whose pattern
 * matches its name (an exact name, then the pattern with the most characters besides '*', then
 * the first written); fields the rule leaves unset come from `default`, then from the built-in
 * defaults (orchestrator/analysis/regressions.ts DEFAULT_THRESHOLDS).
 */
export interface RegressionConfig {
  default: RegressionThresholdSettings;
  /** In the order written. */
  metrics: RegressionMetricRule[];
  /** regressions.confirm as written (unset: the defaults of fleet/confirm-regressions.ts confirmPolicy). */
  confirm?: ConfirmSettings;
}

/** regressions.confirm: how a new regression candidate is re-run before it pages. */
export interface ConfirmSettings {
  /** Re-runs of each affected job (0: no re-runs, every candidate is unconfirmed). */
  reruns?: number;
  /** Wall-clock limit of all the re-runs of one sweep, in ms. */
  budgetMs?: number;
  /** true: only confirmed candidates page; false: unconfirmed ones (no re-run possible) page too. */
  required?: boolean;
}

/** alerts: who is told, once per sweep, of the regressions it pages (orchestrator/alerts/). */
export interface AlertsConfig {
  /** argv of a local command; the alert's JSON arrives on its stdin. argv[0] is absolute, or a name looked up on PATH. */
  command?: string[];
  /** The same JSON POSTed here; `${NAME}` in a header value is the environment variable NAME at send time. */
  webhook?: { url: string; headers: Record<string, string> };
  /** Limit of each delivery (command or POST), in ms. */
  timeoutMs?: number;
}

export interface Inventory {
  /** Absolute path of the inventory file. */
  file: string;
  hosts: HostSpec[];
  groups: GroupSpec[];
  resultsDir: string;
  knownHostsFile: string;
  profilesDir: string;
  concurrency: number;
  /**
   * Per-job cap on the artifact bytes collected from a host (the inventory's
   * max_artifact_size); unset when the inventory does not say, and then DEFAULTS.maxArtifactBytes.
   */
  maxArtifactBytes?: number;
  failureBudget?: FailureBudget;
  reports?: ReportsTarget;
  regressions?: RegressionConfig;
  alerts?: AlertsConfig;
  retention?: RetentionPolicy;
}

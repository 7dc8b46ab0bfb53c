// What a scenario is: a named list of phases that run on a host in order (teardown
// phases marked `always`), a reader that turns the collected artifacts into normalized
// metrics, and optionally what its job pages show beyond every job's (JobPage). Scenarios
// describe; the fleet engine runs; the report site draws.
import type { z } from 'zod';
import type { HostCheckIssue, HostSpec } from '../inventory/types.js';
import type { MetricsDraft, MetricsFile } from '../results/metrics.js';
import type { BuildIdentity, JobManifest } from '../results/manifest.js';
import type { ChartSpec } from '../site/charts.js';

export interface PhaseSpec {
  /** Phase name: [A-Za-z0-9][A-Za-z0-9._-]* (it names a directory on the host). */
  name: string;
  /** An executable in remote-scripts/. */
  helper: string;
  args?: string[];
  /** Extra environment for the helper (host vars are always exported too). */
  env?: Record<string, string>;
  /** Overrides the host's phase timeout. */
  timeoutMs?: number;
  /** Runs even after an earlier phase failed or the sweep was interrupted (teardown). */
  always?: boolean;
  /** Its failure is recorded but does not fail the job. */
  optional?: boolean;
}

/** A file a job needs from the orchestrator's machine on its host (a build's .deb, a profile's config). */
export interface JobFile {
  /** Absolute path on the orchestrator's machine. */
  local: string;
  /** What the helpers are told it is (e.g. "build", "config:midolman.conf"): no tab or newline. */
  label: string;
}

export interface ScenarioContext<P> {
  host: HostSpec;
  params: P;
  profilesDir: string;
}

export interface Scenario<P extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  description: string;
  /** Validates the inventory's params for this scenario (positions come from the loader). */
  params: z.ZodType<P>;
  phases(context: ScenarioContext<P>): PhaseSpec[];
  /**
   * What its phases run from the helper bundle beyond the agent's own (bundle/helper-selection.ts
   * AGENT_HELPERS): paths in the bundle, a directory taking everything under it, `*` within one
   * component ('remote-scripts/lib/kvm-*.sh'). A host's bundle carries the helpers of the
   * scenarios it runs; without this list, a host running the scenario gets every helper.
   */
  helpers?: readonly string[];
  /**
   * Checks a host that requests this scenario once the inventory is layered (its vars, its profile
   * files): what it returns are inventory problems, reported with positions before anything connects.
   */
  checkHost?(host: HostSpec, params: P, profilesDir: string): HostCheckIssue[];
  /** One line for `--plan` when the params are too long to show as JSON. */
  summary?(params: P): string;
  /**
   * Reads the job's collected artifacts (rawDir/artifacts/...) into normalized metrics.
   * Everything there came from the host: validate before trusting it.
   */
  normalize(rawDir: string, context: ScenarioContext<P>): Promise<MetricsDraft>;
  /**
   * Which build of the software under test the job measured, read from the collected artifacts
   * (validated: they came from the host); undefined when the artifacts do not say. Called for
   * every job whose artifacts were collected, failed ones included, so a failure names its build.
   */
  build?(rawDir: string, context: ScenarioContext<P>): Promise<BuildIdentity | undefined>;
  /**
   * Files the job needs on its host from the orchestrator's machine. Before the job's phases the
   * engine puts each there once per content hash (remote/push-job-files.ts) and tells the helpers
   * where in ORCH_JOB_FILES ("label<TAB>path" lines). An error here fails the job before any phase.
   */
  jobFiles?(context: ScenarioContext<P>): Promise<JobFile[]>;
  /**
   * What this scenario's job pages show beyond every job's (phase timeline, samples table, logs).
   * Loaded only when the report is built, never at start (`--plan`, `--help`): return a dynamic
   * import, `jobPage: async () => (await import('./<name>/job-page.js')).jobPage`, and never import
   * that module statically. Without one, a job page charts every series of the job.
   */
  jobPage?(): Promise<JobPage>;
}

/** What a job page is drawn from: the job's manifest and metrics, either missing when unreadable. */
export interface JobPageInput {
  manifest: JobManifest | null;
  metrics: MetricsFile | null;
}

/** One figure of the summary line at the top of a job page. */
export interface SummaryItem {
  label: string;
  value: string;
  /** How the value was obtained, or why there is none. */
  detail?: string;
  /** Wraps anywhere, two lines at most (the rest on hover). */
  long?: boolean;
  /** Gets more of the line than the others (a build label, "midolman 1.0.0-lab1"). */
  wide?: boolean;
}

/** A number the sweeps index shows beside each job of the scenario ("lossless 8,000 pps"). */
export interface JobHeadline {
  metric: string;
  label: string;
}

/**
 * How a matrix scenario's points are told apart: its samples carry a `point` label (the point's
 * id) and labels for the axes the point was made of. The report names points shortly on job pages,
 * in comparisons and in the trends page's matrix (a row per measurement, a column per point).
 */
export interface PointNaming {
  /** Short names for the points these samples were measured at, by point id. */
  names(samples: readonly { labels: Record<string, string> }[]): Map<string, string>;
  /** What a sample measured, without the labels that say which point or where it came from ('' when nothing is left). */
  measured(labels: Record<string, string>): string;
  /** Where a metric's row goes in the matrix: rows sort by these numbers, then by metric name. */
  rank(metric: string): readonly [number, number];
}

/** A scenario's contribution to its job pages (and the site's other views of its jobs). */
export interface JobPage {
  /** The charts after the phase timeline; those with `placement: 'story'` are drawn two by two at the top. */
  charts?(job: JobPageInput): ChartSpec[];
  /** The summary line at the top of the page. */
  summary?(job: JobPageInput): SummaryItem[];
  /** Headline numbers beside each job in the sweeps index. */
  headlines?: readonly JobHeadline[];
  /** For a matrix scenario: how its points are named (its trends page then opens on the matrix). */
  points?: PointNaming;
}

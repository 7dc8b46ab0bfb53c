// What a scenario is: a named list of phases that run on a host in order (teardown
// phases marked `always`), and a reader that turns the collected artifacts into
// normalized metrics. Scenarios describe; the fleet engine runs.
import type { z } from 'zod';
import type { HostCheckIssue, HostSpec } from '../inventory/types.js';
import type { MetricsDraft } from '../results/metrics.js';
import type { BuildIdentity } from '../results/manifest.js';

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
}

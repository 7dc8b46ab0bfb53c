// A scenario that needs files from the orchestrator's machine on the host (a build's .deb files, a
// profile's agent configuration) says which with `jobFiles(context)`; before the job's phases the
// engine puts them on the host once per content hash (remote/push-job-files.ts) and tells the
// helpers where they are in ORCH_JOB_FILES ("label<TAB>path" lines).
//
// Kept beside the engine rather than in the Scenario interface (scenarios/types.ts) for now: a
// scenario object that has the method is recognised here.
import type { JobFile } from '../remote/push-job-files.js';
import type { Scenario, ScenarioContext } from '../scenarios/types.js';

export interface ScenarioJobFiles<P> {
  /** The files this job needs on its host; an error here fails the job before any phase runs. */
  jobFiles(context: ScenarioContext<P>): Promise<JobFile[]>;
}

export function jobFilesOf<P extends Record<string, unknown>>(scenario: Scenario<P>): ScenarioJobFiles<P>['jobFiles'] | undefined {
  const candidate = (scenario as Partial<ScenarioJobFiles<P>>).jobFiles;
  return typeof candidate === 'function' ? (context) => candidate.call(scenario, context) : undefined;
}

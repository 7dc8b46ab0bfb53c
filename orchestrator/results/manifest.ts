// Schema-versioned manifests of jobs and sweeps. Written by the engine, read back by
// analysis, the site and --resume; reading validates, so a damaged file is reported
// with its path instead of breaking a page.
import * as z from 'zod';
import { ProvenanceSchema } from './provenance.js';

export const JOB_SCHEMA = 'orchestrate/job@1' as const;
export const SWEEP_SCHEMA = 'orchestrate/sweep@1' as const;

export const PhaseStatusSchema = z.enum(['ok', 'failed', 'timed-out', 'lost', 'interrupted', 'skipped']);
export const JobStatusSchema = z.enum(['pending', 'running', 'ok', 'failed', 'unreachable', 'interrupted', 'skipped']);
export type JobStatus = z.infer<typeof JobStatusSchema>;

export const PhaseRecordSchema = z.object({
  name: z.string(),
  helper: z.string(),
  status: PhaseStatusSchema,
  exitCode: z.number().int().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  reattached: z.number().int(),
  error: z.string().optional(),
});
export type PhaseRecord = z.infer<typeof PhaseRecordSchema>;

export const JobErrorSchema = z.object({
  kind: z.string(),
  message: z.string(),
  phase: z.string().optional(),
});
export type JobError = z.infer<typeof JobErrorSchema>;

/**
 * Which build of the software under test a job measured (the midolman agent package, say), read
 * by the scenario from what the host proved (the installed and the running version), so trends
 * and regressions can say "between build X and build Y". Absent for scenarios that test no build.
 */
export const BuildIdentitySchema = z.object({
  /** What people read and trends compare: "midolman 2.0.0-lab1" (the same build, the same label). */
  label: z.string().min(1).max(200),
  package: z.string().max(200).optional(),
  version: z.string().max(200).optional(),
  /** Source revision (git) when the build carries one. */
  revision: z.string().max(64).optional(),
});
export type BuildIdentity = z.infer<typeof BuildIdentitySchema>;

export const JobManifestSchema = z.object({
  schema: z.literal(JOB_SCHEMA),
  sweepId: z.string(),
  jobId: z.string(),
  host: z.object({
    name: z.string(),
    address: z.string(),
    port: z.number().int(),
    user: z.string(),
    roles: z.array(z.string()),
    groups: z.array(z.string()),
  }),
  scenario: z.object({ name: z.string(), params: z.record(z.string(), z.unknown()) }),
  profile: z.string(),
  status: JobStatusSchema,
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  environment: ProvenanceSchema.nullable(),
  phases: z.array(PhaseRecordSchema),
  errors: z.array(JobErrorSchema),
  artifacts: z
    .object({
      status: z.enum(['complete', 'partial', 'missing']),
      files: z.number().int(),
      bytes: z.number(),
      rejected: z.array(z.object({ path: z.string(), reason: z.string() })),
    })
    .nullable(),
  metrics: z.object({ samples: z.number().int(), series: z.number().int() }).nullable(),
  /** Optional: manifests written before builds were identified have none. */
  build: BuildIdentitySchema.nullable().optional(),
  /** A confirmation re-run (`<job>~rerun<n>`) of this sweep's job: evidence, never a night's result. */
  rerunOf: z.object({ jobId: z.string(), attempt: z.number().int() }).optional(),
  orchestrator: z.object({ version: z.string(), node: z.string() }),
});
export type JobManifest = z.infer<typeof JobManifestSchema>;

export const SweepStatusSchema = z.enum(['running', 'ok', 'failed', 'interrupted', 'aborted']);
export type SweepStatus = z.infer<typeof SweepStatusSchema>;

export const JobCountsSchema = z.object({
  ok: z.number().int(),
  failed: z.number().int(),
  unreachable: z.number().int(),
  interrupted: z.number().int(),
  skipped: z.number().int(),
});
export type JobCounts = z.infer<typeof JobCountsSchema>;

export const SweepManifestSchema = z.object({
  schema: z.literal(SWEEP_SCHEMA),
  sweepId: z.string(),
  inventory: z.object({ file: z.string(), sha256: z.string() }),
  selection: z.object({ limit: z.array(z.string()), scenarios: z.array(z.string()) }),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  status: SweepStatusSchema,
  jobs: z.array(z.object({ jobId: z.string(), host: z.string(), scenario: z.string(), status: JobStatusSchema })),
  counts: JobCountsSchema,
  notes: z.array(z.string()),
  orchestrator: z.object({ version: z.string(), node: z.string() }),
});
export type SweepManifest = z.infer<typeof SweepManifestSchema>;

/** `<job>~rerun<n>`: a confirmation re-run's job id ('~' is never in a host or scenario name). */
const RERUN_MARK = '~rerun';

export function rerunJobId(jobId: string, attempt: number): string {
  return `${jobId}${RERUN_MARK}${attempt}`;
}

export function isRerunJobId(jobId: string): boolean {
  return jobId.includes(RERUN_MARK);
}

// What one sweep found, as the results store keeps it (`<sweep dir>/findings.json`): the
// regression candidates this sweep revealed and what their confirmation re-runs said,
// regressions paged on earlier nights that are still there, improvements, and the jobs that
// failed. The sweep writes it once its analysis is done; the site's "last night at a glance",
// the Atom feed and the alerts read it. Paging state across nights lives apart
// (`<results_dir>/alerts/paged.json`, PagedStateSchema) so a change is paged once.
import * as z from 'zod';

export const FINDINGS_SCHEMA = 'orchestrate/findings@1';
export const PAGED_SCHEMA = 'orchestrate/paged@1';

const SeriesKeySchema = z.object({
  host: z.string(),
  scenario: z.string(),
  metric: z.string(),
  labels: z.record(z.string(), z.string()),
});

/** A detected change point (analysis/regressions.ts DetectedChange). */
export const ChangeSchema = z.object({
  keyId: z.string(),
  key: SeriesKeySchema,
  unit: z.string(),
  better: z.enum(['higher', 'lower', 'none']),
  kind: z.enum(['regression', 'improvement', 'change']),
  /** First sweep of the new regime. */
  sweepId: z.string(),
  at: z.string(),
  beforeMean: z.number(),
  afterMean: z.number(),
  relativeChange: z.number(),
  pValue: z.number(),
  buildBefore: z.string().optional(),
  buildAfter: z.string().optional(),
});
export type Change = z.infer<typeof ChangeSchema>;

/** The evidence of a confirmation re-run of the job(s) behind a candidate. */
export const RerunEvidenceSchema = z.object({
  /** Re-run job ids (in this sweep's store, e.g. `<job>~rerun1`). */
  jobIds: z.array(z.string()),
  /** The metric's values in the re-runs. */
  values: z.array(z.number()),
  /** The previous regime's values they were compared with. */
  baseline: z.array(z.number()),
  /** Relative change of the re-runs' mean against the baseline's. */
  relativeChange: z.number(),
  /** Exact/approximate permutation p of re-runs vs baseline, in the regression's direction. */
  pValue: z.number(),
});
export type RerunEvidence = z.infer<typeof RerunEvidenceSchema>;

export const CandidateSchema = z.object({
  change: ChangeSchema,
  /**
   * confirmed: the re-runs reproduced it (paged, exit status 3, in the feed);
   * not-reproduced: the re-runs did not (shown apart, never paged);
   * unconfirmed: no re-run could be made (confirmation off, no budget, host unreachable):
   * paged only when the inventory says unconfirmed candidates page (`regressions.confirm.required: false`).
   */
  status: z.enum(['confirmed', 'not-reproduced', 'unconfirmed']),
  evidence: RerunEvidenceSchema.optional(),
  /** Why there is no evidence, or what went wrong re-running. */
  note: z.string().optional(),
  /** Whether this sweep paged it (alerts, feed, exit status). */
  paged: z.boolean(),
});
export type Candidate = z.infer<typeof CandidateSchema>;

export const FindingsSchema = z.object({
  schema: z.literal(FINDINGS_SCHEMA),
  sweepId: z.string(),
  /** When the analysis ran. */
  at: z.string(),
  /** False when there was no earlier sweep to compare with: "nothing to compare yet". */
  comparable: z.boolean(),
  candidates: z.array(CandidateSchema),
  /** Regressions paged on an earlier night whose regime still holds in this sweep. */
  stillPresent: z.array(ChangeSchema),
  /** Improvements this sweep revealed. */
  improvements: z.array(ChangeSchema),
  /** Jobs of this sweep that did not end ok. */
  failedJobs: z.array(z.object({ jobId: z.string(), host: z.string(), scenario: z.string(), status: z.string() })),
});
export type Findings = z.infer<typeof FindingsSchema>;

/** A change is identified across nights by its series and the first sweep of its regime. */
export function changeId(change: Pick<Change, 'keyId' | 'sweepId'>): string {
  return `${change.keyId}@${change.sweepId}`;
}

export const PagedStateSchema = z.object({
  schema: z.literal(PAGED_SCHEMA),
  /** changeId -> when and by which sweep it was paged. */
  paged: z.record(z.string(), z.object({ sweepId: z.string(), at: z.string() })),
});
export type PagedState = z.infer<typeof PagedStateSchema>;

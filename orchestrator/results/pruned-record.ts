// pruned.json of a job directory: what retention removed from the job, and when
// (retention/prune-results.ts writes it; the manifest is never rewritten).
import * as z from 'zod';

export const PRUNED_SCHEMA = 'orchestrate/pruned@1' as const;

export const PrunedRecordSchema = z.object({
  schema: z.literal(PRUNED_SCHEMA),
  prunedAt: z.string(),
  reason: z.enum(['age', 'size', 'resume']),
  removed: z.object({ paths: z.array(z.string()), files: z.number().int().nonnegative(), bytes: z.number().nonnegative() }),
});
export type PrunedRecord = z.infer<typeof PrunedRecordSchema>;

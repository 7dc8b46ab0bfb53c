// The environment a job ran in, as recorded on the host by remote-scripts/provenance.
// Read back from a host, so validated before it goes into a manifest.
import { z } from 'zod';

export const ProvenanceSchema = z.object({
  hostname: z.string().max(255),
  collected_at: z.number().nullable(),
  os: z.string().max(500).nullable(),
  kernel: z.object({ release: z.string().max(200), version: z.string().max(500), machine: z.string().max(50) }),
  cmdline: z.string().max(8192),
  cpu: z.object({ model: z.string().max(500), logical_cpus: z.number().int().nullable() }),
  memory_kb: z.number().nullable(),
  packages: z.record(z.string().max(200), z.string().max(200)),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

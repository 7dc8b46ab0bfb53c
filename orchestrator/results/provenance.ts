// The environment a job ran in, as recorded on the host (remote-scripts/lib/provenance.sh):
// collected once per host per sweep by the agent's `provenance` verb (reused across sweeps
// while the host's boot id, name and package database are unchanged), and carried by every
// job manifest of that host in that sweep. Read back from a host, so validated before it
// goes into a manifest.
import * as z from 'zod';

export const ProvenanceSchema = z.object({
  hostname: z.string().max(255),
  /** The boot the record was collected in (absent in records written before it was kept). */
  boot_id: z.string().max(64).optional(),
  collected_at: z.number().nullable(),
  os: z.string().max(500).nullable(),
  kernel: z.object({ release: z.string().max(200), version: z.string().max(500), machine: z.string().max(50) }),
  cmdline: z.string().max(8192),
  cpu: z.object({ model: z.string().max(500), logical_cpus: z.number().int().nullable() }),
  memory_kb: z.number().nullable(),
  packages: z.record(z.string().max(200), z.string().max(200)),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

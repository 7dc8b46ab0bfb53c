// The versioned readers of the store's JSON files, one per kind (versioned-file.ts): every read
// of a sweep manifest, job manifest, metrics file, findings file or paging record goes through
// one of these, so a file written in an older version is upgraded in one place.
//
// Today every kind has only its version 1. When a kind gets version 2: its schema in
// manifest.ts / metrics.ts / findings.ts becomes @2 (what the store writes), the @1 schema is
// kept there, and its reader below lists it as an older version with the upgrade @1 -> @2:
//
//   export const jobManifestFile = new VersionedFile(JOB_SCHEMA, 'a job manifest', JobManifestSchema, [
//     { version: 1, schema: JobManifestV1Schema, upgrade: (v1: JobManifestV1) => ({ ...v1, schema: JOB_SCHEMA, newField: null }) },
//   ]);
import { FINDINGS_SCHEMA, FindingsSchema, PAGED_SCHEMA, PagedStateSchema } from '../analysis/findings.js';
import { JOB_SCHEMA, JobManifestSchema, SWEEP_SCHEMA, SweepManifestSchema } from './manifest.js';
import { METRICS_SCHEMA, MetricsFileSchema } from './metrics.js';
import { VersionedFile } from './versioned-file.js';

export const sweepManifestFile = new VersionedFile(SWEEP_SCHEMA, 'a sweep manifest', SweepManifestSchema);
export const jobManifestFile = new VersionedFile(JOB_SCHEMA, 'a job manifest', JobManifestSchema);
export const metricsFile = new VersionedFile(METRICS_SCHEMA, 'a metrics file', MetricsFileSchema);
export const findingsFile = new VersionedFile(FINDINGS_SCHEMA, 'a findings file', FindingsSchema);
export const pagedStateFile = new VersionedFile(PAGED_SCHEMA, 'a paging record', PagedStateSchema);

// A job manifest as the store writes one, for the results tests: job h--sysinfo of host h on
// loopback, finished ok with no phases, errors, artifacts or metrics. Each test overrides only
// the fields its behaviour is about.
import { JOB_SCHEMA, type JobManifest } from '../../orchestrator/results/manifest.js';

export function jobManifestFixture(sweepId: string, overrides: Partial<JobManifest> = {}): JobManifest {
  return {
    schema: JOB_SCHEMA,
    sweepId,
    jobId: 'h--sysinfo',
    host: { name: 'h', address: '127.0.0.1', port: 22, user: 'root', roles: [], groups: [] },
    scenario: { name: 'sysinfo', params: {} },
    profile: 'default',
    status: 'ok',
    startedAt: '2026-01-01T03:00:01.000Z',
    endedAt: '2026-01-01T03:00:09.000Z',
    environment: null,
    phases: [],
    errors: [],
    artifacts: null,
    metrics: null,
    orchestrator: { version: '0', node: process.version },
    ...overrides,
  };
}

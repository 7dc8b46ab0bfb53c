// One line of plain text per engine event, for logs and non-terminal output. A map
// keyed by kind, so the type checker demands a line for every kind of event.
import type { EngineEvent, EngineEventKind, EventOf } from './events.js';

type Formatters = { [K in EngineEventKind]: (event: EventOf<K>) => string };

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

const FORMATTERS: Formatters = {
  'sweep-start': (e) => `sweep ${e.sweepId}: ${e.jobs} job(s) on ${e.hosts} host(s); results in ${e.dir}`,
  'host-connect': (e) => `${e.host}: connecting`,
  'host-ready': (e) =>
    `${e.host}: connected in ${seconds(e.connectMs)}; helper bundle ${e.bundleUploaded ? `uploaded (${bytes(e.bundleBytes)})` : 'already present'}`,
  'host-unreachable': (e) => `${e.host}: UNREACHABLE: ${e.message}`,
  'job-start': (e) => `${e.host}: job ${e.jobId} (${e.scenario}) started`,
  'job-files': (e) =>
    `${e.host}: ${e.jobId}: ${e.files} job file(s) on the host in ${seconds(e.durationMs)}; ${e.uploaded > 0 ? `${e.uploaded} uploaded (${bytes(e.bytes)})` : 'all already present'}`,
  'phase-start': (e) => `${e.host}: ${e.jobId}: phase ${e.phase} started`,
  'phase-progress': (e) =>
    `${e.host}: ${e.jobId}: ${e.phase}: ${e.message}${e.fraction !== undefined ? ` (${Math.round(e.fraction * 100)}%)` : ''}`,
  'phase-log': (e) => `${e.host}: ${e.jobId}: ${e.phase}: [${e.level}] ${e.message}`,
  'phase-end': (e) =>
    `${e.host}: ${e.jobId}: phase ${e.phase} ${e.status} after ${seconds(e.durationMs)}${e.error ? `: ${e.error}` : ''}`,
  reconnecting: (e) => `${e.host}: ${e.jobId}: ${e.phase}: connection lost (${e.error}); reconnecting, attempt ${e.attempt}`,
  'protocol-error': (e) => `${e.host}: ${e.jobId}: ${e.phase}: ignored a malformed event line (${e.problem}): ${JSON.stringify(e.line)}`,
  collected: (e) =>
    `${e.host}: ${e.jobId}: artifacts ${e.status}: ${e.files} file(s), ${bytes(e.bytes)}${e.error ? ` (${e.error})` : ''}`,
  'job-end': (e) => `${e.host}: job ${e.jobId} ${e.status.toUpperCase()}${e.errors.length ? `: ${e.errors.join('; ')}` : ''}`,
  'budget-exceeded': (e) => `failure budget exceeded: ${e.failedHosts} host(s) failed (limit ${e.limit}); no further hosts will start`,
  interrupting: (e) => `interrupted (${e.reason}): stopping phases, running teardowns, keeping partial results`,
  'sweep-end': (e) =>
    `sweep ${e.sweepId} ${e.status}: ${e.counts.ok} ok, ${e.counts.failed} failed, ${e.counts.unreachable} unreachable, ${e.counts.interrupted} interrupted, ${e.counts.skipped} skipped; results in ${e.dir}`,
};

export function eventText(event: EngineEvent): string {
  return (FORMATTERS[event.kind] as (e: EngineEvent) => string)(event);
}

export function timestamp(at: number): string {
  return new Date(at).toISOString();
}

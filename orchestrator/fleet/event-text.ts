// One line of plain text per engine event, for logs and non-terminal output. A map
// keyed by kind, so the type checker demands a line for every kind of event.
//
// Host text never reaches a terminal or a log raw (../inert-text.ts): a field that is wholly the
// host's words (a progress or log message, a malformed protocol line, an unknown log level) is
// shown marked, «like this»; a field that mixes our words with the host's (a phase error, a
// collect error, a job's errors, a connect error) is escaped, and its source marks the host's
// part. Every line is escaped once more as a whole, so whatever a formatter forgets, one event
// is still one line with no control character in it.
import type { EngineEvent, EngineEventKind, EventOf } from './events.js';
import { hostText, inertText } from '../inert-text.js';

type Formatters = { [K in EngineEventKind]: (event: EventOf<K>) => string };

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);
/** The levels helpers use (remote-scripts/lib/events.sh callers); anything else a host sends is shown as its text. */
const LEVELS = new Set(['debug', 'info', 'notice', 'warn', 'warning', 'error']);
const level = (value: string) => (LEVELS.has(value) ? value : hostText(value));

const FORMATTERS: Formatters = {
  'sweep-start': (e) => `sweep ${e.sweepId}: ${e.jobs} job(s) on ${e.hosts} host(s); results in ${e.dir}`,
  'host-connect': (e) => `${e.host}: connecting`,
  'bundle-repaired': (e) =>
    `${e.host}: WARNING: cached helper bundle ${e.hash} was not genuine (first difference: ${hostText(e.file)}: ${hostText(e.problem)}); set aside unused and reinstalled`,
  'host-ready': (e) =>
    `${e.host}: connected in ${seconds(e.connectMs)}; helper bundle ${e.bundleUploaded ? `uploaded (${bytes(e.bundleBytes)})` : 'already present'}`,
  'host-unreachable': (e) => `${e.host}: UNREACHABLE: ${inertText(e.message)}`,
  'job-start': (e) => `${e.host}: job ${e.jobId} (${e.scenario}) started`,
  'job-files': (e) =>
    `${e.host}: ${e.jobId}: ${e.files} job file(s) on the host in ${seconds(e.durationMs)}; ${e.uploaded > 0 ? `${e.uploaded} uploaded (${bytes(e.bytes)})` : 'all already present'}`,
  'phase-start': (e) => `${e.host}: ${e.jobId}: phase ${e.phase} started`,
  'phase-progress': (e) =>
    `${e.host}: ${e.jobId}: ${e.phase}: ${hostText(e.message)}${e.fraction !== undefined ? ` (${Math.round(e.fraction * 100)}%)` : ''}`,
  'phase-log': (e) => `${e.host}: ${e.jobId}: ${e.phase}: [${level(e.level)}] ${hostText(e.message)}`,
  'phase-end': (e) =>
    `${e.host}: ${e.jobId}: phase ${e.phase} ${e.status} after ${seconds(e.durationMs)}${e.error ? `: ${inertText(e.error)}` : ''}`,
  reconnecting: (e) => `${e.host}: ${e.jobId}: ${e.phase}: connection lost (${inertText(e.error)}); reconnecting, attempt ${e.attempt}`,
  'protocol-error': (e) => `${e.host}: ${e.jobId}: ${e.phase}: ignored a malformed event line (${inertText(e.problem)}): ${hostText(e.line)}`,
  collected: (e) =>
    `${e.host}: ${e.jobId}: artifacts ${e.status}: ${e.files} file(s), ${bytes(e.bytes)}${e.error ? ` (${inertText(e.error)})` : ''}`,
  'job-end': (e) => `${e.host}: job ${e.jobId} ${e.status.toUpperCase()}${e.errors.length ? `: ${e.errors.map(inertText).join('; ')}` : ''}`,
  'budget-exceeded': (e) => `failure budget exceeded: ${e.failedHosts} host(s) failed (limit ${e.limit}); no further hosts will start`,
  interrupting: (e) => `interrupted (${inertText(e.reason)}): stopping phases, running teardowns, keeping partial results`,
  'sweep-end': (e) =>
    `sweep ${e.sweepId} ${e.status}: ${e.counts.ok} ok, ${e.counts.failed} failed, ${e.counts.unreachable} unreachable, ${e.counts.interrupted} interrupted, ${e.counts.skipped} skipped; results in ${e.dir}`,
};

/** The event as one line of inert text (no line break, no control or format character). */
export function eventText(event: EngineEvent): string {
  return inertText((FORMATTERS[event.kind] as (e: EngineEvent) => string)(event));
}

export function timestamp(at: number): string {
  return new Date(at).toISOString();
}

// One line of plain text per engine event, for logs and non-terminal output. A map
// keyed by kind, so the type checker demands a line for every kind of event.
//
// Host text never reaches a terminal or a log raw (../inert-text.ts): a field that is wholly the
// host's words (a progress or log message, a malformed protocol line, an unknown log level) is
// shown marked, «like this»; a field that mixes our words with the host's (a phase error, a
// collect error, a job's errors, a connect error) is escaped, and its source marks the host's
// part. Every line is escaped once more as a whole, so whatever a formatter forgets, one event
// is still one line with no control character in it.
import { rerunChangeText } from '../analysis/change-text.js';
import type { Candidate, Findings } from '../analysis/findings.js';
import { newRegressionLine } from '../analysis/regressions.js';
import { alertOutcomeLine } from '../alerts/send-alerts.js';
import type { EngineEvent, EngineEventKind, EventOf } from './events.js';
import { hostText, inertText } from '../inert-text.js';
import type { JobCounts } from '../results/manifest.js';

type Formatters = { [K in EngineEventKind]: (event: EventOf<K>) => string };

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);
/** The levels helpers use (remote-scripts/lib/events.sh callers); anything else a host sends is shown as its text. */
const LEVELS = new Set(['debug', 'info', 'notice', 'warn', 'warning', 'error']);
const level = (value: string) => (LEVELS.has(value) ? value : hostText(value));


/** A regression candidate as the sweep reports it: paged, not reproduced, or unconfirmed and not paged. */
export function candidateText(candidate: Candidate, newlyPaged: boolean): string {
  const evidence = candidate.evidence ? `re-runs ${rerunChangeText(candidate.evidence, '')}, p=${candidate.evidence.pValue.toFixed(3)}` : (candidate.note ?? '');
  const line = newRegressionLine(candidate.change);
  if (candidate.paged) {
    const how = candidate.status === 'confirmed' ? `confirmed: ${evidence}` : `unconfirmed, paged as regressions.confirm.required is false: ${candidate.note ?? ''}`;
    return `${line} [${how}]${newlyPaged ? '' : ' (already paged by this sweep)'}`;
  }
  const rest = line.replace(/^NEW REGRESSION: /, '');
  if (candidate.status === 'not-reproduced') return `not reproduced (not paged): ${rest} [${candidate.note ?? evidence}]`;
  return `unconfirmed (not paged): ${rest} [${candidate.note ?? ''}]`;
}

/** The candidates a sweep reports, in order: paged first, then not reproduced, then unconfirmed ones not paged. */
export function candidatesToReport(findings: Findings): Candidate[] {
  return [
    ...findings.candidates.filter((c) => c.paged),
    ...findings.candidates.filter((c) => c.status === 'not-reproduced'),
    ...findings.candidates.filter((c) => c.status === 'unconfirmed' && !c.paged),
  ];
}

/** The counts of a `findings` event, from findings.json: the event and the summary at the end both say them. */
export function findingsCounts(findings: Findings): Omit<EventOf<'findings'>, 'kind' | 'at'> {
  const count = (status: string) => findings.candidates.filter((candidate) => candidate.status === status).length;
  const unconfirmed = findings.candidates.filter((candidate) => candidate.status === 'unconfirmed');
  return {
    confirmed: count('confirmed'),
    notReproduced: count('not-reproduced'),
    unconfirmed: unconfirmed.length,
    pagedUnconfirmed: unconfirmed.filter((candidate) => candidate.paged).length,
    stillPresent: findings.stillPresent.length,
    comparable: findings.comparable,
  };
}

/** The summary's word on regressions: "1 confirmed regression(s), 1 not reproduced" (exit status 3 follows the paged ones). */
export function findingsText(e: Omit<EventOf<'findings'>, 'kind' | 'at'>): string {
  return [
    `${e.confirmed} confirmed regression(s)`,
    `${e.notReproduced} not reproduced`,
    ...(e.unconfirmed > 0 ? [`${e.unconfirmed} unconfirmed (${e.pagedUnconfirmed > 0 ? `${e.pagedUnconfirmed} paged` : 'not paged'})`] : []),
    ...(e.stillPresent > 0 ? [`${e.stillPresent} still present (paged before)`] : []),
    ...(e.comparable ? [] : ['nothing to compare yet']),
  ].join(', ');
}

// What a sweep's end and the summary after it both say, worded once.
/** A sweep's job counts: "2 ok, 1 failed, 0 unreachable, 0 interrupted, 0 skipped". */
export const countsText = (c: JobCounts) => `${c.ok} ok, ${c.failed} failed, ${c.unreachable} unreachable, ${c.interrupted} interrupted, ${c.skipped} skipped`;
export const publishedText = (e: { releaseId: string; uploadedFiles: number; url?: string | undefined }) =>
  `published: ${e.releaseId} (${e.uploadedFiles} file(s) uploaded)${e.url ? ` at ${e.url}` : ''}`;
export const droppedOffText = (e: { archive: string; marker: string; host: string }) => `dropped off: ${e.archive} and ${e.marker} on ${e.host}`;
export const prunedText = (e: { jobs: number; bytes: number }) => `pruned: raw artifacts of ${e.jobs} job(s), ${e.bytes} bytes (retention policy)`;

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
    `sweep ${e.sweepId} ${e.status}: ${countsText(e.counts)}; results in ${e.dir}`,
  'store-problem': (e) => `error: ${e.problem}: no host starts from now on; running jobs end, then the sweep stops`,
  'lock-compromised': (e) => `warning: sweep lock compromised: ${e.message}`,
  'analysis-note': (e) => e.message,
  confirming: (e) => `${e.host}: confirming ${e.candidates} regression candidate(s): re-running ${e.reruns.map((r) => `${r.jobId} x${r.count}`).join(', ')}`,
  rerun: (e) => `re-run: ${eventText(e.event)}`,
  findings: (e) => `findings: ${findingsText(e)}`,
  'regression-candidate': (e) => candidateText(e.candidate, e.newlyPaged),
  'analysis-failed': (e) => `regression check failed: ${e.error}`,
  'record-problem': (e) => e.message,
  'site-progress': (e) => e.message,
  'site-built': (e) => `report: ${e.dir}/index.html (${e.pagesWritten} page(s) written, ${e.pagesUnchanged} unchanged)`,
  'site-failed': (e) => `report build failed: ${e.error}`,
  'publish-progress': (e) => e.message,
  published: publishedText,
  'publish-failed': (e) => `publish to ${e.host} failed: ${e.error}`,
  'dropped-off': droppedOffText,
  'drop-off-failed': (e) => `drop-off to ${e.host}:${e.incoming} failed: ${e.error}`,
  'alert-sent': (e) => alertOutcomeLine(e.outcome, e.regressions),
  pruned: prunedText,
  'prune-failed': (e) => `pruning raw artifacts failed: ${e.error}`,
};

/** Events a person is told on stderr at once (the renderers write them there, with stderrText). */
export const TOLD_ON_STDERR: ReadonlySet<EngineEventKind> = new Set(['store-problem', 'lock-compromised']);

/** Such an event as written to stderr: a full results disk on a line of its own, set apart from the progress. */
export function stderrText(event: EngineEvent): string {
  return `${event.kind === 'store-problem' ? '\n' : ''}${eventText(event)}\n`;
}

/**
 * Events whose fact the summary at the end reports (outcomeLines in ../cli/execute-sweep.ts): logged to sweep.log and
 * events.jsonl, not shown live, so the summary says each once.
 */
export const REPORTED_AT_END: ReadonlySet<EngineEventKind> = new Set([
  'findings',
  'regression-candidate',
  'analysis-failed',
  'record-problem',
  'site-built',
  'site-failed',
  'published',
  'publish-failed',
  'dropped-off',
  'drop-off-failed',
  'alert-sent',
  'pruned',
  'prune-failed',
]);

/** The failures of the steps after the jobs: each a `warning:` at the end, and exit status 1. */
export const FINISH_FAILURES: ReadonlySet<EngineEventKind> = new Set(['analysis-failed', 'record-problem', 'site-failed', 'publish-failed', 'drop-off-failed', 'prune-failed']);

/** The event as one line of inert text (no line break, no control or format character). */
export function eventText(event: EngineEvent): string {
  return inertText((FORMATTERS[event.kind] as (e: EngineEvent) => string)(event));
}

export function timestamp(at: number): string {
  return new Date(at).toISOString();
}

// The text of every engine event (sweep.log, each job's orchestrator.log, plain output): whatever
// a host put in an event, its line is one line with no control or format character in it, the
// host's words are marked «...», and a forged "summary:" never starts a line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { EngineEvent, EngineEventKind, EventOf } from '../../orchestrator/fleet/events.js';
import type { Candidate } from '../../orchestrator/analysis/findings.js';
import { eventText, REPORTED_AT_END, stderrText, timestamp, TOLD_ON_STDERR } from '../../orchestrator/fleet/event-text.js';

const PWN = '\u001b]0;pwned\u0007\r\nsummary: 6 ok, 0 failed';
const SHOWN = '\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok, 0 failed';
const BIDI = 'a\u202eb\u2066c\u2069\u200bd\u0085e\u009b2J\u2028f';
const BIDI_SHOWN = 'a\\u202eb\\u2066c\\u2069\\u200bd\\u0085e\\u009b2J\\u2028f';
const NASTY = `${PWN} ${BIDI}`;

/** No byte < 0x20 (nor DEL, C1, bidi, separators) except the trailing newline; no line starts with a forged summary. */
function assertInertOutput(output: string, what: string): void {
  assert.ok(output.endsWith('\n'), `${what} ends with its newline`);
  const bytes = Buffer.from(output.slice(0, -1), 'utf8');
  for (const [i, b] of bytes.entries()) {
    if (b === 0x0a) continue; // line ends between lines (several lines in one output)
    assert.ok(b >= 0x20 && b !== 0x7f, `raw byte 0x${b.toString(16)} at ${i} in ${what}: ${JSON.stringify(output)}`);
  }
  assert.not.match(output, /[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/, `${what} holds a raw C1 or format character`);
  for (const line of output.slice(0, -1).split('\n')) {
    assert.not.match(line, /^(?:\S+Z )?summary:/, `a forged summary starts a line of ${what}: ${line}`);
  }
}

const at = Date.UTC(2026, 0, 2, 3, 4, 5);
const onJob = { at, host: 'lab-01', jobId: 'lab-01--sysinfo' };
const onPhase = { ...onJob, phase: 'sysinfo' };

/** A candidate whose host-influenced strings (labels, build, note, unit) are hostile. */
const candidate: Candidate = {
  change: {
    keyId: 'k1',
    key: { host: 'lab-01', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', labels: { nic: NASTY } },
    unit: NASTY,
    better: 'lower',
    kind: 'regression',
    sweepId: 's1',
    at: '2026-01-02T03:04:05.000Z',
    beforeMean: 10,
    afterMean: 20,
    relativeChange: 1,
    pValue: 0.001,
    buildBefore: NASTY,
    buildAfter: NASTY,
  },
  status: 'not-reproduced',
  note: NASTY,
  paged: false,
};

/** One event of each kind with every string a host can influence set to hostile text. The type demands every kind. */
const HOSTILE: { [K in EngineEventKind]: EventOf<K> } = {
  'sweep-start': { kind: 'sweep-start', at, sweepId: 's1', dir: '/r/s1', hosts: 1, jobs: 1 },
  'host-connect': { kind: 'host-connect', at, host: 'lab-01' },
  'host-ready': { kind: 'host-ready', at, host: 'lab-01', connectMs: 12, bundleUploaded: true, bundleBytes: 2048 },
  'bundle-repaired': { kind: 'bundle-repaired', at, host: 'lab-01', hash: '0123456789abcdef', file: NASTY, problem: NASTY },
  'host-unreachable': { kind: 'host-unreachable', at, host: 'lab-01', failure: 'protocol', message: `lab-01: SSH protocol error at root@127.66.45.10:2222 (${NASTY})` },
  'job-start': { kind: 'job-start', ...onJob, scenario: 'sysinfo' },
  'job-files': { kind: 'job-files', ...onJob, files: 1, uploaded: 1, bytes: 10, durationMs: 5 },
  'phase-start': { kind: 'phase-start', ...onPhase },
  'phase-progress': { kind: 'phase-progress', ...onPhase, message: NASTY, fraction: 0.5 },
  'phase-log': { kind: 'phase-log', ...onPhase, level: 'error', message: NASTY },
  'phase-end': { kind: 'phase-end', ...onPhase, status: 'failed', durationMs: 1500, error: `agent ended without an exit status (exit 1): ${NASTY}` },
  reconnecting: { kind: 'reconnecting', ...onPhase, attempt: 2, error: NASTY },
  'protocol-error': { kind: 'protocol-error', ...onPhase, line: NASTY, problem: `not JSON ${PWN}` },
  collected: { kind: 'collected', ...onJob, status: 'partial', files: 3, bytes: 4096, error: `collect on lab-01 exited with 2: ${NASTY}` },
  'job-end': { kind: 'job-end', ...onJob, status: 'failed', errors: [`helper sysinfo exited with status 1: ${NASTY}`, NASTY] },
  'budget-exceeded': { kind: 'budget-exceeded', at, failedHosts: 1, limit: '0' },
  interrupting: { kind: 'interrupting', at, reason: NASTY },
  'sweep-end': { kind: 'sweep-end', at, sweepId: 's1', dir: '/r/s1', status: 'failed', counts: { ok: 0, failed: 1, unreachable: 0, interrupted: 0, skipped: 0 } },
  'store-problem': { kind: 'store-problem', at, problem: `cannot write /r/s1/jobs/x/${NASTY}: ENOSPC` },
  'lock-compromised': { kind: 'lock-compromised', at, message: NASTY },
  'analysis-note': { kind: 'analysis-note', at, message: `paging record: ${NASTY}` },
  confirming: { kind: 'confirming', at, host: 'lab-01', candidates: 1, reruns: [{ jobId: 'lab-01--sysinfo', count: 2 }] },
  rerun: { kind: 'rerun', at, event: { kind: 'job-end', ...onJob, status: 'failed', errors: [NASTY] } },
  findings: { kind: 'findings', at, confirmed: 1, notReproduced: 1, unconfirmed: 1, pagedUnconfirmed: 0, stillPresent: 0, comparable: true },
  'regression-candidate': { kind: 'regression-candidate', at, candidate, newlyPaged: false },
  'analysis-failed': { kind: 'analysis-failed', at, error: NASTY },
  'record-problem': { kind: 'record-problem', at, message: `cannot write findings.json: ${NASTY}` },
  'site-progress': { kind: 'site-progress', at, message: `site: ${NASTY}` },
  'site-built': { kind: 'site-built', at, dir: '/r/site', pagesWritten: 3, pagesUnchanged: 4 },
  'site-failed': { kind: 'site-failed', at, error: NASTY },
  'publish-progress': { kind: 'publish-progress', at, message: NASTY },
  published: { kind: 'published', at, host: 'reports', releaseId: 'r1-abc', uploadedFiles: 2, url: 'http://127.66.0.2:8080/' },
  'publish-failed': { kind: 'publish-failed', at, host: 'reports', error: `reports said: ${NASTY}` },
  'dropped-off': { kind: 'dropped-off', at, host: 'reports', archive: 'in/s1.tar.gz', marker: 'in/s1.ready' },
  'drop-off-failed': { kind: 'drop-off-failed', at, host: 'reports', incoming: 'in', error: NASTY },
  'alert-sent': { kind: 'alert-sent', at, outcome: { kind: 'command', target: 'alert.sh', ok: false, detail: NASTY, durationMs: 1200 }, regressions: 1 },
  pruned: { kind: 'pruned', at, jobs: 2, bytes: 4096 },
  'prune-failed': { kind: 'prune-failed', at, error: NASTY },
};
const ALL: EngineEvent[] = Object.values(HOSTILE);

test('every kind of event is one inert line, however hostile the host text in it', () => {
  for (const event of ALL) {
    const text = eventText(event);
    assertInertOutput(`${timestamp(event.at)} ${text}\n`, event.kind);
    if (TOLD_ON_STDERR.has(event.kind)) assertInertOutput(stderrText(event), `${event.kind} on stderr`);
  }
});

test("a host's progress and log messages are shown escaped and marked as its words", () => {
  assert.is(eventText(HOSTILE['phase-log']), `lab-01: lab-01--sysinfo: sysinfo: [error] «${SHOWN} ${BIDI_SHOWN}»`);
  assert.is(eventText(HOSTILE['phase-progress']), `lab-01: lab-01--sysinfo: sysinfo: «${SHOWN} ${BIDI_SHOWN}» (50%)`);
  assert.is(
    eventText({ kind: 'phase-progress', ...onPhase, message: 'sampling host CPU: 1 of 4', fraction: 0.25 }),
    'lab-01: lab-01--sysinfo: sysinfo: «sampling host CPU: 1 of 4» (25%)',
  );
  assert.is(
    eventText(HOSTILE['protocol-error']),
    `lab-01: lab-01--sysinfo: sysinfo: ignored a malformed event line (not JSON ${SHOWN}): «${SHOWN} ${BIDI_SHOWN}»`,
  );
});

test("a log level the helpers do not use is the host's text too; theirs are shown bare", () => {
  for (const level of ['debug', 'info', 'notice', 'warn', 'warning', 'error']) {
    assert.ok(eventText({ kind: 'phase-log', ...onPhase, level, message: 'm' }).endsWith(`[${level}] «m»`));
  }
  assert.is(eventText({ kind: 'phase-log', ...onPhase, level: 'x\u001b[2Jy', message: 'm' }), 'lab-01: lab-01--sysinfo: sysinfo: [«x\\x1b[2Jy»] «m»');
});

test('errors that carry host text (phase, collect, job, connect, reconnect) are escaped where they stand', () => {
  assert.ok(eventText(HOSTILE['phase-end']).endsWith(`phase sysinfo failed after 1.50s: agent ended without an exit status (exit 1): ${SHOWN} ${BIDI_SHOWN}`));
  assert.ok(eventText(HOSTILE.collected).endsWith(`artifacts partial: 3 file(s), 4.0 KiB (collect on lab-01 exited with 2: ${SHOWN} ${BIDI_SHOWN})`));
  assert.is(eventText(HOSTILE['job-end']), `lab-01: job lab-01--sysinfo FAILED: helper sysinfo exited with status 1: ${SHOWN} ${BIDI_SHOWN}; ${SHOWN} ${BIDI_SHOWN}`);
  assert.is(eventText(HOSTILE['host-unreachable']), `lab-01: UNREACHABLE: lab-01: SSH protocol error at root@127.66.45.10:2222 (${SHOWN} ${BIDI_SHOWN})`);
  assert.ok(eventText(HOSTILE.reconnecting).includes(`connection lost (${SHOWN} ${BIDI_SHOWN}); reconnecting, attempt 2`));
  // a source that already marked the host's part (hostText) reads the same after the renderer's pass
  assert.is(
    eventText({ kind: 'job-end', ...onJob, status: 'failed', errors: [`helper sysinfo exited with status 1: «${SHOWN}»`] }),
    `lab-01: job lab-01--sysinfo FAILED: helper sysinfo exited with status 1: «${SHOWN}»`,
  );
});

test("the orchestrator's own lines are unchanged", () => {
  assert.is(eventText(HOSTILE['sweep-end']), 'sweep s1 failed: 0 ok, 1 failed, 0 unreachable, 0 interrupted, 0 skipped; results in /r/s1');
  assert.is(eventText(HOSTILE['host-ready']), 'lab-01: connected in 0.01s; helper bundle uploaded (2.0 KiB)');
  assert.is(eventText({ kind: 'phase-end', ...onPhase, status: 'ok', durationMs: 1234 }), 'lab-01: lab-01--sysinfo: phase sysinfo ok after 1.23s');
});

test('the steps after the jobs read as the lines the sweep has always printed for them', () => {
  assert.is(eventText(HOSTILE.confirming), 'lab-01: confirming 1 regression candidate(s): re-running lab-01--sysinfo x2');
  assert.is(eventText(HOSTILE.rerun), `re-run: lab-01: job lab-01--sysinfo FAILED: ${SHOWN} ${BIDI_SHOWN}`);
  assert.is(eventText(HOSTILE.published), 'published: r1-abc (2 file(s) uploaded) at http://127.66.0.2:8080/');
  assert.is(eventText(HOSTILE.pruned), 'pruned: raw artifacts of 2 job(s), 4096 bytes (retention policy)');
  assert.is(eventText(HOSTILE['dropped-off']), 'dropped off: in/s1.tar.gz and in/s1.ready on reports');
  assert.is(eventText(HOSTILE['site-failed']), `report build failed: ${SHOWN} ${BIDI_SHOWN}`);
  assert.is(eventText(HOSTILE.findings), 'findings: 1 confirmed regression(s), 1 not reproduced, 1 unconfirmed (not paged)');
  assert.match(eventText(HOSTILE['regression-candidate']), /^not reproduced \(not paged\): lab-01 sysinfo host\.cpu\.busy\.mean \+100\.0% \(10\.00 -> 20\.00 /);
  assert.match(eventText(HOSTILE['alert-sent']), /^alert command alert\.sh: FAILED \(.*, 1\.2 s\)$/);
  assert.is(stderrText(HOSTILE['store-problem']), `\nerror: cannot write /r/s1/jobs/x/${SHOWN} ${BIDI_SHOWN}: ENOSPC: no host starts from now on; running jobs end, then the sweep stops\n`);
  assert.is(stderrText(HOSTILE['lock-compromised']), `warning: sweep lock compromised: ${SHOWN} ${BIDI_SHOWN}\n`);
  // what the summary reports at the end is not shown live as well; progress of the steps is
  for (const kind of ['published', 'pruned', 'regression-candidate', 'alert-sent', 'site-failed'] as const) assert.ok(REPORTED_AT_END.has(kind), kind);
  for (const kind of ['confirming', 'rerun', 'site-progress', 'publish-progress', 'analysis-note'] as const) assert.not.ok(REPORTED_AT_END.has(kind), kind);
});

test('even a field the formatters trust (an inventory name) cannot break the line', () => {
  const text = eventText({ kind: 'phase-start', at, host: 'lab\r\nsummary: 6 ok', jobId: 'j\u001b[2J', phase: 'p\u202e' });
  assert.is(text, 'lab\\r\\nsummary: 6 ok: j\\x1b[2J: phase p\\u202e started');
  assertInertOutput(`${text}\n`, 'phase-start');
});

test.run();

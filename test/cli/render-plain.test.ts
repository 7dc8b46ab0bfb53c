// The plain renderer (pipes, cron, --no-progress): a hostile host's events come out as one
// timestamped line each, with nothing in them that drives a terminal and the host's words marked.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { plainRenderer } from '../../orchestrator/cli/render-plain.js';
import type { EngineEvent } from '../../orchestrator/fleet/events.js';

const PWN = '\u001b]0;pwned\u0007\r\nsummary: 6 ok, 0 failed';
const SHOWN = '\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok, 0 failed';
const at = Date.UTC(2026, 0, 2, 3, 4, 5);
const onPhase = { at, host: 'lab-01', jobId: 'lab-01--sysinfo', phase: 'sysinfo' };

const EVENTS: EngineEvent[] = [
  { kind: 'phase-progress', ...onPhase, message: `\u001b[2J\u001b[H${PWN}`, fraction: 0.1 },
  { kind: 'phase-log', ...onPhase, level: 'error', message: `${PWN}\u202eelif\u2069` },
  { kind: 'protocol-error', ...onPhase, line: `\u009b2J${PWN}`, problem: 'not JSON' },
  { kind: 'reconnecting', ...onPhase, attempt: 1, error: PWN },
  { kind: 'phase-end', ...onPhase, status: 'lost', durationMs: 10, error: PWN },
  { kind: 'collected', at, host: 'lab-01', jobId: 'lab-01--sysinfo', status: 'partial', files: 1, bytes: 1, error: `collect on lab-01 exited with 2: ${PWN}` },
  { kind: 'job-end', at, host: 'lab-01', jobId: 'lab-01--sysinfo', status: 'failed', errors: [PWN] },
  { kind: 'host-unreachable', at, host: 'lab-02', failure: 'protocol', message: `lab-02: SSH protocol error (${PWN})` },
];

function render(events: EngineEvent[]): string[] {
  const writes: string[] = [];
  const r = plainRenderer((text) => writes.push(text));
  for (const e of events) r.onEvent(e);
  r.done();
  return writes;
}

test('each event is one write of one line: no byte < 0x20 but its own trailing newline', () => {
  const writes = render(EVENTS);
  assert.is(writes.length, EVENTS.length);
  for (const w of writes) {
    assert.ok(w.endsWith('\n'), w);
    const bytes = Buffer.from(w.slice(0, -1));
    const bad = bytes.findIndex((b) => b < 0x20 || b === 0x7f);
    assert.is(bad, -1, `raw 0x${bytes[bad]?.toString(16)} in ${JSON.stringify(w)}`);
    assert.not.match(w, /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/);
  }
  const all = writes.join('');
  for (const line of all.split('\n')) assert.not.match(line, /^(\S+ )?summary:/, line);
  assert.is(all.split('\n').length, EVENTS.length + 1);
});

test("the host's words are visible, escaped and marked", () => {
  const [progress, log, protocol, , , collected] = render(EVENTS);
  assert.is(progress, `2026-01-02T03:04:05.000Z lab-01: lab-01--sysinfo: sysinfo: «\\x1b[2J\\x1b[H${SHOWN}» (10%)\n`);
  assert.is(log, `2026-01-02T03:04:05.000Z lab-01: lab-01--sysinfo: sysinfo: [error] «${SHOWN}\\u202eelif\\u2069»\n`);
  assert.ok(protocol!.endsWith(`(not JSON): «\\u009b2J${SHOWN}»\n`), protocol);
  assert.ok(collected!.includes(`collect on lab-01 exited with 2: ${SHOWN}`), collected);
});

test('the steps after the jobs: progress as lines, what the summary reports left to it, a full disk to stderr', () => {
  const out: string[] = [];
  const err: string[] = [];
  const r = plainRenderer((text) => out.push(text), (text) => err.push(text));
  r.onEvent({ kind: 'store-problem', at, problem: 'the results disk is full (ENOSPC)' });
  r.onEvent({ kind: 'confirming', at, host: 'lab-01', candidates: 1, reruns: [{ jobId: 'lab-01--sysinfo', count: 2 }] });
  r.onEvent({ kind: 'rerun', at, event: { kind: 'job-end', at, host: 'lab-01', jobId: 'lab-01--sysinfo~rerun1', status: 'ok', errors: [] } });
  r.onEvent({ kind: 'site-progress', at, message: 'site: job pages done (12 ms, 2 render worker(s))' });
  r.onEvent({ kind: 'site-built', at, dir: '/r/site', pagesWritten: 1, pagesUnchanged: 0 });
  r.onEvent({ kind: 'published', at, host: 'reports', releaseId: 'r1', uploadedFiles: 1, url: 'http://127.66.0.2:8080/' });
  r.onEvent({ kind: 'pruned', at, jobs: 1, bytes: 10 });
  assert.equal(out, [
    '2026-01-02T03:04:05.000Z lab-01: confirming 1 regression candidate(s): re-running lab-01--sysinfo x2\n',
    '2026-01-02T03:04:05.000Z re-run: lab-01: job lab-01--sysinfo~rerun1 OK\n',
    '2026-01-02T03:04:05.000Z site: job pages done (12 ms, 2 render worker(s))\n',
  ]);
  assert.equal(err, ['\nerror: the results disk is full (ENOSPC): no host starts from now on; running jobs end, then the sweep stops\n']);
});

test.run();

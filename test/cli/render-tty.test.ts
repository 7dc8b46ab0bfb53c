// The live terminal renderer: the only escape sequences it writes are log-update's own (erase the
// lines it drew last time). A hostile host's progress message, errors and malformed lines reach
// the terminal escaped and marked, and can neither move the cursor nor add a line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ttyRenderer } from '../../orchestrator/cli/render-tty.js';
import type { EngineEvent } from '../../orchestrator/fleet/events.js';

const PWN = '\u001b]0;pwned\u0007\r\nsummary: 6 ok, 0 failed';
const SHOWN = '\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok, 0 failed';
const onJob = { host: 'lab-01', jobId: 'lab-01--sysinfo' };
const onPhase = { ...onJob, phase: 'sysinfo' };

/** log-update's erase of the lines it drew: (ESC[2K ESC[1A)* ESC[2K ESC[G, at the start of a write. */
const LOG_UPDATE_ERASE = /^(?:\u001b\[2K\u001b\[1A)*\u001b\[2K\u001b\[G/;

function fakeTerminal(columns: number): { stream: NodeJS.WriteStream; writes: string[] } {
  const writes: string[] = [];
  const stream = {
    isTTY: true,
    columns,
    rows: 40,
    write(chunk: string | Uint8Array) {
      writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, writes };
}

async function run(columns: number, events: EngineEvent[]): Promise<string[]> {
  const { stream, writes } = fakeTerminal(columns);
  const r = ttyRenderer(stream);
  for (const e of events) {
    r.onEvent(e);
    // let the 80 ms redraw of the host lines happen between events
    if (e.kind === 'phase-progress') await new Promise((resolve) => setTimeout(resolve, 120));
  }
  r.done();
  return writes;
}

const now = () => Date.now();
const HOSTILE: () => EngineEvent[] = () => [
  { kind: 'sweep-start', at: now(), sweepId: 's1', dir: '/r/s1', hosts: 1, jobs: 1 },
  { kind: 'host-connect', at: now(), host: 'lab-01' },
  { kind: 'host-ready', at: now(), host: 'lab-01', connectMs: 3, bundleUploaded: false, bundleBytes: 0 },
  { kind: 'job-start', at: now(), ...onJob, scenario: 'sysinfo' },
  { kind: 'phase-start', at: now(), ...onPhase },
  { kind: 'phase-progress', at: now(), ...onPhase, message: `\u001b[2J\u001b[H${PWN}\u202e`, fraction: 0.5 },
  { kind: 'protocol-error', at: now(), ...onPhase, line: `\u009b2J${PWN}`, problem: 'not JSON' },
  { kind: 'reconnecting', at: now(), ...onPhase, attempt: 1, error: PWN },
  { kind: 'phase-progress', at: now(), ...onPhase, message: `${PWN}`, fraction: 0.9 },
  { kind: 'collected', at: now(), ...onJob, status: 'partial', files: 1, bytes: 1, error: `collect on lab-01 exited with 2: ${PWN}` },
  { kind: 'job-end', at: now(), ...onJob, status: 'failed', errors: [PWN] },
  { kind: 'host-unreachable', at: now(), host: 'lab-02', failure: 'protocol', message: `lab-02: SSH protocol error (${PWN})` },
  { kind: 'sweep-end', at: now(), sweepId: 's1', dir: '/r/s1', status: 'failed', counts: { ok: 0, failed: 1, unreachable: 1, interrupted: 0, skipped: 0 } },
];

/** What the terminal gets once log-update's own erase sequences are taken off the start of its writes. */
function hostBytes(writes: string[]): string {
  return writes.map((w) => w.replace(LOG_UPDATE_ERASE, '')).join('');
}

test('nothing but log-update reaches the terminal as a control sequence; every line ends at its own newline', async () => {
  const writes = await run(400, HOSTILE());
  const text = hostBytes(writes);
  assert.ok(text.length > 0);
  const bytes = Buffer.from(text);
  const bad = bytes.findIndex((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
  assert.is(bad, -1, `raw 0x${bytes[bad]?.toString(16)} at ${bad}: ${JSON.stringify(text.slice(Math.max(0, bad - 40), bad + 40))}`);
  assert.not.match(text, /[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  for (const line of text.split('\n')) assert.not.match(line, /^\s*summary:/, line);
});

test('the host line shows the progress message escaped and marked; permanent lines too', async () => {
  const text = hostBytes(await run(400, HOSTILE()));
  assert.match(text, `▶ lab-01 sysinfo    sysinfo      [######------]`);
  assert.ok(text.includes(`«\\x1b[2J\\x1b[H${SHOWN}\\u202e»`), text);
  assert.ok(text.includes(`lab-01: lab-01--sysinfo: sysinfo: ignored a malformed event line (not JSON): «\\u009b2J${SHOWN}»\n`), text);
  assert.ok(text.includes(`lab-01: lab-01--sysinfo: sysinfo: connection lost (${SHOWN}); reconnecting, attempt 1\n`), text);
  assert.ok(text.includes(`lab-02: UNREACHABLE: lab-02: SSH protocol error (${SHOWN})\n`), text);
  assert.ok(text.includes('sweep s1 failed: 0 ok, 1 failed, 1 unreachable'), text);
});

test('a narrow terminal cuts the host line, never into a line break or half a character', async () => {
  // one of the two paddings puts the cut in the middle of an emoji's surrogate pair
  for (const pad of ['', 'x']) {
    const writes = await run(60, [
      { kind: 'host-connect', at: now(), host: 'lab-01' },
      { kind: 'phase-start', at: now(), ...onPhase },
      { kind: 'phase-progress', at: now(), ...onPhase, message: `${pad}${'😀'.repeat(40)}${PWN}` },
    ]);
    const text = hostBytes(writes);
    for (const line of text.split('\n').filter(Boolean)) {
      assert.ok([...line].length <= 59, `${[...line].length}: ${line}`);
      assert.not.match(line, /\p{Cs}/u, `half a character: ${JSON.stringify(line)}`);
    }
  }
});

test('a full results disk goes to stderr at once; after sweep-end the steps after the jobs draw nothing', async () => {
  const { stream, writes } = fakeTerminal(100);
  const errors = fakeTerminal(100);
  const r = ttyRenderer(stream, errors.stream);
  const at = now();
  r.onEvent({ kind: 'sweep-start', at, sweepId: 's1', dir: '/r/s1', hosts: 1, jobs: 1 });
  r.onEvent({ kind: 'job-start', at, ...onJob, scenario: 'sysinfo' });
  r.onEvent({ kind: 'store-problem', at, problem: 'the results disk is full (ENOSPC)' });
  r.onEvent({ kind: 'sweep-end', at, sweepId: 's1', dir: '/r/s1', status: 'aborted', counts: { ok: 0, failed: 1, unreachable: 0, interrupted: 0, skipped: 0 } });
  const drawn = writes.length;
  r.onEvent({ kind: 'confirming', at, host: 'lab-01', candidates: 1, reruns: [{ jobId: 'lab-01--sysinfo', count: 2 }] });
  r.onEvent({ kind: 'rerun', at, event: { kind: 'job-start', at, ...onJob, scenario: 'sysinfo' } });
  r.onEvent({ kind: 'site-progress', at, message: 'site: 3 sweep(s)' });
  await new Promise((resolve) => setTimeout(resolve, 120));
  r.done();
  assert.equal(errors.writes, ['\nerror: the results disk is full (ENOSPC): no host starts from now on; running jobs end, then the sweep stops\n']);
  assert.ok(writes.slice(drawn).every((w) => !/confirming|re-run|site:/.test(w)), writes.slice(drawn).join(''));
  assert.not.ok(writes.join('').includes('results disk'), 'not on stdout');
});

test.run();

// End to end on the local lab, through the real CLI: a hostile host writes terminal escapes, CR/LF
// and a forged "summary:" line as a log event, a progress event, malformed protocol lines and its
// stderr. None of it reaches the operator's terminal or a log raw: stdout, stderr, sweep.log and
// each orchestrator.log hold no control byte but their line ends, the forged summary never starts
// a line, and the host's words are there, escaped and marked «...». events.jsonl keeps them raw,
// as JSON.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { onlySweep, runCli } from './cli-helpers.js';

const e2e = suite('host text end to end');
let lab: Lab;
let work: string;

const PWN_JSON = '\\u001b]0;pwned\\u0007\\r\\nsummary: 6 ok, 0 failed \\u202egnp.exe';
const PWN = '\u001b]0;pwned\u0007\r\nsummary: 6 ok, 0 failed \u202egnp.exe';
const SHOWN = '\\x1b]0;pwned\\x07\\r\\nsummary: 6 ok, 0 failed \\u202egnp.exe';

// The real tool is the next one on the PATH after the shadow directory.
const REAL = 'PATH=${PATH#*/shadow-bin:}';
const TOOLS = {
  // sysinfo runs `lscpu -J`; what it runs inherits the helper's fd 3, the event stream.
  lscpu: [
    `printf '%s\\n' '{"kind":"log","level":"error","message":"${PWN_JSON}"}' >&3`,
    `printf '%s\\n' '{"kind":"progress","message":"\\u001b[2J\\u001b[H\\u001b]0;pwned\\u0007\\rsummary: 6 ok, 0 failed","fraction":0.5}' >&3`,
    // not JSON, and split by its LF into two malformed lines
    `printf '\\033]0;pwned\\007\\r\\nsummary: 6 ok, 0 failed\\n' >&3`,
    `printf '\\033]0;pwned\\007\\r\\nsummary: 6 ok, 0 failed\\n' >&2`,
    `${REAL} exec lscpu "$@"`,
  ].join('\n'),
  // the agent's collect runs `tar -cf - artifacts phases` (`-czf` from hosts not on loopback): send the archive, then hostile stderr,
  // and take the agent down before it can report tar's status, so that stderr is all there is to say
  tar: [
    'if [[ " $* " == *" -c"*"f - artifacts phases"* ]]; then',
    `  ${REAL} tar "$@"`,
    `  printf '\\033]0;tar-pwned\\007\\r\\nsummary: 6 ok, 0 failed\\033[2J\\n' >&2`,
    '  kill -KILL "$PPID"',
    '  exit 2',
    'fi',
    `${REAL} exec tar "$@"`,
  ].join('\n'),
};

/** No byte < 0x20 but line ends, no DEL, C1, bidi or separator raw; no line starts with a forged summary (after its timestamp, if any). */
function assertInert(text: string, what: string): void {
  const bytes = Buffer.from(text, 'utf8');
  const bad = bytes.findIndex((b) => (b < 0x20 && b !== 0x0a) || b === 0x7f);
  assert.is(bad, -1, `raw byte 0x${bytes[bad]?.toString(16)} in ${what}: ${JSON.stringify(text.slice(Math.max(0, bad - 80), bad + 80))}`);
  assert.not.match(text, /[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/, `${what} holds a raw C1 or format character`);
  for (const line of text.split('\n')) assert.not.match(line, /^(?:\S+Z )?summary: 6 ok/, `${what} has a forged summary line: ${line}`);
}

e2e.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'host-text-e2e-'));
  lab = await labUp({ subnet: 45, hosts: 2, dir: join(work, 'lab'), reports: false });
  await lab.shadowTools('lab-01', TOOLS);
});
e2e.after(async () => {
  await lab?.shadowTools('lab-01', null).catch(() => undefined);
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

e2e('a hostile host cannot write to the terminal or the logs; its words are shown escaped and marked', async () => {
  const results = join(work, 'results');
  const inventory = await lab.writeInventory({ file: join(work, 'lab.yaml'), resultsDir: results, scenarios: { sysinfo: { sample_seconds: 0 } } });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  const { dir, sweep } = await onlySweep(results);
  const sweepLog = await readFile(join(dir, 'sweep.log'), 'utf8');
  const hostileLog = await readFile(join(dir, 'jobs', 'lab-01--sysinfo', 'orchestrator.log'), 'utf8');
  const quietLog = await readFile(join(dir, 'jobs', 'lab-02--sysinfo', 'orchestrator.log'), 'utf8');
  const context = `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`;

  // nothing raw anywhere the operator reads
  for (const [what, text] of [['stdout', stdout], ['stderr', stderr], ['sweep.log', sweepLog], ['lab-01 orchestrator.log', hostileLog], ['lab-02 orchestrator.log', quietLog]] as const) {
    assertInert(text, what);
  }
  // the hostile host really spoke, through every path
  assert.ok(sweep.jobs.find((j) => j.jobId === 'lab-02--sysinfo')?.status === 'ok', context);
  for (const [what, text] of [['stdout', stdout], ['sweep.log', sweepLog], ['lab-01 orchestrator.log', hostileLog]] as const) {
    // a log event: escaped, marked, on its own line
    assert.ok(text.includes(`lab-01: lab-01--sysinfo: sysinfo: [error] «${SHOWN}»\n`), `${what} shows the log event\n${context}`);
    // a progress event
    assert.ok(text.includes(`lab-01: lab-01--sysinfo: sysinfo: «\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\rsummary: 6 ok, 0 failed» (50%)\n`), `${what} shows the progress\n${context}`);
    // the malformed lines
    assert.ok(text.includes('ignored a malformed event line (not JSON): «\\x1b]0;pwned\\x07\\r»\n'), `${what} shows the malformed line\n${context}`);
    assert.ok(text.includes('ignored a malformed event line (not JSON): «summary: 6 ok, 0 failed»\n'), `${what} shows the malformed summary line marked\n${context}`);
    // the host's stderr, in the collect error (and the job's errors)
    assert.ok(text.includes('\\x1b]0;tar-pwned\\x07\\r\\nsummary: 6 ok, 0 failed\\x1b[2J'), `${what} shows the collect stderr\n${context}`);
  }
  // the only summary line is the orchestrator's own
  const summaries = stdout.split('\n').filter((line) => line.startsWith('summary:'));
  assert.is(summaries.length, 1, context);
  assert.match(summaries[0]!, /^summary: [0-2] ok, [0-2] failed, 0 unreachable, /, context);

  // events.jsonl keeps the host's text as it was, JSON-escaped
  const events = await readFile(join(dir, 'events.jsonl'), 'utf8');
  assert.not.ok(events.includes('\u001b') || events.includes('\r'), 'events.jsonl holds no raw ESC or CR');
  const logged = events
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { kind: string; message?: string; line?: string })
    .filter((e) => e.kind === 'phase-log' && e.message === PWN);
  assert.is(logged.length, 1, 'the log event is in events.jsonl, raw');
  assert.ok(events.includes(PWN_JSON.replace('\\u202e', '\u202e')), 'as JSON.stringify writes it');
});

e2e.run();

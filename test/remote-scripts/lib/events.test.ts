// remote-scripts/lib/events.sh, sourced by real bash: the progress and log lines a helper reports.
// Each is one JSON line the orchestrator's own reader (parseRemoteEventLine) accepts, whatever
// the message holds; it goes to fd 3 when the agent opened it, to stderr otherwise, never stdout.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRemoteEventLine, type RemoteEvent } from '../../../orchestrator/remote/remote-events.js';
import { sourced } from '../sourced-bash.js';
import { commaLocaleEnv } from '../comma-locale.js';

const LIBS = ['lib/common.sh', 'lib/json.sh', 'lib/events.sh'];

function events(text: string): RemoteEvent[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parsed = parseRemoteEventLine(line);
      if (!parsed.ok) throw new Error(`the orchestrator refuses ${line}: ${parsed.problem}`);
      return parsed.event;
    });
}

test('with fd 3 open, events go there only, one line each, and the orchestrator reads them back as sent', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'events-'));
  try {
    const file = join(dir, 'events.jsonl');
    const hostile = 'line one\nline two "quoted" \\ back \x1b[31mred\x1b[0m';
    const run = await sourced(LIBS, 'exec 3>>"$2"; orch_progress "half way" 0.5; orch_progress "no fraction"; orch_log_event warning "$1"; orch_progress "bad fraction" abc', {
      args: [hostile, file],
    });
    assert.is(run.code, 0, run.stderr);
    assert.is(run.stdout, '', 'stdout is the helper\'s own, never events');
    assert.is(run.stderr, '');
    const text = await readFile(file, 'utf8');
    assert.is(text.split('\n').length, 5, 'four lines, each ended');
    const got = events(text);
    assert.equal(
      got.map(({ t: _t, ...rest }) => rest),
      [
        { kind: 'progress', message: 'half way', fraction: 0.5 },
        { kind: 'progress', message: 'no fraction' },
        { kind: 'log', level: 'warning', message: hostile },
        { kind: 'progress', message: 'bad fraction', fraction: null },
      ],
    );
    const now = Date.now() / 1000;
    for (const e of got) assert.ok(typeof e.t === 'number' && Math.abs(e.t - now) < 600, `t is the time in seconds: ${e.t}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without fd 3 (a helper run by hand), events go to stderr, still one JSON line each', async () => {
  const run = await sourced(LIBS, 'orch_log_event info "by hand"; orch_progress done 1');
  assert.is(run.code, 0);
  assert.is(run.stdout, '');
  assert.equal(events(run.stderr).map(({ t: _t, ...rest }) => rest), [
    { kind: 'log', level: 'info', message: 'by hand' },
    { kind: 'progress', message: 'done', fraction: 1 },
  ]);
});

test('on a host whose locale writes a decimal comma, the event time is still a JSON number the orchestrator reads', async () => {
  const env = await commaLocaleEnv();
  const run = await sourced(LIBS, 'orch_progress "half" 0.5', { env });
  assert.is(run.code, 0, run.stderr);
  const [event] = events(run.stderr);
  assert.ok(typeof event?.t === 'number' && Math.abs(event.t - Date.now() / 1000) < 600, `t: ${run.stderr}`);
});

test('orch_now sets REPLY to seconds with a decimal point under a comma locale, and to whole seconds without EPOCHREALTIME', async () => {
  const env = await commaLocaleEnv();
  const run = await sourced(LIBS, 'orch_now; a=$REPLY; unset EPOCHREALTIME; orch_now; printf "%s %s" "$a" "$REPLY"', { env });
  assert.is(run.code, 0, run.stderr);
  const [fine, whole] = run.stdout.split(' ');
  assert.match(fine!, /^\d+\.\d{6}$/);
  assert.match(whole!, /^\d+$/);
  const now = Date.now() / 1000;
  for (const t of [fine, whole]) assert.ok(Math.abs(Number(t) - now) < 600, run.stdout);
});

test.run();

// The job's last phase brings its artifacts back in its own session (issue 13): run for real on
// this machine through the local connector (the agent, its supervisor and the helpers are the
// real ones; only SSH is not in between). The status still comes from the host's rc, the
// boundary between events and the tar is a NUL no forwarded event can hold, and the host's copy
// is deleted only on the "stored" verdict.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalConnector } from '../../orchestrator/connectors/local/local-connector.js';
import type { CommandInput, Connector, ExecChannel } from '../../orchestrator/connectors/types.js';
import { commandText } from '../../orchestrator/connectors/shell-command.js';
import { remoteLayout, type RemoteLayout } from '../../orchestrator/remote/layout.js';
import { runPhase, type PhaseOutcome } from '../../orchestrator/remote/run-phase.js';
import { receiveArtifacts, type CollectLimits } from '../../orchestrator/remote/collect-artifacts.js';
import type { RemoteEvent } from '../../orchestrator/remote/remote-events.js';
import { HeldSession, type PhaseHandover } from '../../orchestrator/remote/phase-handover.js';
import { command, raw } from '../../orchestrator/connectors/shell-command.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const HASH = 'test-bundle';
const inline = suite('the last phase collects in its own session');
let work = '';
let layout: RemoteLayout;

/** A connector that remembers the agent verb of every session it opens. */
class CountingConnector extends LocalConnector {
  readonly verbs: string[] = [];
  override exec(command: CommandInput): Promise<ExecChannel> {
    const { text } = commandText(command);
    this.verbs.push(/orchestrate-agent'? '?[^ ]+'? '?([a-z_-]+)/.exec(text)?.[1] ?? text);
    return super.exec(command);
  }
}

inline.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'run-phase-test-'));
  layout = remoteLayout(join(work, 'remote'));
  const bundle = layout.bundleDir(HASH);
  await cp(join(root, 'remote-scripts'), join(bundle, 'remote-scripts'), { recursive: true });
  for (const helper of ['test-exit', 'test-liar']) await cp(join(root, 'test/fixtures/helpers', helper), join(bundle, 'remote-scripts', helper));
  // Writes an artifact, then events that try to end the events early: NUL bytes and a status
  // line after them, a partial last line; then exits with $1.
  await writeFile(
    join(bundle, 'remote-scripts', 'test-nul-writer'),
    [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      'printf "made here\\n" >"$ORCH_ARTIFACTS/made.txt"',
      `printf '\\0{"kind":"rc","code":0,"timed_out":false}\\n' >&3`,
      `printf '{"kind":"log","level":"info","message":"a\\0b"}\\n' >&3`,
      `printf '{"kind":"log","level":"info","message":"partial"' >&3`,
      'exit "$1"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
});
inline.after(async () => {
  await rm(work, { recursive: true, force: true });
});

let connector: CountingConnector;
inline.before.each(async () => {
  connector = new CountingConnector('local-host');
  await connector.connect();
});
inline.after.each(async () => {
  await connector.close();
});

const limits = (): CollectLimits => ({ maxBytes: 1 << 20, stallMs: 30_000, deadline: Date.now() + 60_000, compress: false });

async function lastPhase(
  connector: Connector,
  jobDir: string,
  helper: string,
  args: string[],
  handover?: PhaseHandover,
): Promise<{ outcome: PhaseOutcome; events: RemoteEvent[]; problems: string[] }> {
  const events: RemoteEvent[] = [];
  const problems: string[] = [];
  const outcome = await runPhase(
    connector,
    layout,
    HASH,
    jobDir,
    { name: 'only', helper, args, env: { ORCH_KILL_GRACE: '2' }, timeoutMs: 60_000 },
    {
      collect: 'tar',
      ...(handover ? { handover } : {}),
      onEvent: (event) => events.push(event),
      onProtocolError: (line, problem) => problems.push(`${line}: ${problem}`),
      onReconnecting: () => undefined,
    },
  );
  return { outcome, events, problems };
}

const exists = (path: string) => stat(path).then(() => true, () => false);

inline('one session runs the phase, reads its rc and brings the artifacts; "stored" deletes the host copy', async () => {
  const jobDir = layout.jobDir('sweep-1', 'job-ok');
  const { outcome } = await lastPhase(connector, jobDir, 'test-exit', ['0']);
  assert.is(outcome.status, 'ok', JSON.stringify(outcome));
  assert.is(outcome.exitCode, 0);
  assert.ok(outcome.artifacts, 'the artifacts come in the phase session');
  const dest = join(work, 'stored-ok');
  const collected = await receiveArtifacts(connector, layout, HASH, jobDir, outcome.artifacts!, dest, limits());
  assert.is(collected.status, 'complete', collected.error);
  assert.is((await readFile(join(dest, 'phases/only/rc'), 'utf8')).trim(), '0', "the host's rc is among them");
  assert.match(await readFile(join(dest, 'phases/only/output.log'), 'utf8'), /to stdout/);
  assert.equal(connector.verbs, ['run'], 'no collect session');
  assert.ok(await exists(jobDir), 'the host keeps its copy until the verdict');
  await collected.release(true);
  assert.not.ok(await exists(jobDir), 'deleted once stored');
});

inline("a failing phase's status is the host's rc, and its artifacts still come; without the verdict the host keeps them", async () => {
  const jobDir = layout.jobDir('sweep-1', 'job-failed');
  // test-liar claims success on its events and its stderr in every shape, then exits 7.
  const { outcome } = await lastPhase(connector, jobDir, 'test-liar', ['7']);
  assert.is(outcome.status, 'failed');
  assert.is(outcome.exitCode, 7);
  const dest = join(work, 'stored-failed');
  const collected = await receiveArtifacts(connector, layout, HASH, jobDir, outcome.artifacts!, dest, limits());
  assert.is(collected.status, 'complete', collected.error);
  assert.is((await readFile(join(dest, 'phases/only/rc'), 'utf8')).trim(), '7');
  await collected.release(false);
  assert.ok(await exists(jobDir), 'kept: the results were not stored');
});

inline('NUL bytes and status lines a helper writes to its events do not end the events or make a status', async () => {
  const jobDir = layout.jobDir('sweep-1', 'job-nul');
  const { outcome, events, problems } = await lastPhase(connector, jobDir, 'test-nul-writer', ['3']);
  assert.is(outcome.status, 'failed', JSON.stringify(outcome));
  assert.is(outcome.exitCode, 3, 'the rc, not the status line the helper wrote after its NUL');
  const messages = events.filter((e) => e.kind === 'log').map((e) => (e as { message: string }).message);
  assert.ok(messages.includes('ab'), `the NUL inside an event is dropped on the host, the event kept: ${JSON.stringify(events)}`);
  assert.ok(problems.some((p) => p.includes('"kind":"rc"')), `the forged status is a protocol error, not a status: ${JSON.stringify(problems)}`);
  const dest = join(work, 'stored-nul');
  const collected = await receiveArtifacts(connector, layout, HASH, jobDir, outcome.artifacts!, dest, limits());
  assert.is(collected.status, 'complete', collected.error);
  assert.is(await readFile(join(dest, 'artifacts/made.txt'), 'utf8'), 'made here\n');
  await collected.release(true);
  assert.equal(connector.verbs, ['run']);
});

/** The agent's `provenance --handover` on a session of its own, held after its record line (as uploadThenHold holds it). */
async function heldProvenance(connector: Connector): Promise<{ channel: ExecChannel; record: string }> {
  const channel = await connector.exec(command([raw('exec'), 'bash', layout.agent(HASH), layout.bundleDir(HASH), 'provenance', '--handover']));
  const record = await new Promise<string>((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const newline = seen.indexOf(10);
      if (newline === -1) return;
      channel.stdout.pause();
      channel.stdout.off('data', onData);
      if (newline + 1 < seen.length) channel.stdout.unshift(seen.subarray(newline + 1));
      resolve(seen.subarray(0, newline).toString());
    };
    channel.stdout.on('data', onData);
    channel.done.then(() => reject(new Error('ended before its record')), reject);
  });
  return { channel, record };
}

inline('a held provenance session runs the phase: one session for the record, the phase, its rc and its artifacts', async () => {
  const jobDir = layout.jobDir('sweep-1', 'job-held');
  const { channel, record } = await heldProvenance(connector);
  assert.match(record, /^\{"schema"|"kernel"/, record);
  const { outcome } = await lastPhase(connector, jobDir, 'test-exit', ['5'], new HeldSession(channel));
  assert.is(outcome.status, 'failed');
  assert.is(outcome.exitCode, 5, "the host's rc, read in the held session");
  const dest = join(work, 'stored-held');
  const collected = await receiveArtifacts(connector, layout, HASH, jobDir, outcome.artifacts!, dest, limits());
  assert.is(collected.status, 'complete', collected.error);
  assert.is((await readFile(join(dest, 'phases/only/rc'), 'utf8')).trim(), '5');
  await collected.release(true);
  assert.equal(connector.verbs, ['provenance'], 'no session of its own for the phase or its artifacts');
  assert.not.ok(await exists(jobDir), 'deleted once stored');
});

inline('a held session that is gone, or refuses the request, leaves the phase to a session of its own, which starts it once', async () => {
  const gone = await connector.exec(command(['bash', '-c', 'echo record']));
  await gone.done;
  const first = await lastPhase(connector, layout.jobDir('sweep-1', 'job-gone'), 'test-exit', ['0'], new HeldSession(gone));
  assert.is(first.outcome.status, 'ok', JSON.stringify(first.outcome));
  assert.equal(connector.verbs.slice(-1), ['run']);
  assert.is(connector.verbs.length, 2);
  await first.outcome.artifacts!.channel.close();

  // Alive, but it ends without a status: here it reads the request and exits (as an agent that refused it).
  const refusing = await connector.exec(command(['bash', '-c', 'echo record; IFS= read -r -d "" x; exit 2']));
  const jobDir = layout.jobDir('sweep-1', 'job-refused');
  const second = await lastPhase(connector, jobDir, 'test-exit', ['0'], new HeldSession(refusing));
  assert.is(second.outcome.status, 'ok', JSON.stringify(second.outcome));
  assert.equal(connector.verbs.slice(-1), ['run'], 'then its own session');
  assert.is(connector.verbs.length, 4);
  assert.is((await readFile(join(jobDir, 'phases/only/rc'), 'utf8')).trim(), '0');
  await second.outcome.artifacts!.channel.close();
});

inline.run();

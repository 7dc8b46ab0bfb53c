// Runs one phase on a host through the agent and follows it to the end. The phase runs
// detached on the host; if the connection drops, this reconnects and re-attaches from
// the exact byte where it stopped reading, until the phase ends or its deadline passes.
import { PassThrough } from 'node:stream';
import type { Connector, ExecChannel } from '../connectors/types.js';
import { ConnectionLostError } from '../connectors/connect-errors.js';
import { sleep } from '../connectors/ssh/backoff.js';
import { hostText } from '../inert-text.js';
import type { RemoteLayout } from './layout.js';
import { agentCommand } from './agent-command.js';
import { AgentStatusSchema, LineCounter, agentStatusIn, parseRemoteEventLine, type RemoteEvent } from './remote-events.js';
import { channelSource, type ArtifactSource } from './collect-artifacts.js';
import type { PhaseHandover } from './phase-handover.js';

export type PhaseStatus = 'ok' | 'failed' | 'timed-out' | 'lost' | 'interrupted';

export interface PhaseCommand {
  name: string;
  helper: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}

export interface PhaseOutcome {
  name: string;
  status: PhaseStatus;
  exitCode: number | null;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** How many times the phase was re-attached after a lost connection. */
  reattached: number;
  error?: string;
  /**
   * With `collect` asked for: the job's artifacts, on their way in the phase's session (hand
   * it to receiveArtifacts, which answers the verdict and closes the channel). Absent when the
   * phase ended without sending them (no recorded status, a dropped connection...): collect
   * them on a session of their own then.
   */
  artifacts?: ArtifactSource;
}

export interface PhaseHooks {
  onEvent(event: RemoteEvent): void;
  onProtocolError(line: string, problem: string): void;
  onReconnecting(attempt: number, error: Error): void;
  /** Aborting stops the phase on the host (TERM, its traps tear down) and waits for it. */
  signal?: AbortSignal;
  /**
   * A session held open after the bundle check (phase-handover.ts): the phase's first attempt runs
   * there instead of on a session of its own, when it can still take it.
   */
  handover?: PhaseHandover;
  /**
   * The job's last phase: once its status is read, the same session sends the job's artifacts
   * (a gzip tar, or a plain one on a loopback link): one session fewer on the host.
   */
  collect?: 'gzip' | 'tar';
}

/** Extra time past the phase's own limit for the host-side watchdog (TERM, grace, KILL) to act. */
const CLIENT_GRACE_MS = 60_000;
/** How long an interrupted phase may take to tear itself down before it is killed. */
const INTERRUPT_GRACE_MS = 45_000;

type ReadResult =
  | { kind: 'exit'; code: number | null; timedOut: boolean; artifacts?: ArtifactSource }
  | { kind: 'lost'; reason: string }
  | { kind: 'ended'; exitCode: number | null; stderr: string }
  | { kind: 'dropped'; error: Error }
  | { kind: 'deadline' };

export async function runPhase(
  connector: Connector,
  layout: RemoteLayout,
  bundleHash: string,
  jobDir: string,
  phase: PhaseCommand,
  hooks: PhaseHooks,
): Promise<PhaseOutcome> {
  const started = Date.now();
  const timeoutS = Math.max(1, Math.ceil(phase.timeoutMs / 1000));
  const deadline = started + timeoutS * 1000 + CLIENT_GRACE_MS;
  const counter = new LineCounter();
  const agent = (verb: string, ...args: string[]) => agentCommand(layout, bundleHash, verb, args, phase.env);
  const collect = hooks.collect ? ['--collect', hooks.collect] : [];
  const runArgs = () => [jobDir, phase.name, String(timeoutS), String(counter.consumed), ...collect, '--', phase.helper, ...phase.args];
  const runCommand = () => agent('run', ...runArgs());
  const stop = (signal: 'TERM' | 'KILL') => connector.run(agent('stop', jobDir, phase.name, signal)).catch(() => undefined);

  let reattached = 0;
  let interrupted = false;
  let interruptedAt = 0;
  // The time this phase may still take, and how to name it in a message: the phase's own
  // limit plus grace, or, once interrupted (by the sweep or the job's time limit), a
  // short grace to stop it.
  const limit = () =>
    interrupted
      ? { at: Math.min(deadline, interruptedAt + INTERRUPT_GRACE_MS * 2), what: `the ${(INTERRUPT_GRACE_MS * 2) / 1000} s allowed to stop it after an interrupt or the job's time limit` }
      : { at: deadline, what: `the phase's ${timeoutS} s limit plus ${CLIENT_GRACE_MS / 1000} s grace` };
  const finish = (status: PhaseStatus, exitCode: number | null, error?: string): PhaseOutcome => {
    const ended = Date.now();
    return {
      name: phase.name,
      status,
      exitCode,
      startedAt: new Date(started).toISOString(),
      endedAt: new Date(ended).toISOString(),
      durationMs: ended - started,
      reattached,
      ...(error ? { error } : {}),
    };
  };

  const onAbort = () => {
    if (interrupted) return;
    interrupted = true;
    interruptedAt = Date.now();
    void stop('TERM');
    setTimeout(() => void stop('KILL'), INTERRUPT_GRACE_MS).unref();
  };
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  if (hooks.signal?.aborted) onAbort();

  try {
    // The first attempt may run on the held session; every later one (a re-attach) on its own.
    let handover = hooks.handover;
    for (;;) {
      let result: ReadResult;
      let handedOver = false;
      try {
        const held = handover?.take(phase.env, runArgs());
        handover = undefined;
        handedOver = held !== undefined;
        const channel = held ?? (await connector.exec(runCommand()));
        result = await readUntilEnd(channel, counter, hooks, () => limit().at - Date.now(), hooks.collect !== undefined);
      } catch (error) {
        if (!(error instanceof ConnectionLostError)) throw error;
        result = { kind: 'dropped', error };
      }
      // A held session that ended without a status (it could not take the request: it was gone,
      // or refused it) leaves the phase to a session of its own: `run` is idempotent, so that one
      // starts the phase, or follows it if the held one did.
      if (handedOver && result.kind === 'ended') continue;
      switch (result.kind) {
        case 'exit': {
          const artifacts = result.artifacts ? { artifacts: result.artifacts } : {};
          if (result.code === 0 && !interrupted) return { ...finish('ok', 0), ...artifacts };
          if (interrupted) return { ...finish('interrupted', result.code, 'interrupted; the phase was stopped'), ...artifacts };
          if (result.timedOut) return { ...finish('timed-out', result.code, `phase exceeded its ${timeoutS} s limit and was stopped`), ...artifacts };
          return { ...finish('failed', result.code, `helper ${phase.helper} exited with status ${result.code}`), ...artifacts };
        }
        case 'lost':
          return finish('lost', null, result.reason);
        case 'deadline':
          await stop('KILL');
          if (interrupted) return finish('interrupted', null, 'interrupted; the phase did not stop in time and was killed');
          return finish('timed-out', null, `phase did not end within its ${timeoutS} s limit plus grace and was killed`);
        case 'ended': {
          const detail = result.stderr.trim().split('\n').slice(-5).join(' | ');
          return finish('failed', result.exitCode, `agent ended without an exit status (exit ${result.exitCode}): ${hostText(detail)}`);
        }
        case 'dropped': {
          counter.reset();
          if (Date.now() >= limit().at) {
            return finish('lost', null, `connection lost and ${limit().what} passed: ${result.error.message}`);
          }
          reattached++;
          const lostAt = Date.now();
          const lastError = await reconnectUntil(connector, () => limit().at, hooks, result.error);
          if (!connector.isConnected()) {
            const waited = Math.round((Date.now() - lostAt) / 1000);
            return finish('lost', null, `connection lost; could not reconnect in ${waited} s, within ${limit().what}: ${lastError.message}`);
          }
        }
      }
    }
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
  }
}

/** Reconnects until it works or the deadline passes; returns the last error. */
async function reconnectUntil(connector: Connector, deadline: () => number, hooks: PhaseHooks, cause: Error): Promise<Error> {
  for (let attempt = 1; Date.now() < deadline(); attempt++) {
    hooks.onReconnecting(attempt, cause);
    try {
      // Reconnecting ignores the interrupt signal on purpose: an interrupted sweep still
      // has to reach the host to stop the phase and run its teardown.
      await connector.reconnect();
      return cause;
    } catch (error) {
      cause = error as Error;
      await sleep(Math.max(0, Math.min(5000, 500 * attempt, deadline() - Date.now())));
    }
  }
  return cause;
}

/**
 * Reads a phase's events until the follower ends. The status comes only from the
 * follower's stderr, where the agent prints what the supervisor recorded in rc once the
 * supervisor is gone: a helper (or a command it runs) can write any line to the events
 * stream, and none of them is taken as a status. With `collect`, the status may instead come
 * on stdout after a NUL byte (which no forwarded event can hold), followed by the job's tar:
 * the channel then stays open and the rest of stdout is handed on as the artifacts' stream.
 */
function readUntilEnd(channel: ExecChannel, counter: LineCounter, hooks: PhaseHooks, remainingMs: () => number, collect: boolean): Promise<ReadResult> {
  return new Promise((resolve) => {
    let settled = false;
    // The follower's stderr, kept (its status line comes last) and handed on with the artifacts.
    const source = channelSource(channel, 16_384);
    // After the NUL: the status line (collected until its newline), then the tar.
    let statusBytes: Buffer | null = null;
    let tar: PassThrough | null = null;
    const settle = (result: ReadResult) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      if (result.kind !== 'exit' || !result.artifacts) channel.close();
      resolve(result);
    };
    const toTar = (chunk: Buffer) => {
      if (chunk.length > 0 && !tar!.write(chunk)) {
        channel.stdout.pause();
        tar!.once('drain', () => channel.stdout.resume());
      }
    };
    const afterNul = (chunk: Buffer) => {
      statusBytes = Buffer.concat([statusBytes!, chunk]);
      const newline = statusBytes.indexOf(10);
      if (newline === -1) {
        if (statusBytes.length > 4096) settle({ kind: 'ended', exitCode: null, stderr: 'the status after the events was longer than a status line' });
        return;
      }
      const status = parseStatusLine(statusBytes.subarray(0, newline).toString('utf8'));
      if (!status) {
        settle({ kind: 'ended', exitCode: null, stderr: `not a status after the events: ${statusBytes.subarray(0, Math.min(newline, 200)).toString('utf8')}` });
        return;
      }
      tar = new PassThrough();
      const artifacts: ArtifactSource = { ...source, stream: tar };
      const rest = statusBytes.subarray(newline + 1);
      statusBytes = null;
      settle({ kind: 'exit', code: status.code, timedOut: status.timed_out, artifacts });
      toTar(rest);
    };
    // stdin stays open and silent until the channel closes: the follower naps on it (read -t),
    // which costs the host no process and no FIFO.
    channel.stdout.on('data', (chunk: Buffer) => {
      if (tar) return toTar(chunk);
      if (statusBytes) return afterNul(chunk);
      if (settled) return;
      const nul = collect ? chunk.indexOf(0) : -1;
      for (const line of counter.push(nul === -1 ? chunk : chunk.subarray(0, nul))) {
        if (line.trim() === '') continue;
        const parsed = parseRemoteEventLine(line);
        if (parsed.ok) hooks.onEvent(parsed.event);
        else hooks.onProtocolError(parsed.line, parsed.problem);
      }
      if (nul !== -1) {
        statusBytes = Buffer.alloc(0);
        afterNul(chunk.subarray(nul + 1));
      }
    });
    // A held session's stdout waits paused for its reader (phase-handover.ts); others flow already.
    channel.stdout.resume();
    channel.stdout.once('end', () => tar?.end());
    channel.done.then(
      (exit) => {
        if (tar) return;
        const text = source.stderrText();
        const status = agentStatusIn(text, ['rc', 'lost'] as const);
        if (status?.kind === 'rc') settle({ kind: 'exit', code: status.code, timedOut: status.timed_out });
        else if (status?.kind === 'lost') settle({ kind: 'lost', reason: status.reason });
        else settle({ kind: 'ended', exitCode: exit.exitCode, stderr: text });
      },
      (error: Error) => {
        // Once the artifacts are on their way, their receiver reports a lost connection
        // (it watches channel.done itself).
        if (!tar) settle({ kind: 'dropped', error });
      },
    );
    // The phase's deadline is enforced here by closing the channel: the caller then
    // stops the phase on the host and reports it as timed out.
    const watchdog = setInterval(() => {
      if (remainingMs() <= 0) settle({ kind: 'deadline' });
    }, 1000);
    watchdog.unref();
  });
}

/** The phase's status line the agent sends on stdout after the NUL (an rc: it collects only then). */
function parseStatusLine(line: string): { code: number; timed_out: boolean } | undefined {
  try {
    const parsed = AgentStatusSchema.safeParse(JSON.parse(line));
    return parsed.success && parsed.data.kind === 'rc' ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

// Runs one phase on a host through the agent and follows it to the end. The phase runs
// detached on the host; if the connection drops, this reconnects and re-attaches from
// the exact byte where it stopped reading, until the phase ends or its deadline passes.
import type { Connector, ExecChannel } from '../connectors/types.js';
import { ConnectionLostError } from '../connectors/connect-errors.js';
import { command, render } from '../connectors/shell-command.js';
import { sleep } from '../connectors/ssh/backoff.js';
import { hostText } from '../inert-text.js';
import type { RemoteLayout } from './layout.js';
import { LineCounter, TextTail, agentStatusIn, parseRemoteEventLine, type RemoteEvent } from './remote-events.js';

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
}

export interface PhaseHooks {
  onEvent(event: RemoteEvent): void;
  onProtocolError(line: string, problem: string): void;
  onReconnecting(attempt: number, error: Error): void;
  /** Aborting stops the phase on the host (TERM, its traps tear down) and waits for it. */
  signal?: AbortSignal;
}

/** Extra time past the phase's own limit for the host-side watchdog (TERM, grace, KILL) to act. */
const CLIENT_GRACE_MS = 60_000;
/** How long an interrupted phase may take to tear itself down before it is killed. */
const INTERRUPT_GRACE_MS = 45_000;

type ReadResult =
  | { kind: 'exit'; code: number | null; timedOut: boolean }
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
  const agent = (verb: string, ...args: string[]) =>
    render(command(['bash', layout.agent(bundleHash), layout.bundleDir(bundleHash), verb, ...args], { env: phase.env }));
  const runCommand = () =>
    agent('run', jobDir, phase.name, String(timeoutS), String(counter.consumed), '--', phase.helper, ...phase.args);
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
    for (;;) {
      let result: ReadResult;
      try {
        const channel = await connector.exec(runCommand());
        result = await readUntilEnd(channel, counter, hooks, () => limit().at - Date.now());
      } catch (error) {
        if (!(error instanceof ConnectionLostError)) throw error;
        result = { kind: 'dropped', error };
      }
      switch (result.kind) {
        case 'exit': {
          if (result.code === 0 && !interrupted) return finish('ok', 0);
          if (interrupted) return finish('interrupted', result.code, 'interrupted; the phase was stopped');
          if (result.timedOut) return finish('timed-out', result.code, `phase exceeded its ${timeoutS} s limit and was stopped`);
          return finish('failed', result.code, `helper ${phase.helper} exited with status ${result.code}`);
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
 * stream, and none of them is taken as a status.
 */
function readUntilEnd(channel: ExecChannel, counter: LineCounter, hooks: PhaseHooks, remainingMs: () => number): Promise<ReadResult> {
  return new Promise((resolve) => {
    let settled = false;
    const stderr = new TextTail();
    const settle = (result: ReadResult) => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      channel.close();
      resolve(result);
    };
    // stdin stays open and silent until the channel closes: the follower naps on it (read -t),
    // which costs the host no process and no FIFO.
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    channel.stdout.on('data', (chunk: Buffer) => {
      if (settled) return;
      for (const line of counter.push(chunk)) {
        if (line.trim() === '') continue;
        const parsed = parseRemoteEventLine(line);
        if (parsed.ok) hooks.onEvent(parsed.event);
        else hooks.onProtocolError(parsed.line, parsed.problem);
      }
    });
    channel.done.then(
      (exit) => {
        const text = stderr.toString();
        const status = agentStatusIn(text, ['rc', 'lost'] as const);
        if (status?.kind === 'rc') settle({ kind: 'exit', code: status.code, timedOut: status.timed_out });
        else if (status?.kind === 'lost') settle({ kind: 'lost', reason: status.reason });
        else settle({ kind: 'ended', exitCode: exit.exitCode, stderr: text });
      },
      (error: Error) => settle({ kind: 'dropped', error }),
    );
    // The phase's deadline is enforced here by closing the channel: the caller then
    // stops the phase on the host and reports it as timed out.
    const watchdog = setInterval(() => {
      if (remainingMs() <= 0) settle({ kind: 'deadline' });
    }, 1000);
    watchdog.unref();
  });
}

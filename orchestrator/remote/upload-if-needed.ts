// The "present or need" upload a host answers for content it keeps by hash (the helper bundle, a
// job's files): a remote script prints "present" (nothing to send) or "need", reads the content
// from stdin, and prints "installed" once it is in place. The protocol lines are the only thing
// judged, each printed only on success (the scripts run under `set -e`).
import type { Writable } from 'node:stream';
import type { CommandInput, Connector, ExecChannel } from '../connectors/types.js';

export interface UploadOutcome {
  /** The host asked for the content and said it installed it. */
  uploaded: boolean;
  /** The host answered the protocol and exited 0. */
  ok: boolean;
  /** What the host said on stderr (bounded), or its stdout when that is all there is: for errors. */
  detail: string;
  exit: string;
  /** What the command run next in the same session (the script's NEXT) did, when one was asked for and the upload succeeded. */
  next?: FollowOnResult;
}

/** A command run in the upload's session once the content is in place (see push-bundle.ts, NEXT). */
export interface FollowOnResult {
  /** Its stdout: everything after the protocol lines (bounded). */
  stdout: string;
  /** The session's stderr (bounded): the upload script's, then its own. */
  stderr: string;
  exitCode: number | null;
  /** It did not end within its time limit: the channel was closed. */
  timedOut: boolean;
  /** When the protocol lines were complete: the follow-on's start (epoch ms). */
  startedAt: number;
}

/** The protocol lines a successful upload prints, in full. */
const PROTOCOL = /^(present|need\ninstalled)\n/;
/** A follow-on's output beyond this is cut (a provenance record is a few KiB). */
const MAX_FOLLOW_ON_BYTES = 256 * 1024;

/**
 * Runs `remote` (a command value speaking the protocol) and, when the host says
 * "need", writes the content with `send(stdin)`, which must end stdin (and may reject: its message
 * joins the detail). With `followOn`, the command runs another one after the protocol (only on
 * success): it gets `timeoutMs` from the end of the protocol lines, then the channel is closed.
 */
export async function uploadIfNeeded(
  connector: Connector,
  remote: CommandInput,
  send: (stdin: Writable) => Promise<void>,
  followOn?: { timeoutMs: number },
): Promise<UploadOutcome> {
  const channel = await connector.exec(remote);
  let stdout = '';
  let stderr = '';
  let answered = false;
  let uploaded = false;
  let sending: Promise<void> = Promise.resolve();
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  let followOnStart: number | undefined;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  channel.stdout.on('data', (chunk: Buffer) => {
    if (followOnStart === undefined || stdout.length < MAX_FOLLOW_ON_BYTES) stdout += chunk.toString('utf8');
    if (followOn && followOnStart === undefined && PROTOCOL.test(stdout)) {
      followOnStart = Date.now();
      timer = setTimeout(() => {
        timedOut = true;
        channel.close();
      }, followOn.timeoutMs);
      timer.unref();
    }
    if (answered || !stdout.includes('\n')) return;
    answered = true;
    if (stdout.startsWith('need')) {
      uploaded = true;
      sending = send(channel.stdin).catch((error: Error) => {
        stderr += `\n${error.message}`;
        channel.close();
      });
    } else {
      channel.stdin.end();
    }
  });
  const exit = await channel.done.finally(() => clearTimeout(timer));
  await sending;
  if (followOn) {
    // The protocol lines are printed only on success; the exit status is the follow-on's.
    const protocol = PROTOCOL.exec(stdout);
    if (!protocol || followOnStart === undefined) {
      return { uploaded, ok: false, detail: stderr.trim() || stdout.trim(), exit: String(exit.exitCode ?? exit.signal) };
    }
    return {
      uploaded,
      ok: true,
      detail: stderr.trim(),
      exit: '0',
      next: { stdout: stdout.slice(protocol[0].length), stderr, exitCode: exit.exitCode, timedOut, startedAt: followOnStart },
    };
  }
  const ok = /^(present|need\ninstalled)\n$/.test(stdout) && (exit.exitCode === null || exit.exitCode === 0);
  return { uploaded, ok, detail: stderr.trim() || stdout.trim(), exit: String(exit.exitCode ?? exit.signal) };
}

/** An upload whose follow-on printed its first line and still runs: the session, held for what comes next. */
export interface HeldUpload extends UploadOutcome {
  /**
   * The session after the follow-on's first line (`next.stdout`), its stdout paused there; absent
   * when the session cannot take more input (the content went on its stdin, which it ended) or it
   * already ended. Whoever gets it must either use it or close it.
   */
  held?: ExecChannel;
}

/**
 * uploadIfNeeded for a follow-on that prints one line and then waits for what to do next on its
 * stdin (the provenance verb's `--handover`): resolves once that line is complete (`next.stdout`,
 * its newline included; `next.exitCode` 0 while the session still runs), or the session ended, or
 * `timeoutMs` after the protocol lines passed (the channel is closed then). Nothing past that line
 * is read: it stays on the held channel's stdout. The session is held when its stdin is still
 * open: `send` wrote the content without ending it (the host reads exactly its length), or
 * nothing had to be sent.
 */
export async function uploadThenHold(
  connector: Connector,
  remote: CommandInput,
  send: (stdin: Writable) => Promise<void>,
  followOn: { timeoutMs: number },
): Promise<HeldUpload> {
  const channel = await connector.exec(remote);
  let stdout = Buffer.alloc(0);
  let stderr = '';
  let answered = false;
  let uploaded = false;
  let sending: Promise<void> = Promise.resolve();
  let followOnStart: number | undefined;
  let protocolLength = 0;
  let ended = false;
  const onStderr = (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  };
  channel.stderr.on('data', onStderr);
  const outcome = await new Promise<{ kind: 'line'; length: number } | { kind: 'ended'; exit: string; exitCode: number | null } | { kind: 'timeout' }>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: Parameters<typeof resolve>[0]) => {
      clearTimeout(timer);
      channel.stdout.off('data', onData);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      stdout = Buffer.concat([stdout, chunk]);
      if (!answered && stdout.includes(10)) {
        answered = true;
        if (stdout.subarray(0, 4).toString() === 'need') {
          uploaded = true;
          sending = send(channel.stdin).catch((error: Error) => {
            stderr += `\n${error.message}`;
            channel.close();
          });
        }
      }
      if (followOnStart === undefined) {
        const protocol = PROTOCOL.exec(stdout.toString('latin1'));
        if (!protocol) return;
        followOnStart = Date.now();
        protocolLength = protocol[0].length;
        timer = setTimeout(() => {
          channel.close();
          finish({ kind: 'timeout' });
        }, followOn.timeoutMs);
        timer.unref();
      }
      const newline = stdout.indexOf(10, protocolLength);
      if (newline !== -1) {
        channel.stdout.pause();
        // What came after the line belongs to the next step: back where its reader will find it.
        if (newline + 1 < stdout.length) channel.stdout.unshift(stdout.subarray(newline + 1));
        finish({ kind: 'line', length: newline + 1 });
      } else if (stdout.length - protocolLength > MAX_FOLLOW_ON_BYTES) {
        channel.close();
        finish({ kind: 'ended', exit: 'output too long', exitCode: null });
      }
    };
    channel.stdout.on('data', onData);
    channel.done.then(
      (exit) => {
        ended = true;
        // The stream's last bytes are delivered before its end; the line check above ran on them.
        setImmediate(() => finish({ kind: 'ended', exit: String(exit.exitCode ?? exit.signal), exitCode: exit.exitCode }));
      },
      (error: Error) => {
        ended = true;
        finish({ kind: 'ended', exit: error.message, exitCode: null });
      },
    );
  });
  // The content went on stdin before the line came (the host said "installed" first).
  await sending;
  // A session whose stdin the content ended can take nothing more.
  const open = outcome.kind === 'line' && !ended && channel.stdin.writable && !channel.stdin.writableEnded;
  if (outcome.kind === 'line' && !open) channel.close();
  channel.stderr.off('data', onStderr);
  const text = stdout.toString('utf8');
  if (followOnStart === undefined) {
    return { uploaded, ok: false, detail: stderr.trim() || text.trim(), exit: outcome.kind === 'ended' ? outcome.exit : 'timed out' };
  }
  const line = outcome.kind === 'line' ? stdout.subarray(protocolLength, outcome.length).toString('utf8') : stdout.subarray(protocolLength).toString('utf8');
  const exitCode = outcome.kind === 'ended' ? outcome.exitCode : outcome.kind === 'line' ? 0 : null;
  const result: HeldUpload = {
    uploaded,
    ok: true,
    detail: stderr.trim(),
    exit: '0',
    next: { stdout: line, stderr, exitCode, timedOut: outcome.kind === 'timeout', startedAt: followOnStart },
  };
  if (open) result.held = channel;
  return result;
}

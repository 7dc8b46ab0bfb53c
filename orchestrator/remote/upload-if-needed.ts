// The "present or need" upload a host answers for content it keeps by hash (the helper bundle, a
// job's files): a remote script prints "present" (nothing to send) or "need", reads the content
// from stdin, and prints "installed" once it is in place. The protocol lines are the only thing
// judged, each printed only on success (the scripts run under `set -e`).
import type { Writable } from 'node:stream';
import type { Connector } from '../connectors/types.js';

export interface UploadOutcome {
  /** The host asked for the content and said it installed it. */
  uploaded: boolean;
  /** The host answered the protocol and exited 0. */
  ok: boolean;
  /** What the host said on stderr (bounded), or its stdout when that is all there is: for errors. */
  detail: string;
  exit: string;
}

/**
 * Runs `commandText` (a rendered remote command speaking the protocol) and, when the host says
 * "need", writes the content with `send(stdin)`, which must end stdin (and may reject: its message
 * joins the detail).
 */
export async function uploadIfNeeded(
  connector: Connector,
  commandText: string,
  send: (stdin: Writable) => Promise<void>,
): Promise<UploadOutcome> {
  const channel = await connector.exec(commandText);
  let stdout = '';
  let stderr = '';
  let answered = false;
  let uploaded = false;
  let sending: Promise<void> = Promise.resolve();
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  channel.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
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
  const exit = await channel.done;
  await sending;
  const ok = /^(present|need\ninstalled)\n$/.test(stdout) && (exit.exitCode === null || exit.exitCode === 0);
  return { uploaded, ok, detail: stderr.trim() || stdout.trim(), exit: String(exit.exitCode ?? exit.signal) };
}

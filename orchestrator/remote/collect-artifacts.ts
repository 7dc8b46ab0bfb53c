// Streams a job's artifacts and phase state back from the host as a tar (gzip-compressed
// unless the caller says the link is loopback: see `compress`), on a session of its own or
// in the job's last phase's session (receiveArtifacts, see run-phase.ts), straight
// into the results store through the safe extractor (nothing lands outside the job's
// directory; a size limit stops a runaway host). Collection has deadlines like every
// stage: a stream that moves no byte for the stall limit, or that is still running at
// the collection's deadline, or an abort, stops it, and the host-side tar is stopped
// too. The host keeps its copy until the caller says the results are stored.
import { rename, rm } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { Connector, ExecChannel } from '../connectors/types.js';
import { ArchiveLimitError, extractArchive, type ExtractResult } from '../results/safe-extract.js';
import { isNoSpaceError } from '../results/atomic-write.js';
import { hostText } from '../inert-text.js';
import type { RemoteLayout } from './layout.js';
import { agentCommand } from './agent-command.js';
import { TextTail, agentStatusIn } from './remote-events.js';

export type CollectStatus = 'complete' | 'partial' | 'missing';

export interface CollectLimits {
  maxBytes: number;
  /** No byte for this long and the stream is stalled. */
  stallMs: number;
  /** The whole collection ends by this time (epoch ms). */
  deadline: number;
  /** Aborting stops the collection at once; the host keeps its copy. */
  signal?: AbortSignal;
  /** Once aborted (the sweep is being interrupted), the stall limit drops to INTERRUPTED_STALL_MS. */
  interrupt?: AbortSignal;
  /**
   * Ask the host for a gzip tar (default). False: a plain tar, for a host on this machine's
   * loopback, where compression only costs the host two processes (sh, gzip) and their CPU.
   */
  compress?: boolean;
}

/** Whether a host's link is this machine's loopback: a loopback address reached without a jump host. */
export function isLoopbackLink(address: string, jumps: number): boolean {
  if (jumps > 0) return false;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === '::1' || address === 'localhost';
}

export interface CollectOutcome {
  status: CollectStatus;
  files: number;
  bytes: number;
  rejected: { path: string; reason: string }[];
  error?: string;
  /**
   * The verdict for the host's copy: `stored` true (the status and artifacts are safely
   * written here) deletes it when the transfer was complete; anything else keeps it.
   * Always call it once; it never throws.
   */
  release(stored: boolean): Promise<void>;
}

/** How long the host may take to act on the verdict before the channel is closed anyway. */
const VERDICT_WAIT_MS = 30_000;
/** The stall limit of a collection whose sweep is being interrupted: keep what flows, drop what waits. */
const INTERRUPTED_STALL_MS = 10_000;
/** How long stopping a stalled host-side tar may take. */
const ABORT_WAIT_MS = 15_000;

class CollectStopped extends Error {
  override readonly name = 'CollectStopped';
}

/** Passes bytes through and remembers when the last one arrived. */
class StreamMeter extends Transform {
  lastByteAt = Date.now();
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.lastByteAt = Date.now();
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * A tar stream of a job's artifacts on a channel that is already open: a `collect` session's,
 * or the job's last phase's (`run ... --collect`, whose stdout carries the tar after the phase's
 * status). The receiver reads `stream` to its end, waits for the channel's stderr to end, and
 * takes tar's status from it; it answers the verdict on the channel's stdin.
 */
export interface ArtifactSource {
  channel: ExecChannel;
  /** The tar's bytes (the channel's stdout, or what follows the phase's status on it). */
  stream: Readable;
  /** The channel's stderr text so far (tar's status line comes last). */
  stderrText(): string;
  /** Settles when the channel's stderr ends. */
  stderrEnded: Promise<void>;
  /** Calls back on every stderr chunk from now on (it counts as the stream moving). */
  onStderr(listener: () => void): void;
}

/**
 * The source of a channel running the agent's `collect` (or `run --collect`): its stdout and
 * stderr as they are, the last `tailChars` of stderr kept.
 */
export function channelSource(channel: ExecChannel, tailChars = 8192): ArtifactSource {
  const stderr = new TextTail(tailChars);
  const listeners: (() => void)[] = [];
  let ended = () => {};
  const stderrEnded = new Promise<void>((resolve) => (ended = resolve));
  channel.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk);
    for (const listener of listeners) listener();
  });
  channel.stderr.once('end', () => ended());
  channel.stderr.once('close', () => ended());
  return { channel, stream: channel.stdout, stderrText: () => stderr.toString(), stderrEnded, onStderr: (listener) => listeners.push(listener) };
}

/** Collects a job's artifacts on a session of its own (the agent's `collect`). */
export async function collectArtifacts(
  connector: Connector,
  layout: RemoteLayout,
  bundleHash: string,
  jobDir: string,
  destDir: string,
  limits: CollectLimits,
): Promise<CollectOutcome> {
  const compress = limits.compress !== false;
  let channel: ExecChannel;
  try {
    channel = await connector.exec(agentCommand(layout, bundleHash, 'collect', [jobDir, compress ? 'gzip' : 'tar']));
  } catch (error) {
    return { status: 'missing', files: 0, bytes: 0, rejected: [], error: (error as Error).message, release: async () => undefined };
  }
  return receiveArtifacts(connector, layout, bundleHash, jobDir, channelSource(channel), destDir, limits);
}

/**
 * Receives the tar `source` carries into `destDir` (through `destDir.partial`), with the
 * collection's deadlines: no byte for the stall limit, the deadline, or an abort stops it,
 * and the host-side tar is stopped too (`abort-collect`).
 */
export async function receiveArtifacts(
  connector: Connector,
  layout: RemoteLayout,
  bundleHash: string,
  jobDir: string,
  source: ArtifactSource,
  destDir: string,
  limits: CollectLimits,
): Promise<CollectOutcome> {
  const { channel } = source;
  const compress = limits.compress !== false;
  const staging = `${destDir}.partial`;
  const meter = new StreamMeter();
  // A stop can come before the extractor listens (an interrupt already given): it reads the
  // error from the stream itself, so an 'error' with no listener must not crash the process.
  meter.on('error', () => undefined);
  source.onStderr(() => (meter.lastByteAt = Date.now()));
  let endStderr = () => {};
  const stderrEnd = new Promise<void>((resolve) => (endStderr = resolve));
  void source.stderrEnded.then(() => endStderr());

  // Deadlines: no byte for stallMs, the collection's deadline, or an abort.
  let stopped: string | undefined;
  const stop = (why: string) => {
    if (stopped) return;
    stopped = why;
    meter.destroy(new CollectStopped(why));
    endStderr();
    channel.close();
  };
  channel.done.catch((lost: Error) => stop(`connection to ${connector.hostName} lost during artifact collection: ${lost.message}`));
  const onAbort = () => stop(`artifact collection from ${connector.hostName} was interrupted`);
  limits.signal?.addEventListener('abort', onAbort, { once: true });
  if (limits.signal?.aborted) onAbort();
  const stallMs = () => (limits.interrupt?.aborted ? Math.min(limits.stallMs, INTERRUPTED_STALL_MS) : limits.stallMs);
  const watchdog = setInterval(() => {
    const now = Date.now();
    if (now - meter.lastByteAt >= stallMs()) {
      stop(`artifact stream from ${connector.hostName} stalled: no byte for ${Math.round(stallMs() / 1000)} s after ${meter.bytes} bytes`);
    } else if (now >= limits.deadline) {
      stop(`artifact collection from ${connector.hostName} did not end by its deadline (${meter.bytes} bytes received)`);
    }
  }, Math.max(50, Math.min(1000, limits.stallMs / 4)));
  watchdog.unref();

  let result: ExtractResult | undefined;
  let error: string | undefined;
  let diskFull = false;
  try {
    await rm(staging, { recursive: true, force: true });
    if (!stopped) source.stream.pipe(meter);
    result = await extractArchive(meter, staging, { maxBytes: limits.maxBytes, gzip: compress });
    // tar's own status follows the stream on stderr; it may lag the last byte a little.
    await stderrEnd;
    if (stopped) throw new CollectStopped(stopped);
    const tar = agentStatusIn(source.stderrText(), ['collected'] as const);
    if (!tar) error = `collect on ${connector.hostName} did not report tar's status: ${hostText(source.stderrText().trim().slice(-500))}`;
    else if (tar.tar_code !== 0) error = `tar on ${connector.hostName} exited with status ${tar.tar_code}: the archive may lack files`;
  } catch (caught) {
    if (caught instanceof ArchiveLimitError) {
      result = caught.result;
      error = `${connector.hostName} sent more than the ${limits.maxBytes}-byte artifact limit; kept the first ${caught.writtenBytes} bytes`;
    } else if (stopped) {
      error = stopped;
    } else if (isNoSpaceError(caught)) {
      diskFull = true;
      error = `no space left here for the artifacts of ${connector.hostName}: ${(caught as Error).message}; the host keeps its copy`;
    } else {
      error = `artifact stream from ${connector.hostName} failed: ${(caught as Error).message}`;
    }
  } finally {
    clearInterval(watchdog);
    limits.signal?.removeEventListener('abort', onAbort);
  }

  const complete = result !== undefined && error === undefined;
  if (stopped || !complete) {
    channel.stdin.end('keep\n');
    channel.close();
  }
  // A collection stopped on the way leaves its tar on the host: stop it there too.
  if (stopped && connector.isConnected()) await withTimeout(connector.run(agentCommand(layout, bundleHash, 'abort-collect', [jobDir])), ABORT_WAIT_MS);

  // Cut-off files from a full disk are not kept as if they were artifacts.
  if (diskFull) {
    await rm(staging, { recursive: true, force: true });
    result = undefined;
  }
  const status: CollectStatus = result && result.files + result.directories > 0 ? (error ? 'partial' : 'complete') : 'missing';
  await rm(destDir, { recursive: true, force: true });
  await rename(staging, destDir).catch(() => undefined);
  let released = !complete;
  return {
    status,
    files: result?.files ?? 0,
    bytes: result?.bytes ?? 0,
    rejected: result?.rejected ?? [],
    ...(error ? { error } : {}),
    release: async (stored: boolean) => {
      if (released) return;
      released = true;
      channel.stdin.end(stored ? 'delete\n' : 'keep\n');
      await withTimeout(channel.done, VERDICT_WAIT_MS);
      channel.close();
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

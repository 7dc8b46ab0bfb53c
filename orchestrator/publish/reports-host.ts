// The reports host as the fleet sees it: an inventory host (same transport, known_hosts policy
// and jump hosts as every other host), one connection per job (withReportsHost), and a small
// helper to run the project's remote scripts on it in one round trip, as command values (the
// connector quotes their arguments; host-calls.ts builds the commands).
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HostSpec, Inventory, ReportsTarget } from '../inventory/types.js';
import type { Connector, ExecExit } from '../connectors/types.js';
import { connectorFor, hostKeyPolicy } from '../connectors/open-connector.js';
import type { ShellCommand } from '../connectors/shell-command.js';

export class PublishError extends Error {
  override readonly name = 'PublishError';
}

export interface ReportsHost {
  host: HostSpec;
  target: ReportsTarget;
  /** reports.path as a remote shell argument: './' in front of relative paths (so '-x' or '-' stay names). */
  root: string;
  connector: Connector;
}

export function reportsTarget(inventory: Inventory): { host: HostSpec; target: ReportsTarget } {
  const target = inventory.reports;
  if (!target) throw new PublishError(`${inventory.file}: no 'reports' section (reports: { host, path, url }): nowhere to publish`);
  const host = inventory.hosts.find((h) => h.name === target.host);
  if (!host) throw new PublishError(`${inventory.file}: reports.host ${JSON.stringify(target.host)} is not a host of the inventory`);
  return { host, target };
}

export function remoteRoot(path: string): string {
  return path.startsWith('/') ? path : `./${path}`;
}

/** Connects to the inventory's reports host, runs `job`, and closes the connection whatever happens. */
export async function withReportsHost<T>(
  inventory: Inventory,
  options: { acceptNewHostKeys?: boolean | undefined; signal?: AbortSignal | undefined },
  job: (reports: ReportsHost) => Promise<T>,
): Promise<T> {
  const { host, target } = reportsTarget(inventory);
  const policy = await hostKeyPolicy(inventory.knownHostsFile, options.acceptNewHostKeys === true);
  const connector = connectorFor(host, policy);
  await connector.connect(options.signal);
  try {
    return await job({ host, target, root: remoteRoot(target.path), connector });
  } finally {
    await connector.close();
  }
}

export interface ScriptResult extends ExecExit {
  stdout: string;
  stderr: string;
}

/**
 * Runs a script's command (host-calls.ts hostCommand) on the host. `input`, when given, is
 * streamed to the script's stdin with backpressure; if the script ends first, or `signal` aborts,
 * the stream is destroyed and the channel closed.
 */
export async function runScript(connector: Connector, script: ShellCommand, options: { input?: Readable; signal?: AbortSignal } = {}): Promise<ScriptResult> {
  options.signal?.throwIfAborted();
  const channel = await connector.exec(script);
  let stdout = '';
  let stderr = '';
  channel.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 65536) stderr += chunk.toString('utf8');
  });
  const onAbort = () => {
    options.input?.destroy(new Error('aborted'));
    channel.close();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let feedError: unknown;
  let feeding: Promise<void> = Promise.resolve();
  if (options.input) {
    feeding = pipeline(options.input, channel.stdin).catch((error: unknown) => {
      feedError = error;
      channel.close();
    });
  } else {
    channel.stdin.end();
  }
  try {
    const exit = await channel.done;
    if (options.input && !options.input.destroyed && !options.input.readableEnded) options.input.destroy();
    await feeding;
    options.signal?.throwIfAborted();
    if (feedError && exit.exitCode === 0) throw feedError;
    return { ...exit, stdout, stderr };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

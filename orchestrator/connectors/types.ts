// The connector contract (after pyinfra's connectors): one small interface that every
// transport implements, so everything above it is transport-agnostic.
import type { Readable, Writable } from 'node:stream';
import type { ShellCommand } from './shell-command.js';

export interface ExecExit {
  /** null when the command was ended by a signal or the connection went away. */
  exitCode: number | null;
  signal?: string;
}

/** A running remote command with its streams. */
export interface ExecChannel {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable;
  /** Settles when the command ends; rejects with ConnectionLostError when the link drops. */
  readonly done: Promise<ExecExit>;
  /** Close the channel (the remote command gets SIGHUP/EOF); idempotent. */
  close(): void;
}

export interface RunResult extends ExecExit {
  stdout: string;
  stderr: string;
}

/** What exec/run take: a command value; the connector renders it, and shows only its display(). */
export type CommandInput = ShellCommand;

export interface Connector {
  /** Inventory name of the host, for messages. */
  readonly hostName: string;
  /** Open the connection (retrying connection errors); rejects with a ConnectError. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Drop the current connection (if any) and connect again. */
  reconnect(signal?: AbortSignal): Promise<void>;
  isConnected(): boolean;
  /**
   * Start a command. The ShellCommand value is rendered (quoted) by the connector, which shows
   * only its display() form (secrets masked) in anything it logs or puts in an error.
   */
  exec(command: CommandInput): Promise<ExecChannel>;
  /** Run a command to completion, buffering its output (for small outputs only). */
  run(command: CommandInput, options?: { stdin?: string | Buffer }): Promise<RunResult>;
  close(): Promise<void>;
}

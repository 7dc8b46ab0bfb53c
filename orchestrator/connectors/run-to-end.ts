// Connector.run for every transport: exec, feed stdin, buffer both outputs, wait for the end.
import type { CommandInput, Connector, RunResult } from './types.js';

export async function runToEnd(connector: Pick<Connector, 'exec'>, command: CommandInput, options: { stdin?: string | Buffer } = {}): Promise<RunResult> {
  const channel = await connector.exec(command);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  channel.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  channel.stdin.end(options.stdin ?? '');
  const exit = await channel.done;
  return { ...exit, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
}

// Streams a job's artifacts and phase state back from the host as a gzip tar, straight
// into the results store through the safe extractor (nothing lands outside the job's
// directory; a size limit stops a runaway host). The host keeps its copy unless every
// byte arrived.
import { rename, rm } from 'node:fs/promises';
import type { Connector } from '../connectors/types.js';
import { command, render } from '../connectors/shell-command.js';
import { ArchiveLimitError, extractArchive, type ExtractResult } from '../results/safe-extract.js';
import type { RemoteLayout } from './layout.js';

export type CollectStatus = 'complete' | 'partial' | 'missing';

export interface CollectOutcome {
  status: CollectStatus;
  files: number;
  bytes: number;
  rejected: { path: string; reason: string }[];
  error?: string;
}

export async function collectArtifacts(
  connector: Connector,
  layout: RemoteLayout,
  bundleHash: string,
  jobDir: string,
  destDir: string,
  maxBytes: number,
): Promise<CollectOutcome> {
  const text = render(command(['bash', layout.agent(bundleHash), layout.bundleDir(bundleHash), 'collect', jobDir]));
  const staging = `${destDir}.partial`;
  await rm(staging, { recursive: true, force: true });
  let channel;
  try {
    channel = await connector.exec(text);
  } catch (error) {
    return { status: 'missing', files: 0, bytes: 0, rejected: [], error: (error as Error).message };
  }
  let stderr = '';
  channel.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 8192) stderr += chunk.toString('utf8');
  });
  let result: ExtractResult | undefined;
  let error: string | undefined;
  try {
    result = await extractArchive(channel.stdout, staging, { maxBytes, gzip: true });
  } catch (caught) {
    if (caught instanceof ArchiveLimitError) {
      result = caught.result;
      error = `${connector.hostName} sent more than the ${maxBytes}-byte artifact limit; kept the first ${caught.writtenBytes} bytes`;
    } else {
      error = `artifact stream from ${connector.hostName} failed: ${(caught as Error).message}`;
    }
  }
  // Only a complete, clean transfer lets the host delete its copy.
  const complete = result !== undefined && error === undefined;
  if (complete) channel.stdin.end('delete\n');
  else {
    channel.stdin.end('keep\n');
    channel.close();
  }
  const exit = await channel.done.catch((lost: Error) => ({ exitCode: null, lost }));
  if (complete && exit.exitCode !== 0) {
    error = `collect on ${connector.hostName} exited with ${exit.exitCode}: ${stderr.trim()}`;
  }
  const status: CollectStatus = result && result.files + result.directories > 0 ? (error ? 'partial' : 'complete') : 'missing';
  await rm(destDir, { recursive: true, force: true });
  await rename(staging, destDir).catch(() => undefined);
  return {
    status,
    files: result?.files ?? 0,
    bytes: result?.bytes ?? 0,
    rejected: result?.rejected ?? [],
    ...(error ? { error } : {}),
  };
}

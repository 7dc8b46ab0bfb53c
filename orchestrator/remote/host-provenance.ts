// The host's environment (kernel, command line, CPU, memory, package versions), collected
// once per host per sweep (run-host.ts, after the bundle is in place) with the agent's
// `provenance` verb: one short command, no detached phase. The host reuses its cached
// record while its boot id, name, package list and package database are unchanged
// (remote-scripts/lib/provenance.sh), so a warm host answers without running a process of
// its own beyond the agent. Every job of the host in the sweep carries this one record in
// its manifest (`environment`) and the collection as its `provenance` phase record.
import type { Connector, ExecChannel } from '../connectors/types.js';
import { ConnectionLostError } from '../connectors/connect-errors.js';
import { command, type Part } from '../connectors/shell-command.js';
import type { FollowOnResult } from './upload-if-needed.js';
import { hostText } from '../inert-text.js';
import type { PhaseRecord } from '../results/manifest.js';
import { ProvenanceSchema, type Provenance } from '../results/provenance.js';
import type { RemoteLayout } from './layout.js';
import { TextTail } from './remote-events.js';

export const PROVENANCE_RECORD_NAME = 'provenance';

export interface HostProvenance {
  /** The collection as a phase record (name `provenance`), copied into every job's manifest. */
  record: PhaseRecord;
  /** The validated record, or null when the collection failed (record.error says why). */
  value: Provenance | null;
}

/** A provenance record is a few KiB; more than this is not one. */
const MAX_OUTPUT_BYTES = 256 * 1024;

type Attempt = { kind: 'done'; exitCode: number | null; stdout: string; stderr: string } | { kind: 'dropped'; error: Error } | { kind: 'deadline' };

function runOnce(channel: ExecChannel, deadline: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    let bytes = 0;
    const stderr = new TextTail(4096);
    let settled = false;
    const settle = (result: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel.close();
      resolve(result);
    };
    const timer = setTimeout(() => settle({ kind: 'deadline' }), Math.max(0, deadline - Date.now()));
    timer.unref();
    channel.stdin.end();
    channel.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= MAX_OUTPUT_BYTES) stdout.push(chunk);
    });
    channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    channel.done.then(
      (exit) => settle({ kind: 'done', exitCode: exit.exitCode, stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.toString() }),
      (error: Error) => settle({ kind: 'dropped', error }),
    );
  });
}

/** Parses the verb's stdout: one JSON line, validated. */
export function parseProvenanceOutput(stdout: string): { value: Provenance } | { error: string } {
  const line = stdout.trim().split('\n').pop() ?? '';
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { error: `the host's provenance record is not JSON: ${hostText(line.slice(0, 200))}` };
  }
  const parsed = ProvenanceSchema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  return { error: `the host's provenance record is invalid: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
}

/** A provenance collection as a phase record, from its start (epoch ms) to now. */
function provenanceResult(started: number, status: PhaseRecord['status'], exitCode: number | null, value: Provenance | null, error?: string): HostProvenance {
  const ended = Date.now();
  return {
    record: {
      name: PROVENANCE_RECORD_NAME,
      helper: 'provenance',
      status,
      exitCode,
      startedAt: new Date(started).toISOString(),
      endedAt: new Date(ended).toISOString(),
      durationMs: ended - started,
      reattached: 0,
      ...(error ? { error } : {}),
    },
    value,
  };
}

/**
 * The provenance verb as an argv to run after the bundle check, in its session (pushBundle's
 * `next`). With `handover`, the verb then waits for a phase to run in that session (phase-handover.ts).
 */
export function provenanceArgv(layout: RemoteLayout, bundleHash: string, env: Record<string, string>, options: { handover?: boolean } = {}): Part[] {
  for (const name of Object.keys(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`invalid environment variable name ${JSON.stringify(name)}`);
  }
  return [
    'env',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    'bash',
    layout.agent(bundleHash),
    layout.bundleDir(bundleHash),
    'provenance',
    ...(options.handover ? ['--handover'] : []),
  ];
}

/**
 * The provenance verb's record from its run after the bundle check (provenanceArgv). Null when
 * that run did not give one (it failed, or printed no valid record): the caller collects it again
 * on a session of its own (collectHostProvenance), which says why if it fails again. A run that
 * reached its time limit is final.
 */
export function provenanceAfterBundle(run: FollowOnResult, timeoutMs: number): HostProvenance | null {
  if (run.timedOut) return provenanceResult(run.startedAt, 'timed-out', null, null, `provenance collection did not end within ${Math.round(timeoutMs / 1000)} s`);
  if (run.exitCode !== 0) return null;
  const parsed = parseProvenanceOutput(run.stdout);
  return 'error' in parsed ? null : provenanceResult(run.startedAt, 'ok', 0, parsed.value);
}

export async function collectHostProvenance(
  connector: Connector,
  layout: RemoteLayout,
  bundleHash: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<HostProvenance> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const provenance = command(['bash', layout.agent(bundleHash), layout.bundleDir(bundleHash), 'provenance'], { env });
  const finish = (status: PhaseRecord['status'], exitCode: number | null, value: Provenance | null, error?: string): HostProvenance =>
    provenanceResult(started, status, exitCode, value, error);
  // The verb only reads (and refreshes its cache atomically): after a dropped connection it is
  // simply run again, once, on a new connection.
  for (let attempt = 0; ; attempt++) {
    let result: Attempt;
    try {
      result = await runOnce(await connector.exec(provenance), deadline);
    } catch (error) {
      if (!(error instanceof ConnectionLostError)) throw error;
      result = { kind: 'dropped', error };
    }
    if (result.kind === 'deadline') return finish('timed-out', null, null, `provenance collection did not end within ${Math.round(timeoutMs / 1000)} s`);
    if (result.kind === 'dropped') {
      if (attempt >= 1 || Date.now() >= deadline) return finish('lost', null, null, `connection lost while collecting provenance: ${result.error.message}`);
      try {
        await connector.reconnect();
      } catch (error) {
        return finish('lost', null, null, `connection lost while collecting provenance; reconnecting failed: ${(error as Error).message}`);
      }
      continue;
    }
    if (result.exitCode !== 0) {
      const detail = result.stderr.trim().split('\n').slice(-3).join(' | ');
      return finish('failed', result.exitCode, null, `provenance collection exited with status ${result.exitCode}: ${hostText(detail)}`);
    }
    const parsed = parseProvenanceOutput(result.stdout);
    if ('error' in parsed) return finish('failed', 0, null, parsed.error);
    return finish('ok', 0, parsed.value);
  }
}

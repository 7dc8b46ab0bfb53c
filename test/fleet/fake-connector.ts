// A fake connector for fast unit tests of the engine's job logic: every command is answered by
// a script the test writes, from the command's argv (command values are inspected, not parsed
// back from text; shell text of the transition is split with shell-quote), with no process and
// no host. `agentHost()` scripts what the real agent (remote-scripts/orchestrate-agent) answers,
// from its protocol as remote/run-phase.ts, collect-artifacts.ts, host-provenance.ts and
// push-bundle.ts read it:
//
// - the bundle check (`bash -c <ensure-bundle> orchestrate-bundle ROOT HASH ... [NEXT...]`):
//   "present" (the bundle is there), then the NEXT command's output (provenance) in that session;
// - `provenance`: one JSON record (ProvenanceSchema);
// - `run JOBDIR PHASE TIMEOUT OFFSET [--collect MODE] -- HELPER ARGS`: the supervisor's `start`
//   event (t, pid, helper) on stdout, then the rc the supervisor recorded, as
//   `{"kind":"rc",...}` on stderr; with `--collect MODE` (the job's last phase) also, on stdout,
//   a NUL, the same status line and then exactly what `collect` sends (below), and it waits for
//   the verdict; the phase's rc is kept for later collections;
// - `stop JOBDIR PHASE SIGNAL`: ends a phase that is waiting (`untilStopped`) with 128+15 (TERM)
//   or 128+9 (KILL); a phase that already ended is left alone, as the agent leaves one with an rc;
// - `collect JOBDIR tar|gzip` (gzip when not named): a tar of phases/<name>/rc for every phase
//   run, plus the job's artifacts, then `{"kind":"collected","tar_code":0}` on stderr; it waits
//   for the verdict (stdin's end);
// - `abort-collect`: succeeds and does nothing (nothing is ever stuck).
//
// Where it still differs from the real agent: the tar holds only each phase's rc and the
// artifacts (no events.jsonl, output.log, supervisor.pid, helper.pid, timed_out), and no empty
// artifacts/ or phases/ directory; the verdict's text is not read (a "delete" or anything else
// ends it alike, and nothing is removed); a phase's events are only its `start` (a helper's
// progress and log lines are never scripted) and are sent once (no re-attach offsets, no
// `follow`, no connection lost mid-phase, never a `lost` status); timeouts are not enforced
// host-side and `timed_out` is always false; a stop with INT ends a waiting phase as TERM does
// (the orchestrator sends only TERM and KILL); the bundle is always "present" (never uploaded);
// tar_code is always 0; ORCH_* environment and paths are not checked.
import { PassThrough, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack as tarPack } from 'tar-stream';
import { parse as shellParse } from 'shell-quote';
import type { CommandInput, Connector, ExecChannel, ExecExit, RunResult } from '../../orchestrator/connectors/types.js';
import { ConnectionLostError } from '../../orchestrator/connectors/connect-errors.js';
import { RawShell, Secret, commandText } from '../../orchestrator/connectors/shell-command.js';
import { runToEnd } from '../../orchestrator/connectors/run-to-end.js';
import type { Provenance } from '../../orchestrator/results/provenance.js';

/** One command as the fake host sees it. */
export interface FakeCall {
  /** The words of the command (a Secret as `***`, raw text as written). */
  argv: string[];
  /** The environment assignments of a command value. */
  env: Record<string, string>;
  /** What display() shows. */
  shown: string;
}

/** What the fake host answers. */
export interface FakeReply {
  stdout?: string | Buffer;
  stderr?: string;
  exitCode?: number | null;
  signal?: string;
  /** Hold the reply until this settles (a command that is still running). */
  after?: Promise<unknown>;
  /** Settle `done` only once the caller ends stdin (a command that reads its stdin to the end). */
  readsStdin?: boolean;
}

export type FakeScript = (call: FakeCall) => FakeReply | undefined;

function wordOf(part: unknown): string {
  if (part instanceof Secret) return '***';
  if (part instanceof RawShell) return part.text;
  return String(part);
}

function callOf(command: CommandInput): FakeCall {
  const { shown } = commandText(command);
  if (typeof command === 'string') {
    const argv = shellParse(command).filter((w): w is string => typeof w === 'string');
    return { argv, env: {}, shown };
  }
  const env = Object.fromEntries(Object.entries(command.env).map(([k, v]) => [k, wordOf(v)]));
  return { argv: command.argv.map(wordOf), env, shown };
}

export class FakeConnector implements Connector {
  readonly calls: FakeCall[] = [];
  connects = 0;
  closed = false;
  private connected = false;

  constructor(
    readonly hostName: string,
    private readonly script: FakeScript,
    private readonly options: { connectError?: Error } = {},
  ) {}

  isConnected(): boolean {
    return this.connected;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.connects++;
    if (this.options.connectError) throw this.options.connectError;
    this.connected = true;
  }

  async reconnect(signal?: AbortSignal): Promise<void> {
    this.connected = false;
    await this.connect(signal);
  }

  async exec(command: CommandInput): Promise<ExecChannel> {
    if (!this.connected) throw new ConnectionLostError(this.hostName);
    const call = callOf(command);
    this.calls.push(call);
    const reply = this.script(call) ?? { stderr: `fake host: no scripted reply for ${call.shown}\n`, exitCode: 127 };
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let stdinEnded!: () => void;
    const stdinEnd = new Promise<void>((resolve) => (stdinEnded = resolve));
    const stdin = new Writable({
      write: (_chunk, _encoding, callback) => callback(),
      final: (callback) => {
        stdinEnded();
        callback();
      },
    });
    stdin.on('close', () => stdinEnded());
    let closedByUs!: () => void;
    const closed = new Promise<void>((resolve) => (closedByUs = resolve));
    const done = (async (): Promise<ExecExit> => {
      const ended = await Promise.race([(reply.after ?? Promise.resolve()).then(() => 'reply' as const), closed.then(() => 'closed' as const)]);
      if (ended === 'closed') {
        stdout.end();
        stderr.end();
        return { exitCode: null };
      }
      if (reply.stdout !== undefined) stdout.write(reply.stdout);
      if (reply.stderr !== undefined) stderr.write(reply.stderr);
      stdout.end();
      stderr.end();
      if (reply.readsStdin) await Promise.race([stdinEnd, closed]);
      return reply.signal ? { exitCode: null, signal: reply.signal } : { exitCode: reply.exitCode ?? 0 };
    })();
    return {
      stdout,
      stderr,
      stdin,
      done,
      close: () => closedByUs(),
    };
  }

  run(command: CommandInput, options: { stdin?: string | Buffer } = {}): Promise<RunResult> {
    return runToEnd(this, command, options);
  }

  async close(): Promise<void> {
    this.connected = false;
    this.closed = true;
  }
}

/** How a scripted phase ends. */
export interface FakePhase {
  /** The rc the supervisor records (default 0). */
  rc?: number;
  /** What the collected rc file says, when it should differ from `rc` (a host that lies). */
  recordedRc?: string | null;
  /** Wait for `stop` (then rc 128+signal), as a phase still running when the sweep is interrupted. */
  untilStopped?: boolean;
  /** Called when the phase starts (for a test to interrupt the sweep at that moment). */
  onStart?: () => void;
}

export interface AgentHostOptions {
  phases?: Record<string, FakePhase>;
  /** Files of the job's artifacts/ directory, collected with the rc files. */
  artifacts?: Record<string, string>;
  /** The bundle check fails with this message on stderr (exit 1). */
  bundleFails?: string;
  provenance?: Provenance;
}

export const FAKE_PROVENANCE: Provenance = {
  hostname: 'fake-host',
  collected_at: 1_700_000_000,
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: { release: '6.1.0-fake', version: '#1 SMP', machine: 'x86_64' },
  cmdline: 'BOOT_IMAGE=/vmlinuz',
  cpu: { model: 'Fake CPU', logical_cpus: 2 },
  memory_kb: 2_000_000,
  packages: { bash: '5.2.15-2' },
};

/** What the agent host saw: the phases it ran, in order, and the stops it was asked for. */
export interface AgentHostLog {
  ran: string[];
  stopped: string[];
}

/** A script answering as the agent does (see the header); `log` says what it ran. */
export function agentHost(options: AgentHostOptions = {}): { script: FakeScript; log: AgentHostLog } {
  const log: AgentHostLog = { ran: [], stopped: [] };
  const rcs = new Map<string, string | null>();
  const waiting = new Map<string, (signal: string) => void>();
  const provenanceLine = `${JSON.stringify(options.provenance ?? FAKE_PROVENANCE)}\n`;
  let supervisorPid = 4000;
  /** What `collect JOBDIR MODE` sends on stdout: the rc of every phase run, and the job's artifacts. */
  const collection = async (mode: string | undefined): Promise<Buffer> => {
    const files: Record<string, string> = {};
    for (const [name, rc] of rcs) if (rc !== null) files[`phases/${name}/rc`] = rc;
    for (const [path, text] of Object.entries(options.artifacts ?? {})) files[`artifacts/${path}`] = text;
    const tar = await tarOf(files);
    return mode === 'tar' ? tar : gzipSync(tar);
  };
  const script: FakeScript = (call) => {
    const { argv } = call;
    const bundle = argv.indexOf('orchestrate-bundle');
    if (bundle >= 0) {
      if (options.bundleFails) return { stderr: `${options.bundleFails}\n`, exitCode: 1 };
      const next = argv.slice(bundle + 5);
      return { stdout: `present\n${next.includes('provenance') ? provenanceLine : ''}` };
    }
    // [exec] bash AGENT BUNDLE_DIR VERB ARGS...
    const agentAt = argv.findIndex((word) => word.endsWith('/orchestrate-agent'));
    if (agentAt < 0) return undefined;
    const [verb, ...args] = argv.slice(agentAt + 2);
    switch (verb) {
      case 'provenance':
        return { stdout: provenanceLine };
      case 'run': {
        // run JOBDIR PHASE TIMEOUT OFFSET [--collect MODE] -- HELPER ARGS
        const name = args[1]!;
        const dashes = args.indexOf('--');
        const collectAt = args.indexOf('--collect');
        const inline = collectAt >= 0 && collectAt < dashes ? args[collectAt + 1] : undefined;
        const phase = options.phases?.[name] ?? {};
        log.ran.push(name);
        // Once this reply is in place (a stop it causes must find the phase waiting).
        if (phase.onStart) queueMicrotask(phase.onStart);
        // The supervisor's own first event (orch_event start pid N helper S), forwarded from events.jsonl.
        const startLine = `${JSON.stringify({ t: Date.now() / 1000, kind: 'start', pid: (supervisorPid += 2), helper: args[dashes + 1] })}\n`;
        const ended: Promise<number> = phase.untilStopped
          ? new Promise((resolve) => waiting.set(name, (signal) => resolve(128 + (signal === 'KILL' ? 9 : 15))))
          : Promise.resolve(phase.rc ?? 0);
        const reply: FakeReply = { stdout: startLine };
        // The reply is complete once the phase ended: its rc as the supervisor records it, on the
        // follower's stderr; with --collect also on stdout after a NUL, then the job's tar.
        reply.after = ended.then(async (rc) => {
          rcs.set(name, phase.recordedRc === undefined ? `${rc}\n` : phase.recordedRc);
          const status = JSON.stringify({ kind: 'rc', code: rc, timed_out: false });
          reply.stderr = `${status}\n`;
          if (inline === undefined) return;
          reply.stdout = Buffer.concat([Buffer.from(`${startLine}\0${status}\n`), await collection(inline)]);
          reply.stderr += COLLECTED_LINE;
          reply.readsStdin = true;
        });
        return reply;
      }
      case 'stop': {
        const [, name, signal] = args;
        log.stopped.push(`${name} ${signal}`);
        waiting.get(name!)?.(signal!);
        waiting.delete(name!);
        return { exitCode: 0 };
      }
      case 'collect': {
        const reply: FakeReply = { stderr: COLLECTED_LINE, readsStdin: true };
        reply.after = collection(args[1]).then((tar) => (reply.stdout = tar));
        return reply;
      }
      case 'abort-collect':
        return { exitCode: 0 };
      default:
        return undefined;
    }
  };
  return { script, log };
}

/** tar's status, as collect prints it on stderr once the tar is sent. */
const COLLECTED_LINE = `${JSON.stringify({ kind: 'collected', tar_code: 0 })}\n`;

/** A tar (ustar) of these files, with their directories, as GNU tar on the host makes one. */
function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tarPack();
  const chunks: Buffer[] = [];
  const ended = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  const dirs = new Set<string>();
  for (const path of Object.keys(files)) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const dir of [...dirs].sort()) pack.entry({ name: `${dir}/`, type: 'directory', mode: 0o755 });
  for (const [path, text] of Object.entries(files)) pack.entry({ name: path, mode: 0o644 }, text);
  pack.finalize();
  return ended;
}

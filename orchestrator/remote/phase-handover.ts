// A session that ran the bundle check and the provenance verb (`provenance --handover`), held
// open for the first phase of the host's first job: the agent waits on stdin for one request and
// then becomes `env ENV... bash AGENT BUNDLE run ARGS...`, the very command a phase's own session
// runs (remote-scripts/orchestrate-agent, agent_handover). A warm job then costs its host one
// SSH session, as one parallel-ssh command does. The request is sent only after the orchestrator
// has checked the provenance record, so a refused record never starts a phase.
import type { ExecChannel } from '../connectors/types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The agent's handover request: NUL-terminated fields (`run`, the env count, NAME=VALUE..., the argument count, the arguments). */
export function handoverRequest(env: Record<string, string>, args: readonly string[]): Buffer {
  const entries = Object.entries(env).map(([name, value]) => {
    if (!ENV_NAME.test(name)) throw new TypeError(`invalid environment variable name ${JSON.stringify(name)}`);
    return `${name}=${value}`;
  });
  const fields = ['run', String(entries.length), ...entries, String(args.length), ...args];
  for (const field of fields) {
    if (field.includes('\0')) throw new TypeError('a handover field cannot hold a NUL byte');
  }
  return Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
}

/** What a phase may run on instead of a session of its own: taken at most once. */
export interface PhaseHandover {
  /**
   * The held session, now running the agent's `run ARGS` with ENV; undefined when it can no
   * longer take one (it ended, was released or taken), and the phase opens its own session.
   */
  take(env: Record<string, string>, runArgs: readonly string[]): ExecChannel | undefined;
  /** Ends the held session unused (the agent reads end of input and exits); idempotent. */
  release(): void;
}

export class HeldSession implements PhaseHandover {
  private state: 'held' | 'taken' | 'released' = 'held';
  private ended = false;

  constructor(private readonly channel: ExecChannel) {
    channel.done.then(
      () => (this.ended = true),
      () => (this.ended = true),
    );
  }

  take(env: Record<string, string>, runArgs: readonly string[]): ExecChannel | undefined {
    if (this.state !== 'held' || this.ended || !this.channel.stdin.writable) {
      this.release();
      return undefined;
    }
    const request = handoverRequest(env, runArgs);
    this.state = 'taken';
    this.channel.stdin.write(request);
    // Its stdout is paused where the provenance line ended: the phase's reader resumes it.
    return this.channel;
  }

  release(): void {
    if (this.state !== 'held') return;
    this.state = 'released';
    this.channel.stdin.end();
    this.channel.close();
  }
}

// The line protocol helpers speak (JSON lines, see remote-scripts/lib/events.sh), read
// back from a host and therefore validated before anything trusts it. Helpers report
// progress and logs only: a phase's status is what the agent read from its rc file,
// printed on the follower's own stderr (AgentStatusSchema below), where no helper writes.
import * as z from 'zod';

const base = { t: z.number().optional() };

export const RemoteEventSchema = z.discriminatedUnion('kind', [
  z.object({ ...base, kind: z.literal('start'), pid: z.number().int().optional(), helper: z.string().optional() }),
  z.object({ ...base, kind: z.literal('progress'), message: z.string().max(2000), fraction: z.number().min(0).max(1).nullable().optional() }),
  z.object({ ...base, kind: z.literal('log'), level: z.string().max(20), message: z.string().max(8000) }),
]);
export type RemoteEvent = z.infer<typeof RemoteEventSchema>;

/** What the agent itself says on stderr: a phase's recorded status, or a collection's tar status. */
export const AgentStatusSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('rc'), code: z.number().int().min(0).max(255), timed_out: z.boolean() }),
  z.object({ kind: z.literal('lost'), reason: z.string().max(2000) }),
  z.object({ kind: z.literal('collected'), tar_code: z.number().int().min(0).max(255) }),
]);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

/** The agent's last status line of a kind in its stderr text, if any (other stderr text is ignored). */
export function agentStatusIn<K extends AgentStatus['kind']>(stderr: string, kinds: readonly K[]): Extract<AgentStatus, { kind: K }> | undefined {
  const lines = stderr.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (!line.startsWith('{')) continue;
    try {
      const parsed = AgentStatusSchema.safeParse(JSON.parse(line));
      if (parsed.success && (kinds as readonly string[]).includes(parsed.data.kind)) return parsed.data as Extract<AgentStatus, { kind: K }>;
    } catch {
      // not the agent's JSON
    }
  }
  return undefined;
}

/** Keeps the last `limit` characters of a stream's text (a status line comes last). */
export class TextTail {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: Buffer): void {
    this.text += chunk.toString('utf8');
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }
  toString(): string {
    return this.text.slice(-this.limit);
  }
}

export type ParsedLine = { ok: true; event: RemoteEvent } | { ok: false; line: string; problem: string };

export function parseRemoteEventLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, line: line.slice(0, 500), problem: 'not JSON' };
  }
  const parsed = RemoteEventSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, line: line.slice(0, 500), problem: parsed.error.issues.map((issue) => issue.message).join('; ') };
  }
  return { ok: true, event: parsed.data };
}

/**
 * Splits a byte stream into complete lines and counts the bytes of the lines it has
 * handed out, so a reader can resume from exactly that offset after a reconnect.
 */
export class LineCounter {
  private rest: Buffer = Buffer.alloc(0);
  /** Bytes of complete lines consumed so far (including their newlines). */
  consumed = 0;

  constructor(private readonly maxLineBytes = 1 << 20) {}

  push(chunk: Buffer): string[] {
    this.rest = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let newline = this.rest.indexOf(10, start); newline !== -1; newline = this.rest.indexOf(10, start)) {
      lines.push(this.rest.subarray(start, newline).toString('utf8'));
      this.consumed += newline - start + 1;
      start = newline + 1;
    }
    this.rest = this.rest.subarray(start);
    if (this.rest.length > this.maxLineBytes) {
      // A line this long is not a protocol line; drop it rather than grow without bound.
      this.consumed += this.rest.length;
      lines.push(this.rest.subarray(0, 500).toString('utf8'));
      this.rest = Buffer.alloc(0);
    }
    return lines;
  }

  /** Forget a partial line (the next reader starts again at `consumed`). */
  reset(): void {
    this.rest = Buffer.alloc(0);
  }
}

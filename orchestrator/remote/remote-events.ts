// The line protocol helpers speak (JSON lines, see remote-scripts/lib/events.sh), read
// back from a host and therefore validated before anything trusts it.
import { z } from 'zod';

const base = { t: z.number().optional() };

export const RemoteEventSchema = z.discriminatedUnion('kind', [
  z.object({ ...base, kind: z.literal('start'), pid: z.number().int().optional(), helper: z.string().optional() }),
  z.object({ ...base, kind: z.literal('progress'), message: z.string().max(2000), fraction: z.number().min(0).max(1).nullable().optional() }),
  z.object({ ...base, kind: z.literal('log'), level: z.string().max(20), message: z.string().max(8000) }),
  z.object({ ...base, kind: z.literal('exit'), code: z.number().int().nullable(), timed_out: z.boolean().optional() }),
  z.object({ ...base, kind: z.literal('lost'), reason: z.string().max(2000) }),
]);
export type RemoteEvent = z.infer<typeof RemoteEventSchema>;

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

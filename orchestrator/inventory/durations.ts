// Durations as written in an inventory: a number of seconds, or a string of one or more
// <number><unit> parts with the units ms, s, m, h and d ("500ms", "30s", "1h30m", "1.5h").

import * as z from 'zod';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/y;

export const DURATION_EXPECTED =
  'a duration such as "500ms", "30s", "10m", "1h30m" or a number of seconds, greater than zero';

/** Milliseconds (rounded), or undefined when the value is not a duration greater than zero. */
export function parseDuration(value: unknown): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value * 1000;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') return undefined;
    if (/^\d+(\.\d+)?$/.test(text)) {
      ms = Number(text) * 1000;
    } else {
      ms = 0;
      PART.lastIndex = 0;
      while (PART.lastIndex < text.length) {
        const match = PART.exec(text);
        if (!match) return undefined;
        ms += Number(match[1]) * UNIT_MS[match[2]!]!;
      }
    }
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.max(1, Math.round(ms));
}

/** A duration param of a scenario, as written in an inventory, validated to milliseconds. */
export const DurationMs = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not ${DURATION_EXPECTED}` });
    return z.NEVER;
  }
  return ms;
});

// Hand checks of parsed JSON's shape, for the files the site build reads every night (its caches
// and state: megabytes of small records, where a schema library's parse costs as much again as
// JSON.parse). Each answers whether a value is of one shape; a file's own check combines them.

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An array of strings. */
export function isStrings(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'string') return false;
  return true;
}

/** An array of numbers. */
export function isNumbers(value: unknown): value is number[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== 'number') return false;
  return true;
}

/** An object whose every field is a string (labels, identities by directory). */
export function isTextRecord(value: unknown): value is Record<string, string> {
  if (!isRecord(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}

/** A problem as the store and the site record one: the path it is about and what is wrong. */
export function isPathProblem(value: unknown): value is { path: string; message: string } {
  return isRecord(value) && typeof value['path'] === 'string' && typeof value['message'] === 'string';
}

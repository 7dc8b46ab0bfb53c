// Names and links of the report site's files: content hashes, file-name-safe ids, relative links.
import { createHash } from 'node:crypto';

export function sha(data: string | Buffer, length = 16): string {
  return createHash('sha256').update(data).digest('hex').slice(0, length);
}

/** A file-name safe form of an id; ids that had to change get a hash suffix so two never collide. */
export function slug(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80);
  return safe === id && safe.length > 0 ? safe : `${safe || 'x'}-${sha(id, 8)}`;
}

/** Relative path from a page at `from` (posix, relative to the site root) to `to`. */
export function rel(from: string, to: string): string {
  const depth = from.split('/').length - 1;
  return `${'../'.repeat(depth)}${to}`;
}

/**
 * Pure path and mode rules used by the safe archive extractor (safe-extract.ts).
 * Paths inside archives are POSIX, '/'-separated. Nothing here touches the filesystem.
 */

/** Longest accepted single path component and whole relative path (Linux NAME_MAX / PATH_MAX - slack). */
export const MAX_SEGMENT_BYTES = 255;
export const MAX_PATH_BYTES = 3800;

export type PathCheck = { ok: true; segments: string[] } | { ok: false; reason: string };

/**
 * Normalizes an archive member name lexically: drops empty and '.' segments, resolves '..'
 * against earlier segments. Rejects absolute names, names whose '..' climbs above the archive
 * root, and names containing NUL. An empty segment list means "the archive root itself"
 * ('', '.', './'); the caller decides what that means for the entry type.
 */
export function normalizeEntryPath(name: string): PathCheck {
  if (name.includes('\0')) return { ok: false, reason: 'path contains a NUL byte' };
  if (name.startsWith('/')) return { ok: false, reason: 'absolute path' };
  const out: string[] = [];
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return { ok: false, reason: "path escapes the destination with '..'" };
      out.pop();
      continue;
    }
    if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) return { ok: false, reason: 'path component too long' };
    out.push(seg);
  }
  if (Buffer.byteLength(out.join('/')) > MAX_PATH_BYTES) return { ok: false, reason: 'path too long' };
  return { ok: true, segments: out };
}

export type LinkTargetCheck = { ok: true; target: string } | { ok: false; reason: string };

/**
 * Checks a symlink target (as stored in the archive) for a link whose parent directory is
 * `linkDir` (segments relative to the destination root).
 *
 * Accepted targets are relative, made of zero or more leading '..' followed only by plain names
 * ('.' and empty segments are dropped), and the leading '..' must not climb above the destination
 * root. A '..' after a name (e.g. 'a/../b') is rejected: if 'a' is itself a symlink the kernel
 * resolves '..' from a's target, not lexically, and such chains are the classic way to escape.
 * With that rule, and because every symlink is created inside a chain of real directories, every
 * link resolves inside the destination however links are chained.
 *
 * Returns the normalized target that should be written ('.' for the link's own directory).
 */
export function checkSymlinkTarget(linkDir: readonly string[], target: string | null | undefined): LinkTargetCheck {
  if (!target) return { ok: false, reason: 'empty symlink target' };
  if (target.includes('\0')) return { ok: false, reason: 'symlink target contains a NUL byte' };
  if (target.startsWith('/')) return { ok: false, reason: 'absolute symlink target' };
  const segs = target.split('/').filter((s) => s !== '' && s !== '.');
  let ups = 0;
  let seenName = false;
  for (const s of segs) {
    if (s === '..') {
      if (seenName) return { ok: false, reason: "symlink target has '..' after a path component" };
      ups++;
    } else {
      if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) return { ok: false, reason: 'symlink target component too long' };
      seenName = true;
    }
  }
  if (ups > linkDir.length) return { ok: false, reason: 'symlink target escapes the destination' };
  const normalized = segs.join('/') || '.';
  if (Buffer.byteLength(normalized) > MAX_PATH_BYTES) return { ok: false, reason: 'symlink target too long' };
  return { ok: true, target: normalized };
}

/**
 * Mode kept on disk: the user's rwx bits plus group/other read and execute. Setuid, setgid,
 * sticky and group/other write are stripped. The owner always gets rw (files) or rwx (dirs) so
 * the orchestrator can read and later clean up whatever a host sent.
 */
export function sanitizeMode(mode: number | null | undefined, isDirectory: boolean): number {
  const fallback = isDirectory ? 0o755 : 0o644;
  const m = typeof mode === 'number' && Number.isFinite(mode) ? mode : fallback;
  return (m & 0o755) | (isDirectory ? 0o700 : 0o600);
}

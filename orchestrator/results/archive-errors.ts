/**
 * Result and error types of the safe archive extractor (see safe-extract.ts).
 */

export interface ExtractResult {
  /** Regular files created (a file cut short by a limit counts: it is on disk). */
  files: number;
  /** Directory entries applied (implicit parents created for other entries are not counted). */
  directories: number;
  /** Symbolic links and hard links created. */
  links: number;
  /** File content bytes written to disk. */
  bytes: number;
  /** Entries skipped because they were unsafe or unsupported; their content was drained. */
  rejected: { path: string; reason: string }[];
}

export function emptyResult(): ExtractResult {
  return { files: 0, directories: 0, links: 0, bytes: 0, rejected: [] };
}

export function snapshotResult(r: ExtractResult): ExtractResult {
  return { files: r.files, directories: r.directories, links: r.links, bytes: r.bytes, rejected: r.rejected.map((x) => ({ ...x })) };
}

/**
 * Thrown when the archive exceeds ExtractOptions.maxBytes or maxEntries. Extraction stopped, the
 * source stream was destroyed; what was written so far (possibly a partial file) stays on disk.
 */
export class ArchiveLimitError extends Error {
  override readonly name = 'ArchiveLimitError';
  readonly limit: 'bytes' | 'entries';
  /** File content bytes written to disk before stopping (== result.bytes). */
  readonly writtenBytes: number;
  readonly result: ExtractResult;

  constructor(limit: 'bytes' | 'entries', message: string, result: ExtractResult) {
    super(message);
    this.limit = limit;
    this.result = snapshotResult(result);
    this.writtenBytes = this.result.bytes;
  }
}

/** Thrown when the archive is truncated, corrupt or not a tar (or gzip) stream at all. */
export class ArchiveFormatError extends Error {
  override readonly name = 'ArchiveFormatError';
  readonly result: ExtractResult;

  constructor(message: string, result: ExtractResult, options?: { cause?: unknown }) {
    super(message, options);
    this.result = snapshotResult(result);
  }
}

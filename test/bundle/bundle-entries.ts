// The entries of a built helper bundle, read back from its bytes (for the bundle tests).
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import type { HelperBundle } from '../../orchestrator/bundle/build-bundle.js';

/** Every entry's path (directories without their trailing slash), in archive order; only the files' with `filesOnly`. */
export async function entryNames(b: HelperBundle, { filesOnly = false } = {}): Promise<string[]> {
  const extract = tarExtract();
  extract.end(gunzipSync(b.bytes));
  const names: string[] = [];
  for await (const entry of extract) {
    if (!filesOnly || entry.header.type === 'file') names.push(entry.header.name.replace(/\/$/, ''));
    entry.resume();
  }
  return names;
}

// The vendored assets do not change within a process: read and hash them once.
import { loadAssets, type Assets } from './assets.js';

let cached: Promise<Assets> | undefined;

export function assetsFor(): Promise<Assets> {
  cached ??= loadAssets().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

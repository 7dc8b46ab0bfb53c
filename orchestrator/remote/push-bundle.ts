// Puts the helper bundle on a host unless that host already has its content hash:
// one command that answers "present" or "need" and, when needed, unpacks the bundle
// from its stdin into a temp directory that is renamed into place when complete.
import type { Connector } from '../connectors/types.js';
import type { HelperBundle } from '../bundle/build-bundle.js';
import { command, render } from '../connectors/shell-command.js';
import type { RemoteLayout } from './layout.js';
import { uploadIfNeeded } from './upload-if-needed.js';

const ENSURE_BUNDLE_SCRIPT = `set -eu
b="$1/bundles/$2"
if [ -f "$b/.complete" ]; then echo present; exit 0; fi
echo need
mkdir -p "$1/bundles"
t="$b.partial.$$"
rm -rf "$t"
mkdir -p "$t"
gzip -dc | tar -xf - -C "$t"
: > "$t/.complete"
mv -T "$t" "$b" 2>/dev/null || rm -rf "$t"
echo installed`;

export interface BundlePushResult {
  uploaded: boolean;
  bytes: number;
}

export class BundlePushError extends Error {
  override readonly name = 'BundlePushError';
}

export async function pushBundle(connector: Connector, layout: RemoteLayout, bundle: HelperBundle): Promise<BundlePushResult> {
  const text = render(command(['sh', '-c', ENSURE_BUNDLE_SCRIPT, 'orchestrate-bundle', layout.root, bundle.hash]));
  const outcome = await uploadIfNeeded(connector, text, async (stdin) => {
    stdin.end(bundle.bytes);
  });
  if (!outcome.ok) {
    throw new BundlePushError(`${connector.hostName}: could not install the helper bundle ${bundle.hash} (exit ${outcome.exit}): ${outcome.detail}`);
  }
  const { uploaded } = outcome;
  return { uploaded, bytes: uploaded ? bundle.bytes.length : 0 };
}

#!/usr/bin/env node
// Entry point of the `orchestrate` bin: runs the compiled CLI (dist/cli.js) with plain node.
// dist/ is built by `npm run build` (and by `npm ci`, `npm test`, the quick start). A missing or
// stale build is refused, never run: the user changed the sources (or pulled) and expects to run
// what they see, so running yesterday's code silently would be worse than asking for a build.
import { distState } from './dist-state.js';

const dist = distState();
if (dist.state !== 'current') {
  const why =
    dist.state === 'missing'
      ? 'the compiled CLI (dist/) has not been built'
      : `the compiled CLI (dist/, built ${dist.builtAt.toISOString()}) is older than ${dist.newer}`;
  process.stderr.write(`orchestrate: ${why}: run \`npm run build\` in the checkout, then try again. Nothing was run.\n`);
  process.exit(2);
}
await import('../../dist/cli.js');

// node --import tsx test/kvm-guest/cli.ts prepare   the lab guest's Debian tree (downloads Debian
//                                                   packages once) and image; idempotent, cached.
//                                        image     the image from the cached tree (no network)
// Prints the result as one JSON line. Called by test/install-deps.sh (prepare).
import { labGuest, prepareLabGuest } from './lab-guest.js';

const verb = process.argv[2];
if (verb !== 'prepare' && verb !== 'image') {
  process.stderr.write('usage: node --import tsx test/kvm-guest/cli.ts prepare|image\n');
  process.exit(2);
}
const t0 = Date.now();
try {
  const g = verb === 'prepare' ? await prepareLabGuest() : await labGuest();
  process.stdout.write(`${JSON.stringify({ ...g, ms: Date.now() - t0 })}\n`);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}

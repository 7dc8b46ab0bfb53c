// The helper bundle cached on a host, through the real CLI on the local lab (subnet 46): a copy
// tampered with on the host between two sweeps (a helper edited, a file added, one chmod-ed) is
// not used; the next sweep sends the bundle again, the job runs the genuine helper, and the host's
// copy is byte for byte the one the first sweep installed.
import { entryListing } from '../support/file-tree.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';
import { jobManifest, onlySweep, runCli } from './cli-helpers.js';

const e2e = suite('a tampered helper bundle on a host, end to end');
const test = guardedSuite(e2e, await missingRequirement(needsRoot), 'the bundle cache end-to-end tests');
let lab: Lab | undefined;
let work = '';

e2e.before(async () => {
  if (process.getuid?.() !== 0) return;
  work = await fsp.mkdtemp(join(tmpdir(), 'bundle-cache-e2e-'));
  lab = await labUp({ subnet: 48, hosts: 1, dir: join(work, 'lab'), reports: false });
});
e2e.after(async () => {
  await lab?.down();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});


async function sweep(name: string): Promise<{ stdout: string; dir: string }> {
  const results = join(work, `results-${name}`);
  const inventory = await lab!.writeInventory({ file: join(work, `${name}.yaml`), resultsDir: results });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, 'lab-01--sysinfo');
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  return { stdout, dir };
}

test('a helper edited, a file added and one chmod-ed on the host: the next sweep reinstalls the bundle and runs the genuine helper', async () => {
  const host = lab!.hosts[0]!;
  const bundles = join(host.home, '.orchestrate/bundles');
  const first = await sweep('first');
  assert.match(first.stdout, /lab-01: connected in [^;]*; helper bundle uploaded/);
  // (beside it, the mark of the last check for unused bundles: ensure-bundle)
  const [hash, ...others] = (await fsp.readdir(bundles)).filter((name) => name !== '.prune-mark');
  assert.equal(others, [], 'one bundle on the host');
  const dir = join(bundles, hash!);
  const genuine = Object.fromEntries(await entryListing(dir));

  const ran = join(host.home, 'tampered-helper-ran');
  const agent = join(dir, 'remote-scripts/orchestrate-agent');
  const text = await fsp.readFile(agent, 'utf8');
  const lines = text.split('\n');
  await fsp.writeFile(agent, [lines[0], `echo tampered > ${ran}; exit 3`, ...lines.slice(1)].join('\n'));
  await fsp.writeFile(join(dir, 'remote-scripts/lib/extra.sh'), 'echo sourced too\n');
  await fsp.chmod(join(dir, 'remote-scripts/lib'), 0o777);

  const second = await sweep('second');
  assert.match(second.stdout, /lab-01: connected in [^;]*; helper bundle uploaded/, 'the tampered copy was replaced');
  assert.match(second.stdout, /lab-01: WARNING: cached helper bundle [0-9a-f]{16} was not genuine \(first difference: «[^»]+»: «[^»]+»\); set aside unused and reinstalled/, 'the operator is told');
  assert.not.ok(existsSync(ran), 'the tampered helper never ran');
  assert.equal(await fsp.readdir(bundles), ['.prune-mark', hash], 'the same bundle, nothing set aside or partial left');
  assert.equal(Object.fromEntries(await entryListing(dir)), genuine, 'the host copy is byte for byte (and mode for mode) the genuine one');
  assert.is(await fsp.readFile(agent, 'utf8'), text);

  const third = await sweep('third');
  assert.match(third.stdout, /lab-01: connected in [^;]*; helper bundle already present/, 'and it is trusted again');
});

e2e.run();

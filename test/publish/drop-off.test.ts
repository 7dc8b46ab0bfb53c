// The drop-off way on the lab's reports host: a streamed tar.gz under a temporary name, renamed
// when complete, then the .done marker.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import { scenarioParamSchemas } from '../../orchestrator/scenarios/registry.js';
import type { Inventory } from '../../orchestrator/inventory/types.js';
import { dropOffSweep } from '../../orchestrator/publish/drop-off.js';
import { noise, put } from './site-fixture.js';

const t = suite('drop-off on the lab');
let lab: Lab;
let work: string;
let inventory: Inventory;
let incoming: string;
const SWEEP = '20261122T051637Z-c155';

t.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'dropoff-test-'));
  lab = await labUp({ subnet: 41, hosts: 1, dir: join(work, 'lab') });
  inventory = await loadInventory(await lab.writeInventory({ file: join(work, 'inventory.yaml') }), { scenarios: scenarioParamSchemas() });
  // A relative incoming path: from the login directory (the lab home of the reports host).
  incoming = join(lab.reports!.home, 'incoming');
});
t.after(async () => {
  await lab?.down();
  if (work) await rm(work, { recursive: true, force: true });
});

t('the archive appears complete under its final name, then the marker; it extracts to the sweep', async () => {
  const sweepDir = join(work, 'sweeps', SWEEP);
  await put(sweepDir, 'sweep.json', '{"schema":"orchestrate/sweep@1"}\n');
  await put(sweepDir, 'jobs/lab-01--sysinfo/manifest.json', '{}\n');
  await put(sweepDir, 'jobs/lab-01--sysinfo/raw/artifacts/big.bin', noise(24 << 20, 'drop'));
  await put(sweepDir, 'jobs/lab-01--sysinfo/raw/phases/run/rc', '');
  await mkdir(join(sweepDir, 'jobs/empty-dir'), { recursive: true });
  const archive = join(incoming, `${SWEEP}.tar.gz`);
  const marker = `${archive}.done`;
  // Each name with the number of the first listing it was in: names first seen in the same
  // listing appeared between two looks, in an order a listing cannot tell.
  const seen: string[] = [];
  const firstLook = new Map<string, number>();
  let violations = 0;
  let polling = true;
  const look = async (n: number) => {
    const names = await readdir(incoming).catch(() => [] as string[]);
    for (const name of names.map((x) => x.replace(/-\d+$/, ''))) {
      if (firstLook.has(name)) continue;
      firstLook.set(name, n);
      seen.push(name);
    }
    if (names.includes(`${SWEEP}.tar.gz.done`)) {
      // The marker only ever exists beside a whole archive.
      try {
        execFileSync('gzip', ['-t', archive]);
      } catch {
        violations++;
      }
    }
  };
  let looks = 0;
  const poll = (async () => {
    while (polling) {
      await look(looks++);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const r = await dropOffSweep({ inventory, sweepDir, incomingPath: 'incoming' });
  polling = false;
  await poll;
  // one look after the drop-off returned: on a loaded machine the last looks can miss its end
  await look(looks++);
  assert.is(violations, 0);
  assert.is(r.archive, `incoming/${SWEEP}.tar.gz`);
  assert.is(r.files, 4);
  assert.is(r.archiveBytes, (await stat(archive)).size);
  assert.is((await stat(marker)).size, 0);
  const tmpLook = firstLook.get(seen.find((n) => n.startsWith(`.${SWEEP}.tar.gz.partial`)) ?? '') ?? -1;
  const archiveLook = firstLook.get(`${SWEEP}.tar.gz`) ?? -1;
  const markerLook = firstLook.get(`${SWEEP}.tar.gz.done`) ?? -1;
  const order = seen.map((n) => `${n}@${firstLook.get(n)}`).join(', ');
  assert.ok(tmpLook >= 0 && tmpLook < archiveLook && archiveLook <= markerLook, `order seen (name@first listing): ${order}`);
  assert.equal((await readdir(incoming)).sort(), [`${SWEEP}.tar.gz`, `${SWEEP}.tar.gz.done`]);
  const out = join(work, 'extracted');
  await mkdir(out);
  execFileSync('tar', ['-xzf', archive, '-C', out]);
  assert.ok((await readFile(join(out, SWEEP, 'jobs/lab-01--sysinfo/raw/artifacts/big.bin'))).equals(noise(24 << 20, 'drop')));
  assert.is(await readFile(join(out, SWEEP, 'sweep.json'), 'utf8'), '{"schema":"orchestrate/sweep@1"}\n');
  assert.ok((await stat(join(out, SWEEP, 'jobs/empty-dir'))).isDirectory());
});

t('an interrupted drop-off leaves neither an archive nor a marker nor its temporary file', async () => {
  const id = '20261123T000000Z-dead';
  const sweepDir = join(work, 'sweeps', id);
  await put(sweepDir, 'raw/big.bin', noise(64 << 20, 'drop2'));
  const controller = new AbortController();
  const watcher = setInterval(async () => {
    const names = await readdir(incoming).catch(() => [] as string[]);
    const tmp = names.find((n) => n.startsWith(`.${id}`));
    if (tmp && (await stat(join(incoming, tmp)).catch(() => ({ size: 0 }))).size > 1 << 20) controller.abort();
  }, 2);
  try {
    await dropOffSweep({ inventory, sweepDir, incomingPath: incoming, signal: controller.signal });
    assert.unreachable('should have been aborted');
  } catch (error) {
    assert.ok(controller.signal.aborted, (error as Error).message);
  } finally {
    clearInterval(watcher);
  }
  // The host notices the cut a moment later: wait for its cleanup.
  const until = Date.now() + 10_000;
  while (Date.now() < until && (await readdir(incoming)).some((n) => n.includes(id))) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await readdir(incoming)).filter((n) => n.includes(id)), []);
});

t.run();

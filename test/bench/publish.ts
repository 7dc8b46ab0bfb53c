// Bench section `publish`: an incremental publish after one more sweep, against the full site and
// against `rsync -a --delete` of the same trees over SSH to the same lab reports host, in one run.
//
// The site-like tree: 200 sweeps x 35 small files (pages, JSON data, CSV) = 7,000 files plus index
// pages, a few MB. "One more sweep": 35 new files + the index/history pages that list sweeps
// rewritten (10 changed files). Each repetition adds a new sweep to both the published tree and
// the rsync'ed tree, alternating which tool goes first. After each publish the host finishes its
// background job (deleting pruned releases, hard-linking the next publish's copy of the new release)
// before anything else is timed, so rsync is not charged for it; the "back-to-back" row shows what
// a publish costs when it starts while that job still runs (it waits for the lock). Before each
// timed run the page cache is flushed (`sync`): the lab host shares this machine's disk, and the
// writeback of the trees the bench just wrote would otherwise be charged to whichever tool runs
// next (publishing still pays for its own `sync -f` of the new release; rsync does not sync).
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labUp } from '../lab/lab.js';
import { loadInventory } from '../../orchestrator/inventory/load.js';
import { scenarioParamSchemas } from '../../orchestrator/scenarios/registry.js';
import { publishSite, type PublishResult } from '../../orchestrator/publish/publish-site.js';
import { put } from '../publish/site-fixture.js';

export const name = 'publish';
export const description = 'incremental publish of one more sweep vs full site vs rsync -a --delete over SSH';

const run$ = promisify(execFile);
const SUBNET = 42;
const SWEEPS = 200;
const REPS = 3;

function page(title: string, n: number): string {
  return `<!doctype html><html><head><title>${title}</title></head><body>${'<p>row</p>'.repeat(60 + (n % 80))}</body></html>\n`;
}

async function addSweep(root: string, i: number, generation: number): Promise<void> {
  const id = `s${String(i).padStart(4, '0')}`;
  for (let k = 0; k < 35; k++) {
    const rel = k < 10 ? `sweeps/${id}/job-${k}.html` : k < 30 ? `data/${id}/metrics-${k}.json` : `data/${id}/series-${k}.csv`;
    await put(root, rel, k < 10 ? page(`${id} ${k}`, i + k) : `${JSON.stringify({ id, k, values: Array.from({ length: 60 + ((i + k) % 60) }, (_, j) => (i * j) % 97) })}\n`);
  }
  // The pages that list every sweep change with each new sweep.
  for (const rel of ['index.html', 'history.html', 'sweeps/index.html', 'data/index.json', 'trends/cpu.json', 'trends/mem.json', 'trends/net.json', 'trends/disk.json', 'trends/latency.json', 'trends/throughput.json']) {
    await put(root, rel, page(`${rel} up to ${id} gen ${generation}`, i));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function rsyncStats(out: string): { sent: number; received: number; files: number } {
  const num = (re: RegExp) => Number((re.exec(out)?.[1] ?? '0').replace(/,/g, ''));
  return { sent: num(/Total bytes sent: ([\d,]+)/), received: num(/Total bytes received: ([\d,]+)/), files: num(/Number of regular files transferred: ([\d,]+)/) };
}

export async function run(): Promise<{ table: string; json: unknown }> {
  await run$('rsync', ['--version']).catch(() => {
    throw new Error('rsync is not installed (apt-get install -y rsync)');
  });
  const work = await mkdtemp(join(tmpdir(), 'bench-publish-'));
  const lab = await labUp({ subnet: SUBNET, hosts: 1, dir: join(work, 'lab') });
  try {
    const inventory = await loadInventory(await lab.writeInventory({ file: join(work, 'inventory.yaml') }), { scenarios: scenarioParamSchemas() });
    const reports = lab.reports!;
    const site = join(work, 'site');
    const mirror = join(work, 'site-rsync');
    for (let i = 0; i < SWEEPS; i++) await addSweep(site, i, 0);
    await cp(site, mirror, { recursive: true, preserveTimestamps: true });
    const rsyncTarget = `root@${reports.address}:${join(reports.home, 'rsync-site')}/`;
    const ssh = `ssh -F /dev/null -i ${lab.clientKey} -o UserKnownHostsFile=${lab.knownHostsFile} -o StrictHostKeyChecking=yes -o BatchMode=yes -p ${reports.port}`;
    const rsync = async (src: string) => {
      execFileSync('sync');
      const started = process.hrtime.bigint();
      const { stdout } = await run$('rsync', ['-a', '--delete', '--stats', '-e', ssh, `${src}/`, rsyncTarget], { maxBuffer: 16 << 20 });
      return { ms: Number(process.hrtime.bigint() - started) / 1e6, ...rsyncStats(stdout) };
    };

    const settle = () => execFileSync('flock', ['-w', '60', join(reports.publishPath, 'releases', '.lock'), 'true']);
    const publish = async () => {
      execFileSync('sync');
      const r = await publishSite({ inventory, siteDir: site });
      settle();
      return r;
    };
    const full = await publish();
    const fullRsync = await rsync(mirror);
    const incremental: PublishResult[] = [];
    const incRsync: Awaited<ReturnType<typeof rsync>>[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      await addSweep(site, SWEEPS + rep, rep + 1);
      await addSweep(mirror, SWEEPS + rep, rep + 1);
      if (rep % 2 === 0) {
        incremental.push(await publish());
        incRsync.push(await rsync(mirror));
      } else {
        incRsync.push(await rsync(mirror));
        incremental.push(await publish());
      }
    }
    // Back-to-back: one more sweep published right after another, without waiting for the host.
    await addSweep(site, SWEEPS + REPS, REPS + 1);
    await publishSite({ inventory, siteDir: site });
    await addSweep(site, SWEEPS + REPS + 1, REPS + 2);
    const backToBack = await publish();
    // Check the work was really done: the served site has the last sweep's page.
    const res = await fetch(new URL(`sweeps/s${String(SWEEPS + REPS - 1).padStart(4, '0')}/job-0.html`, reports.httpUrl));
    if (res.status !== 200) throw new Error(`the last publish is not served (HTTP ${res.status})`);
    const last = incremental[incremental.length - 1]!;
    if (incremental.some((r) => r.indexUpload !== 'delta')) throw new Error('an incremental publish did not send an index delta');
    if (last.uploadedFiles !== 45) throw new Error(`expected 45 uploaded files (35 new + 10 changed), got ${last.uploadedFiles}`);

    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const rows = [
      ['full publish (first)', String(full.uploadedFiles), kib(full.uploadedBytes), kib(full.wireBytes), kib(full.stateBytes), `${full.ms.toFixed(0)} ms`],
      ['rsync -a --delete (first)', String(fullRsync.files), '', kib(fullRsync.sent), kib(fullRsync.received), `${fullRsync.ms.toFixed(0)} ms`],
      [
        `incremental publish (median of ${REPS})`,
        String(median(incremental.map((r) => r.uploadedFiles))),
        kib(median(incremental.map((r) => r.uploadedBytes))),
        kib(median(incremental.map((r) => r.wireBytes))),
        kib(median(incremental.map((r) => r.stateBytes))),
        `${median(incremental.map((r) => r.ms)).toFixed(0)} ms`,
      ],
      [
        'incremental publish, back-to-back',
        String(backToBack.uploadedFiles),
        kib(backToBack.uploadedBytes),
        kib(backToBack.wireBytes),
        kib(backToBack.stateBytes),
        `${backToBack.ms.toFixed(0)} ms`,
      ],
      [
        `rsync -a --delete incremental (median of ${REPS})`,
        String(median(incRsync.map((r) => r.files))),
        '',
        kib(median(incRsync.map((r) => r.sent))),
        kib(median(incRsync.map((r) => r.received))),
        `${median(incRsync.map((r) => r.ms)).toFixed(0)} ms`,
      ],
    ];
    const header = ['run', 'files sent', 'content', 'bytes sent', 'bytes received', 'time'];
    const table = [
      `site: ${last.totalFiles} files, ${kib(last.totalBytes)}; one more sweep = 35 new + 10 changed files`,
      '',
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
      '',
      `incremental publish sends ${((100 * median(incremental.map((r) => r.wireBytes))) / full.wireBytes).toFixed(2)}% of the full publish's bytes; ` +
        `total traffic (sent + received) ${kib(median(incremental.map((r) => r.wireBytes + r.stateBytes)))} vs rsync ${kib(median(incRsync.map((r) => r.sent + r.received)))}; ` +
        `incremental: index as a ${last.indexUpload}, ${median(incremental.map((r) => r.hashedFiles))} local file(s) hashed (the rest from the hash cache), ${last.compressed ? 'gzip' : 'no gzip'}`,
    ].join('\n');
    return { table, json: { sweeps: SWEEPS, reps: REPS, full, fullRsync, incremental, incRsync, backToBack } };
  } finally {
    // The last publish's background work (prelink, deletions) holds the lock: let it finish first.
    if (lab.reports) {
      try {
        execFileSync('flock', ['-w', '60', join(lab.reports.publishPath, 'releases', '.lock'), 'true']);
      } catch {
        // nothing was published
      }
    }
    await lab.down();
    await rm(work, { recursive: true, force: true });
  }
}

// End to end on the local lab, through the real CLI: the results directory, the sweep lock
// and --resume when things go wrong (issue 14). Real sshd hosts; real filesystems (a tmpfs
// remounted read-only, a small tmpfs filled up mid-sweep).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, statfs, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli, startCli, type CliRun } from './cli-helpers.js';
import { fillUp, remountReadOnly, TmpfsMounts } from '../results/tmpfs.js';
import { fileSizes } from '../support/file-tree.js';

const e2e = suite('results directory, lock and resume end to end');
let lab: Lab;
let work: string;
const mounts = new TmpfsMounts();
const running: CliRun[] = [];

e2e.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'results-dir-e2e-'));
  lab = await labUp({ subnet: 43, hosts: 2, dir: join(work, 'lab'), reports: false });
});
e2e.after(async () => {
  for (const run of running) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  mounts.unmountAll();
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The message as the last line of stderr, whole. */
const lastLine = (text: string) => new RegExp(`(^|\\n)${escape(text)}\\n$`);

function start(args: string[]): CliRun {
  const run = startCli(args);
  running.push(run);
  return run;
}

/** A sysinfo progress line (host text may be marked, e.g. «...», by the renderer). */
const sampling = (host: string, n: number, of: number) => new RegExp(`${host}--sysinfo: sysinfo: \\W?sampling host CPU: ${n} of ${of}\\b`);

/** How many connections each lab host's sshd has logged (LogLevel VERBOSE logs every one). */
async function connections(): Promise<number[]> {
  return Promise.all(lab.hosts.map(async (h) => ((await readFile(h.logFile, 'utf8')).match(/Connection from /g) ?? []).length));
}

e2e('a results directory that is a regular file: exit 2 with the path and the problem, no host contacted', async () => {
  const results = join(work, 'results-is-a-file');
  await writeFile(results, 'someone put a file here\n');
  const inventory = await lab.writeInventory({ file: join(work, 'file.yaml'), resultsDir: results });
  const before = await connections();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 2, stdout + stderr);
  assert.match(stderr, lastLine(`results directory ${results} is a regular file, not a directory; nothing was contacted.`));
  assert.not.match(stderr, /internal error|\n\s+at /);
  assert.is(stdout, '');
  assert.equal(await connections(), before, 'no connection reached any host');
  assert.is(await readFile(results, 'utf8'), 'someone put a file here\n');
});

e2e('a read-only results filesystem (root included): exit 2, nothing created, no host contacted', async () => {
  const disk = await mounts.mount(work, 'ro-results', 128 * 1024 ** 2);
  await mkdir(join(disk, 'results', 'sweeps'), { recursive: true });
  remountReadOnly(disk);
  const results = join(disk, 'results');
  const inventory = await lab.writeInventory({ file: join(work, 'ro.yaml'), resultsDir: results });
  const before = await connections();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 2, stdout + stderr);
  assert.match(stderr, lastLine(`results directory ${results} is on a read-only filesystem (cannot create locks/ in it); nothing was contacted.`));
  assert.not.match(stderr, /internal error|\n\s+at /);
  assert.equal(await connections(), before, 'no connection reached any host');
  assert.equal(await readdir(results), ['sweeps']);
  assert.equal(await readdir(join(results, 'sweeps')), []);
});

e2e('--resume takes a sweep id, never a path: exit 2, nothing read or contacted', async () => {
  const outside = join(work, 'outside');
  await mkdir(outside, { recursive: true });
  const inventory = await lab.writeInventory({ file: join(work, 'resume-path.yaml'), resultsDir: join(work, 'results-resume-path') });
  const before = await connections();
  const { code, stderr } = await runCli(['--inventory', inventory, '--resume', '../../../tmp/x']);
  assert.is(code, 2, stderr);
  assert.match(stderr, /^error: option '--resume <sweep>' argument '\.\.\/\.\.\/\.\.\/tmp\/x' is invalid\. not a sweep id: expected one like 20261122T043000Z-3fa2 \(a directory name under <results_dir>\/sweeps\/\), never a path\n/);
  assert.equal(await connections(), before);
  await stat(join(work, 'results-resume-path')).then(
    () => assert.unreachable('nothing may be created'),
    () => undefined,
  );
});

e2e('a symlink to the inventory, or a copy of it, while it runs: refused with 75; one sweep ran', async () => {
  const results = join(work, 'results-twice');
  // the first sweep samples long enough to still hold the lock while the other two CLIs start and
  // read their inventories (seconds each on a loaded machine); they run side by side
  const inventory = await lab.writeInventory({ file: join(work, 'twice.yaml'), hosts: ['lab-01'], resultsDir: results, scenarios: { sysinfo: { sample_seconds: 20 } } });
  const link = join(work, 'link-to-twice.yaml');
  await symlink(inventory, link);
  const copy = join(work, 'copy-of-twice.yaml');
  await copyFile(inventory, copy);
  const first = start(['--inventory', inventory, '--no-progress']);
  await first.waitFor(sampling('lab-01', 1, 20));
  const [viaLink, viaCopy] = await Promise.all([runCli(['--inventory', link, '--no-progress']), runCli(['--inventory', copy, '--no-progress'])]);
  assert.ok(first.child.exitCode === null, 'the first sweep was still running when both were refused');
  const holder = new RegExp(`(^|\\n)another sweep of ${escape(inventory)} is running \\(pid ${first.child.pid} on \\S+ since \\S+\\) into ${escape(results)}; lock ${escape(join(results, 'locks', 'sweep.lock'))}\\. Not starting\\.\\n$`);
  for (const second of [viaLink, viaCopy]) {
    assert.is(second.code, 75, second.stdout + second.stderr);
    assert.match(second.stderr, holder);
    assert.is(second.stdout, '');
  }
  assert.is(await first.exit, 0, first.stdout() + first.stderr());
  const { sweep } = await onlySweep(results);
  assert.is(sweep.status, 'ok');
  assert.equal(await readdir(join(results, 'locks')), [], 'the lock is gone with its holder');
  const after = await runCli(['--inventory', link, '--no-progress', '--no-report']);
  assert.is(after.code, 0, 'the symlink runs once the first sweep is over');
});

e2e('--resume straight after the sweep was killed with SIGKILL: the dead holder\'s lock is taken at once', async () => {
  const results = join(work, 'results-killed');
  const file = join(work, 'killed.yaml');
  const write = (seconds: number) => lab.writeInventory({ file, resultsDir: results, scenarios: { sysinfo: { sample_seconds: seconds } } });
  const inventory = await write(8);
  const run = start(['--inventory', inventory, '--no-progress']);
  await run.waitFor(sampling('lab-01', 1, 8));
  await run.waitFor(sampling('lab-02', 1, 8));
  run.child.kill('SIGKILL');
  await run.exit;
  const { sweep } = await onlySweep(results);
  assert.is(sweep.status, 'running', 'SIGKILL leaves the last record');
  const lock = JSON.parse(await readFile(join(results, 'locks', 'sweep.lock'), 'utf8')) as { pid: number };
  assert.is(lock.pid, run.child.pid, 'the dead holder\'s lock is still there');

  await write(1);
  const resumed = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--resume', sweep.sweepId]);
  assert.is(resumed.code, 0, `the dead holder's lock is taken at once:\n${resumed.stdout}${resumed.stderr}`);
  assert.not.match(resumed.stderr, /another sweep/);
  const after = await onlySweep(results);
  assert.is(after.sweep.status, 'ok');
  assert.equal(after.sweep.counts, { ok: 2, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 });
  assert.equal(await readdir(join(results, 'locks')), []);
});

e2e('the third SIGINT exits 130 at once, and the sweep and its running jobs are marked interrupted first', async () => {
  const results = join(work, 'results-third');
  const inventory = await lab.writeInventory({ file: join(work, 'third.yaml'), resultsDir: results, scenarios: { sysinfo: { sample_seconds: 60 } } });
  const run = start(['--inventory', inventory, '--no-progress']);
  await run.waitFor(sampling('lab-01', 1, 60));
  await run.waitFor(sampling('lab-02', 1, 60));
  for (let i = 0; i < 3; i++) {
    run.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.is(await run.exit, 130, run.stdout() + run.stderr());
  assert.match(run.stderr(), /SIGINT: exiting now; the sweep is marked interrupted/);
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'interrupted');
  assert.ok(sweep.endedAt);
  assert.ok(sweep.notes.some((n) => /^SIGINT a third time: exited at once/.test(n)), sweep.notes.join('\n'));
  assert.equal(sweep.counts, { ok: 0, failed: 0, unreachable: 0, interrupted: 2, skipped: 0 });
  for (const host of ['lab-01', 'lab-02']) {
    const manifest = await jobManifest(dir, `${host}--sysinfo`);
    assert.is(manifest.status, 'interrupted');
    assert.ok(manifest.errors.some((e) => e.kind === 'interrupted' && /third time/.test(e.message)));
  }
  assert.equal(await readdir(join(results, 'locks')), [], 'the lock and the space reserve were released on the way out');
  assert.equal(await readdir(join(results, 'sweeps')), [sweep.sweepId], 'nothing beside the sweep');
});

e2e('the results disk fills up mid-sweep: no host starts after, nothing left running or empty, exit 74; --resume finishes once space is back', async () => {
  const disk = await mounts.mount(work, 'small-results', 80 * 1024 ** 2);
  const results = join(disk, 'results');
  const file = join(work, 'full.yaml');
  const write = (seconds: number) =>
    lab.writeInventory({ file, resultsDir: results, scenarios: { sysinfo: { sample_seconds: seconds } }, extra: { concurrency: 1 } });
  const inventory = await write(6);
  const run = start(['--inventory', inventory, '--no-progress']);
  await run.waitFor(sampling('lab-01', 1, 6));
  const filler = await fillUp(disk);
  const code = await run.exit;
  assert.is(code, 74, run.stdout() + run.stderr());
  assert.not.match(run.stderr(), /internal error|\n\s+at /);
  const { dir, sweep } = await onlySweep(results);
  assert.match(run.stderr(), /error: the results disk is full \(ENOSPC: no space left on device.*\): no host starts from now on/);
  assert.match(
    run.stderr(),
    new RegExp(`error: the sweep stopped: the results disk is full .*\\.\\n${escape(dir)}/sweep\\.json says aborted; no report was built or published\\.\\nFree space, then re-run what did not finish: orchestrate --inventory ${escape(inventory)} --resume ${sweep.sweepId}\\n`),
  );
  assert.is(sweep.status, 'aborted');
  assert.ok(sweep.endedAt);
  assert.equal(sweep.jobs.map((j) => [j.jobId, j.status]), [['lab-01--sysinfo', 'failed'], ['lab-02--sysinfo', 'skipped']]);
  const note = sweep.notes.find((n) => n.startsWith('stopped: the results disk is full'));
  assert.ok(note, sweep.notes.join('\n'));
  assert.match(note!, /1 job\(s\) whose results could not be written are marked failed; 1 job\(s\) skipped; free space, then --resume /);
  const failed = await jobManifest(dir, 'lab-01--sysinfo');
  assert.is(failed.status, 'failed');
  assert.ok(failed.endedAt);
  assert.equal(failed.errors.at(-1)?.kind, 'results-store');
  assert.match(failed.errors.at(-1)!.message, /the results disk is full/);
  assert.ok(failed.phases.some((p) => p.name === 'provenance' && p.status === 'ok'), 'what was recorded before the disk filled is kept');

  const left = await fileSizes(results);
  for (const [name, size] of left) assert.ok(size > 0, `${name} is empty`);
  assert.not.ok([...left.keys()].some((n) => /\.tmp$|\.reserve$|\.partial/.test(n)), [...left.keys()].join('\n'));
  for (const name of ['sweep.json', 'events.jsonl', 'sweep.log']) assert.ok(left.has(`sweeps/${sweep.sweepId}/${name}`), name);
  for (const line of (await readFile(join(dir, 'events.jsonl'), 'utf8')).trimEnd().split('\n')) JSON.parse(line);
  assert.equal(await readdir(join(results, 'locks')), []);

  await rm(filler);
  await write(1);
  const resumed = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--resume', sweep.sweepId]);
  assert.is(resumed.code, 0, resumed.stdout + resumed.stderr);
  const after = await onlySweep(results);
  assert.is(after.sweep.status, 'ok');
  assert.equal(after.sweep.counts, { ok: 2, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 });
  assert.is((await jobManifest(dir, 'lab-01--sysinfo')).status, 'ok');
  await stat(join(dir, 'attempts/lab-01--sysinfo/1/manifest.json'));
});

e2e('free space falls below the 64 MiB floor mid-sweep: the running job ends ok, no further host starts, exit 74', async () => {
  const disk = await mounts.mount(work, 'shrinking-results', 80 * 1024 ** 2);
  const results = join(disk, 'results');
  const inventory = await lab.writeInventory({
    file: join(work, 'shrinking.yaml'),
    resultsDir: results,
    scenarios: { sysinfo: { sample_seconds: 3 } },
    extra: { concurrency: 1 },
  });
  const run = start(['--inventory', inventory, '--no-progress']);
  await run.waitFor(sampling('lab-01', 1, 3));
  const { bavail, bsize } = await statfs(disk);
  await writeFile(join(disk, 'filler'), Buffer.alloc(bavail * bsize - 16 * 1024 ** 2));
  assert.is(await run.exit, 74, run.stdout() + run.stderr());
  assert.match(run.stderr(), /error: the results disk is nearly full \(\d+\.\d MiB free under .*, below the 64 MiB floor\): no host starts from now on/);
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'aborted');
  assert.equal(sweep.jobs.map((j) => [j.jobId, j.status]), [['lab-01--sysinfo', 'ok'], ['lab-02--sysinfo', 'skipped']]);
  assert.ok(sweep.notes.some((n) => /^stopped: the results disk is nearly full .*; 1 job\(s\) skipped; free space, then --resume /.test(n)), sweep.notes.join('\n'));
  assert.is((await jobManifest(dir, 'lab-01--sysinfo')).status, 'ok', 'the job that was running kept its results');
  await stat(join(dir, 'jobs', 'lab-01--sysinfo', 'metrics.json'));
  assert.not.ok(await stat(join(dir, 'jobs', 'lab-02--sysinfo')).then(() => true, () => false), 'lab-02 never started');
});

e2e.run();

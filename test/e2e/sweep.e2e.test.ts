// End to end on the local lab, through the real CLI: real sshd hosts, real host keys.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { labUp, type Lab } from '../lab/lab.js';
import { fingerprintSha256 } from '../../orchestrator/connectors/ssh/known-hosts.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { SysinfoDocumentSchema } from '../../orchestrator/scenarios/sysinfo.js';
import { jobManifest, onlySweep, runCli, startCli } from './cli-helpers.js';

const e2e = suite('sweep end to end');
let lab: Lab;
let work: string;
let oldKeyOfLab06 = '';

const keyFingerprint = (publicKeyLine: string) => fingerprintSha256(Buffer.from(publicKeyLine.trim().split(/\s+/)[1]!, 'base64'));

e2e.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'sweep-e2e-'));
  lab = await labUp({ subnet: 21, hosts: 6, dir: join(work, 'lab') });
  oldKeyOfLab06 = lab.hosts.find((h) => h.name === 'lab-06')!.hostPublicKey;
});
e2e.after(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

e2e('a sweep over six hosts, one down and one with a changed host key: the others complete, exit 1, nothing lost', async () => {
  await lab.stopHost('lab-05');
  const newKey = await lab.rotateHostKey('lab-06');
  const knownHostsBefore = await readFile(lab.knownHostsFile, 'utf8');
  const results = join(work, 'results-mixed');
  const inventory = await lab.writeInventory({ file: join(work, 'mixed.yaml'), resultsDir: results, defaults: { retries: 1 } });

  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 1, `${stdout}\n${stderr}`);
  assert.match(stdout, /lab-05: UNREACHABLE: .*connection refused/);
  assert.match(stdout, /lab-06: UNREACHABLE: .*host key/i);

  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'failed');
  assert.equal(sweep.counts, { ok: 4, failed: 0, unreachable: 2, interrupted: 0, skipped: 0 });

  const down = await jobManifest(dir, 'lab-05--sysinfo');
  assert.is(down.status, 'unreachable');
  assert.is(down.errors[0]?.kind, 'connect-refused');

  const changed = await jobManifest(dir, 'lab-06--sysinfo');
  assert.is(changed.status, 'unreachable');
  assert.is(changed.errors[0]?.kind, 'connect-host-key-changed');
  assert.ok(changed.errors[0]!.message.includes(keyFingerprint(oldKeyOfLab06)), 'shows the known fingerprint');
  assert.ok(changed.errors[0]!.message.includes(keyFingerprint(newKey)), 'shows the presented fingerprint');
  assert.is(await readFile(lab.knownHostsFile, 'utf8'), knownHostsBefore, 'known_hosts untouched');

  const kernel = execFileSync('uname', ['-r']).toString().trim();
  for (const host of ['lab-01', 'lab-02', 'lab-03', 'lab-04']) {
    const jobDir = join(dir, 'jobs', `${host}--sysinfo`);
    const manifest = await jobManifest(dir, `${host}--sysinfo`);
    assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
    assert.equal(manifest.phases.map((p) => [p.name, p.status]), [['provenance', 'ok'], ['sysinfo', 'ok']]);
    assert.is(manifest.environment?.kernel.release, kernel);
    assert.is(manifest.artifacts?.status, 'complete');
    const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(jobDir, 'metrics.json'), 'utf8')));
    assert.ok(metrics.samples.some((s) => s.metric === 'cpu.logical' && s.value >= 1));
    SysinfoDocumentSchema.parse(JSON.parse(await readFile(join(jobDir, 'raw/artifacts/sysinfo.json'), 'utf8')));
    await stat(join(jobDir, 'raw/phases/sysinfo/output.log'));
    assert.match(await readFile(join(jobDir, 'orchestrator.log'), 'utf8'), /phase sysinfo ok/);
    // a job collected whole leaves nothing of it on its host (not even its sweep's directory)
    const hostJobs = join(lab.hosts.find((h) => h.name === host)!.home, '.orchestrate', 'jobs');
    assert.equal(await readdir(hostJobs), [], `${hostJobs} after the sweep`);
  }
  await lab.startHost('lab-05');
});

e2e('a cut connection in the middle of a phase: the orchestrator re-attaches and the job completes with its results', async () => {
  const results = join(work, 'results-cut');
  const inventory = await lab.writeInventory({
    file: join(work, 'cut.yaml'),
    hosts: ['lab-01', 'lab-02'],
    resultsDir: results,
    scenarios: { sysinfo: { sample_seconds: 4 } },
  });
  const run = startCli(['--inventory', inventory, '--no-progress']);
  await run.waitFor(/lab-01: lab-01--sysinfo: sysinfo: «sampling host CPU: 1 of 4/);
  const killed = await lab.killSessions('lab-01');
  assert.ok(killed >= 1, 'killed the session server process');
  const code = await run.exit;
  assert.is(code, 0, `${run.stdout()}\n${run.stderr()}`);
  assert.match(run.stdout(), /lab-01: lab-01--sysinfo: sysinfo: connection lost .*reconnecting/);
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, 'lab-01--sysinfo');
  assert.is(manifest.status, 'ok');
  const phase = manifest.phases.find((p) => p.name === 'sysinfo')!;
  assert.ok(phase.reattached >= 1, `reattached ${phase.reattached}`);
  const samples = (await readFile(join(dir, 'jobs/lab-01--sysinfo/raw/artifacts/cpu-busy.jsonl'), 'utf8')).trim().split('\n');
  assert.is(samples.length, 4, 'every sample survived the cut');
  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(dir, 'jobs/lab-01--sysinfo/metrics.json'), 'utf8')));
  assert.is(metrics.series[0]?.points.length, 4);
});

e2e('SIGTERM: phases are stopped and torn down, partial results kept and marked interrupted, exit 130', async () => {
  const results = join(work, 'results-interrupt');
  const inventory = await lab.writeInventory({
    file: join(work, 'interrupt.yaml'),
    hosts: ['lab-01', 'lab-02'],
    resultsDir: results,
    scenarios: { sysinfo: { sample_seconds: 60 } },
  });
  const run = startCli(['--inventory', inventory, '--no-progress']);
  await run.waitFor(/lab-01--sysinfo: sysinfo: «sampling host CPU: 2 of 60/);
  await run.waitFor(/lab-02--sysinfo: sysinfo: «sampling host CPU: 2 of 60/);
  const started = Date.now();
  run.child.kill('SIGTERM');
  const code = await run.exit;
  assert.is(code, 130, run.stdout() + run.stderr());
  assert.ok(Date.now() - started < 20_000, 'stopped promptly');
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'interrupted');
  for (const host of ['lab-01', 'lab-02']) {
    const manifest = await jobManifest(dir, `${host}--sysinfo`);
    assert.is(manifest.status, 'interrupted');
    assert.is(manifest.phases.find((p) => p.name === 'sysinfo')?.status, 'interrupted');
    const partial = (await readFile(join(dir, 'jobs', `${host}--sysinfo`, 'raw/artifacts/cpu-busy.jsonl'), 'utf8')).trim().split('\n');
    assert.ok(partial.length >= 2 && partial.length < 60, `kept ${partial.length} samples`);
    const helperPid = Number((await readFile(join(dir, 'jobs', `${host}--sysinfo`, 'raw/phases/sysinfo/helper.pid'), 'utf8')).trim().split(' ')[0]);
    assert.ok(helperPid > 0, 'helper.pid holds "PID STARTTIME"');
    assert.not.ok(await stat(`/proc/${helperPid}`).then(() => true, () => false), `${host}'s phase process is gone`);
  }
});

e2e('check prints a table and exits 1 when a host does not answer; --plan connects to nothing', async () => {
  const inventory = await lab.writeInventory({ file: join(work, 'check.yaml'), hosts: ['lab-01', 'lab-02', 'lab-03'], resultsDir: join(work, 'results-check'), defaults: { retries: 0 } });
  await lab.stopHost('lab-03');
  const check = await runCli(['check', '--inventory', inventory]);
  assert.is(check.code, 1, check.stdout + check.stderr);
  assert.match(check.stdout, /HOST\s+ENDPOINT\s+STATUS/);
  assert.match(check.stdout, /lab-01\s+root@127\.66\.21\.10:2222\s+ok/);
  assert.match(check.stdout, /lab-03\s+root@127\.66\.21\.12:2222\s+FAILED\s+\d+ ms\s+connection refused/);
  const plan = await runCli(['--inventory', inventory, '--plan', '--limit', 'lab-0[12]'.replace('[12]', '*'), '!lab-02']);
  assert.is(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /lab-01--sysinfo/);
  assert.not.match(plan.stdout, /lab-02--sysinfo/);
  assert.match(plan.stdout, /2 job\(s\) on 2 host\(s\)|job\(s\) on/);
  await stat(join(work, 'results-check')).then(
    () => assert.unreachable('--plan must not create results'),
    () => undefined,
  );
  await lab.startHost('lab-03');
});

e2e('a malformed inventory exits 2 with file:line:column before touching any host', async () => {
  const bad = join(work, 'bad.yaml');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(bad, 'hosts:\n  lab-01:\n    adress: 127.66.21.10\n    port: many\n');
  const { code, stderr } = await runCli(['--inventory', bad]);
  assert.is(code, 2);
  assert.match(stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:5: .*adress.*address`));
  assert.match(stderr, /:4:11: /);
});

e2e('two sweeps of one inventory started together: one runs, the other exits 75 at once', async () => {
  const inventory = await lab.writeInventory({
    file: join(work, 'lock.yaml'),
    hosts: ['lab-01'],
    resultsDir: join(work, 'results-lock'),
    scenarios: { sysinfo: { sample_seconds: 3 } },
  });
  const first = startCli(['--inventory', inventory, '--no-progress']);
  const second = startCli(['--inventory', inventory, '--no-progress']);
  const codes = await Promise.all([first.exit, second.exit]);
  assert.equal([...codes].sort(), [0, 75], `${first.stdout()}${first.stderr()}\n${second.stdout()}${second.stderr()}`);
  const loser = codes[0] === 75 ? first : second;
  assert.match(loser.stderr(), /another sweep of .*lock\.yaml is running .*Not starting/);
  const again = await runCli(['--inventory', inventory, '--no-progress', '--scenario', 'sysinfo']);
  assert.is(again.code, 0, 'the lock is released when a sweep ends');
});

e2e('an interrupted sweep resumes into the same sweep and re-runs only the jobs that had not finished', async () => {
  const results = join(work, 'results-resume');
  const file = join(work, 'resume.yaml');
  const write = (seconds: number) =>
    lab.writeInventory({ file, hosts: ['lab-01', 'lab-02'], resultsDir: results, hostExtra: { 'lab-02': { scenarios: { sysinfo: { sample_seconds: seconds } } } } });
  const inventory = await write(60);
  const run = startCli(['--inventory', inventory, '--no-progress']);
  await run.waitFor(/job lab-01--sysinfo OK/);
  await run.waitFor(/lab-02--sysinfo: sysinfo: «sampling host CPU: 1 of 60/);
  run.child.kill('SIGTERM');
  assert.is(await run.exit, 130);
  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'interrupted');
  const before = await jobManifest(dir, 'lab-01--sysinfo');

  await write(1);
  const resumed = await runCli(['--inventory', inventory, '--no-progress', '--resume', sweep.sweepId]);
  assert.is(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.not.match(resumed.stdout, /job lab-01--sysinfo/, 'the finished job is not re-run');
  const after = await onlySweep(results);
  assert.is(after.dir, dir, 'same sweep');
  assert.is(after.sweep.status, 'ok');
  assert.equal(after.sweep.counts, { ok: 2, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 });
  assert.ok(after.sweep.notes.some((n) => n.startsWith('resumed at')));
  assert.equal(await jobManifest(dir, 'lab-01--sysinfo'), before, 'lab-01 untouched');
  assert.is((await jobManifest(dir, 'lab-02--sysinfo')).status, 'ok');
  await stat(join(dir, 'attempts/lab-02--sysinfo/1/manifest.json'));
  assert.match(await readFile(join(dir, 'sweep.log'), 'utf8'), /resumed|lab-02--sysinfo OK/);
  const nothing = await runCli(['--inventory', inventory, '--resume', sweep.sweepId]);
  assert.is(nothing.code, 0);
  assert.match(nothing.stdout, /nothing to resume/);
});

e2e('the failure budget stops starting hosts once exceeded; those jobs are skipped, exit 1', async () => {
  await lab.stopHost('lab-05');
  const results = join(work, 'results-budget');
  const inventory = await lab.writeInventory({
    file: join(work, 'budget.yaml'),
    hosts: ['lab-05', 'lab-01', 'lab-02'],
    resultsDir: results,
    defaults: { retries: 0 },
    extra: { concurrency: 1, failure_budget: 0 },
  });
  const { code, stdout } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 1, stdout);
  assert.match(stdout, /failure budget exceeded/);
  const { sweep } = await onlySweep(results);
  assert.is(sweep.status, 'aborted');
  assert.equal(sweep.counts, { ok: 0, failed: 0, unreachable: 1, interrupted: 0, skipped: 2 });
  await lab.startHost('lab-05');
});

e2e('the nightly loop: sweep, report, publish (served), drop-off archive then marker, retention prunes raw', async () => {
  const reports = lab.reports!;
  const incoming = join(work, 'incoming');
  const results = join(work, 'results-nightly');
  const inventory = await lab.writeInventory({
    file: join(work, 'nightly.yaml'),
    hosts: ['lab-01', 'lab-02'],
    resultsDir: results,
    extra: {
      reports: { host: reports.name, path: reports.publishPath, url: reports.httpUrl, incoming },
      retention: { keep_raw_days: 0 },
    },
  });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 0, stdout + stderr);
  const { dir, sweep } = await onlySweep(results);
  assert.match(stdout, new RegExp(`published: r\\d+-\\S+ \\(\\d+ file\\(s\\) uploaded\\) at ${reports.httpUrl.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const page = await fetch(reports.httpUrl);
  assert.is(page.status, 200);
  assert.match(await page.text(), new RegExp(sweep.sweepId));
  const archive = join(incoming, `${sweep.sweepId}.tar.gz`);
  const archiveStat = await stat(archive);
  const markerStat = await stat(`${archive}.done`);
  assert.is(markerStat.size, 0);
  assert.ok(markerStat.mtimeMs >= archiveStat.mtimeMs, 'the marker comes after the archive');
  const listing = execFileSync('tar', ['-tzf', archive]).toString();
  assert.match(listing, /jobs\/lab-01--sysinfo\/raw\/artifacts\/sysinfo\.json/, 'the archive was made before pruning');
  for (const host of ['lab-01', 'lab-02']) {
    const jobDir = join(dir, 'jobs', `${host}--sysinfo`);
    assert.not.ok(await stat(join(jobDir, 'raw')).then(() => true, () => false), 'raw pruned');
    await stat(join(jobDir, 'pruned.json'));
    assert.is((await jobManifest(dir, `${host}--sysinfo`)).status, 'ok', 'manifest kept');
    await stat(join(jobDir, 'metrics.json'));
  }
  assert.match(stdout, /pruned: raw artifacts of 2 job\(s\)/);
});

e2e.run();

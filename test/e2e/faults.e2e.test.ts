// Host faults end to end on the lab, through the real CLI: a host whose tar stalls while it
// sends the artifacts, a host tool that forges a phase's success, and the processes a job
// leaves behind on its host. Each asserts the exit status, the message, and what is left on
// disk here and on the host.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { remoteLayout } from '../../orchestrator/remote/layout.js';
import { jobManifest, onlySweep, runCli, startCli } from './cli-helpers.js';

const faults = suite('host faults end to end');
let lab: Lab;
let work: string;

faults.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'faults-e2e-'));
  lab = await labUp({ subnet: 47, hosts: 2, dir: join(work, 'lab'), reports: false });
});
faults.after(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

/** A tar that, asked to write the job's archive, sends 3000 bytes and then nothing, forever. */
const STALLING_TAR = `
if [[ " $* " == *" -cf - artifacts phases "* ]]; then
  filler=$(mktemp -d)
  head -c 1000000 /dev/urandom >"$filler/filler"
  /usr/bin/tar -C "$filler" -cf - filler | head -c 3000
  rm -rf "$filler"
  exec sleep 100000
fi
exec /usr/bin/tar "$@"`;

/** Processes on this machine (the lab's hosts live here) whose environment holds ENTRY. */
async function processesWith(entry: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (!environ.split('\0').some((e) => e === entry || e.startsWith(entry))) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ').trim()}`);
  }
  return found;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

faults('a host that stalls while sending its artifacts: the job fails with the reason, the other host completes, the sweep ends and leaves nothing running', async () => {
  const stalled = lab.hosts[0]!;
  await lab.shadowTools(stalled.name, { tar: STALLING_TAR });
  try {
    const results = join(work, 'results-stall');
    const inventory = await lab.writeInventory({ file: join(work, 'stall.yaml'), resultsDir: results, defaults: { timeouts: { stall: '3s' } } });
    const started = Date.now();
    const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
    const took = Date.now() - started;
    assert.is(code, 1, stdout + stderr);
    assert.ok(took < 45_000, `ended in ${took} ms`);
    const { dir, sweep } = await onlySweep(results);
    assert.is(sweep.status, 'failed');
    assert.equal(sweep.counts, { ok: 1, failed: 1, unreachable: 0, interrupted: 0, skipped: 0 });
    const job = await jobManifest(dir, `${stalled.name}--sysinfo`);
    assert.is(job.status, 'failed');
    assert.equal(job.phases.map((p) => [p.name, p.status]), [['provenance', 'ok'], ['sysinfo', 'ok']]);
    assert.is(job.artifacts?.status, 'missing');
    assert.match(job.errors.map((e) => e.message).join('\n'), new RegExp(`artifact stream from ${stalled.name} stalled: no byte for 3 s after 3000 bytes`));
    assert.is((await jobManifest(dir, `${lab.hosts[1]!.name}--sysinfo`)).status, 'ok');
    // The host keeps its copy (nothing arrived), and its stalled tar is gone.
    const remoteJob = join(stalled.home, remoteLayout('.orchestrate').jobDir(sweep.sweepId, `${stalled.name}--sysinfo`));
    assert.ok(await exists(join(remoteJob, 'phases', 'sysinfo', 'rc')), 'the host kept the job it could not send');
    assert.equal(await processesWith(`PATH=${stalled.home}/shadow-bin:`), [], 'no host-side process of the collection is left');
    // The lock was released: the next sweep of the same inventory runs.
    await lab.shadowTools(stalled.name, null);
    const next = await runCli(['--inventory', inventory, '--no-progress', '--limit', stalled.name]);
    assert.is(next.code, 0, next.stdout + next.stderr);
  } finally {
    await lab.shadowTools(stalled.name, null);
  }
});

faults('an interrupt during a stalled collection ends the sweep within seconds, interrupted, with the lock released', async () => {
  const stalled = lab.hosts[0]!;
  await lab.shadowTools(stalled.name, { tar: STALLING_TAR });
  try {
    const results = join(work, 'results-stall-int');
    const inventory = await lab.writeInventory({ file: join(work, 'stall-int.yaml'), hosts: [stalled.name], resultsDir: results, defaults: { timeouts: { stall: '10m' } } });
    const run = startCli(['--inventory', inventory, '--no-progress']);
    await run.waitFor(/phase sysinfo ok/i);
    await new Promise((r) => setTimeout(r, 1500));
    const interruptedAt = Date.now();
    run.child.kill('SIGINT');
    const code = await run.exit;
    const took = Date.now() - interruptedAt;
    assert.is(code, 130, run.stdout() + run.stderr());
    assert.ok(took < 20_000, `stopped ${took} ms after the interrupt`);
    const { dir, sweep } = await onlySweep(results);
    assert.is(sweep.status, 'interrupted');
    const job = await jobManifest(dir, `${stalled.name}--sysinfo`);
    assert.is(job.status, 'interrupted');
    assert.match(job.errors.map((e) => e.message).join('\n'), /stalled: no byte for 10 s/);
    assert.equal(await processesWith(`PATH=${stalled.home}/shadow-bin:`), [], 'no host-side process of the collection is left');
    await lab.shadowTools(stalled.name, null);
    const next = await runCli(['--inventory', inventory, '--no-progress']);
    assert.is(next.code, 0, `the lock was released: ${next.stdout}${next.stderr}`);
  } finally {
    await lab.shadowTools(stalled.name, null);
  }
});

faults('a host tool that writes a success exit event and then fails: the phase is recorded failed with the status its supervisor recorded', async () => {
  const host = lab.hosts[1]!;
  // sysinfo's `mv` of sysinfo.json into place runs under set -e: this mv claims the phase
  // succeeded on the events stream it inherited (fd 3), then fails with 3. (Only that mv:
  // the agent's own mv of rc, with the same environment, goes through.)
  await lab.shadowTools(host.name, {
    mv: `if [[ \${ORCH_PHASE:-} == sysinfo && \${!#} == */sysinfo.json ]]; then
  printf '%s\\n' '{"kind":"exit","code":0,"timed_out":false}' '{"kind":"rc","code":0,"timed_out":false}' >&3
  printf '%s\\n' '{"kind":"rc","code":0,"timed_out":false}' >&2
  exit 3
fi
exec /usr/bin/mv "$@"`,
  });
  try {
    const results = join(work, 'results-forged');
    const inventory = await lab.writeInventory({ file: join(work, 'forged.yaml'), hosts: [host.name], resultsDir: results });
    const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
    assert.is(code, 1, stdout + stderr);
    const { dir } = await onlySweep(results);
    const job = await jobManifest(dir, `${host.name}--sysinfo`);
    assert.is(job.status, 'failed');
    const phase = job.phases.find((p) => p.name === 'sysinfo')!;
    assert.equal([phase.status, phase.exitCode], ['failed', 3]);
    assert.is((await readFile(join(dir, 'jobs', `${host.name}--sysinfo`, 'raw/phases/sysinfo/rc'), 'utf8')).trim(), '3');
    const log = await readFile(join(dir, 'jobs', `${host.name}--sysinfo`, 'orchestrator.log'), 'utf8');
    assert.match(log, /ignored a malformed event line/, `the forged lines are reported, not believed:\n${log}`);
    assert.match(log, /phase sysinfo failed/i);
  } finally {
    await lab.shadowTools(host.name, null);
  }
});

faults('after a sweep, no process of it is left on its hosts', async () => {
  const results = join(work, 'results-orphans');
  const inventory = await lab.writeInventory({ file: join(work, 'orphans.yaml'), resultsDir: results, scenarios: { sysinfo: { sample_seconds: 1 } } });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 0, stdout + stderr);
  const { sweep } = await onlySweep(results);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await processesWith(`ORCH_SWEEP_ID=${sweep.sweepId}`), [], 'every phase process, watchdog and sleep is gone');
});

faults.run();

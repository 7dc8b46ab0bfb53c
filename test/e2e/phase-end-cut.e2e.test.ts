// A phase is reported ok only once its exit status is durable on the host and read back
// (issue 13): on the lab (a real sshd), through the real CLI, the connection is cut at each
// step of a phase's end, and the status recorded for the phase must be the host's rc.
//
// The cut points are the agent's test-only pause points (ORCH_TEST_PAUSE, passed as a host
// var, reaches the agent in the environment every phase gets): at the point the agent
// creates `pause.<point>` in the host's job directory and waits for `pause.<point>.release`;
// the test kills the sshd processes of the connection (lab.killSessions: the commands live
// on, as on a cut network) and then releases it.
//   before-rc     the helper has exited, its rc is not written yet
//   after-rc      rc is written and fsync-ed, the follower has not read it (the supervisor
//                 has not exited)
//   after-status  the follower has printed the status, the orchestrator has not recorded it
//                 (the channel is still open)
//   collect       the artifacts are sent, tar's status and the verdict are not
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab, type LabHost } from '../lab/lab.js';
import { jobManifest, startCli } from './cli-helpers.js';
import type { JobManifest } from '../../orchestrator/results/manifest.js';
import { remoteLayout } from '../../orchestrator/remote/layout.js';

const e2e = suite('a cut at every step of a phase end');
let lab: Lab;
let work: string;
let host: LabHost;

e2e.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'phase-end-cut-'));
  lab = await labUp({ subnet: 111, hosts: 1, dir: join(work, 'lab'), reports: false });
  host = lab.hosts[0]!;
});
e2e.after(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

const exists = (path: string) => stat(path).then(() => true, () => false);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A findmnt that kills the sysinfo helper (its parent) with SIGUSR1: the phase ends 138. */
const KILLING_FINDMNT = `kill -USR1 "$PPID"; exit 0`;

/** The host's job directory of this sweep (found once the agent made it). */
async function hostJobDir(resultsSweepId: () => Promise<string | undefined>): Promise<string | undefined> {
  const sweepId = await resultsSweepId();
  return sweepId ? join(host.home, remoteLayout('.orchestrate').jobDir(sweepId, `${host.name}--sysinfo`)) : undefined;
}

/** The one sweep id under DIR (not the results-dir check's write probe, which also passes there). */
async function onlySweepId(dir: string): Promise<string | undefined> {
  const entries = (await readdir(dir).catch(() => [] as string[])).filter((name) => /^\d{8}T\d{6}Z-/.test(name));
  return entries.length === 1 ? entries[0] : undefined;
}

interface CutRun {
  code: number | null;
  output: string;
  manifest: JobManifest;
  /** The rc the host recorded: its own copy when it kept the job, else the copy collected from it. */
  hostRc: string | null;
  keptOnHost: boolean;
  cuts: number;
}

async function sweepWithCutAt(point: string, name: string): Promise<CutRun> {
  const results = join(work, `results-${name}`);
  const inventory = await lab.writeInventory({
    file: join(work, `${name}.yaml`),
    resultsDir: results,
    defaults: { retries: 3, vars: { ORCH_TEST_PAUSE: point } },
  });
  const run = startCli(['--inventory', inventory, '--no-progress']);
  const sweepId = async () => onlySweepId(join(results, 'sweeps'));
  let cuts = 0;
  let jobDir: string | undefined;
  // Wait for the agent to reach the point, cut, release (a generous limit: the machine is shared).
  const started = Date.now();
  const deadline = started + 180_000;
  for (;;) {
    if (Date.now() > deadline) {
      const state = await readFile(`/proc/${run.child.pid}/stat`, 'utf8').catch(() => 'gone');
      throw new Error(`the agent never reached ${point} in ${Date.now() - started} ms (CLI ${state.slice(0, 80)}; job dir ${jobDir ?? 'not made'}: ${jobDir ? (await readdir(jobDir).catch(() => [])).join(' ') : ''}):\n${run.stdout()}\n${run.stderr()}`);
    }
    jobDir ??= await hostJobDir(sweepId);
    if (jobDir && (await exists(join(jobDir, `pause.${point}`)))) break;
    if (run.child.exitCode !== null) throw new Error(`the sweep ended before ${point}:\n${run.stdout()}\n${run.stderr()}`);
    await sleep(100);
  }
  cuts = await lab.killSessions(host.name);
  await writeFile(join(jobDir!, `pause.${point}.release`), '');
  const code = await run.exit;
  const sweepDir = join(results, 'sweeps', (await sweepId())!);
  const manifest = await jobManifest(sweepDir, `${host.name}--sysinfo`);
  const keptOnHost = await exists(jobDir!);
  const rcFile = keptOnHost ? join(jobDir!, 'phases/sysinfo/rc') : join(sweepDir, 'jobs', `${host.name}--sysinfo`, 'raw/phases/sysinfo/rc');
  const hostRc = await readFile(rcFile, 'utf8').then((t) => t.trim(), () => null);
  return { code, output: run.stdout() + run.stderr(), manifest, hostRc, keptOnHost, cuts };
}

/** The rule: a phase recorded with an exit status has exactly the host's rc; ok only with rc 0. */
function assertMatchesHost(result: CutRun, expectedRc: number): void {
  const phase = result.manifest.phases.find((p) => p.name === 'sysinfo')!;
  const why = `${JSON.stringify(phase)}\nhost rc ${result.hostRc}\n${result.output}`;
  assert.ok(result.cuts >= 1, 'the connection was cut');
  assert.is(result.hostRc, String(expectedRc), `the host recorded ${expectedRc}: ${why}`);
  if (phase.status === 'ok') {
    assert.is(result.hostRc, '0', `ok only with the host's rc 0: ${why}`);
  }
  if (phase.exitCode !== null) assert.is(String(phase.exitCode), result.hostRc, `recorded exit status = host's rc: ${why}`);
  else assert.ok(['lost', 'failed', 'timed-out'].includes(phase.status), `no exit status, so not ok: ${why}`);
}

for (const point of ['before-rc', 'after-rc', 'after-status']) {
  e2e(`cut at ${point}: the phase re-attaches and records the host's rc 0 as ok`, async () => {
    await lab.shadowTools(host.name, null);
    const result = await sweepWithCutAt(point, `${point}-ok`);
    assertMatchesHost(result, 0);
    const phase = result.manifest.phases.find((p) => p.name === 'sysinfo')!;
    assert.is(phase.status, 'ok', result.output);
    assert.ok(phase.reattached >= 1, `re-attached after the cut: ${JSON.stringify(phase)}`);
    assert.is(result.manifest.status, 'ok', JSON.stringify(result.manifest.errors));
    assert.is(result.code, 0, result.output);
  });

  e2e(`cut at ${point}: a failing helper's status 138 is recorded, never ok`, async () => {
    await lab.shadowTools(host.name, { findmnt: KILLING_FINDMNT });
    try {
      const result = await sweepWithCutAt(point, `${point}-failed`);
      assertMatchesHost(result, 138);
      const phase = result.manifest.phases.find((p) => p.name === 'sysinfo')!;
      assert.is(phase.status, 'failed', result.output);
      assert.is(phase.exitCode, 138);
      assert.is(result.manifest.status, 'failed');
      assert.is(result.code, 1, result.output);
    } finally {
      await lab.shadowTools(host.name, null);
    }
  });
}

e2e("cut during collection: the job fails on the lost stream, the phase keeps the host's rc, the host keeps its copy", async () => {
  await lab.shadowTools(host.name, null);
  const result = await sweepWithCutAt('collect', 'collect-ok');
  assertMatchesHost(result, 0);
  assert.ok(result.keptOnHost, 'the host keeps the job it could not finish sending');
  assert.is(result.manifest.status, 'failed');
  assert.match(result.manifest.errors.map((e) => e.message).join('\n'), /artifact collection|connection/);
  assert.is(result.code, 1, result.output);
});

e2e.run();

// The agent protocol, run for real on this machine (no SSH in between): phases start
// detached, report JSON lines, honour timeouts with teardown, re-attach from an offset,
// report a killed supervisor as lost, and hand back their state as a tar stream.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { cp, mkdtemp, readFile, rm, stat, access, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentStatusIn, parseRemoteEventLine, type AgentStatus, type RemoteEvent } from '../../orchestrator/remote/remote-events.js';
import { SysinfoDocumentSchema } from '../../orchestrator/scenarios/sysinfo.js';
import { ProvenanceSchema } from '../../orchestrator/results/provenance.js';
import { handoverRequest } from '../../orchestrator/remote/phase-handover.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const agentTest = suite('orchestrate-agent');

let bundle = '';
let work = '';

agentTest.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'agent-test-'));
  bundle = join(work, 'bundle');
  await cp(join(root, 'remote-scripts'), join(bundle, 'remote-scripts'), { recursive: true });
  for (const helper of ['test-sleeper', 'test-exit', 'test-liar']) {
    await cp(join(root, 'test/fixtures/helpers', helper), join(bundle, 'remote-scripts', helper));
  }
});
agentTest.after(async () => {
  await rm(work, { recursive: true, force: true });
});

type PhaseRun = { events: RemoteEvent[]; bytes: number; stderr: string; status: AgentStatus | undefined; problems: string[] };

/** Runs `agent run` to its end, like the orchestrator: events from stdout, the status from stderr. */
function runPhase(jobDir: string, phase: string, timeoutS: number, offset: number, helper: string[], env: Record<string, string> = {}): Promise<PhaseRun> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(bundle, 'remote-scripts/orchestrate-agent'), bundle, 'run', jobDir, phase, String(timeoutS), String(offset), '--', ...helper], {
      env: { ...process.env, ORCH_KILL_GRACE: '2', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: RemoteEvent[] = [];
    const problems: string[] = [];
    let buffer = '';
    let bytes = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        bytes += Buffer.byteLength(line) + 1;
        const parsed = parseRemoteEventLine(line);
        if (parsed.ok) events.push(parsed.event);
        else problems.push(`${line}: ${parsed.problem}`);
      }
    });
    child.on('close', () => resolve({ events, bytes, stderr, status: agentStatusIn(stderr, ['rc', 'lost'] as const), problems }));
  });
}

const exitOf = (run: PhaseRun) => (run.status?.kind === 'rc' ? run.status : undefined);

agentTest('sysinfo runs detached and writes a valid sysinfo.json, without collecting provenance again', async () => {
  const job = join(work, 'jobs/sysinfo');
  const sysinfo = await runPhase(job, 'sysinfo', 60, 0, ['sysinfo']);
  assert.is(sysinfo.events[0]?.kind, 'start');
  assert.ok(sysinfo.events.some((e) => e.kind === 'progress'));
  assert.is(exitOf(sysinfo)?.code, 0, sysinfo.stderr);
  const doc = SysinfoDocumentSchema.parse(JSON.parse(await readFile(join(job, 'artifacts/sysinfo.json'), 'utf8')));
  assert.is(doc.provenance, undefined, 'the host record is collected once per sweep, not by sysinfo');
  assert.is(doc.logical_cpus, Number((await run('nproc')).stdout.trim()));
  assert.ok((doc.meminfo_kb['MemTotal'] ?? 0) > 0);
});

/** Runs the agent's provenance verb with a cache dir beside the bundle. */
async function provenanceVerb(env: Record<string, string> = {}): Promise<{ stdout: string; record: ReturnType<typeof ProvenanceSchema.parse> }> {
  const { stdout } = await run('bash', [join(bundle, 'remote-scripts/orchestrate-agent'), bundle, 'provenance'], { env: { ...process.env, ...env } });
  return { stdout, record: ProvenanceSchema.parse(JSON.parse(stdout)) };
}

agentTest('provenance: the host record matches the host, and is reused while boot, package list and package database are unchanged', async () => {
  const cache = join(work, 'cache/provenance.json');
  await rm(cache, { force: true });
  const first = await provenanceVerb();
  assert.is(first.record.kernel.release, (await run('uname', ['-r'])).stdout.trim());
  assert.is(first.record.kernel.machine, (await run('uname', ['-m'])).stdout.trim());
  assert.is(first.record.kernel.version, (await run('uname', ['-v'])).stdout.trim());
  assert.is(first.record.hostname, (await run('uname', ['-n'])).stdout.trim());
  assert.is(first.record.cpu.logical_cpus, Number((await run('nproc')).stdout.trim()));
  assert.is(first.record.boot_id, (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim());
  const dpkg = (await run('dpkg-query', ['-W', '-f=${Version}', 'bash'])).stdout.trim();
  const withBash = await provenanceVerb({ ORCH_PACKAGES: 'bash' });
  assert.is(withBash.record.packages['bash'], dpkg, 'another package list is another key: collected afresh');
  assert.ok(withBash.record.collected_at! > first.record.collected_at!);
  const again = await provenanceVerb({ ORCH_PACKAGES: 'bash' });
  assert.is(again.stdout, withBash.stdout, 'unchanged host: the same record, collected_at included');
  // A cache older than the package database (a package was installed since) is stale.
  await run('touch', ['-d', '2001-01-01', cache]);
  const refreshed = await provenanceVerb({ ORCH_PACKAGES: 'bash' });
  assert.ok(refreshed.record.collected_at! > again.record.collected_at!, 'collected afresh after the package database changed');
});

/** `provenance --handover` with `input` on its stdin (then end of input): its stdout, stderr and exit status. */
function handover(input: Buffer): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(bundle, 'remote-scripts/orchestrate-agent'), bundle, 'provenance', '--handover'], { env: { ...process.env, ORCH_KILL_GRACE: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(input);
  });
}

agentTest('provenance --handover: the record, then the run asked for on stdin in the same process, with its environment; end of input ends it', async () => {
  const job = join(work, 'jobs/handover');
  // An environment entry the helper reads: sysinfo refuses a sample length that is not whole seconds.
  const ran = await handover(handoverRequest({ SYSINFO_SAMPLE_SECONDS: 'not seconds', ORCH_HOST: 'h' }, [job, 'p', '60', '0', '--', 'sysinfo']));
  const [record, ...events] = ran.stdout.trimEnd().split('\n');
  ProvenanceSchema.parse(JSON.parse(record!));
  assert.ok(events.map((line) => parseRemoteEventLine(line)).every((e) => e.ok), ran.stdout);
  const status = agentStatusIn(ran.stderr, ['rc'] as const);
  assert.ok(status && status.code !== 0, `the helper ran with the request's environment and failed on it: ${ran.stderr}`);
  assert.match(await readFile(join(job, 'phases/p/output.log'), 'utf8'), /SYSINFO_SAMPLE_SECONDS must be whole seconds/);
  assert.is((await readFile(join(job, 'phases/p/rc'), 'utf8')).trim(), String(status!.code));

  const none = await handover(Buffer.alloc(0));
  assert.is(none.code, 0, none.stderr);
  ProvenanceSchema.parse(JSON.parse(none.stdout));
  assert.is(none.stdout.trimEnd().split('\n').length, 1, 'nothing runs after the record');
});

agentTest('provenance --handover refuses a request it cannot take, before any phase starts', async () => {
  const job = join(work, 'jobs/handover-refused');
  const fields = (...f: string[]) => Buffer.from(f.map((x) => `${x}\0`).join(''));
  for (const [input, problem] of [
    [fields('run', '1', 'BAD NAME=x', '0'), /not an environment entry/],
    [fields('run', '1', 'A=1', '2', job), /ended early/],
    [fields('exec', 'rm'), /unknown request/],
    [fields('run', 'x'), /bad count/],
  ] as const) {
    const refused = await handover(input);
    assert.ok(refused.code !== 0, `${input.toString()}: ${refused.stderr}`);
    assert.match(refused.stderr, problem);
    assert.not.ok(await stat(job).then(() => true, () => false), 'no phase was started');
  }
  assert.throws(() => handoverRequest({ 'BAD NAME': 'x' }, []), /invalid environment variable name/);
  assert.throws(() => handoverRequest({}, ['a\0b']), /NUL/);
});

agentTest("a phase's status is printed only once its supervisor has made rc durable and exited", async () => {
  const job = join(work, 'jobs/durable');
  const running = runPhase(job, 'p', 60, 0, ['test-exit', '4'], { ORCH_TEST_PAUSE: 'after-rc' });
  let settled = false;
  void running.then(() => (settled = true));
  const marker = join(job, 'pause.after-rc');
  for (let i = 0; i < 100 && !(await stat(marker).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.is((await readFile(join(job, 'phases/p/rc'), 'utf8')).trim(), '4', 'rc is written');
  await new Promise((r) => setTimeout(r, 500));
  assert.not.ok(settled, 'no status while the supervisor that wrote rc has not finished');
  await run('touch', [`${marker}.release`]);
  assert.equal(exitOf(await running), { kind: 'rc', code: 4, timed_out: false });
});

agentTest('a failing helper reports its exit status, and its output goes to output.log', async () => {
  const job = join(work, 'jobs/exit');
  const fails = await runPhase(job, 'fails', 60, 0, ['test-exit', '3']);
  assert.is(exitOf(fails)?.code, 3);
  // the status line is read from rc, so rc is on disk when it arrives
  assert.is((await readFile(join(job, 'phases/fails/rc'), 'utf8')).trim(), '3');
  const log = await readFile(join(job, 'phases/fails/output.log'), 'utf8');
  assert.match(log, /to stdout/);
  assert.match(log, /to stderr/);
});

agentTest('the host-side timeout stops the helper with TERM, its trap tears down, and the exit says timed_out', async () => {
  const job = join(work, 'jobs/timeout');
  const started = Date.now();
  const exit = exitOf(await runPhase(job, 'slow', 1, 0, ['test-sleeper', '30']));
  assert.ok(Date.now() - started < 10_000);
  assert.is(exit?.timed_out, true);
  assert.is(exit?.code, 143);
  await access(join(job, 'artifacts/teardown-ran'));
  const helperPid = Number((await readFile(join(job, 'phases/slow/helper.pid'), 'utf8')).trim().split(' ')[0]);
  assert.ok(helperPid > 0, 'helper.pid holds "PID STARTTIME"');
  await assert.not.ok(await stat(`/proc/${helperPid}`).then(() => true, () => false), 'helper process is gone');
});

agentTest('run is idempotent: a second run re-attaches from the offset and never starts the phase twice', async () => {
  const job = join(work, 'jobs/reattach');
  const first = await runPhase(job, 'p', 60, 0, ['test-sleeper', '0']);
  assert.is(exitOf(first)?.code, 0);
  const again = await runPhase(job, 'p', 60, 0, ['test-sleeper', '0']);
  assert.equal(again.events.map((e) => e.kind), first.events.map((e) => e.kind), 'same events from offset 0');
  const startBytes = Buffer.byteLength(`${JSON.stringify(first.events[0])}`);
  assert.ok(startBytes > 0);
  const events = (await readFile(join(job, 'phases/p/events.jsonl'), 'utf8')).trim().split('\n');
  assert.is(events.filter((l) => l.includes('"kind":"start"')).length, 1, 'started once');
  const firstLineBytes = Buffer.byteLength(events[0]!) + 1;
  const resumed = await runPhase(job, 'p', 60, firstLineBytes, ['test-sleeper', '0']);
  assert.is(resumed.events[0]?.kind, 'progress', 'resumes after the first line');
});

agentTest('stop TERMs the helper process group; a killed supervisor is reported as lost', async () => {
  const job = join(work, 'jobs/stop');
  const running = runPhase(job, 'long', 60, 0, ['test-sleeper', '60']);
  // The helper reports its progress after it set its TERM trap: stopping before that (helper.pid
  // is written as it starts) would end it without its teardown, on a loaded machine.
  const eventsFile = join(job, 'phases/long/events.jsonl');
  for (let i = 0; i < 100 && !(await readFile(eventsFile, 'utf8').catch(() => '')).includes('sleeping'); i++) await new Promise((r) => setTimeout(r, 100));
  await run('bash', [join(bundle, 'remote-scripts/orchestrate-agent'), bundle, 'stop', job, 'long', 'TERM']);
  assert.is(exitOf(await running)?.code, 143);
  await access(join(job, 'artifacts/teardown-ran'));

  const job2 = join(work, 'jobs/lost');
  const running2 = runPhase(job2, 'long', 60, 0, ['test-sleeper', '60']);
  const pidFile2 = join(job2, 'phases/long/helper.pid');
  for (let i = 0; i < 50 && !(await stat(pidFile2).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  const supervisor = Number((await readFile(join(job2, 'phases/long/supervisor.pid'), 'utf8')).trim().split(' ')[0]);
  const helper = Number((await readFile(pidFile2, 'utf8')).trim().split(' ')[0]);
  assert.match(await readFile(pidFile2, 'utf8'), /^\d+ \d+\n$/, 'helper.pid is "PID STARTTIME"');
  assert.ok(helper > 0);
  process.kill(supervisor, 'SIGKILL');
  process.kill(-helper, 'SIGKILL');
  const lost = await running2;
  assert.is(lost.status?.kind, 'lost');
});

agentTest("stop gives the helper the orchestrator's grace, not the host's: a teardown longer than ORCH_KILL_GRACE completes", async () => {
  const helper = join(bundle, 'remote-scripts', 'test-slow-teardown');
  await writeFile(
    helper,
    '#!/usr/bin/env bash\nset -euo pipefail\ntrap \'sleep 4; : >"$ORCH_ARTIFACTS/slow-teardown-done"; exit 143\' TERM\nsleep 60 &\nwait $!\n',
    { mode: 0o755 },
  );
  const job = join(work, 'jobs/slow-teardown');
  const running = runPhase(job, 'slow', 60, 0, ['test-slow-teardown']);
  const pidFile = join(job, 'phases/slow/helper.pid');
  for (let i = 0; i < 50 && !(await stat(pidFile).then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  await run('bash', [join(bundle, 'remote-scripts/orchestrate-agent'), bundle, 'stop', job, 'slow', 'TERM']);
  assert.equal(exitOf(await running), { kind: 'rc', code: 143, timed_out: false }, 'the trap ran to its end (ORCH_KILL_GRACE is 2 s here)');
  await access(join(job, 'artifacts/slow-teardown-done'));
});

agentTest('collect streams artifacts and phase state as tar.gz, and deletes the job only on "delete"', async () => {
  const job = join(work, 'jobs/collect');
  await runPhase(job, 'x', 60, 0, ['test-exit', '0']);
  const listing = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', ['-c', `bash "$0" "$1" collect "$2" | tar -tzf -`, join(bundle, 'remote-scripts/orchestrate-agent'), bundle, job], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('keep\n');
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
  assert.match(listing, /phases\/x\/events\.jsonl/);
  assert.match(listing, /phases\/x\/output\.log/);
  await access(job);
  await new Promise<void>((resolve) => {
    const child = spawn('bash', [join(bundle, 'remote-scripts/orchestrate-agent'), bundle, 'collect', job], { stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end('delete\n');
    child.on('close', () => resolve());
  });
  assert.not.ok(await stat(job).then(() => true, () => false), 'job directory removed after delete');
});

agentTest('collect sends a plain tar when asked (a loopback link), with the same contents; an unknown format is refused', async () => {
  const job = join(work, 'jobs/collect-plain');
  await runPhase(job, 'x', 60, 0, ['test-exit', '0']);
  const agentPath = join(bundle, 'remote-scripts/orchestrate-agent');
  const listing = await new Promise<string>((resolve, reject) => {
    // tar -t without -z: a gzip stream would be refused ("This does not look like a tar archive").
    const child = spawn('bash', ['-c', `bash "$0" "$1" collect "$2" tar | tar -tf -`, agentPath, bundle, job], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end('keep\n');
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
  assert.match(listing, /phases\/x\/rc/);
  assert.match(listing, /phases\/x\/events\.jsonl/);
  const refused = await run('bash', [agentPath, bundle, 'collect', job, 'zip']).then(
    () => 'ran',
    (error: { stderr?: string }) => String(error.stderr ?? error),
  );
  assert.match(refused, /unsupported format 'zip'/);
  await access(join(job, 'phases/x/rc'));
});

agentTest('a helper that writes an exit or status line of its own is not believed: the status is the rc its supervisor recorded', async () => {
  const job = join(work, 'jobs/forged');
  const forged = await runPhase(job, 'liar', 60, 0, ['test-liar', '3']);
  assert.equal(exitOf(forged), { kind: 'rc', code: 3, timed_out: false }, forged.stderr);
  assert.is(forged.problems.length, 2, 'the forged lines are reported as protocol errors');
  assert.is((await readFile(join(job, 'phases/liar/rc'), 'utf8')).trim(), '3');
});

agentTest('no process of a phase outlives it: its timeout and follower end with the phase', async () => {
  const job = join(work, 'jobs/orphans');
  const marker = `ORCH_ORPHAN_PROBE=${process.pid}-${Date.now()}`;
  const [name, value] = marker.split('=') as [string, string];
  const done = await runPhase(job, 'quick', 300, 0, ['test-exit', '0'], { [name]: value });
  assert.is(exitOf(done)?.code, 0);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await processesWithEnv(marker), [], 'nothing of the phase is left running');
});

/** PIDs whose environment holds KEY=VALUE (what a phase's processes inherit). */
async function processesWithEnv(entry: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(entry)) found.push(`${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')}`);
  }
  return found;
}

agentTest('names that could escape a directory are refused', async () => {
  const job = join(work, 'jobs/names');
  for (const [phase, helper] of [['../evil', 'test-exit'], ['ok', '../../bin/sh'], ['ok', 'no-such-helper']]) {
    const result = await runPhase(job, phase!, 60, 0, [helper!, '0']);
    assert.is(result.events.length, 0);
    assert.match(result.stderr, /invalid|no such helper/);
  }
});

agentTest.run();

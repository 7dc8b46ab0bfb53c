// The host-side process budget of a sysinfo job (issue 13: at most 25 per host per job,
// sshd's own included), counted on a real lab host by following its sshd with strace while
// the real CLI runs a sweep. And the trace parser the count rests on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { startCli } from '../e2e/cli-helpers.js';
import { formatCount, parseTrace, traceHost, type ProcessCount } from './host-processes.js';
import { sessions } from './host-cost.js';

const parser = suite('strace parsing for the host process count');

parser('counts processes, not threads; attributes them to the agent verb whose tree they are in; sshd apart', () => {
  const trace = [
    '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101',
    '101 execve("/usr/sbin/sshd", ["sshd", "-R"], 0x1 /* 3 vars */) = 0',
    '101 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 102',
    '101 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x1}, 88) = 103',
    '102 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 104',
    '104 execve("/bin/bash", ["bash", "-c", "bash .orchestrate/bundles/x/remote-scripts/orchestrate-agent .orchestrate/bundles/x run job p 60 0 -- sysinfo"], 0x1 /* 9 vars */) = 0',
    '104 execve("/usr/bin/bash", ["bash", ".orchestrate/bundles/x/remote-scripts/orchestrate-agent", ".orchestrate/bundles/x", "run", "job"], 0x1 /* 9 vars */) = 0',
    '104 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD <unfinished ...>',
    '104 <... clone resumed>, child_tidptr=0x7f) = 105',
    '105 execve("/usr/bin/mkdir", ["mkdir", "-p"], 0x1 /* 9 vars */) = 0',
    '104 vfork() = 106',
    '106 execve("/usr/bin/nosuch", ["nosuch"], 0x1 /* 9 vars */) = -1 ENOENT (No such file or directory)',
  ].join('\n');
  const count = parseTrace(trace, 100);
  assert.is(count.created, 5, 'sshd, its privsep child, the session shell, mkdir, the vfork child; not the thread');
  assert.is(count.sshd, 2);
  assert.is(count.commands, 3);
  assert.equal(Object.fromEntries(count.byVerb), { sshd: 2, run: 3 }, 'the session shell became the agent: its tree is run');
  assert.equal(Object.fromEntries(count.programs), { sshd: 1, bash: 2, mkdir: 1 }, 'a failed execve runs nothing');
  assert.equal(Object.fromEntries(count.verbsRun), { run: 1 });
});

parser('a process that becomes another agent verb (the held session: provenance, then run) counts for each verb, its tree for the last', () => {
  const trace = [
    '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 101',
    '101 execve("/usr/sbin/sshd", ["sshd", "-R"], 0x1 /* 3 vars */) = 0',
    '101 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 104',
    '104 execve("/bin/bash", ["bash", "-c", "bash -c ensure orchestrate-bundle"], 0x1 /* 9 vars */) = 0',
    '104 execve("/usr/bin/bash", ["bash", ".orchestrate/bundles/x/remote-scripts/orchestrate-agent", ".orchestrate/bundles/x", "provenance", "--handover"], 0x1 /* 9 vars */) = 0',
    '104 execve("/usr/bin/env", ["env", "--", "A=1", "bash"], 0x1 /* 9 vars */) = 0',
    '104 execve("/usr/bin/bash", ["bash", ".orchestrate/bundles/x/remote-scripts/orchestrate-agent", ".orchestrate/bundles/x", "run", "job"], 0x1 /* 9 vars */) = 0',
    '104 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 105',
    '105 execve("/usr/bin/mkdir", ["mkdir", "-p"], 0x1 /* 9 vars */) = 0',
  ].join('\n');
  const count = parseTrace(trace, 100);
  assert.equal(Object.fromEntries(count.verbsRun), { provenance: 1, run: 1 });
  assert.equal(Object.fromEntries(count.byVerb), { sshd: 1, run: 2 });
  assert.ok(count.tree.some((line) => line.endsWith('bash > bash > env > bash [provenance > run]')), count.tree.join('\n'));
});

parser('an execve strace split around another process\'s call counts once it has resumed', () => {
  const trace = [
    '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 104',
    '104 execve("/bin/bash", ["bash", "-c", "x"], 0x1 /* 9 vars */) = 0',
    '104 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 105',
    '104 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 106',
    '105 execve("/usr/bin/head", ["head", "-c", "29000"], 0x1 /* 9 vars */ <unfinished ...>',
    '106 execve("/usr/bin/tar", ["tar", "-xzf", "-"], 0x1 /* 9 vars */) = 0',
    '105 <... execve resumed>) = 0',
    '106 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD) = 107',
    '107 execve("/bin/gzip", ["gzip", "-d"], 0x1 /* 9 vars */ <unfinished ...>',
    '107 <... execve resumed>) = -1 ENOENT (No such file or directory)',
    '107 execve("/usr/bin/gzip", ["gzip", "-d"], 0x1 /* 9 vars */ <unfinished ...>',
    '107 <... execve resumed>) = 0',
  ].join('\n');
  const count = parseTrace(trace, 100);
  assert.is(count.created, 4);
  assert.equal(Object.fromEntries(count.programs), { bash: 1, head: 1, tar: 1, gzip: 1 }, 'each resumed execve that returned 0 ran its program; a failed one ran nothing');
});

parser.run();

const budget = suite('host processes of a sysinfo job, on the lab');
let lab: Lab;
let work: string;

budget.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'host-processes-test-'));
  lab = await labUp({ subnet: 131, hosts: 1, dir: join(work, 'lab'), reports: false });
});
budget.after(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

async function tracedSweep(name: string): Promise<ProcessCount> {
  const inventory = await lab.writeInventory({ file: join(work, `${name}.yaml`), resultsDir: join(work, 'results'), scenarios: { sysinfo: { sample_seconds: 0 } } });
  const listener = Number.parseInt(await readFile(lab.hosts[0]!.pidFile, 'utf8'), 10);
  const tracer = await traceHost(listener);
  const cli = startCli(['--inventory', inventory, '--no-progress', '--no-report']);
  const code = await cli.exit;
  const output = cli.stdout() + cli.stderr();
  const count = await tracer.stop();
  assert.match(output, /lab-01--sysinfo.*OK|job lab-01--sysinfo OK/, `the job ran: exit ${code}\n${output}`);
  return count;
}

budget('a sysinfo job costs its host at most 25 processes (sshd included) and 1 session, cold or warm; no tail, sleep, awk or uname', async () => {
  // Cold: the host as never used (a lab host's home may hold what an earlier run left).
  await rm(join(lab.hosts[0]!.home, '.orchestrate'), { recursive: true, force: true });
  const cold = await tracedSweep('cold');
  console.log(`cold (bundle installed, provenance cache made):\n${formatCount(cold)}`);
  const warm = await tracedSweep('warm');
  console.log(`warm:\n${formatCount(warm)}`);
  assert.ok(warm.created <= 25, `warm: ${warm.created} processes\n${formatCount(warm)}\n${warm.tree.join('\n')}`);
  assert.ok(cold.created <= 25, `cold (bundle installed, provenance cache made): ${cold.created} processes\n${formatCount(cold)}\n${cold.tree.join('\n')}`);
  for (const program of ['tail', 'sleep', 'awk', 'uname', 'cat', 'nproc']) {
    assert.not.ok(warm.programs.has(program), `${program} is not run: ${formatCount(warm)}`);
  }
  assert.is(warm.verbsRun.get('provenance'), 1, `provenance once per sweep, from the cache: one agent, run in the bundle check's session\n${warm.tree.join('\n')}`);
  assert.is(
    sessions(warm),
    1,
    `a warm job opens 1 session on its host (bundle check, provenance, then the phase with its collection, as parallel-ssh's one command): ${sessions(warm)}\n${warm.tree.join('\n')}`,
  );
  assert.ok(
    warm.tree.some((line) => line.endsWith('[provenance > run]')),
    `the bundle check's session became the phase's (provenance --handover, then run)\n${warm.tree.join('\n')}`,
  );
  assert.is(cold.programs.get('tar') ?? 0, (warm.programs.get('tar') ?? 0) + 1, `cold: the bundle was installed (one tar more than warm): ${formatCount(cold)}`);
  for (const program of ['head', 'gzip']) {
    assert.not.ok(cold.programs.has(program), `cold: the bundle comes as a plain tar that tar reads to its end by itself (no ${program}): ${formatCount(cold)}`);
  }
  assert.is(sessions(cold), 1, `a cold job opens 1 session too: the bundle's exact bytes on stdin, then the phase's request\n${cold.tree.join('\n')}`);
  assert.not.ok(warm.byVerb.has('collect'), `the artifacts come in the phase's session, not a collect session of their own\n${warm.tree.join('\n')}`);
  assert.is(warm.programs.get('dpkg-query') ?? 0, 0, 'no package query while the package database is unchanged');
  assert.is(warm.programs.get('grep') ?? 0, 0, 'no package query while the package database is unchanged (grep of the status file)');
  assert.is((cold.programs.get('dpkg-query') ?? 0) + (cold.programs.get('grep') ?? 0), 1, 'one package query when the cache is made');
  assert.is(cold.programs.get('grep') ?? 0, 1, 'on Debian, one grep of dpkg\'s status file (dpkg-query loads the whole database)');
  assert.is(warm.programs.get('sync') ?? 0, 1, 'the phase rc is made durable');
});

budget.run();

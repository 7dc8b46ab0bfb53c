// The QASET stand-in's protocol, on the host, with its test hook QASET_STANDIN_TEST_ROOT: every
// path (/var/log/qaset, /root/qaset, /var/log/qa, /etc/issue, /proc/cmdline, the run scripts) lives
// under a temporary root, and the two boundaries a host must not cross are recorded instead of done:
// `systemctl -f reboot` / `systemctl disable qaperf.service` go to <root>/actions, and the default
// route is <root>/default-route. Everything else is the real stand-in: bash, screen, tar, bzip2.
// The cases are tiny run scripts installed where QASET looks for an undefined case's script
// (/usr/share/qa/tools/test_<case>-run); each records the NEXT_RUN it saw while running.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { STANDIN_DIR } from './guest-recipe.js';
import { guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const run = promisify(execFile);
const t = suite('QASET stand-in protocol');
const missing = await missingRequirement(async () => {
  for (const bin of ['bash', 'screen', 'tar', 'bzip2', 'dpkg-query']) {
    if (await run('sh', ['-c', `command -v ${bin}`]).then(() => false, () => true)) return `${bin} not installed (bash test/install-deps.sh)`;
  }
  return null;
});
const it = guardedSuite(t, missing, 'the QASET stand-in protocol tests');

const QASET = path.join(STANDIN_DIR, 'qaset');
const CASE_SCRIPT = `#!/bin/bash
set -euo pipefail
. "$QASET_STANDIN_TEST_ROOT/usr/share/qa/tools/standin-ctcs2.sh"
name=\${0##*/test_}
name=\${name%-run}
cp "$CTCS2_ROOT/var/log/qaset/control/NEXT_RUN" "$CTCS2_ROOT/seen-$name"
ctcs2_open "qa_$name"
ctcs2_test "$name-echo" echo "hello from $name"
ctcs2_test "$name-false" false
ctcs2_close
`;

interface Root {
  dir: string;
  file(rel: string): Promise<string | null>;
  exists(rel: string): Promise<boolean>;
  ls(rel: string): Promise<string[]>;
  write(rel: string, content: string, mode?: number): Promise<void>;
}

const roots: string[] = [];
t.after(async () => {
  for (const r of roots) await fsp.rm(r, { recursive: true, force: true });
});

async function newRoot(opts: { list: string[]; config?: Record<string, string>; cases?: string[]; route?: boolean; prepared?: boolean }): Promise<Root> {
  const dir = await fsp.mkdtemp('/tmp/qaset-standin-');
  roots.push(dir);
  const r: Root = {
    dir,
    file: (rel) => fsp.readFile(path.join(dir, rel), 'utf8').catch(() => null),
    exists: (rel) => fsp.stat(path.join(dir, rel)).then(() => true, () => false),
    ls: (rel) => fsp.readdir(path.join(dir, rel)).then((l) => l.sort(), () => []),
    async write(rel, content, mode = 0o644) {
      await fsp.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await fsp.writeFile(path.join(dir, rel), content, { mode });
    },
  };
  await r.write('etc/issue', 'Debian GNU/Linux 12 \\n \\l\n\n');
  await r.write('proc/cmdline', 'console=ttyS0 root=/dev/vda rw\n');
  await r.write('root/qaset/list', `SQ_TEST_RUN_LIST=(\n${opts.list.map((c) => `  ${c}\n`).join('')})\n`);
  const config = { SQ_TEST_RUN_SET: 'performance', ...opts.config };
  await r.write('root/qaset/config', Object.entries(config).map(([k, v]) => `${k}='${v}'\n`).join(''));
  await r.write('usr/share/qa/tools/standin-ctcs2.sh', await fsp.readFile(path.join(STANDIN_DIR, 'tools', 'standin-ctcs2.sh'), 'utf8'));
  for (const c of opts.cases ?? []) await r.write(`usr/share/qa/tools/test_${c}-run`, CASE_SCRIPT, 0o755);
  if (opts.route !== false) await r.write('default-route', '');
  if (opts.prepared !== false) await r.write('var/log/qaset/control/PREPARED', 'prepared\n');
  if (opts.prepared !== false) for (const d of ['runs', 'calls', 'log', 'set', 'submission']) await fsp.mkdir(path.join(dir, 'var/log/qaset', d), { recursive: true });
  return r;
}

/** One qaset process (what one boot's qaperf.service runs, without the screen wrapper). */
async function qaset(r: Root, args = ['-t', 'DEB12', 'run']): Promise<{ code: number; out: string }> {
  const env = { ...process.env, QASET_STANDIN_TEST_ROOT: r.dir, SQ_SET_CALL_BY_WRAP: '' };
  return run('bash', [QASET, ...args], { env, timeout: 120_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

const actions = async (r: Root) => ((await r.file('actions')) ?? '').split('\n').filter(Boolean);

it('NEXT_RUN names the NEXT case while one runs (blank for the last); a reboot after each successful case; DONE and the service disabled at the end', async () => {
  const r = await newRoot({ list: ['one', 'two', 'three'], cases: ['one', 'two', 'three'] });
  const first = await qaset(r);
  assert.is(first.code, 0, first.out);
  assert.is(await r.file('seen-one'), '1 two\n');
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), '1 two\n');
  assert.ok(await r.exists('var/log/qaset/control/SYSTEM_DIRTY'));
  assert.not.ok(await r.exists('var/log/qaset/control/DONE'));
  assert.equal(await actions(r), ['systemctl -f reboot']);
  assert.not.ok(await r.exists('var/log/qaset/lock.d'), 'lock.d released before the reboot');
  const runId = await r.file('var/log/qaset/control/RUN_ID');
  assert.match(runId ?? '', /^SQ_TEST_RUN_ID=\d{8}\n$/);

  // "the next boot": SYSTEM_DIRTY cleared, the list continues from NEXT_RUN
  assert.is((await qaset(r)).code, 0);
  assert.is(await r.file('seen-two'), '2 three\n');
  assert.equal(await actions(r), ['systemctl -f reboot', 'systemctl -f reboot']);
  assert.is((await qaset(r)).code, 0);
  assert.is(await r.file('seen-three'), ' \n', 'echo "" "" while the last case runs');
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), ' \n');
  assert.match((await r.file('var/log/qaset/control/DONE')) ?? '', /^\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\n$/);
  assert.equal(await actions(r), ['systemctl -f reboot', 'systemctl -f reboot', 'systemctl disable qaperf.service'], 'no reboot after DONE');
  assert.is(await r.file('var/log/qaset/control/RUN_ID'), runId, 'the run id is generated once');

  // QASET's layout: one tarball per case of ctcs2's contents, a screen log per case, ctcs2 emptied
  const id = runId!.trim().split('=')[1];
  const logs = await r.ls('var/log/qaset/log');
  assert.is(logs.length, 3, logs.join(' '));
  for (const c of ['one', 'two', 'three']) {
    const tarball = logs.find((l) => new RegExp(`^${c}-ACAP2-${id}-\\d{8}T\\d{6}\\.tar\\.bz2$`).test(l));
    assert.ok(tarball, `${c}: ${logs.join(' ')}`);
    const names = (await run('tar', ['-tjf', path.join(r.dir, 'var/log/qaset/log', tarball!)])).stdout.split('\n').filter(Boolean);
    assert.ok(names.every((n) => n.startsWith(`qa_${c}-`)), `no ctcs2/ prefix, only this case: ${names.join(' ')}`);
    assert.ok(names.some((n) => n.endsWith(`/${c}-echo`)) && names.some((n) => n.endsWith('/test_results')) && names.some((n) => n.endsWith('/tenv.txt')), names.join(' '));
    assert.ok((await r.ls('var/log/qaset/runs')).some((f) => new RegExp(`^${c}-\\d{4}T\\d{4}\\.screenlog$`).test(f)));
    assert.ok(await r.exists(`var/log/qaset/submission/submission-${c}.log`));
  }
  assert.equal(await r.ls('var/log/qa/ctcs2'), []);
  const screen = (await r.ls('var/log/qaset/runs')).find((f) => f.startsWith('one-'))!;
  assert.match((await r.file(`var/log/qaset/runs/${screen}`)) ?? '', /hello from one/, 'screen -L logged the case');
  assert.not.ok(await r.exists('root/qaset/list.failed'), 'a benchmark failing inside its script does not fail the case');

  // a finished list: the next start ends at once
  const again = await qaset(r);
  assert.match(again.out, /already finished/);
  assert.is((await actions(r)).length, 3);
});

it('_reboot_off holds only in the process that ran it (no reboot between the cases after it); _reboot_on makes the next dirty check reboot', async () => {
  const r = await newRoot({ list: ['one', '_reboot_off', 'two', 'three', '_reboot_on', 'four', 'five'], cases: ['one', 'two', 'three', 'four', 'five'] });
  await qaset(r);
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), '1 _reboot_off\n');
  await qaset(r);
  assert.ok((await r.exists('seen-two')) && (await r.exists('seen-three')), 'two and three ran in one process');
  assert.not.ok(await r.exists('seen-four'), 'three left the system dirty: after _reboot_on it reboots first');
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), '5 four\n');
  assert.equal(await actions(r), ['systemctl -f reboot', 'systemctl -f reboot']);
  await qaset(r);
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), '6 five\n');
  assert.is((await actions(r)).length, 3);
  await qaset(r);
  assert.ok(await r.exists('var/log/qaset/control/DONE'));
  assert.equal((await actions(r)).slice(3), ['systemctl disable qaperf.service']);
});

it('a case whose run script is missing (or an unknown name) fails the real way: list.failed " <case>", an empty tarball, no reboot, the next case runs', async () => {
  const r = await newRoot({ list: ['nosuch', 'one'], cases: ['one'] });
  const res = await qaset(r);
  assert.match(res.out, /test_nosuch-run does not exist!!!/);
  assert.is(await r.file('root/qaset/list.failed'), ' nosuch\n');
  assert.ok(await r.exists('seen-one'), 'the next case ran in the same process (no reboot after a failure)');
  const logs = await r.ls('var/log/qaset/log');
  const empty = logs.find((l) => l.startsWith('nosuch-ACAP2-'));
  assert.ok(empty, logs.join(' '));
  assert.is((await run('tar', ['-tjf', path.join(r.dir, 'var/log/qaset/log', empty!)])).stdout, '');
  assert.ok(await r.exists('var/log/qaset/control/DONE'));
  assert.equal(await actions(r), ['systemctl disable qaperf.service']);
});

it('a filesystem case without a block device fails in its open step; a package Debian lacks fails too', async () => {
  const r = await newRoot({ list: ['dbench4_async_xfs'], config: { SQ_ABUILD_PARTITION: '/nonexistent/vdb1' } });
  const res = await qaset(r);
  assert.match(res.out, /there is no target partition will be used/);
  assert.is(await r.file('root/qaset/list.failed'), ' dbench4_async_xfs\n');
});

it('qaset stop during a case (the STANDIN_OPERATOR_STOP_DURING test hook): the case finishes, the run ends without DONE or reboot, later starts end at once', async () => {
  const r = await newRoot({ list: ['_reboot_off', 'one', 'two'], cases: ['one', 'two'], config: { STANDIN_OPERATOR_STOP_DURING: 'one', STANDIN_OPERATOR_STOP_DELAY: '0' } });
  const res = await qaset(r);
  assert.is(res.code, 0, res.out);
  assert.match(res.out, /TEST HOOK/);
  assert.ok(await r.exists('var/log/qaset/control/STOP'));
  assert.ok(await r.exists('seen-one'));
  assert.not.ok(await r.exists('seen-two'));
  assert.not.ok(await r.exists('var/log/qaset/control/DONE'));
  assert.equal(await actions(r), []);
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), '2 two\n');
  assert.match((await qaset(r)).out, /manually stopped/);
  assert.not.ok(await r.exists('seen-two'));
});

it('a stale lock.d makes qaset refuse ("already running") and removes it; the next start runs', async () => {
  const r = await newRoot({ list: ['one'], cases: ['one'] });
  await fsp.mkdir(path.join(r.dir, 'var/log/qaset/lock.d'), { recursive: true });
  const refused = await qaset(r);
  assert.match(refused.out, /There is already a qaset running/);
  assert.not.ok(await r.exists('seen-one'));
  assert.not.ok(await r.exists('var/log/qaset/lock.d'));
  await qaset(r);
  assert.ok(await r.exists('seen-one'));
});

it('a first run without control/PREPARED tries the repository setup and exits 5, lock.d left behind; SQ_CI_ENV=openqa skips it and writes PREPARED', async () => {
  const r = await newRoot({ list: ['one'], cases: ['one'], prepared: false });
  const res = await qaset(r);
  assert.is(res.code, 5, res.out);
  assert.match(res.out, /add and ref repo/);
  assert.ok(await r.exists('var/log/qaset/lock.d'), 'exit 5 leaves the lock, as the real one');
  assert.not.ok(await r.exists('seen-one'));
  const ci = await newRoot({ list: ['one'], cases: ['one'], prepared: false, config: { SQ_CI_ENV: 'openqa' } });
  assert.is((await qaset(ci)).code, 0);
  assert.ok(await ci.exists('var/log/qaset/control/PREPARED'));
  assert.ok(await ci.exists('seen-one'));
  for (const d of ['runs', 'calls', 'control', 'log', 'set', 'submission']) assert.ok(await ci.exists(`var/log/qaset/${d}`), `${d}/ created with a new /var/log/qaset`);
});

it('waits for a default route before the first case, without a deadline', async () => {
  const r = await newRoot({ list: ['one'], cases: ['one'], route: false });
  const child = spawn('bash', [QASET, '-t', 'DEB12', 'run'], { env: { ...process.env, QASET_STANDIN_TEST_ROOT: r.dir }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.is(child.exitCode, null, 'still waiting');
    assert.not.ok(await r.exists('seen-one'));
    assert.not.ok(await r.exists('var/log/qaset/control/NEXT_RUN'));
    await r.write('default-route', '');
    assert.is(await exited, 0);
    assert.ok(await r.exists('seen-one'));
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

it('qaset reset removes STOP, DONE, SYSTEM_DIRTY and lock.d and blanks NEXT_RUN', async () => {
  const r = await newRoot({ list: ['one'] });
  for (const f of ['STOP', 'DONE', 'SYSTEM_DIRTY']) await r.write(`var/log/qaset/control/${f}`, 'x\n');
  await r.write('var/log/qaset/control/NEXT_RUN', '3 four\n');
  await fsp.mkdir(path.join(r.dir, 'var/log/qaset/lock.d'));
  assert.is((await qaset(r, ['reset'])).code, 0);
  assert.equal(await r.ls('var/log/qaset/control'), ['NEXT_RUN', 'PREPARED']);
  assert.is(await r.file('var/log/qaset/control/NEXT_RUN'), '\n');
  assert.not.ok(await r.exists('var/log/qaset/lock.d'));
});

it('the tarball name carries the QADB comment; SQ_TEST_USER_APAC2=YES names it <case>-<stamp>; SQ_TEST_RUN_ID from RUN_ID', async () => {
  const r = await newRoot({ list: ['one'], cases: ['one'] });
  await r.write('var/log/qaset/control/RUN_ID', 'SQ_TEST_RUN_ID=night7\n');
  await r.write('var/log/qaset/control/QADB_COMMENT', "SQ_QADB_COMMENT='kvm'\n");
  await qaset(r);
  assert.match((await r.ls('var/log/qaset/log'))[0] ?? '', /^one-ACAP2-night7-kvm-\d{8}T\d{6}\.tar\.bz2$/);
  const apac = await newRoot({ list: ['one'], cases: ['one'], config: { SQ_TEST_USER_APAC2: 'YES' } });
  await qaset(apac);
  assert.match((await apac.ls('var/log/qaset/log'))[0] ?? '', /^one-\d{8}T\d{6}\.tar\.bz2$/);
});

it('qaset-service: nothing with qaset=off, exit 1 on a release it does not know, else the run wrapped in a detached screen (calls/)', async () => {
  const service = path.join(STANDIN_DIR, 'qaset-service');
  const env = (r: Root) => ({ ...process.env, QASET_STANDIN_TEST_ROOT: r.dir });
  const off = await newRoot({ list: ['one'], cases: ['one'] });
  await off.write('proc/cmdline', 'console=ttyS0 qaset=off\n');
  const o = await run('bash', [service], { env: env(off) });
  assert.match(o.stdout, /qaset=off/);
  assert.not.ok(await off.exists('var/log/qaset/control/RUN_ID'));
  const odd = await newRoot({ list: ['one'], cases: ['one'] });
  await odd.write('etc/issue', 'Welcome to SomeOS 3\n');
  const e = await run('bash', [service], { env: env(odd) }).then(() => 0, (err: { code: number }) => err.code);
  assert.is(e, 1);
  const r = await newRoot({ list: ['one'], cases: ['one'] });
  await run('bash', [service], { env: env(r) });
  for (let i = 0; i < 200 && !(await r.exists('var/log/qaset/control/DONE')); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(await r.exists('var/log/qaset/control/DONE'), 'the detached run finished');
  const id = (await r.file('var/log/qaset/control/RUN_ID'))!.trim().split('=')[1];
  for (let i = 0; i < 50 && !(await r.ls('var/log/qaset/calls')).some((f) => f.endsWith('.screenlog')); i++) await new Promise((res) => setTimeout(res, 100));
  const calls = (await r.ls('var/log/qaset/calls')).filter((f) => f.endsWith('.screenlog'));
  assert.is(calls.length, 1, calls.join(' '));
  assert.match(calls[0]!, new RegExp(`^DEB12-performance-${id}-\\d{4}T\\d{4}\\.screenlog$`));
});

it('run/performance-run (run-caller) writes SQ_TEST_RUN_SET=performance into the config and enables qaperf.service', async () => {
  const r = await newRoot({ list: ['one'], cases: ['one'] });
  await r.write('root/qaset/config', "SQ_TEST_RUN_SET='other'\nKEEP=1\n");
  await run('bash', [path.join(STANDIN_DIR, 'run', 'performance-run')], { env: { ...process.env, QASET_STANDIN_TEST_ROOT: r.dir } });
  assert.is(await r.file('root/qaset/config'), 'SQ_TEST_RUN_SET=performance\nKEEP=1\n');
  assert.equal((await actions(r))[0], 'systemctl enable qaperf.service');
  for (let i = 0; i < 200 && !(await r.exists('var/log/qaset/control/DONE')); i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(await r.exists('seen-one'));
});

t.run();

// The run scripts themselves, on the host's real programs (the same Debian versions the guest has):
// several runs per raw file, QASET's file names, a PostgreSQL server of the case's own stopped by PID.
// /abuild is a directory of the test root here (in the guest it is the case's mounted filesystem).
const scripts = suite('QASET stand-in run scripts');
const missingPrograms = await missingRequirement(needsRoot, async () => {
  for (const bin of ['sysbench', 'dbench', 'bonnie++', '/usr/lib/postgresql/15/bin/pgbench', '/usr/lib/postgresql/15/bin/initdb', 'runuser']) {
    if (await run('sh', ['-c', `command -v ${bin}`]).then(() => false, () => true)) return `${bin} not installed (bash test/install-deps.sh)`;
  }
  return (await run('id', ['postgres']).then(() => null, () => 'no postgres account (postgresql-15 not installed)'));
});
const its = guardedSuite(scripts, missingPrograms, 'the QASET stand-in run script tests');
scripts.after(async () => {
  for (const r of roots) await fsp.rm(r, { recursive: true, force: true });
});

/** Runs one stand-in run script under its real name in a test root; its ctcs2 result directory. */
async function runScript(src: string, realName: string, config: Record<string, string>): Promise<{ dir: string; out: string }> {
  const r = await newRoot({ list: [], config });
  await fsp.chmod(r.dir, 0o755); // the case's PostgreSQL server runs as postgres under <root>/abuild
  await fsp.mkdir(path.join(r.dir, 'abuild'), { mode: 0o755 });
  const script = path.join(r.dir, 'usr/share/qa/tools', realName);
  await r.write(`usr/share/qa/tools/${realName}`, await fsp.readFile(path.join(STANDIN_DIR, 'tools', src), 'utf8'), 0o755);
  const { stdout } = await run('bash', [script], { env: { ...process.env, QASET_STANDIN_TEST_ROOT: r.dir }, timeout: 300_000, maxBuffer: 64 << 20 });
  const results = await r.ls('var/log/qa/ctcs2');
  assert.is(results.length, 1, results.join(' '));
  return { dir: path.join(r.dir, 'var/log/qa/ctcs2', results[0]!), out: stdout };
}

const testResults = async (dir: string) => {
  const lines = (await fsp.readFile(path.join(dir, 'test_results'), 'utf8')).trim().split('\n');
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) out[lines[i]!] = lines[i + 1]!;
  return out;
};

its('test_sysbench_sys-run: sysbench cpu, threads, memory and mutex, one run per thread count in each file', async () => {
  const { dir } = await runScript('test_sysbench_sys-run', 'test_sysbench_sys-run', { STANDIN_SYSBENCH_THREADS: '1 2', STANDIN_SYSBENCH_TIME: '1', STANDIN_SYSBENCH_MUTEX_LOCKS: '500' });
  assert.match(path.basename(dir), /^qa_sysbench-sys-\d{4}(-\d\d){5}$/);
  const results = await testResults(dir);
  assert.equal(Object.keys(results), ['sysbench-cpu', 'sysbench-threads', 'sysbench-memory', 'sysbench-mutex']);
  for (const [name, counts] of Object.entries(results)) assert.match(counts, /^0 1 1 \d+ 0 0$/, name);
  for (const f of Object.keys(results)) {
    const text = await fsp.readFile(path.join(dir, f), 'utf8');
    assert.equal([...text.matchAll(/^Number of threads: (\d+)$/gm)].map((m) => m[1]), ['1', '2'], f);
  }
  assert.ok(await fsp.stat(path.join(dir, 'done')));
});

its('test_dbench-4_0_fsync-run: dbench -F in /abuild, one run per client count', async () => {
  const { dir } = await runScript('test_dbench-4_0-run', 'test_dbench-4_0_fsync-run', { STANDIN_DBENCH_CLIENTS: '1 2', STANDIN_DBENCH_TIME: '3' });
  assert.match(path.basename(dir), /^qa_dbench-4_0_fsync-/);
  const text = await fsp.readFile(path.join(dir, 'dbench4-fsync'), 'utf8');
  const runs = [...text.matchAll(/^Throughput ([\d.]+) MB\/sec\s+(\d+) clients\s+(\d+) procs/gm)];
  assert.equal(runs.map((m) => m[2]), ['1', '2']);
  for (const m of runs) assert.ok(Number(m[1]) > 0, m[0]);
  assert.match((await testResults(dir))['dbench4-fsync'] ?? '', /^0 1 1 /);
});

its('test_bonnie++-async-run: bonnie++ -x runs, each a CSV line (bonnie++ 2.00a) after its table', async () => {
  const { dir } = await runScript('test_bonnie++-run', 'test_bonnie++-async-run', { STANDIN_BONNIE_SIZE_MB: '2', STANDIN_BONNIE_FILES: '0', STANDIN_BONNIE_RUNS: '2' });
  const text = await fsp.readFile(path.join(dir, 'bonnie++-async'), 'utf8');
  const csv = text.split('\n').filter((l) => /^1\.98,2\.00a?,/.test(l));
  assert.is(csv.length, 2, text);
  for (const l of csv) assert.is(l.split(',')[5], '2M', 'file size');
});

its('test_pgbench_small-rw-run: its own PostgreSQL server (unix socket only), one pgbench run per client count, the server stopped by its PID', async () => {
  const { dir, out } = await runScript('test_pgbench-run', 'test_pgbench_small-rw-run', { STANDIN_PGBENCH_SCALE_SMALL: '1', STANDIN_PGBENCH_CLIENTS: '1 2', STANDIN_PGBENCH_TIME: '1' });
  assert.match(path.basename(dir), /^qa_pgbench_small-rw-/);
  const text = await fsp.readFile(path.join(dir, 'pgbench-small-rw'), 'utf8');
  assert.equal([...text.matchAll(/^number of clients: (\d+)$/gm)].map((m) => m[1]), ['1', '2']);
  assert.match(text, /^transaction type: <builtin: TPC-B \(sort of\)>$/m);
  assert.match(text, /^scaling factor: 1$/m);
  const tps = [...text.matchAll(/^tps = ([\d.]+)/gm)].map((m) => Number(m[1]));
  assert.is(tps.length, 2);
  for (const v of tps) assert.ok(v > 0, `tps ${v}`);
  const pid = Number(/server (\d+) stopped/.exec(out)?.[1]);
  assert.ok(pid > 0, out);
  assert.throws(() => process.kill(pid, 0), 'the postmaster is gone');
  const results = await testResults(dir);
  assert.equal(Object.keys(results), ['pgbench-server', 'pgbench-init', 'pgbench-small-rw']);
  for (const [name, counts] of Object.entries(results)) assert.match(counts, /^0 1 1 /, name);
  assert.not.ok(await fsp.stat(path.join(dir, '..', '..', '..', '..', '..', 'abuild', 'pgsql')).then(() => true, () => false), 'the server directory is removed');
});

scripts.run();

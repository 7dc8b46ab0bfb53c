// QASET's inputs into a guest's disk (remote-scripts/lib/kvm-guest.sh, sourced by real bash):
// the plan of operations for both ways to start QASET, its rendering for guestfish, and the
// real debugfs carrying it out on a real ext4 "golden image" that ran QASET before (stale DONE,
// STOP, lock.d, NEXT_RUN, RUN_ID, list.failed and old results), checked back with debugfs and
// e2fsck. An image without QASET's boot service is refused, naming what to do.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { guardedSuite, missingRequirement } from '../support/requirements.js';

const exec = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../remote-scripts/', import.meta.url));

async function sh(script: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const prelude = ['common.sh', 'json.sh', 'events.sh', 'kvm-guest.sh'].map((f) => `. ${JSON.stringify(join(SCRIPTS, 'lib', f))}`).join('\n');
  try {
    const { stdout, stderr } = await exec('bash', ['-c', `set -euo pipefail\n${prelude}\n${script}`], { env: { PATH: process.env.PATH!, KVM_GUEST_FILES: join(SCRIPTS, 'guest'), ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const plan = suite('the injection plan');
let dir = '';
plan.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvm-inject-'));
});
plan.after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function pointDir(name: string): Promise<string> {
  const d = join(dir, name);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'list'), 'SQ_TEST_RUN_LIST=(\n  sysbench_sys\n)\n');
  await writeFile(join(d, 'config'), "SQ_TEST_RUN_SET='performance'\n");
  return d;
}

plan('boot-service mode: reset as `qaset reset`, old results out, QASET\'s directories, inputs, the watcher, and the links `systemctl enable qaperf.service` makes', async () => {
  const d = await pointDir('service');
  const r = await sh('kvm_inject_plan "$D"', { D: d, KVM_QASET_START: 'service', KVM_QASET_UNIT: '/usr/lib/systemd/system/qaperf.service', KVM_QASET_PREPARED: 'yes', KVM_QASET_RUN_ID: 'nightly7' });
  assert.is(r.code, 0, r.stderr);
  const ops = (await readFile(join(d, 'inject.ops'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
  const g = join(SCRIPTS, 'guest');
  assert.equal(ops, [
    ['rm', '/var/log/qaset/control/STOP'],
    ['rm', '/var/log/qaset/control/DONE'],
    ['rm', '/var/log/qaset/control/SYSTEM_DIRTY'],
    ['rmrf', '/var/log/qaset/lock.d'],
    ['rm', '/var/log/qaset/control/RUN_ID'],
    ['rm', '/root/qaset/list.failed'],
    ['rmrf', '/var/log/qaset/runs'],
    ['rmrf', '/var/log/qaset/calls'],
    ['rmrf', '/var/log/qaset/log'],
    ['rmrf', '/var/log/qaset/set'],
    ['rmrf', '/var/log/qaset/submission'],
    ['rmrf', '/var/log/qa'],
    ['rm', '/var/log/orchestrate-qaset-watch.jsonl'],
    ['rmrf', '/var/lib/orchestrate'],
    ['mkdir', '/root/qaset'],
    ['mkdir', '/var/log/qaset/control'],
    ['mkdir', '/var/log/qaset/runs'],
    ['mkdir', '/var/log/qaset/calls'],
    ['mkdir', '/var/log/qaset/log'],
    ['mkdir', '/var/log/qaset/set'],
    ['mkdir', '/var/log/qaset/submission'],
    ['mkdir', '/var/log/qa'],
    ['mkdir', '/usr/local/lib/orchestrate'],
    ['mkdir', '/etc/systemd/system/multi-user.target.wants'],
    ['put', join(d, 'list'), '/root/qaset/list', '0644'],
    ['put', join(d, 'config'), '/root/qaset/config', '0644'],
    ['put', join(d, 'NEXT_RUN'), '/var/log/qaset/control/NEXT_RUN', '0644'],
    ['put', join(d, 'RUN_ID'), '/var/log/qaset/control/RUN_ID', '0644'],
    ['put', join(d, 'PREPARED'), '/var/log/qaset/control/PREPARED', '0644'],
    ['put', join(g, 'qaset-watch'), '/usr/local/lib/orchestrate/qaset-watch', '0755'],
    ['put', join(g, 'orchestrate-qaset-watch.service'), '/etc/systemd/system/orchestrate-qaset-watch.service', '0644'],
    ['ln', '/etc/systemd/system/orchestrate-qaset-watch.service', '/etc/systemd/system/multi-user.target.wants/orchestrate-qaset-watch.service'],
    ['ln', '/usr/lib/systemd/system/qaperf.service', '/etc/systemd/system/multi-user.target.wants/qaperf.service'],
    ['ln', '/usr/lib/systemd/system/qaperf.service', '/etc/systemd/system/sqperf.service'],
  ]);
  assert.is(await readFile(join(d, 'NEXT_RUN'), 'utf8'), '\n', 'blank, as `echo > NEXT_RUN`');
  assert.is(await readFile(join(d, 'RUN_ID'), 'utf8'), 'SQ_TEST_RUN_ID=nightly7\n');
});

plan('deployment-script mode: the script goes to / and runs once at first boot; QASET\'s boot service is left to it', async () => {
  const d = await pointDir('deploy');
  const script = join(dir, 'install-qaset.sh');
  await writeFile(script, '#!/bin/sh\nexit 0\n');
  const r = await sh('kvm_inject_plan "$D"', { D: d, KVM_QASET_START: 'deploy', KVM_DEPLOYMENT_SCRIPT: script });
  assert.is(r.code, 0, r.stderr);
  const ops = (await readFile(join(d, 'inject.ops'), 'utf8')).trim().split('\n').map((l) => l.split('\t'));
  const g = join(SCRIPTS, 'guest');
  assert.equal(ops.slice(-6), [
    ['put', script, '/install-qaset.sh', '0755'],
    ['mkdir', '/etc/orchestrate'],
    ['put', join(d, 'deploy.conf'), '/etc/orchestrate/deploy.conf', '0644'],
    ['put', join(g, 'deploy-once'), '/usr/local/lib/orchestrate/deploy-once', '0755'],
    ['put', join(g, 'orchestrate-deploy.service'), '/etc/systemd/system/orchestrate-deploy.service', '0644'],
    ['ln', '/etc/systemd/system/orchestrate-deploy.service', '/etc/systemd/system/multi-user.target.wants/orchestrate-deploy.service'],
  ]);
  assert.not.ok(ops.some((o) => o[2]?.endsWith('qaperf.service') || o[2]?.endsWith('sqperf.service')));
  assert.not.ok(ops.some((o) => o[2] === '/var/log/qaset/control/PREPARED'), 'not prepared unless the inventory says so');
  assert.is(await readFile(join(d, 'deploy.conf'), 'utf8'), 'DEPLOY_SCRIPT=/install-qaset.sh\n');
});

plan('for guestfish the plan becomes one command per operation, owner root and mode set on every file', async () => {
  const d = await pointDir('gf');
  await writeFile(join(d, 'inject.ops'), `rmrf\t/var/log/qa\nrm\t/root/qaset/list.failed\nmkdir\t/root/qaset\nput\t${d}/list\t/root/qaset/list\t0644\nln\t/usr/lib/systemd/system/qaperf.service\t/etc/systemd/system/sqperf.service\n`);
  const r = await sh('kvm_inject_guestfish_args "$D/inject.ops"', { D: d });
  assert.equal(r.stdout.trim().split('\n'), [
    'rm-rf', '/var/log/qa', ':', 'rm-f', '/root/qaset/list.failed', ':', 'mkdir-p', '/root/qaset', ':',
    'upload', `${d}/list`, '/root/qaset/list', ':', 'chmod', '0644', '/root/qaset/list', ':', 'chown', '0', '0', '/root/qaset/list', ':',
    'ln-sf', '/usr/lib/systemd/system/qaperf.service', '/etc/systemd/system/sqperf.service',
  ]);
});

plan('unsafe values are refused before anything is planned', async () => {
  const d = await pointDir('bad');
  const bad = await sh('kvm_inject_plan "$D"', { D: d, KVM_QASET_START: 'service', KVM_QASET_UNIT: '/usr/lib/systemd/system/qaperf.service', KVM_QASET_RUN_ID: '2026-12-06' });
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /KVM_QASET_RUN_ID must be letters and digits/);
  const badUnit = await sh('kvm_inject_plan "$D"', { D: d, KVM_QASET_START: 'service', KVM_QASET_UNIT: '/usr/lib/x;reboot' });
  assert.match(badUnit.stderr, /unsafe characters/);
});
plan('the first-boot runner runs the named script once, records its exit status and output, and marks the attempt done', async () => {
  const d = join(dir, 'deploy-once');
  await mkdir(d, { recursive: true });
  const script = join(d, 'install.sh');
  await writeFile(script, '#!/bin/sh\necho installing\nexit 3\n', { mode: 0o755 });
  await writeFile(join(d, 'deploy.conf'), `# written at injection\nDEPLOY_SCRIPT=${script}\n`);
  const env = { PATH: process.env.PATH!, DEPLOY_ONCE_CONF: join(d, 'deploy.conf'), DEPLOY_ONCE_STATE_DIR: join(d, 'state'), DEPLOY_ONCE_LOG: join(d, 'deploy.log') };
  await exec('bash', [join(SCRIPTS, 'guest/deploy-once')], { env });
  assert.is(await readFile(join(d, 'state/deploy.state'), 'utf8'), 'exit=3\n');
  assert.is(await readFile(join(d, 'deploy.log'), 'utf8'), 'installing\n');
  assert.is(await readFile(join(d, 'state/deployed'), 'utf8'), '');
  // a conf naming an unsafe path runs nothing
  await writeFile(join(d, 'deploy.conf'), 'DEPLOY_SCRIPT=/tmp/x;reboot\n');
  await exec('bash', [join(SCRIPTS, 'guest/deploy-once')], { env });
  assert.is(await readFile(join(d, 'state/deploy.state'), 'utf8'), 'exit=127\n');
});

plan.run();

// --- debugfs on a real ext4 golden image -----------------------------------------------------
const real = suite('injection with debugfs into a real ext4 image');
const missing = await missingRequirement(async () =>
  exec('sh', ['-c', 'command -v debugfs && command -v mkfs.ext4 && command -v e2fsck']).then(
    () => null,
    () => 'debugfs, mkfs.ext4 and e2fsck (e2fsprogs) are needed',
  ),
);
const it = guardedSuite(real, missing, 'the debugfs injection tests');
let rdir = '';
real.before(async () => {
  rdir = await mkdtemp(join(tmpdir(), 'kvm-inject-img-'));
});
real.after(async () => {
  if (rdir) await rm(rdir, { recursive: true, force: true });
});

/** A golden image that ran QASET before: stale control state and results. */
async function goldenImage(name: string, withUnit: boolean): Promise<string> {
  const tree = join(rdir, `${name}-tree`);
  const files: Record<string, string> = {
    'var/log/qaset/control/DONE': '2026-11-30-23-59-01\n',
    'var/log/qaset/control/STOP': '\n',
    'var/log/qaset/control/SYSTEM_DIRTY': '2026-11-30-23-00-00\n',
    'var/log/qaset/control/NEXT_RUN': '3 bonniepp_async_xfs\n',
    'var/log/qaset/control/RUN_ID': 'SQ_TEST_RUN_ID=20261130\n',
    'var/log/qaset/control/PREPARED': 'Mon Nov 30 2026\n',
    'var/log/qaset/lock.d/.keep': '',
    'var/log/qaset/log/sysbench_sys-ACAP2-20261130-20261130T230000.tar.bz2': 'old',
    'var/log/qaset/runs/sysbench_sys-1130T2300.screenlog': 'old',
    'var/log/qa/ctcs2/qa_sysbench-2026-11-30-23-00-00/test_results': 'old',
    'root/qaset/list.failed': ' dbench4_async_xfs\n',
    'etc/hostname': 'golden\n',
  };
  if (withUnit) files['usr/lib/systemd/system/qaperf.service'] = '[Service]\nType=idle\nExecStart=/usr/share/qa/qaset/qaset-service\n';
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(tree, p, '..'), { recursive: true });
    await writeFile(join(tree, p), text);
  }
  const image = join(rdir, `${name}.img`);
  await exec('mkfs.ext4', ['-q', '-F', '-d', tree, image, '16M']);
  return image;
}

const dbg = async (image: string, cmd: string) => (await exec('debugfs', ['-R', cmd, image])).stdout;

it('a golden image that ran QASET: reset, old results gone, inputs and enabled services in place, the filesystem clean', async () => {
  const image = await goldenImage('golden', true);
  const d = join(rdir, 'p1');
  await mkdir(d);
  await writeFile(join(d, 'list'), 'SQ_TEST_RUN_LIST=(\n  _reboot_off\n  sysbench_sys\n)\n');
  await writeFile(join(d, 'config'), "SQ_TEST_RUN_SET='performance'\n");
  const r = await sh('kvm_inject "$IMG" raw "$D"; printf "%s" "$KVM_QASET_START $KVM_P_QASET_UNIT"', { IMG: image, D: d, KVM_INJECT: 'debugfs' });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'service /usr/lib/systemd/system/qaperf.service');
  assert.equal((await dbg(image, 'ls -p /var/log/qaset/control')).split('\n').map((l) => l.split('/')[5]).filter((n) => n && n !== '.' && n !== '..').sort(), ['NEXT_RUN', 'PREPARED']);
  assert.is(await dbg(image, 'cat /var/log/qaset/control/NEXT_RUN'), '\n');
  assert.is(await dbg(image, 'cat /var/log/qaset/control/PREPARED'), 'Mon Nov 30 2026\n', 'a prepared golden image stays prepared');
  for (const gone of ['/var/log/qaset/lock.d', '/root/qaset/list.failed', '/var/log/qaset/log/sysbench_sys-ACAP2-20261130-20261130T230000.tar.bz2', '/var/log/qa/ctcs2']) {
    assert.match((await exec('debugfs', ['-R', `stat ${gone}`, image])).stderr, /not found/, `${gone} removed`);
  }
  for (const empty of ['/var/log/qaset/log', '/var/log/qaset/runs', '/var/log/qaset/calls', '/var/log/qaset/submission', '/var/log/qaset/set', '/var/log/qa']) {
    assert.equal((await dbg(image, `ls -p ${empty}`)).split('\n').map((l) => l.split('/')[5]).filter((n) => n && n !== '.' && n !== '..'), [], `${empty} exists, empty`);
  }
  assert.is(await dbg(image, 'cat /root/qaset/list'), 'SQ_TEST_RUN_LIST=(\n  _reboot_off\n  sysbench_sys\n)\n');
  const wants = await dbg(image, 'ls -l /etc/systemd/system/multi-user.target.wants');
  assert.match(wants, /120777.*qaperf\.service/);
  assert.match(wants, /120777.*orchestrate-qaset-watch\.service/);
  assert.match(await dbg(image, 'stat /etc/systemd/system/multi-user.target.wants/qaperf.service'), /Fast link dest: "\/usr\/lib\/systemd\/system\/qaperf\.service"/);
  assert.match(await dbg(image, 'stat /etc/systemd/system/sqperf.service'), /Fast link dest: "\/usr\/lib\/systemd\/system\/qaperf\.service"/);
  const watcher = await dbg(image, 'stat /usr/local/lib/orchestrate/qaset-watch');
  assert.match(watcher, /Mode: +0755/);
  assert.match(watcher, /User: +0 +Group: +0/);
  assert.is(await dbg(image, 'cat /usr/local/lib/orchestrate/qaset-watch'), await readFile(join(SCRIPTS, 'guest/qaset-watch'), 'utf8'));
  const fsck = await exec('e2fsck', ['-fn', image]).then((x) => ({ code: 0, out: x.stdout }), (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }));
  assert.is(fsck.code, 0, fsck.out);
});

it('an image without QASET\'s boot service and no deployment script is refused, saying what to do; nothing is written', async () => {
  const image = await goldenImage('bare', false);
  const before = await readFile(image);
  const d = join(rdir, 'p2');
  await mkdir(d);
  await writeFile(join(d, 'list'), 'SQ_TEST_RUN_LIST=(\n  sysbench_sys\n)\n');
  await writeFile(join(d, 'config'), '');
  const r = await sh('kvm_inject "$IMG" raw "$D"', { IMG: image, D: d, KVM_INJECT: 'debugfs' });
  assert.is(r.code, 1);
  assert.match(r.stderr, /QASET's boot service is not in the base image .*install qa_testset_automation in the image, or give guest.deployment_script/);
  assert.ok(before.equals(await readFile(image)), 'the image is unchanged');
});

it('with a deployment script the image needs no QASET: the script, its first-boot unit and its config go in', async () => {
  const image = await goldenImage('deploy', false);
  const d = join(rdir, 'p3');
  await mkdir(d);
  await writeFile(join(d, 'list'), 'SQ_TEST_RUN_LIST=(\n  sysbench_sys\n)\n');
  await writeFile(join(d, 'config'), '');
  const script = join(rdir, 'deploy-qaset.sh');
  await writeFile(script, '#!/bin/sh\nzypper -n in qa_testset_automation && /usr/share/qa/qaset/run/performance-run\n');
  const r = await sh('kvm_inject "$IMG" raw "$D"', { IMG: image, D: d, KVM_INJECT: 'debugfs', KVM_DEPLOYMENT_SCRIPT: script });
  assert.is(r.code, 0, r.stderr);
  assert.match(await dbg(image, 'stat /deploy-qaset.sh'), /Mode: +0755/);
  assert.is(await dbg(image, 'cat /etc/orchestrate/deploy.conf'), 'DEPLOY_SCRIPT=/deploy-qaset.sh\n');
  assert.match(await dbg(image, 'ls -l /etc/systemd/system/multi-user.target.wants'), /orchestrate-deploy\.service/);
  assert.not.match(await dbg(image, 'ls -l /etc/systemd/system/multi-user.target.wants'), /qaperf\.service/);
});

real.run();

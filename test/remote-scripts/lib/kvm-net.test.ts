// remote-scripts/lib/kvm-net.sh, sourced by real bash (alone, or through remote-scripts/kvm whose
// main does not run): the host's own check of the NIC table the orchestrator sends (KVM_NICS: a
// line that is not exactly the expected shape, or that would join a peer's namespace to a bridge
// the job did not make, stops the helper before anything is made), the names of the job's links
// and namespaces (an interface name longer than 15 characters is refused by the kernel), and where
// the job records what it made: its own state directory, never a host-wide file. No link is made.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourced, sourcedOk } from '../sourced-bash.js';

const LIBS = ['lib/common.sh', 'lib/json.sh', 'lib/events.sh', 'lib/kvm-net.sh'];
const line = (...fields: string[]) => fields.join('\t');
const GOOD = line('0', 'bridge', 'okvbr1', '10.83.1.2/24', '10.83.1.1', 'yes', '10.83.1.1/24', 'yes', 'iperf3', '5201');
const DHCP = line('1', 'network', 'default', 'dhcp', '-', 'no', '-', 'no', '-', '-');

test('kvm_net_validate: well-formed lines pass (blank lines ignored)', async () => {
  const run = await sourced(LIBS, 'kvm_net_validate; kvm_net_nics', { env: { KVM_NICS: `${GOOD}\n\n${DHCP}\n` } });
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, `${GOOD}\n${DHCP}\n`);
});

test('kvm_net_validate: a malformed line stops the helper, quoted inert in the message; a peer namespace needs a bridge the job creates', async () => {
  const bad = [
    line('8', 'bridge', 'okvbr1', '-', '-', 'no', '-', 'no', '-', '-'), // index 0..7
    line('0', 'bridge', 'br0;reboot', '-', '-', 'no', '-', 'no', '-', '-'),
    line('0', 'bridge', 'sixteen-chars-xx', '-', '-', 'no', '-', 'no', '-', '-'), // 16: a link name has at most 15
    line('0', 'bridge', 'okvbr1', '10.0.0.1/24$(id)', '-', 'no', '-', 'no', '-', '-'),
    line('0', 'macvtap', 'eth0', '-', '-', 'no', '-', 'no', '-', '-'),
    line('0', 'bridge', 'okvbr1', '-', '-', 'maybe', '-', 'no', '-', '-'),
    line('0', 'bridge', 'okvbr1', '-', '-', 'no', '-', 'no', 'nc', '-'),
    line('0', 'bridge', 'okvbr1', '-', '-', 'no', '-', 'no', '-'), // a field short
    `${GOOD}\textra`,
  ];
  for (const nic of bad) {
    const run = await sourced(LIBS, 'kvm_net_validate; echo reached', { env: { KVM_NICS: `${GOOD}\n${nic}` } });
    assert.is(run.code, 1, JSON.stringify(nic));
    assert.is(run.stdout, '', 'nothing after the refusal runs');
    assert.match(run.stderr, /^error: bad NIC line in KVM_NICS: \$'/, 'the line shown as bash quoting (no raw control characters)');
  }
  const shared = line('0', 'bridge', 'virbr0', '10.83.1.2/24', '-', 'no', '10.83.1.1/24', 'yes', 'iperf3', '-');
  const run = await sourced(LIBS, 'kvm_net_validate', { env: { KVM_NICS: shared } });
  assert.is(run.code, 1);
  assert.match(run.stderr, /a peer namespace needs a bridge the job creates \(create=yes\)/);
});

test('the job\'s link and namespace names: at most 15 characters for every NIC index, stable per job, different between jobs', async () => {
  const names = async (tag: string) =>
    (await sourcedOk(LIBS, 'for i in 0 1 7; do v=$(kvm_net_veth $i); printf "%s %s %s\\n" "$v" "${v%h}p" "$(kvm_net_ns $i)"; done', { env: { KVM_JOB_TAG: tag } })).trim().split('\n');
  const a = await names('sweep-2026-12-06T13-00-00Z--kvm-host-with-a-long-name');
  for (const row of a) {
    const [veth, peer, ns] = row.split(' ');
    assert.ok(veth!.length <= 15 && peer!.length <= 15, `interface names ${veth} ${peer}`);
    assert.match(veth!, /^okv[0-9a-f]{6}[0-7]h$/);
    assert.match(ns!, /^orch-kvm-[0-9a-f]{6}-[0-7]$/);
  }
  assert.equal(await names('sweep-2026-12-06T13-00-00Z--kvm-host-with-a-long-name'), a, 'the same job: the same names (net-down finds them)');
  assert.not.equal(await names('sweep-2026-12-06T13-00-00Z--other-job'), a, 'another job on the same kernel: other names');
});

test('what net-up makes is recorded in the job\'s state directory (remote-scripts/kvm\'s KVM_STATE), and net-down reads and removes that file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvm-net-state-'));
  try {
    const env = { ORCH_JOB_DIR: join(dir, 'job'), ORCH_ARTIFACTS: join(dir, 'job/artifacts') };
    const run = await sourced(['kvm'], 'kvm_job_paths; kvm_net_record test-kind test-name; cat -- "$KVM_STATE/net.tsv"; kvm_net_down', { env });
    assert.is(run.code, 0, run.stderr);
    assert.is(run.stdout, 'test-kind\ttest-name\n');
    assert.match(run.stderr, /guest network removed \(0\)/, 'net-down read the job\'s file (an unknown kind is skipped, nothing else touched)');
    assert.not.ok(existsSync(join(dir, 'job/kvm/net.tsv')), 'and removed it');
    assert.not.ok(existsSync('/net.tsv') && (await readFile('/net.tsv', 'utf8')).includes('test-name'), 'never a host-wide file');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();

// The kvm scenario's guest install and guest network end to end on the local lab, through the real
// CLI. One lab hypervisor (a real sshd) drives this machine's libvirtd (qemu:///system, TCG):
//   - the guest's image comes from guest.install (the lab guest's recipe, mmdebstrap way, offline
//     from the cached tree), recorded as the job's build;
//   - two points that differ only in NIC model (virtio, e1000), each guest on a bridge the job
//     creates, with a static address and a default route through the peer, which lives in a network
//     namespace the job makes (veth into the bridge) and runs the real iperf3 -s, started and
//     stopped by PID per point; QASET's peer case (netperf_fiber4; the stand-in runs the real
//     iperf3 client) measures both directions; throughput becomes metrics labelled by NIC model;
//   - afterwards the peers, the bridge and the namespace are gone;
//   - one guest with two NICs (virtio, e1000) on two bridges, a peer behind each: each NIC's
//     throughput labelled with its NIC and model;
//   - a second sweep with a broken recipe (an image too small for its packages) fails the job at
//     guest-install with the build log's tail, runs no point and leaves no half image.
// Every address is 10.83.x.x (this engineer's lab subnets: 80-84) on the bridge the job made or in
// its namespace; the host's own interfaces are never touched.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labUp, type Lab } from '../lab/lab.js';
import { IMAGE_CACHE } from '../kvm-guest/lab-guest.js';
import { labGuestRecipe } from '../kvm-guest/guest-recipe.js';
import { hypervisorMissing, hypervisorUp, labGuestInstallParams, labGuestNetwork, smallPointParams, writeKvmInventory, type HypervisorLab } from '../lab/hypervisor.js';
import { MetricsFileSchema, type MetricSample } from '../../orchestrator/results/metrics.js';
import { GuestInstallRecord } from '../../orchestrator/scenarios/kvm/install.js';
import { PointRecordSchema } from '../../orchestrator/scenarios/kvm/normalize.js';
import { guardedSuite, missingRequirement } from '../support/requirements.js';
import { jobManifest, onlySweep, runCli } from './cli-helpers.js';

const run = promisify(execFile);
const e2e = suite('kvm guest install and guest network end to end (iperf3 peer in a namespace)');
const missing = await missingRequirement(hypervisorMissing, () =>
  run('sh', ['-c', 'command -v iperf3 && command -v ip && command -v ss']).then(() => null, () => 'iperf3, ip or ss not installed (bash test/install-deps.sh)'),
);
const it = guardedSuite(e2e, missing, 'the kvm network end-to-end tests');
let lab: Lab | undefined;
let hv: HypervisorLab | undefined;
let work = '';
const NET = 83;
const BRIDGE = `okvbr${process.pid % 100000}`;

e2e.before(async () => {
  if (missing) return;
  work = await mkdtemp('/var/tmp/kvm-net-e2e-');
  await chmod(work, 0o755);
  hv = await hypervisorUp();
  lab = await labUp({ subnet: 83, hosts: 1, dir: join(work, 'lab'), reports: false });
});

e2e.after(async () => {
  await lab?.down();
  await hv?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const of = (samples: MetricSample[], metric: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const linkExists = (name: string) => run('ip', ['link', 'show', 'dev', name]).then(() => true, () => false);
const namespaces = async () => (await run('ip', ['netns', 'list'])).stdout;

it('two points differing only in NIC model run QASET\'s peer case against iperf3 in the job\'s namespace: throughput per model; peers, bridge and namespace gone', async () => {
  assert.not.ok(await linkExists(BRIDGE), `${BRIDGE} must not exist before the test`);
  const results = join(work, 'results');
  const params = smallPointParams(hv!, {
    backing: 'e2enet',
    qaset: { run_list: ['netperf_fiber4'], prepared: true, config: { STANDIN_IPERF3_TIME: 3 }, timeout: '10m', stall_timeout: '5m', poll_interval: 1 },
    extra: { domain_type: 'qemu' },
  });
  const matrix = params['matrix'] as Record<string, unknown>;
  matrix['network_model'] = ['virtio', 'e1000'];
  matrix['memory_mib'] = [384];
  (params['guest'] as Record<string, unknown>)['network'] = labGuestNetwork({ bridge: BRIDGE, net: NET });
  const inventory = await writeKvmInventory(lab!, { file: join(work, 'kvm.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
  const t0 = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  console.log(`kvm network e2e: sweep ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);
  const job = join(dir, 'jobs', 'lab-01--kvm');
  const manifest = await jobManifest(dir, 'lab-01--kvm');
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  const ids = ['smp1x1x1-dir.e2enet-raw-writeback-threads-virtio-m384-r1', 'smp1x1x1-dir.e2enet-raw-writeback-threads-virtio-m384-net.e1000-r1'];
  assert.equal(manifest.phases.map((p) => [p.name, p.status]), [
    ['provenance', 'ok'], ['check', 'ok'], ['host-prepare', 'ok'], ['guest-install', 'ok'], ['net-up', 'ok'],
    ...ids.map((id) => [`point-${id}`, 'ok']), ['cleanup', 'ok'], ['net-down', 'ok'], ['host-teardown', 'ok'],
  ]);

  // the guest's image: built (or found) by guest.install, the job's build in its manifest
  const install = GuestInstallRecord.parse(JSON.parse(await readFile(join(job, 'raw/artifacts/guest-install.json'), 'utf8')));
  assert.is(install.method, 'mmdebstrap');
  assert.is(install.tree_cached, true, 'offline: the tree came from the cache');
  assert.match(install.os.pretty_name ?? '', /^Debian GNU\/Linux 12/);
  assert.ok(install.image.startsWith(`${IMAGE_CACHE}/images/${install.recipe_hash}/`));
  assert.is(manifest.build?.revision, install.recipe_hash);
  assert.match(manifest.build?.label ?? '', /Debian GNU\/Linux 12/);

  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(job, 'metrics.json'), 'utf8')));
  const figures: string[] = [];
  for (const [id, model] of [[ids[0]!, 'virtio'], [ids[1]!, 'e1000']] as const) {
    const art = join(job, 'raw/artifacts/points', id);
    const point = PointRecordSchema.parse(JSON.parse(await readFile(join(art, 'point.json'), 'utf8')));
    assert.is(point.status, 'done', JSON.stringify(point));
    assert.equal(point.cases?.passed, ['netperf_fiber4']);
    // the NIC the domain had, with the point's model and a MAC the host picked
    const xml = await readFile(join(art, 'domain.xml'), 'utf8');
    assert.match(xml, new RegExp(`<interface type='bridge'>\\s*<mac address='52:54:00:[0-9a-f:]{8}'/>\\s*<source bridge='${BRIDGE}'/>\\s*<model type='${model}'/>`));
    // the peer: iperf3 in the job's namespace, started for the point and stopped by its PID
    const peers = JSON.parse(await readFile(join(art, 'peers.json'), 'utf8')) as { tool: string; address: string; namespace: string; pid: number; stopped: boolean }[];
    assert.is(peers.length, 1);
    assert.equal([peers[0]!.tool, peers[0]!.address, peers[0]!.stopped], ['iperf3', `10.${NET}.1.1`, true]);
    assert.match(peers[0]!.namespace, /^orch-kvm-[0-9a-f]{6}-0$/);
    const comm = await readFile(`/proc/${peers[0]!.pid}/comm`, 'utf8').catch(() => '');
    assert.is.not(comm.trim(), 'iperf3', 'the peer is not running any more');
    // real traffic both ways, labelled with the NIC model
    for (const direction of ['send', 'receive']) {
      const t = of(metrics.samples, 'iperf3.throughput', { point: id, network_model: model, direction, case: 'netperf_fiber4' });
      assert.is(t.length, 1, `${model} ${direction}: ${JSON.stringify(of(metrics.samples, 'iperf3.throughput'))}`);
      assert.ok(t[0]!.value > 0, `${model} ${direction}: ${t[0]!.value} Mbit/s (real bytes crossed; under TCG on a loaded machine e1000 can fall below 1 Mbit/s)`);
      assert.is(t[0]!.unit, 'Mbit/s');
      figures.push(`${model} ${direction} ${t[0]!.value.toFixed(0)} Mbit/s`);
    }
    assert.ok(of(metrics.samples, 'iperf3.retransmits', { point: id, direction: 'send' }).length === 1);
    assert.ok(of(metrics.samples, 'iperf3.cpu.local', { point: id }).length >= 1);
  }
  console.log(`kvm network e2e: ${figures.join(', ')}`);

  // nothing of the guest network is left: the bridge, the namespace, the veth
  assert.not.ok(await linkExists(BRIDGE), 'the bridge is gone');
  assert.not.match(await namespaces(), /orch-kvm-/);
  assert.not.match((await run('ip', ['-o', 'link', 'show'])).stdout, /okv[0-9a-f]{6}\dh/);
  const domains = (await run('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'])).stdout;
  assert.not.match(domains, /orch-lab-01-/);
});

it('several NICs: one guest with a virtio and an e1000 NIC, each on its own bridge with its own peer; each NIC\'s traffic labelled with its NIC and model', async () => {
  const results = join(work, 'results-nics');
  const params = smallPointParams(hv!, {
    backing: 'e2enics',
    qaset: { run_list: ['netperf_fiber4'], prepared: true, config: { STANDIN_IPERF3_TIME: 2 }, timeout: '10m', stall_timeout: '5m', poll_interval: 1 },
    extra: { domain_type: 'qemu' },
  });
  // the point's model is virtio (network_model none would give the guest no NIC); each NIC names its own
  (params['matrix'] as Record<string, unknown>)['network_model'] = ['virtio'];
  (params['matrix'] as Record<string, unknown>)['memory_mib'] = [384];
  (params['guest'] as Record<string, unknown>)['network'] = labGuestNetwork({ bridge: BRIDGE, net: NET, nics: [{ model: 'virtio' }, { model: 'e1000' }] });
  const inventory = await writeKvmInventory(lab!, { file: join(work, 'kvm-nics.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
  const t0 = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  console.log(`kvm network e2e: two-NIC sweep ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);
  const job = join(dir, 'jobs', 'lab-01--kvm');
  const id = 'smp1x1x1-dir.e2enics-raw-writeback-threads-virtio-m384-r1';
  const art = join(job, 'raw/artifacts/points', id);
  const xml = await readFile(join(art, 'domain.xml'), 'utf8');
  assert.match(xml, new RegExp(`<source bridge='${BRIDGE}0'/>\\s*<model type='virtio'/>[\\s\\S]*<source bridge='${BRIDGE}1'/>\\s*<model type='e1000'/>`));
  const peers = JSON.parse(await readFile(join(art, 'peers.json'), 'utf8')) as { nic: number; address: string; stopped: boolean }[];
  assert.equal(peers.map((p) => [p.nic, p.address, p.stopped]), [[0, `10.${NET}.1.1`, true], [1, `10.${NET}.2.1`, true]]);
  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(job, 'metrics.json'), 'utf8')));
  const figures: string[] = [];
  for (const [nicIndex, model, peer] of [['0', 'virtio', `10.${NET}.1.1`], ['1', 'e1000', `10.${NET}.2.1`]] as const) {
    for (const direction of ['send', 'receive']) {
      const t = of(metrics.samples, 'iperf3.throughput', { point: id, nic: nicIndex, nic_model: model, peer, direction, network_model: 'virtio+e1000' });
      assert.is(t.length, 1, `NIC ${nicIndex} ${direction}: ${JSON.stringify(of(metrics.samples, 'iperf3.throughput'))}`);
      assert.ok(t[0]!.value > 0, `NIC ${nicIndex} ${direction}: ${t[0]!.value} Mbit/s`);
      figures.push(`NIC ${nicIndex} ${model} ${direction} ${t[0]!.value.toFixed(0)} Mbit/s`);
    }
  }
  console.log(`kvm network e2e: ${figures.join(', ')}`);
  for (const i of [0, 1]) assert.not.ok(await linkExists(`${BRIDGE}${i}`), `bridge ${BRIDGE}${i} is gone`);
  assert.not.match(await namespaces(), /orch-kvm-/);
});

it('a broken recipe fails the job at guest-install with the build log\'s tail; no point runs, no half image is left', async () => {
  const results = join(work, 'results-broken');
  const before = new Set(await readdir(join(IMAGE_CACHE, 'images')));
  const params = smallPointParams(hv!, { backing: 'e2ebroken', qaset: { run_list: ['sysbench_sys'], prepared: true }, extra: { domain_type: 'qemu' } });
  params['guest'] = labGuestInstallParams('debugfs', { ...labGuestRecipe(), size: '300M' });
  (params['guest'] as Record<string, unknown>)['network'] = labGuestNetwork({ bridge: BRIDGE, net: NET });
  const inventory = await writeKvmInventory(lab!, { file: join(work, 'kvm-broken.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
  const { code } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  assert.is(code, 1);
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, 'lab-01--kvm');
  assert.is(manifest.status, 'failed');
  const phases = Object.fromEntries(manifest.phases.map((p) => [p.name, p.status]));
  assert.is(phases['guest-install'], 'failed');
  const points = Object.entries(phases).filter(([p]) => p.startsWith('point-'));
  assert.ok(points.every(([, status]) => status === 'skipped'), `no point ran: ${JSON.stringify(points)}`);
  assert.ok(phases['net-up'] === undefined || phases['net-up'] === 'skipped', 'the network was not made');
  assert.is(phases['cleanup'], 'ok');
  assert.is(phases['host-teardown'], 'ok');
  const errors = JSON.stringify(manifest.errors);
  assert.match(errors, /guest install \(mmdebstrap\) failed/, errors);
  assert.match(errors, /too small/);
  const after = (await readdir(join(IMAGE_CACHE, 'images'))).filter((n) => !before.has(n) && !n.startsWith('.lock-'));
  assert.equal(after, [], 'no new image and no .build- directory');
  assert.not.ok(await linkExists(BRIDGE));
  const namespaces = await readdir('/run/netns').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  assert.equal(namespaces.filter((n) => /^orch-kvm-/.test(n)), [], 'no peer namespace of the job is left');
});

e2e.run();

// guest.network: the NIC schema (one or several, bridges the job makes carry only private
// addresses, peers on the guest's network), the domain XML's interfaces (each NIC's model or the
// point's, the host's MAC placeholders), the host's NIC table, QASET's peer keys, the phases the
// network adds and the label that tells points apart by their NICs' models. The host side
// (lib/kvm-net.sh) is checked on its systemd-networkd files and its refusal of a bad NIC line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildDomainXml } from '../../orchestrator/scenarios/kvm/domain-xml.js';
import { matrixPoints } from '../../orchestrator/scenarios/kvm/matrix.js';
import { GuestNetwork, isPrivateIpv4, networkLabel, nicTable, peerConfig, sameSubnet } from '../../orchestrator/scenarios/kvm/network.js';
import { KvmParams } from '../../orchestrator/scenarios/kvm/params.js';
import { kvmPhases, qasetConfig } from '../../orchestrator/scenarios/kvm/phases.js';
import { pointLabels } from '../../orchestrator/scenarios/kvm/points.js';
import { labelNics } from '../../orchestrator/scenarios/kvm/normalize.js';
import { sample } from '../../orchestrator/results/metrics.js';

const exec = promisify(execFile);
const LIB = fileURLToPath(new URL('../../remote-scripts/lib/', import.meta.url));

const nic = (extra: Record<string, unknown> = {}) => ({
  type: 'bridge',
  source: 'okvbr1',
  create: true,
  address: '10.83.1.2/24',
  gateway: '10.83.1.1',
  peer: { address: '10.83.1.1/24', namespace: true, tool: 'iperf3' },
  ...extra,
});

const params = (network: unknown, models = ['virtio', 'e1000']) =>
  KvmParams.parse({
    matrix: { topologies: [{ vcpus: 1, sockets: 1, cores: 1, threads: 1 }], backing: [{ dir: '/var/tmp/b', name: 'b' }], network_model: models, cache: ['writeback'], io: ['threads'] },
    guest: { base_image: '/var/tmp/base.img', network },
    qaset: { run_list: ['netperf_fiber4'] },
  });

test('one NIC or a list; the single-object form of older inventories still reads', () => {
  assert.is(GuestNetwork.parse(nic()).length, 1);
  assert.is(GuestNetwork.parse([nic(), nic({ source: 'okvbr2', address: '10.83.2.2/24', gateway: '10.83.2.1', peer: { address: '10.83.2.1/24', namespace: true } })]).length, 2);
  assert.is(GuestNetwork.parse({ type: 'network', source: 'default' })[0]!.create, false);
});

test('refused: a public address on a bridge the job makes, a peer off the guest\'s network, dhcp without a libvirt network, a peer namespace on a bridge the job did not make, shared addresses', () => {
  const issues = (v: unknown) => {
    const r = GuestNetwork.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => i.message);
  };
  assert.match(issues(nic({ address: '8.8.8.2/24', gateway: '8.8.8.1', peer: { address: '8.8.8.1/24' } })).join(' '), /not a private \(RFC 1918\) address/);
  assert.match(issues(nic({ peer: { address: '10.83.9.1/24' } })).join(' '), /not on the guest's network/);
  assert.match(issues(nic({ address: 'dhcp', gateway: undefined })).join(' '), /dhcp comes from a libvirt network/);
  assert.match(issues(nic({ create: false })).join(' '), /a peer namespace joins a bridge the job made/);
  assert.match(issues([nic(), nic({ source: 'okvbr2' })]).join(' '), /share an address/);
  assert.match(issues(nic({ source: 'a-bridge-name-too-long' })).join(' '), /at most 15/);
  assert.match(issues(nic({ address: '10.83.1.2/24; reboot' })).join(' '), /IPv4 address with its prefix/);
  assert.ok(isPrivateIpv4('172.31.0.1') && !isPrivateIpv4('172.32.0.1') && isPrivateIpv4('192.168.1.1'));
  assert.ok(sameSubnet('10.83.1.2/24', '10.83.1.1/24') && !sameSubnet('10.83.1.2/24', '10.83.2.1/24'));
});

test('the domain XML: one interface per NIC, its own model or the point\'s, a MAC placeholder; none for network_model none', () => {
  const p = params([nic(), { type: 'network', source: 'default', model: 'rtl8139' }]);
  const [virtio, e1000] = matrixPoints(p.matrix);
  const nics = p.guest.network!.map((n, i) => ({ type: n.type, source: n.source!, mac: `@NIC_MAC_${i}@`, ...(n.model ? { model: n.model } : {}) }));
  const base = { name: 'd', baseImage: '/b.img', testImage: '/t.img', serialLog: '/s.log', network: nics };
  const xml = buildDomainXml({ ...base, point: e1000! }).xml;
  assert.match(xml, /<interface type='bridge'>\s*<mac address='@NIC_MAC_0@'\/>\s*<source bridge='okvbr1'\/>\s*<model type='e1000'\/>/);
  assert.match(xml, /<interface type='network'>\s*<mac address='@NIC_MAC_1@'\/>\s*<source network='default'\/>\s*<model type='rtl8139'\/>/);
  assert.match(buildDomainXml({ ...base, point: virtio! }).xml, /<model type='virtio'\/>/);
  const none = matrixPoints(params(nic(), ['none']).matrix)[0]!;
  assert.not.match(buildDomainXml({ ...base, point: none }).xml, /<interface/);
  // labels: the point's model, or every NIC's when a NIC names its own
  assert.is(pointLabels(e1000!, p.guest.network).network_model, 'e1000+rtl8139');
  assert.is(pointLabels(e1000!, [GuestNetwork.parse(nic())[0]!]).network_model, 'e1000');
  assert.is(networkLabel(p.guest.network, 'none'), 'none');
});

test('iperf3 samples get the NIC their peer sits behind (index and model at this point); others are left alone', () => {
  const nics = GuestNetwork.parse([nic(), nic({ source: 'okvbr2', model: 'e1000', address: '10.83.2.2/24', gateway: '10.83.2.1', peer: { address: '10.83.2.1/24', namespace: true } })]);
  const samples = [
    sample('kvm.point.boot', 1, 's', 'none', { peer: '10.83.1.1' }),
    sample('iperf3.throughput', 500, 'Mbit/s', 'higher', { peer: '10.83.1.1' }),
    sample('iperf3.throughput', 300, 'Mbit/s', 'higher', { peer: '10.83.2.1' }),
    sample('iperf3.throughput', 100, 'Mbit/s', 'higher', { peer: '10.99.0.1' }),
  ];
  labelNics(samples, 0, nics, 'virtio');
  assert.equal(samples.map((x) => [x.labels['nic'], x.labels['nic_model']]), [[undefined, undefined], ['0', 'virtio'], ['1', 'e1000'], [undefined, undefined]]);
});

test('the host\'s NIC table, QASET\'s peer keys, and the phases the network adds (net-up before the points, net-down always)', () => {
  const p = params([nic(), { type: 'bridge', source: 'br0', address: '192.168.5.20/24' }]);
  assert.is(nicTable(p.guest.network!), '0\tbridge\tokvbr1\t10.83.1.2/24\t10.83.1.1\tyes\t10.83.1.1/24\tyes\tiperf3\t5201\n1\tbridge\tbr0\t192.168.5.20/24\t-\tno\t-\tno\t-\t-');
  assert.equal(peerConfig(p.guest.network!), { ORCH_NET_PEER: '10.83.1.1', ORCH_NET_PEERS: '10.83.1.1' });
  assert.match(qasetConfig(p, '/dev/vdb'), /^ORCH_NET_PEER='10\.83\.1\.1'$/m);
  const phases = kvmPhases({ params: p, host: {} as never, profilesDir: '' });
  const names = phases.map((ph) => ph.name);
  assert.equal(names.slice(0, 3), ['check', 'host-prepare', 'net-up']);
  assert.equal(names.slice(-3), ['cleanup', 'net-down', 'host-teardown']);
  assert.ok(phases.find((ph) => ph.name === 'net-down')!.always);
  assert.is(phases[0]!.env!['KVM_NICS'], nicTable(p.guest.network!));
  const point = phases.find((ph) => ph.name.startsWith('point-'))!;
  assert.match(point.env!['KVM_POINT_XML']!, /@NIC_MAC_1@/);
  // no network: no phases of its own
  const plain = kvmPhases({ params: params(undefined), host: {} as never, profilesDir: '' }).map((ph) => ph.name);
  assert.not.ok(plain.includes('net-up') || plain.includes('net-down'));
});

test('host side: systemd-networkd files per NIC matched by the point\'s MAC (static + default route with metric 100 + index, or DHCP); a bad NIC line is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvm-net-'));
  try {
    const script = `
      set -euo pipefail
      orch_progress() { :; }; orch_log_event() { :; }
      . ${LIB}common.sh; . ${LIB}json.sh; . ${LIB}kvm-net.sh
      KVM_NIC_MAC=([0]=52:54:00:aa:bb:01 [1]=52:54:00:aa:bb:02)
      kvm_net_guest_files "$1"
    `;
    const nics = '0\tbridge\tokvbr1\t10.83.1.2/24\t10.83.1.1\tyes\t10.83.1.1/24\tyes\tiperf3\t5201\n1\tnetwork\tdefault\tdhcp\t-\tno\t-\tno\t-\t-';
    const { stdout } = await exec('bash', ['-c', script, 'x', dir], { env: { PATH: process.env.PATH!, KVM_NICS: nics, KVM_STATE: dir } });
    assert.equal(stdout.trim().split('\n'), [join(dir, '20-orchestrate-nic0.network'), join(dir, '20-orchestrate-nic1.network')]);
    const f0 = await readFile(join(dir, '20-orchestrate-nic0.network'), 'utf8');
    assert.match(f0, /\[Match\]\nMACAddress=52:54:00:aa:bb:01\n/);
    assert.match(f0, /Address=10\.83\.1\.2\/24\n\n\[Route\]\nGateway=10\.83\.1\.1\nMetric=100\n/);
    assert.match(await readFile(join(dir, '20-orchestrate-nic1.network'), 'utf8'), /DHCP=ipv4\n\n\[DHCPv4\]\nRouteMetric=101\n/);
    const bad = await exec('bash', ['-c', script, 'x', dir], { env: { PATH: process.env.PATH!, KVM_NICS: '0\tbridge\tbr0;rm -rf /\t-\t-\tno\t-\tno\t-\t-', KVM_STATE: dir } }).then(
      () => '',
      (e: { stderr: string }) => e.stderr,
    );
    assert.match(bad, /bad NIC line in KVM_NICS/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();

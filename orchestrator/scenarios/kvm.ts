// kvm: guest performance on a hypervisor (seed: kvm-guest-perf-design), rebuilt as phases of
// remote-scripts/kvm and remote-scripts/kvm-prepare-host. Per host: check, host preparation
// (partitions and filesystems on a named, explicitly allowed test device, or the inventory's
// directories), one phase per matrix point (a fresh guest from the base image, QASET's inputs
// injected with its control state reset and its boot service enabled, defined and started through
// libvirt, QASET followed over a virtio-serial channel from an in-guest watcher across its reboots
// until DONE, STOP, a stall, the guest going down or the time limit, /var/log/qaset, /var/log/qa
// and list.failed collected, the guest and its images removed, host series sampled into RRD),
// then guest cleanup and host teardown (always). With guest.install the image is built first
// (cached by its recipe's hash; the job's `build` is the image: its OS and recipe hash), and with
// guest.network the job's bridges and peer namespaces are made before the matrix and removed
// after it, each point's peers (iperf3 -s / netserver) started and stopped by PID.
import { KvmParams, repeatCases, repeatIsOn } from './kvm/params.js';
import { kvmPhases } from './kvm/phases.js';
import { backingLabel, matrixPoints, topologyLabel } from './kvm/matrix.js';
import { guestImageIdentity, readGuestInstall } from './kvm/install.js';
import { networkLabel } from './kvm/network.js';
import type { Scenario } from './types.js';

export { KvmParams } from './kvm/params.js';

export const kvmScenario: Scenario<KvmParams> = {
  name: 'kvm',
  description:
    'KVM guest performance (after the kvm-guest-perf design): a matrix of CPU topologies, IO backends and memory sizes; per point a fresh libvirt guest runs QASET, whose ctcs2 results and benchmark outputs (bonnie++, iozone, dbench, tiobench, sysbench, kernbench, reaim, netperf, lmbench, pgbench, fio) become metrics, with host CPU, memory, disk and network in RRD.',
  params: KvmParams,
  phases: kvmPhases,
  // guest/ is what the guest image gets (its watcher and deploy units); kvm-build-image builds guest.install's images
  helpers: [
    'remote-scripts/kvm',
    'remote-scripts/kvm-prepare-host',
    'remote-scripts/kvm-build-image',
    'remote-scripts/lib/kvm-*.sh',
    'remote-scripts/lib/repeat.sh',
    'remote-scripts/lib/host-sampler.sh',
    'remote-scripts/lib/rrd.sh',
    'remote-scripts/guest',
  ],
  summary: (p) => {
    const m = p.matrix;
    const minutes = Math.round(p.qaset.timeout / 60_000);
    return [
      `${matrixPoints(m).length} point(s): topologies ${m.topologies.map(topologyLabel).join(' ')}`,
      `backing ${m.backing.map(backingLabel).join(' ')}`,
      `format ${m.format.join(' ')}`,
      `cache ${m.cache.join(' ')}`,
      `io ${m.io.join(' ')}`,
      `bus ${m.bus.join(' ')}`,
      `memory ${m.memory_mib.join(' ')} MiB`,
      ...(p.guest.network ? [`network ${m.network_model.map((model) => networkLabel(p.guest.network, model)).join(' ')}`] : []),
      ...(p.guest.install ? [`guest installed by ${p.guest.install.method}`] : []),
      `x${m.repetitions}`,
      `QASET ${p.qaset.run_list.join(' ')} (timeout ${minutes} min)`,
      ...(repeatIsOn(p.repeat) ? [`repeat ${repeatCases(p.repeat).join(' ')} ${p.repeat.min}..${p.repeat.max} runs to +-${p.repeat.target_ci * 100}% on ${p.repeat.metric.case}${p.repeat.metric.test ? `:${p.repeat.metric.test}` : ''}`] : []),
      `${p.guest.inject}${p.host_disk?.device ? `; prepares ${p.host_disk.device}` : ''}`,
    ].join('; ');
  },
  // The QASET walker and its parsers load when results are read, not at start (`--plan`).
  normalize: async (rawDir, { params }) => {
    const { normalizeKvm } = await import('./kvm/normalize.js');
    return normalizeKvm(rawDir, params);
  },
  build: async (rawDir) => {
    const record = await readGuestInstall(rawDir);
    return record ? guestImageIdentity(record) : undefined;
  },
  // The job page's charts and the trends matrix's point names: loaded by the report only.
  jobPage: async () => (await import('./kvm/job-page.js')).jobPage,
};

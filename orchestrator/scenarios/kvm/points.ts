// How a matrix point's results are named: the labels that say which point a kvm sample belongs
// to (the normalizer puts them on every sample; the report names and groups points by them) and
// the steps a point goes through (remote-scripts/kvm times them).
import type { MatrixPoint } from './matrix.js';
import { networkLabel, type GuestNic } from './network.js';

/**
 * The steps of a point, in order (remote-scripts/kvm's KVM_P_STEPS). boot: start until the guest
 * first reports; run: until QASET ends (reboots between cases included); shutdown: the guest
 * brought down and the host sampler stopped.
 */
export const POINT_STEPS = ['prepare', 'inject', 'define', 'boot', 'run', 'shutdown', 'collect', 'teardown'] as const;

/** Every timing a point records (point.json timings_ms): its steps. */
export const POINT_TIMINGS = POINT_STEPS;

/** The matrix axes, as labels: what can differ between two points of one job. */
export const POINT_AXIS_LABELS = ['topology', 'backing', 'format', 'cache', 'io', 'bus', 'memory_mib', 'network_model', 'repetition'] as const;

/** Every label pointLabels sets. */
export const POINT_LABEL_NAMES = ['point', 'config', 'vcpus', ...POINT_AXIS_LABELS] as const;

export type PointLabels = Record<(typeof POINT_LABEL_NAMES)[number], string>;

/**
 * The axes of a point, as sample labels. network_model is the point's model, or with guest NICs
 * that name their own models, every NIC's model joined with "+" (virtio+e1000).
 */
export function pointLabels(p: MatrixPoint, nics?: readonly GuestNic[]): PointLabels {
  return {
    point: p.id,
    config: p.configId,
    repetition: String(p.repetition),
    topology: p.topologyLabel,
    vcpus: String(p.topology.vcpus),
    backing: p.backingLabel,
    format: p.format,
    cache: p.cache,
    io: p.io,
    bus: p.bus,
    memory_mib: String(p.memoryMib),
    network_model: nics && nics.some((n) => n.model !== undefined) ? networkLabel(nics, p.networkModel) : p.networkModel,
  };
}

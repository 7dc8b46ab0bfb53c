// The kvm scenario's phases on one hypervisor: check, host preparation, one phase per matrix
// point (optional: a point that fails or times out is recorded and the next one runs), and two
// `always` teardowns (guests and images, then the host's backing stores). Each point's phase
// gets the domain XML built here (buildDomainXml) with placeholders for what only the host
// knows: its paths, the domain's name and, for domain_type auto, its type.
import type { PhaseSpec, ScenarioContext } from '../types.js';
import { buildDomainXml, DOMAIN_TYPE_TOKEN } from './domain-xml.js';
import { matrixPoints, type MatrixPoint } from './matrix.js';
import { DEFAULT_RECIPE_CMDLINE, installEnv } from './install.js';
import { macToken, nicTable, peerConfig } from './network.js';
import { guestImageFormat, guestMounts, hostPrepEnv, repeatCases, repeatIsOn, testDiskBytes, type KvmParams, type KvmRepeat } from './params.js';

const MIN = 60_000;
/** Time a point needs besides QASET's own run: disks, guestfish, boot, shutdown, collect. */
const POINT_OVERHEAD_MS = 20 * MIN;
/** Time a repetition needs besides its QASET run: inject, boot, shutdown, collect. */
const REPEAT_OVERHEAD_MS = 10 * MIN;
/** What a point keeps for itself after its last repetition (shutdown, teardown, point.json). */
export const REPEAT_RESERVE_S = 5 * 60;

/** A point phase's time limit: the point's run, and with repetitions room for max - 1 more (each up to qaset.timeout). */
export function pointTimeoutMs(params: Pick<KvmParams, 'qaset' | 'repeat'>): number {
  const runs = repeatIsOn(params.repeat) ? params.repeat.max - 1 : 0;
  return params.qaset.timeout + POINT_OVERHEAD_MS + runs * (params.qaset.timeout + REPEAT_OVERHEAD_MS);
}

/** remote-scripts/kvm's repetition rule (lib/kvm-repeat.sh); none without repetitions. */
export function repeatEnv(repeat: KvmRepeat | undefined, timeoutMs: number): Record<string, string> {
  if (!repeatIsOn(repeat)) return {};
  const m = repeat.metric;
  return {
    KVM_REPEAT_MIN: String(repeat.min),
    KVM_REPEAT_MAX: String(repeat.max),
    KVM_REPEAT_TARGET_CI: String(repeat.target_ci),
    KVM_REPEAT_CASES: repeatCases(repeat).join(' '),
    KVM_REPEAT_CASE: m.case,
    ...(m.test !== undefined ? { KVM_REPEAT_TEST: m.test } : {}),
    ...(m.pattern !== undefined ? { KVM_REPEAT_PATTERN: m.pattern } : {}),
    ...(m.run !== undefined ? { KVM_REPEAT_RUN: String(m.run) } : {}),
    KVM_REPEAT_BUDGET_S: String(Math.max(1, Math.floor(timeoutMs / 1000) - REPEAT_RESERVE_S)),
  };
}

/** A value for /root/qaset/config, single-quoted for the shell that sources it. */
function shellQuote(value: string | number | boolean): string {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** /root/qaset/config: the Virt-Performance keys, the test partition, then the inventory's keys. */
export function qasetConfig(params: KvmParams, guestTestDevice: string): string {
  const keys: Record<string, string | number | boolean> = {
    SQ_TEST_RUN_SET: 'performance',
    _QASET_ROLE: 'Virt-Performance',
    _QASET_SOFTWARE_TAG: 'VT',
    _QASET_SOFTWARE_SUB_TAG: 'vm',
    KVM: 1,
    SQ_ABUILD_PARTITION: `${guestTestDevice}1`,
    ...peerConfig(params.guest.network ?? []),
    ...params.qaset.config,
  };
  return Object.entries(keys)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join('\n');
}

interface PointPlan {
  point: MatrixPoint;
  phase: string;
  xml: string;
  guestTestDevice: string;
}

/** The domain XML of every point, with the host's placeholders. */
function planPoints(params: KvmParams): PointPlan[] {
  const g = params.guest;
  // an image the job installs with mmdebstrap boots its own kernel (paths known on the host only)
  const boot =
    g.install?.method === 'mmdebstrap'
      ? { kernel: '@GUEST_KERNEL@', initrd: '@GUEST_INITRD@', cmdline: g.install.recipe.cmdline ?? DEFAULT_RECIPE_CMDLINE }
      : g.kernel !== undefined
        ? { kernel: g.kernel, initrd: g.initrd, cmdline: g.cmdline ?? 'console=ttyS0' }
        : {};
  const nics = (g.network ?? []).map((n, i) => ({ type: n.type, mac: macToken(i), ...(n.source !== undefined ? { source: n.source } : {}), ...(n.model !== undefined ? { model: n.model } : {}) }));
  return matrixPoints(params.matrix).map((point) => {
    const { xml, guestTestDevice } = buildDomainXml({
      name: '@DOMAIN_NAME@',
      domainType: params.domain_type === 'auto' ? DOMAIN_TYPE_TOKEN : params.domain_type,
      point,
      ...boot,
      baseImage: '@GUEST_DISK@',
      baseFormat: g.base_copy === 'overlay' ? 'qcow2' : guestImageFormat(g),
      testImage: '@TEST_DISK@',
      serialLog: '@POINT_DIR@/serial.log',
      watchChannelLog: '@POINT_DIR@/qaset-watch.jsonl',
      ...(nics.length > 0 ? { network: nics } : {}),
      ...(g.cpu_model ? { cpuModel: g.cpu_model } : {}),
    });
    return { point, phase: `point-${point.id}`, xml, guestTestDevice };
  });
}

export function kvmPhases({ params }: ScenarioContext<KvmParams>): PhaseSpec[] {
  const g = params.guest;
  const mounts = guestMounts(g.root);
  const common: Record<string, string> = {
    KVM_LIBVIRT_URI: params.libvirt_uri,
    KVM_DOMAIN_TYPE: params.domain_type,
    KVM_INJECT: g.inject,
    KVM_GUEST_ROOT: typeof g.root === 'string' ? g.root : g.root.device,
    ...(mounts ? { KVM_GUEST_MOUNTS: mounts } : {}),
    ...(g.base_image !== undefined ? { KVM_BASE_IMAGE: g.base_image } : {}),
    ...(g.install ? { KVM_GUEST_INSTALL: 'yes', KVM_INSTALL_METHOD: g.install.method, ...(g.install.method === 'mmdebstrap' ? { KVM_INSTALL_DOWNLOAD: g.install.download ? 'yes' : 'no' } : {}) } : {}),
    ...(g.network && g.network.length > 0 ? { KVM_NICS: nicTable(g.network) } : {}),
    KVM_BASE_FORMAT: guestImageFormat(g),
    KVM_BASE_COPY: g.base_copy,
    KVM_KEEP_IMAGES: params.keep_images ? 'yes' : 'no',
    ...(g.kernel ? { KVM_KERNEL: g.kernel } : {}),
    ...(g.initrd ? { KVM_INITRD: g.initrd } : {}),
    ...(g.deployment_script ? { KVM_DEPLOYMENT_SCRIPT: g.deployment_script } : {}),
    ...(params.images_dir ? { KVM_IMAGES_DIR: params.images_dir } : {}),
  };
  const hostEnv = hostPrepEnv(params);
  const plans = planPoints(params);
  const timeoutS = Math.ceil(params.qaset.timeout / 1000);
  const pollS = Math.max(1, Math.round(params.qaset.poll_interval / 1000));
  const pointMs = pointTimeoutMs(params);
  const phases: PhaseSpec[] = [
    { name: 'check', helper: 'kvm', args: ['check'], env: common, timeoutMs: 2 * MIN },
    { name: 'host-prepare', helper: 'kvm-prepare-host', args: ['prepare'], env: hostEnv, timeoutMs: 15 * MIN },
  ];
  if (g.install) {
    phases.push({ name: 'guest-install', helper: 'kvm', args: ['install'], env: { ...common, ...installEnv(g.install, params.libvirt_uri) }, timeoutMs: g.install.timeout + 5 * MIN });
  }
  const networked = g.network !== undefined && g.network.length > 0;
  if (networked) phases.push({ name: 'net-up', helper: 'kvm', args: ['net-up'], env: common, timeoutMs: 2 * MIN });
  plans.forEach((plan, i) => {
    phases.push({
      name: plan.phase,
      helper: 'kvm',
      args: ['point'],
      optional: true,
      timeoutMs: pointMs,
      env: {
        ...common,
        KVM_POINT_ID: plan.point.id,
        KVM_POINT_INDEX: String(i + 1),
        KVM_POINT_COUNT: String(plans.length),
        KVM_POINT_BACKING: plan.point.backingLabel,
        KVM_POINT_FORMAT: plan.point.format,
        KVM_POINT_CACHE: plan.point.cache,
        KVM_POINT_XML: plan.xml,
        KVM_RUN_LIST: params.qaset.run_list.join(' '),
        KVM_QASET_CONFIG: qasetConfig(params, plan.guestTestDevice),
        KVM_TEST_DISK_BYTES: String(testDiskBytes(params)),
        KVM_TIMEOUT_S: String(timeoutS),
        KVM_POLL_S: String(pollS),
        KVM_STALL_S: String(Math.max(1, Math.ceil(params.qaset.stall_timeout / 1000))),
        KVM_QASET_PREPARED: params.qaset.prepared ? 'yes' : 'no',
        ...(params.qaset.run_id ? { KVM_QASET_RUN_ID: params.qaset.run_id } : {}),
        ...repeatEnv(params.repeat, pointMs),
      },
    });
  });
  phases.push({ name: 'cleanup', helper: 'kvm', args: ['cleanup'], env: common, timeoutMs: 10 * MIN, always: true });
  if (networked) phases.push({ name: 'net-down', helper: 'kvm', args: ['net-down'], env: common, timeoutMs: 2 * MIN, always: true });
  phases.push({ name: 'host-teardown', helper: 'kvm-prepare-host', args: ['teardown'], env: hostEnv, timeoutMs: 10 * MIN, always: true });
  return phases;
}

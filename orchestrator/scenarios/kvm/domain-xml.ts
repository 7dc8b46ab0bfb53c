// libvirt domain XML for one matrix point: the tiny test guest booted directly from a kernel +
// initrd, a base image (vda) and the test disk on the point's bus with its cache/io/format,
// the point's CPU topology (NUMA cells, pinning), serial console to a file, a virtio-serial
// channel to a file for the in-guest QASET watcher (remote-scripts/guest/qaset-watch), and
// on_poweroff=destroy so a guest that powers off is gone. Every value that came from the
// inventory is XML-escaped; control characters (not representable in XML 1.0) are refused.
import { formatCpuList, parseCpuList, type MatrixPoint } from './matrix.js';

export interface DomainInput {
  /** Domain name (libvirt refuses "/" in names; we refuse it too, and control characters). */
  name: string;
  /** Optional fixed UUID (lets callers address the domain without quoting its name). */
  uuid?: string;
  /** 'qemu' (TCG; /dev/kvm unusable), 'kvm', or DOMAIN_TYPE_TOKEN for the host to fill in. Default 'qemu'. */
  domainType?: 'qemu' | 'kvm' | typeof DOMAIN_TYPE_TOKEN;
  point: Pick<MatrixPoint, 'topology' | 'format' | 'cache' | 'io' | 'bus' | 'memoryMib' | 'networkModel'>;
  /** Direct kernel boot; without a kernel the guest boots from its base disk. */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Base image (root filesystem of the guest), raw unless baseFormat says otherwise. */
  baseImage: string;
  baseFormat?: 'raw' | 'qcow2';
  /** The test disk's image on the point's backing store. */
  testImage: string;
  serialLog: string;
  /**
   * Host side of the QASET watcher's virtio-serial channel (QASET_WATCH_CHANNEL in the guest):
   * a file qemu appends the guest's JSON lines to. No channel when left out.
   */
  watchChannelLog?: string;
  /**
   * The guest's NICs (one or a list), each with its own model or the point's; none given (or the
   * point's model 'none') = no NIC. `mac`: a fixed MAC or a placeholder the host fills in.
   */
  network?: DomainNic | DomainNic[];
  /** CPU model for mode='custom'; default qemu64. */
  cpuModel?: string;
  emulator?: string;
  /** What a guest reboot does: restart (default; QASET reboots between cases unless _reboot_off) or destroy. */
  onReboot?: 'restart' | 'destroy';
}

export interface DomainNic {
  type: 'network' | 'bridge' | 'user';
  source?: string;
  model?: string;
  mac?: string;
}

export interface DomainXml {
  xml: string;
  /** Device name of the test disk inside the guest (/dev/vdb for virtio-blk, /dev/sda for scsi/sata). */
  guestTestDevice: string;
}

/** The name of the QASET watcher's virtio-serial port: /dev/virtio-ports/<it> in the guest. */
export const QASET_WATCH_CHANNEL = 'org.orchestrate.qaset.0';

/** Stands for the domain type where the host decides it (kvm where /dev/kvm is usable, else qemu). */
export const DOMAIN_TYPE_TOKEN = '@DOMAIN_TYPE@';

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** Escapes text for an XML attribute value or element content (both quote kinds, &, <, >). */
export function xmlEscape(value: string | number): string {
  const s = String(value);
  if (FORBIDDEN.test(s)) throw new Error(`value ${JSON.stringify(s)} holds a control character that XML cannot carry`);
  return s.replace(/[&<>"'\r\n\t]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

/** attrs({a: 1, b: undefined}) -> " a='1'" (undefined values are left out). */
function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${xmlEscape(v as string | number)}'`)
    .join('');
}

const el = (tag: string, text: string | number, a: Record<string, string | number | undefined> = {}) => `<${tag}${attrs(a)}>${xmlEscape(text)}</${tag}>`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function buildDomainXml(input: DomainInput): DomainXml {
  const { point } = input;
  const t = point.topology;
  if (input.name.length === 0 || input.name.includes('/')) throw new Error(`domain name ${JSON.stringify(input.name)}: empty or holds "/"`);
  if (input.uuid !== undefined && !UUID.test(input.uuid)) throw new Error(`not a UUID: ${input.uuid}`);
  const type = input.domainType ?? 'qemu';
  const lines: string[] = [];
  const add = (depth: number, line: string) => lines.push(`${'  '.repeat(depth)}${line}`);

  add(0, `<domain${attrs({ type })}>`);
  add(1, el('name', input.name));
  if (input.uuid) add(1, el('uuid', input.uuid));
  add(1, el('memory', point.memoryMib, { unit: 'MiB' }));
  add(1, el('currentMemory', point.memoryMib, { unit: 'MiB' }));
  add(1, el('vcpu', t.vcpus, { placement: 'static' }));
  const pins = Object.entries(t.pinning ?? {})
    .map(([vcpu, host]) => [Number(vcpu), formatCpuList(parseCpuList(host))] as const)
    .sort((a, b) => a[0] - b[0]);
  if (pins.length > 0) {
    add(1, '<cputune>');
    for (const [vcpu, cpuset] of pins) add(2, `<vcpupin${attrs({ vcpu, cpuset })}/>`);
    add(1, '</cputune>');
  }
  add(1, '<os>');
  add(2, el('type', 'hvm', { arch: 'x86_64', machine: 'pc' }));
  if (input.kernel !== undefined) {
    add(2, el('kernel', input.kernel));
    if (input.initrd !== undefined) add(2, el('initrd', input.initrd));
    if (input.cmdline !== undefined) add(2, el('cmdline', input.cmdline));
  } else {
    add(2, `<boot${attrs({ dev: 'hd' })}/>`);
  }
  add(1, '</os>');
  add(1, '<features>');
  add(2, '<acpi/>');
  add(2, '<apic/>');
  add(1, '</features>');
  add(1, `<cpu${attrs({ mode: 'custom', match: 'exact', check: 'none' })}>`);
  add(2, el('model', input.cpuModel ?? 'qemu64', { fallback: 'allow' }));
  add(2, `<topology${attrs({ sockets: t.sockets, dies: t.dies ?? 1, cores: t.cores, threads: t.threads })}/>`);
  if (t.numa) {
    add(2, '<numa>');
    t.numa.forEach((cell, id) => add(3, `<cell${attrs({ id, cpus: formatCpuList(parseCpuList(cell.cpus)), memory: cell.memory_mib, unit: 'MiB' })}/>`));
    add(2, '</numa>');
  }
  add(1, '</cpu>');
  add(1, el('on_poweroff', 'destroy'));
  add(1, el('on_reboot', input.onReboot ?? 'restart'));
  add(1, el('on_crash', 'destroy'));
  add(1, '<devices>');
  if (input.emulator) add(2, el('emulator', input.emulator));
  add(2, `<disk${attrs({ type: 'file', device: 'disk' })}>`);
  add(3, `<driver${attrs({ name: 'qemu', type: input.baseFormat ?? 'raw' })}/>`);
  add(3, `<source${attrs({ file: input.baseImage })}/>`);
  add(3, `<target${attrs({ dev: 'vda', bus: 'virtio' })}/>`);
  add(2, '</disk>');
  let guestTestDevice: string;
  let target: { dev: string; bus: string };
  switch (point.bus) {
    case 'virtio-blk':
      target = { dev: 'vdb', bus: 'virtio' };
      guestTestDevice = '/dev/vdb';
      break;
    case 'virtio-scsi':
      add(2, `<controller${attrs({ type: 'scsi', index: 0, model: 'virtio-scsi' })}/>`);
      target = { dev: 'sda', bus: 'scsi' };
      guestTestDevice = '/dev/sda';
      break;
    case 'sata':
      target = { dev: 'sda', bus: 'sata' };
      guestTestDevice = '/dev/sda';
      break;
  }
  add(2, `<disk${attrs({ type: 'file', device: 'disk' })}>`);
  add(3, `<driver${attrs({ name: 'qemu', type: point.format, cache: point.cache, io: point.io })}/>`);
  add(3, `<source${attrs({ file: input.testImage })}/>`);
  add(3, `<target${attrs(target)}/>`);
  add(2, '</disk>');
  const nics = input.network === undefined ? [] : Array.isArray(input.network) ? input.network : [input.network];
  if (point.networkModel !== 'none') {
    for (const nic of nics) {
      if (nic.type !== 'user' && !nic.source) throw new Error(`a ${nic.type} NIC needs its source`);
      add(2, `<interface${attrs({ type: nic.type })}>`);
      if (nic.mac !== undefined) add(3, `<mac${attrs({ address: nic.mac })}/>`);
      if (nic.type !== 'user') add(3, `<source${attrs({ [nic.type]: nic.source })}/>`);
      add(3, `<model${attrs({ type: nic.model ?? point.networkModel })}/>`);
      add(2, '</interface>');
    }
  }
  add(2, `<serial${attrs({ type: 'file' })}>`);
  add(3, `<source${attrs({ path: input.serialLog })}/>`);
  add(3, `<target${attrs({ port: 0 })}/>`);
  add(2, '</serial>');
  if (input.watchChannelLog !== undefined) {
    // a virtio-serial port; libvirt adds the virtio-serial controller it needs
    add(2, `<channel${attrs({ type: 'file' })}>`);
    add(3, `<source${attrs({ path: input.watchChannelLog, append: 'on' })}/>`);
    add(3, `<target${attrs({ type: 'virtio', name: QASET_WATCH_CHANNEL })}/>`);
    add(2, '</channel>');
  }
  add(2, `<memballoon${attrs({ model: 'none' })}/>`);
  add(1, '</devices>');
  add(0, '</domain>');
  return { xml: `${lines.join('\n')}\n`, guestTestDevice };
}

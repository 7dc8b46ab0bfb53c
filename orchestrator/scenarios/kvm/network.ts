// guest.network: the guest's NICs, one or several, each on a bridge or a libvirt network, with
// its model (the point's matrix.network_model unless the NIC names its own), its address and
// default route (static from the inventory, or DHCP from a libvirt network), and optionally a
// peer on the host side: the network benchmark's server (iperf3 -s, or netserver where the
// hypervisor has netperf), started per point by PID and stopped when the point ends.
// A bridge marked `create` is made by the job (it must not exist before) and removed after;
// a peer with `namespace` lives in a network namespace the job makes, joined to the bridge by a
// veth pair, so its address is on no interface of the host's own. The host does the work
// (remote-scripts/kvm net-up / net-down / point); here the inventory is checked and the domain
// XML's interfaces, the host's NIC table and QASET's peer keys are built.
import * as z from 'zod';
import type { NetworkModel } from './matrix.js';

export const NIC_MODELS = ['virtio', 'e1000', 'e1000e', 'rtl8139'] as const;
export type NicModel = (typeof NIC_MODELS)[number];

const Ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, 'an IPv4 address');
const Cidr = z
  .string()
  .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/([89]|[12]\d|30)$/, 'an IPv4 address with its prefix length (8-30), e.g. 10.80.1.2/24');
/** A name libvirt and ip(8) accept for a bridge or network (bridges: at most 15 characters). */
const LinkName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, 'letters, digits, _ . - (at most 15)');

/** The address part of an a.b.c.d/n. */
export function addressOf(cidr: string): string {
  return cidr.split('/')[0]!;
}

function ipNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Whether ip lies in a private range (RFC 1918). */
export function isPrivateIpv4(ip: string): boolean {
  const n = ipNumber(ip);
  const inRange = (base: string, bits: number) => n >>> (32 - bits) === ipNumber(base) >>> (32 - bits);
  return inRange('10.0.0.0', 8) || inRange('172.16.0.0', 12) || inRange('192.168.0.0', 16);
}

/** Whether two a.b.c.d/n share their network. */
export function sameSubnet(a: string, b: string): boolean {
  const bits = Number(a.split('/')[1]);
  const shift = 32 - bits;
  return ipNumber(addressOf(a)) >>> shift === ipNumber(addressOf(b)) >>> shift;
}

export const NicPeer = z.strictObject({
  /** The peer's address on the NIC's network (with its prefix). */
  address: Cidr,
  /** Put the peer in a namespace of the job's own, joined to the bridge by a veth pair (a bridge the job made). */
  namespace: z.boolean().default(false),
  /** The benchmark server: netserver where the hypervisor has netperf, iperf3 otherwise (auto), or either by name. */
  tool: z.enum(['auto', 'iperf3', 'netserver']).default('auto'),
  /** The server's port (default: iperf3 5201, netserver 12865). */
  port: z.number().int().min(1024).max(65535).optional(),
});
export type NicPeer = z.infer<typeof NicPeer>;

export const GuestNic = z
  .strictObject({
    type: z.enum(['bridge', 'network', 'user']),
    /** The bridge's or libvirt network's name (not for user). */
    source: LinkName.optional(),
    /** The NIC's model; default the point's matrix.network_model. */
    model: z.enum(NIC_MODELS).optional(),
    /** The guest's address: a.b.c.d/n (static, written into the guest) or dhcp (a libvirt network's). Default: what the image configures. */
    address: z.union([z.literal('dhcp'), Cidr]).optional(),
    /** The default route's gateway for a static address (each NIC's route gets metric 100 + its index). */
    gateway: Ipv4.optional(),
    /** The job makes this bridge before the matrix (it must not exist) and removes it afterwards. */
    create: z.boolean().default(false),
    peer: NicPeer.optional(),
  })
  .superRefine((n, ctx) => {
    if (n.type !== 'user' && n.source === undefined) ctx.addIssue({ code: 'custom', path: ['source'], message: `a ${n.type} NIC names its ${n.type}` });
    if (n.type === 'user' && (n.source !== undefined || n.create || n.peer)) ctx.addIssue({ code: 'custom', path: ['type'], message: 'a user-mode NIC has no source, bridge or peer' });
    if (n.create && n.type !== 'bridge') ctx.addIssue({ code: 'custom', path: ['create'], message: 'only a bridge can be created by the job' });
    if (n.gateway !== undefined && (n.address === undefined || n.address === 'dhcp')) ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'a gateway goes with a static address' });
    if (n.address === 'dhcp' && n.type !== 'network') ctx.addIssue({ code: 'custom', path: ['address'], message: 'dhcp comes from a libvirt network (type network)' });
    if (n.peer?.namespace && !n.create) ctx.addIssue({ code: 'custom', path: ['peer', 'namespace'], message: 'a peer namespace joins a bridge the job made (create: true)' });
    if (n.peer && n.address && n.address !== 'dhcp' && !sameSubnet(n.address, n.peer.address)) {
      ctx.addIssue({ code: 'custom', path: ['peer', 'address'], message: `the peer ${n.peer.address} is not on the guest's network ${n.address}` });
    }
    if (n.peer && n.address && n.address !== 'dhcp' && addressOf(n.address) === addressOf(n.peer.address)) {
      ctx.addIssue({ code: 'custom', path: ['peer', 'address'], message: 'the peer and the guest have the same address' });
    }
    if (n.create) {
      // a network the job makes carries only private addresses
      for (const [key, value] of [['address', n.address], ['gateway', n.gateway], ['peer', n.peer?.address]] as const) {
        if (value && value !== 'dhcp' && !isPrivateIpv4(addressOf(value))) ctx.addIssue({ code: 'custom', path: [key], message: `${value} is not a private (RFC 1918) address: a bridge the job makes carries only those` });
      }
    }
  });
export type GuestNic = z.infer<typeof GuestNic>;

/** guest.network: one NIC (the older form) or a list of them. */
export const GuestNetwork = z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(GuestNic).min(1).max(8)).superRefine((nics, ctx) => {
  const created = nics.filter((n) => n.create).map((n) => n.source);
  if (new Set(created).size !== created.length) ctx.addIssue({ code: 'custom', message: 'a bridge is created once: two NICs with create on the same bridge' });
  const addresses = nics.flatMap((n) => [n.address, n.peer?.address]).filter((a): a is string => a !== undefined && a !== 'dhcp').map(addressOf);
  if (new Set(addresses).size !== addresses.length) ctx.addIssue({ code: 'custom', message: 'two NICs or peers share an address' });
});
export type GuestNetwork = GuestNic[];

/** The model of a NIC at a point: its own, else the point's. */
export function nicModel(nic: GuestNic, pointModel: NetworkModel): NicModel | 'none' {
  return nic.model ?? pointModel;
}

/** The point's network label: its NICs' models joined with "+" (none without NICs). */
export function networkLabel(nics: readonly GuestNic[] | undefined, pointModel: NetworkModel): string {
  if (!nics || nics.length === 0 || pointModel === 'none') return 'none';
  return nics.map((n) => nicModel(n, pointModel)).join('+');
}

/** The MAC placeholder of NIC i in the domain XML (the host picks a locally administered MAC per point). */
export function macToken(i: number): string {
  return `@NIC_MAC_${i}@`;
}

function defaultPort(tool: NicPeer['tool']): string {
  return tool === 'netserver' ? '12865' : tool === 'iperf3' ? '5201' : '';
}

/**
 * The host's NIC table (KVM_NICS): one line per NIC, tab-separated:
 * index, type, source, address (or dhcp or -), gateway (or -), create (yes/no),
 * peer address (or -), peer namespace (yes/no), peer tool, peer port (or -).
 */
export function nicTable(nics: readonly GuestNic[]): string {
  return nics
    .map((n, i) =>
      [i, n.type, n.source ?? '-', n.address ?? '-', n.gateway ?? '-', n.create ? 'yes' : 'no', n.peer?.address ?? '-', n.peer?.namespace ? 'yes' : 'no', n.peer?.tool ?? '-', n.peer?.port !== undefined ? String(n.peer.port) : defaultPort(n.peer?.tool ?? 'auto') || '-'].join('\t'),
    )
    .join('\n');
}

/**
 * QASET config keys naming the peers for the guest's network case: ORCH_NET_PEER (the first
 * NIC's peer), ORCH_NET_PEERS (every peer, in NIC order) and ORCH_NET_PORT (the first peer's
 * port, when the inventory set one). Real QASET's peer cases have their server set by hand; an
 * image's case script reads these.
 */
export function peerConfig(nics: readonly GuestNic[]): Record<string, string> {
  const peers = nics.filter((n) => n.peer).map((n) => n.peer!);
  if (peers.length === 0) return {};
  return {
    ORCH_NET_PEER: addressOf(peers[0]!.address),
    ORCH_NET_PEERS: peers.map((p) => addressOf(p.address)).join(' '),
    ...(peers[0]!.port !== undefined ? { ORCH_NET_PORT: String(peers[0]!.port) } : {}),
  };
}

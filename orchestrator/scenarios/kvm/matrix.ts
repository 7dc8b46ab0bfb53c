// The kvm scenario's matrix: the inventory's params (`scenarios: { kvm: {...} }`) name axes —
// CPU topologies, IO backends/formats/cache/io/bus, memory sizes, network models — and the
// scenario runs their cartesian product minus `exclude` rules, `repetitions` times each.
// Points that cannot run (a topology whose product is not its vCPU count, io=native without
// O_DIRECT, NUMA cells or pinning naming vCPUs that do not exist...) are rejected here, before
// anything runs, with one message per point.
import * as z from 'zod';

export const FILESYSTEMS = ['xfs', 'btrfs', 'ext4', 'tmpfs'] as const;
export const FORMATS = ['raw', 'qcow2'] as const;
export const CACHE_MODES = ['none', 'writethrough', 'writeback', 'directsync', 'unsafe'] as const;
export const IO_MODES = ['native', 'threads', 'io_uring'] as const;
export const BUSES = ['virtio-blk', 'virtio-scsi', 'sata'] as const;
export const NETWORK_MODELS = ['virtio', 'e1000', 'e1000e', 'rtl8139', 'none'] as const;

export type Filesystem = (typeof FILESYSTEMS)[number];
export type ImageFormat = (typeof FORMATS)[number];
export type CacheMode = (typeof CACHE_MODES)[number];
export type IoMode = (typeof IO_MODES)[number];
export type Bus = (typeof BUSES)[number];
export type NetworkModel = (typeof NETWORK_MODELS)[number];

/** Memory and network model that do not appear in a point id (so ids stay stable when an axis is added). */
export const DEFAULT_MEMORY_MIB = 1024;
export const DEFAULT_NETWORK_MODEL: NetworkModel = 'virtio';

/** A short, id- and path-safe label. */
const Label = z.string().regex(/^[a-z0-9][a-z0-9_.]*$/, 'a label: lowercase letters, digits, "_" and "." (no "-": it separates id parts)').max(40);

/** A CPU list: [0, 1, 2] or libvirt's "0-2,4" notation. */
const CpuList = z.union([
  z.array(z.number().int().min(0).max(4095)).min(1),
  z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'a CPU list like "0-3,6"'),
]);

const NumaCell = z.strictObject({
  /** Guest vCPUs of this cell. */
  cpus: CpuList,
  memory_mib: z.number().int().positive(),
});

/** Host CPU(s) a vCPU is pinned to: a number or a cpuset string. */
const HostCpus = z.union([z.number().int().min(0).max(4095), z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/)]);

export const Topology = z.strictObject({
  /** Label in point ids; default smp<sockets>x<cores>x<threads> (+ -numaN, -pin). */
  name: Label.optional(),
  vcpus: z.number().int().min(1).max(512),
  sockets: z.number().int().min(1).max(64),
  dies: z.number().int().min(1).max(64).optional(),
  cores: z.number().int().min(1).max(512),
  threads: z.number().int().min(1).max(8),
  numa: z.array(NumaCell).min(1).max(64).optional(),
  /** vCPU -> host CPU(s); keys are vCPU numbers. */
  pinning: z.record(z.string().regex(/^\d+$/, 'a vCPU number'), HostCpus).optional(),
});
export type Topology = z.infer<typeof Topology>;

/** A backing store: a filesystem the host preparation makes (and mounts), or a directory that exists. */
export const Backing = z.union([
  z.enum(FILESYSTEMS),
  z.strictObject({ dir: z.string().startsWith('/').regex(/^[^\s]+$/, 'an absolute directory without whitespace'), name: Label }),
]);
export type Backing = z.infer<typeof Backing>;

const oneOrMany = <T extends z.ZodType>(schema: T) => z.union([schema, z.array(schema).min(1)]);

/** An exclusion: a point is dropped when it matches every key given (a key may list several values). */
export const ExcludeRule = z
  .strictObject({
    topology: oneOrMany(z.string()).optional(),
    backing: oneOrMany(z.string()).optional(),
    format: oneOrMany(z.enum(FORMATS)).optional(),
    cache: oneOrMany(z.enum(CACHE_MODES)).optional(),
    io: oneOrMany(z.enum(IO_MODES)).optional(),
    bus: oneOrMany(z.enum(BUSES)).optional(),
    memory_mib: oneOrMany(z.number().int().positive()).optional(),
    network_model: oneOrMany(z.enum(NETWORK_MODELS)).optional(),
  })
  .refine((rule) => Object.values(rule).some((v) => v !== undefined), 'an exclude rule needs at least one key');
export type ExcludeRule = z.infer<typeof ExcludeRule>;

export const KvmMatrix = z.strictObject({
  topologies: z.array(Topology).min(1),
  backing: z.array(Backing).min(1),
  format: z.array(z.enum(FORMATS)).min(1).default(['raw']),
  cache: z.array(z.enum(CACHE_MODES)).min(1).default(['none']),
  io: z.array(z.enum(IO_MODES)).min(1).default(['native']),
  bus: z.array(z.enum(BUSES)).min(1).default(['virtio-blk']),
  memory_mib: z.array(z.number().int().min(64).max(1 << 22)).min(1).default([DEFAULT_MEMORY_MIB]),
  network_model: z.array(z.enum(NETWORK_MODELS)).min(1).default([DEFAULT_NETWORK_MODEL]),
  exclude: z.array(ExcludeRule).default([]),
  repetitions: z.number().int().min(1).max(100).default(1),
});
export type KvmMatrix = z.infer<typeof KvmMatrix>;
export type KvmMatrixInput = z.input<typeof KvmMatrix>;

export interface MatrixPoint {
  /** Stable id, e.g. smp1x2x1-xfs-raw-none-native-virtio-r1. */
  id: string;
  /** The id without the repetition suffix: repetitions of one configuration share it. */
  configId: string;
  repetition: number;
  topologyLabel: string;
  topology: Topology;
  backing: Backing;
  backingLabel: string;
  format: ImageFormat;
  cache: CacheMode;
  io: IoMode;
  bus: Bus;
  memoryMib: number;
  networkModel: NetworkModel;
}

export interface PointError {
  pointId: string;
  message: string;
}

export class MatrixError extends Error {
  constructor(readonly errors: PointError[]) {
    super(`${errors.length} impossible matrix point(s):\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'MatrixError';
  }
}

/** Parses "0-2,4" / [0,1,2,4] into a sorted, de-duplicated list. */
export function parseCpuList(list: string | number[] | number): number[] {
  if (typeof list === 'number') return [list];
  if (Array.isArray(list)) return [...new Set(list)].sort((a, b) => a - b);
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const end = b ?? a;
    if (end < a) throw new Error(`CPU range ${part} runs backwards`);
    if (end - a > 4096) throw new Error(`CPU range ${part} is too long`);
    for (let i = a; i <= end; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** libvirt's notation for a CPU list: 0-3,6. */
export function formatCpuList(cpus: number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function topologyLabel(t: Topology): string {
  if (t.name) return t.name;
  let label = `smp${t.sockets}x${t.cores}x${t.threads}`;
  if (t.dies && t.dies !== 1) label = `smp${t.sockets}x${t.dies}x${t.cores}x${t.threads}`;
  if (t.numa) label += `-numa${t.numa.length}`;
  if (t.pinning && Object.keys(t.pinning).length > 0) label += '-pin';
  return label;
}

export function backingLabel(b: Backing): string {
  return typeof b === 'string' ? b : `dir.${b.name}`;
}

const BUS_LABEL: Record<Bus, string> = { 'virtio-blk': 'virtio', 'virtio-scsi': 'scsi', sata: 'sata' };

function configId(p: Omit<MatrixPoint, 'id' | 'configId' | 'repetition'>): string {
  const parts = [p.topologyLabel, p.backingLabel, p.format, p.cache, p.io, BUS_LABEL[p.bus]];
  if (p.memoryMib !== DEFAULT_MEMORY_MIB) parts.push(`m${p.memoryMib}`);
  if (p.networkModel !== DEFAULT_NETWORK_MODEL) parts.push(`net.${p.networkModel}`);
  return parts.join('-');
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

function excluded(p: Omit<MatrixPoint, 'id' | 'configId' | 'repetition'>, rule: ExcludeRule): boolean {
  const checks: [unknown[] | undefined, unknown][] = [
    [asList(rule.topology), p.topologyLabel],
    [asList(rule.backing), p.backingLabel],
    [asList(rule.format), p.format],
    [asList(rule.cache), p.cache],
    [asList(rule.io), p.io],
    [asList(rule.bus), p.bus],
    [asList(rule.memory_mib), p.memoryMib],
    [asList(rule.network_model), p.networkModel],
  ];
  return checks.every(([values, actual]) => values === undefined || values.includes(actual));
}

/** Why a point cannot run: one string per problem (empty when it can). */
export function pointProblems(p: Pick<MatrixPoint, 'topology' | 'cache' | 'io' | 'memoryMib'>): string[] {
  const problems: string[] = [];
  const t = p.topology;
  const dies = t.dies ?? 1;
  const product = t.sockets * dies * t.cores * t.threads;
  if (product !== t.vcpus) {
    problems.push(`topology sockets*dies*cores*threads = ${t.sockets}*${dies}*${t.cores}*${t.threads} = ${product}, but vcpus = ${t.vcpus}`);
  }
  if (p.io === 'native' && p.cache !== 'none' && p.cache !== 'directsync') {
    problems.push(`io=native needs cache=none or cache=directsync (O_DIRECT), got cache=${p.cache}`);
  }
  const vcpuRange = `0-${t.vcpus - 1}`;
  if (t.numa) {
    const seen = new Map<number, number>();
    let memory = 0;
    t.numa.forEach((cell, index) => {
      memory += cell.memory_mib;
      let cpus: number[];
      try {
        cpus = parseCpuList(cell.cpus);
      } catch (e) {
        problems.push(`NUMA cell ${index}: ${(e as Error).message}`);
        return;
      }
      const missing = cpus.filter((c) => c >= t.vcpus);
      if (missing.length > 0) {
        problems.push(`NUMA cell ${index} names vCPU ${formatCpuList(missing)}, but the guest has ${t.vcpus} vCPU(s) (${vcpuRange})`);
      }
      for (const c of cpus) {
        const other = seen.get(c);
        if (other !== undefined) problems.push(`vCPU ${c} is in NUMA cells ${other} and ${index}`);
        else seen.set(c, index);
      }
    });
    const uncovered = Array.from({ length: t.vcpus }, (_, i) => i).filter((c) => !seen.has(c));
    if (uncovered.length > 0) problems.push(`NUMA cells do not cover vCPU ${formatCpuList(uncovered)}`);
    if (memory !== p.memoryMib) problems.push(`NUMA cell memory sums to ${memory} MiB, but guest memory is ${p.memoryMib} MiB`);
  }
  if (t.pinning) {
    const bad = Object.keys(t.pinning)
      .map(Number)
      .filter((v) => v >= t.vcpus)
      .sort((a, b) => a - b);
    if (bad.length > 0) problems.push(`pinning names vCPU ${formatCpuList(bad)}, but the guest has ${t.vcpus} vCPU(s) (${vcpuRange})`);
    for (const [vcpu, host] of Object.entries(t.pinning)) {
      try {
        parseCpuList(host);
      } catch (e) {
        problems.push(`pinning of vCPU ${vcpu}: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}

export interface Expansion {
  points: MatrixPoint[];
  /** One per impossible point (configuration), problems joined with "; ". */
  errors: PointError[];
  /** Configuration ids dropped by exclude rules. */
  excluded: string[];
}

/** Cartesian product of the axes, minus exclusions, times repetitions; impossible points reported, not returned. */
export function expandMatrix(input: KvmMatrix | KvmMatrixInput): Expansion {
  const m = KvmMatrix.parse(input);
  const points: MatrixPoint[] = [];
  const errors: PointError[] = [];
  const excludedIds: string[] = [];
  const ids = new Set<string>();
  for (const topology of m.topologies)
    for (const backing of m.backing)
      for (const format of m.format)
        for (const cache of m.cache)
          for (const io of m.io)
            for (const bus of m.bus)
              for (const memoryMib of m.memory_mib)
                for (const networkModel of m.network_model) {
                  const base = {
                    topologyLabel: topologyLabel(topology),
                    topology,
                    backing,
                    backingLabel: backingLabel(backing),
                    format,
                    cache,
                    io,
                    bus,
                    memoryMib,
                    networkModel,
                  };
                  const cid = configId(base);
                  if (m.exclude.some((rule) => excluded(base, rule))) {
                    excludedIds.push(cid);
                    continue;
                  }
                  if (ids.has(cid)) {
                    errors.push({ pointId: cid, message: `${cid}: the same point id twice (give the topologies or directories distinct names)` });
                    continue;
                  }
                  ids.add(cid);
                  const problems = pointProblems(base);
                  if (problems.length > 0) {
                    errors.push({ pointId: cid, message: `${cid}: ${problems.join('; ')}` });
                    continue;
                  }
                  for (let r = 1; r <= m.repetitions; r++) points.push({ ...base, id: `${cid}-r${r}`, configId: cid, repetition: r });
                }
  return { points, errors, excluded: excludedIds };
}

/** The runnable points, or a MatrixError listing every impossible one. */
export function matrixPoints(input: KvmMatrix | KvmMatrixInput): MatrixPoint[] {
  const { points, errors } = expandMatrix(input);
  if (errors.length > 0) throw new MatrixError(errors);
  return points;
}

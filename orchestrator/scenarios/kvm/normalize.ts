// Reads what the kvm scenario's points left in the job's artifacts (points/<id>/...) into
// metrics: per point, whether QASET finished, the time of each step (prepare, inject, define,
// boot, run, collect, teardown), every benchmark output QASET's logs hold (orchestrator/qaset's
// walker: ctcs2 test_results and the benchmark parsers), and the host's CPU, memory, disk and
// network series (RRD exports) with their means. Every sample carries the point's axes as labels.
// What no parser understood is listed, per point, in the job's kvm-points.json beside raw/, and
// the ctcs2 logs inside QASET's tarballs are kept unpacked (through the safe extractor) in
// qaset-logs/<point>/ beside raw/, to be read without untarring. A point repeated (the scenario's
// `repeat`) left each further run's logs in points/<id>/repeat/<k>/: they are read the same way,
// their samples labelled as the point's (repeated samples of one key: the spread that history and
// comparison read), and points/<id>/repeat.json's record becomes repeat.* samples and the point's
// `repeat` in kvm-points.json.
import { rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import { parseQasetPath, type QasetParseResult } from '../../qaset/walker.js';
import { writeJsonAtomically } from '../../results/atomic-write.js';
import { readHostJson } from '../../results/host-json.js';
import { sample, type MetricSample, type MetricSeries, type MetricsDraft } from '../../results/metrics.js';
import { readRrdSeries, seriesStats, type SeriesUnit } from '../../results/rrd-export.js';
import { matrixPoints, type MatrixPoint, type NetworkModel } from './matrix.js';
import { addressOf, nicModel, type GuestNic } from './network.js';
import type { KvmParams } from './params.js';
import { pointLabels, POINT_TIMINGS } from './points.js';
import { rawArtifactsIn } from '../../results/store-layout.js';

/** A QASET case name as the host wrote it into point.json (remote-scripts/kvm keeps only these characters). */
const CaseName = z.string().regex(/^[A-Za-z0-9_.+-]{1,100}$/);

/**
 * How a point ended: done (QASET wrote DONE), stopped (control/STOP: the run ended without DONE),
 * stalled (no progress for qaset.stall_timeout), timed-out, guest-down (the guest powered off or
 * crashed before DONE), failed (the point could not run), interrupted (a signal); running only
 * while the helper runs.
 */
export const POINT_STATUSES = ['done', 'stopped', 'stalled', 'timed-out', 'guest-down', 'failed', 'interrupted', 'running'] as const;

/** QASET's cases of a point: which ran to their end, passed, failed (list.failed), and the one cut short. */
export const PointCasesSchema = z.object({
  finished: z.array(CaseName).max(10_000),
  passed: z.array(CaseName).max(10_000),
  failed: z.array(CaseName).max(10_000),
  unfinished: z.union([CaseName, z.literal('')]),
  /** The case running when the point ended (the entry before the one NEXT_RUN names), "" when none or DONE. */
  last: z.union([CaseName, z.literal('')]),
});
export type PointCases = z.infer<typeof PointCasesSchema>;

export const PointRecordSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/),
  index: z.number().int(),
  status: z.enum(POINT_STATUSES),
  domain_name: z.string(),
  domain_type: z.string(),
  next_run: z.string(),
  done: z.string(),
  qaset_collected: z.boolean(),
  error: z.string(),
  /** How often the guest's control directory was read, and the mean milliseconds of one read. */
  control_reads: z.number().int().min(0).optional(),
  control_read_ms: z.number().int().min(0).optional(),
  timings_ms: z.object(Object.fromEntries(POINT_TIMINGS.map((s) => [s, z.number().int().min(0).optional()])) as Record<(typeof POINT_TIMINGS)[number], z.ZodOptional<z.ZodNumber>>),
  // since QASET is followed through the guest's watcher (absent in older results)
  /** control/RUN_ID's first line as the guest wrote it (SQ_TEST_RUN_ID=...). */
  run_id: z.string().max(200).optional(),
  /** control/STOP existed when the point ended. */
  stop: z.boolean().optional(),
  /** Boots the watcher saw (1 + the reboots between QASET's cases), and each reboot's milliseconds. */
  boots: z.number().int().min(0).optional(),
  reboots_ms: z.array(z.number().int().min(0)).max(10_000).optional(),
  /** Where progress came from: the watcher's channel, the disk (no channel line), or none. */
  progress_from: z.enum(['channel', 'disk', 'none']).optional(),
  watch_lines: z.number().int().min(0).optional(),
  watch_rejected: z.number().int().min(0).optional(),
  /** How QASET was started: its boot service (service) or the deployment script at first boot (deploy). */
  qaset_start: z.enum(['service', 'deploy', '']).optional(),
  qaset_unit: z.string().max(200).optional(),
  cases: PointCasesSchema.optional(),
});
export type PointRecord = z.infer<typeof PointRecordSchema>;

/** One run of a repeated point (the point's own run first, dir ''). */
export const RepeatRunSchema = z.object({
  repetition: z.number().int().min(1).max(100),
  status: z.string().max(40),
  value: z.number().nullable(),
  /** Where its logs are, under points/<id>/: '' (the point's own) or repeat/<k>. */
  dir: z.string().regex(/^(repeat\/[0-9]{1,3})?$/),
  error: z.string().max(2000),
  seconds: z.number().min(0),
});

/** points/<id>/repeat.json (remote-scripts/kvm's kvm_point_repeat; lib/repeat.sh's record). */
export const RepeatRecordSchema = z.object({
  case: CaseName,
  test: z.string().max(100),
  pattern: z.string().max(200),
  run: z.number().int().nullable(),
  cases: z.array(CaseName).max(100),
  repetitions: z.number().int().min(1).max(100),
  runs: z.array(RepeatRunSchema).max(100),
  min: z.number().int().min(1),
  max: z.number().int().min(1),
  target_ci: z.number(),
  n: z.number().int().min(0).max(100),
  values: z.array(z.number()).max(100),
  mean: z.number().nullable(),
  sd: z.number().nullable(),
  ci_half_width: z.number().nullable(),
  ci_relative: z.number().nullable(),
  target_met: z.boolean(),
  stop: z.enum(['target', 'max', 'deadline', 'no-value', 'failed']),
  seconds: z.number().min(0),
});
export type RepeatRecord = z.infer<typeof RepeatRecordSchema>;

export class KvmArtifactError extends Error {
  override readonly name = 'KvmArtifactError';
}


/**
 * The labels the QASET walker gives a sample, made stable across sweeps (histories and regression
 * detection key on metric + labels): `source` names the log tarball, whose name carries its run's
 * time, so it is left out (kvm-points.json lists every parsed file); `tcf` loses the ctcs2
 * directory's timestamp suffix (qa_sysbench-2026-11-30-23-58-00 -> qa_sysbench).
 */
export function stableQasetLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k === 'source') continue;
    out[k] = k === 'tcf' ? v.replace(/-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d$/, '') : v;
  }
  return out;
}

/** Units of the host sampler's series (lib/host-sampler.sh); COUNTERs are per-second rates in RRD. */
export function hostSeriesUnit(_collector: string, alias: string, type: string): SeriesUnit {
  if (alias.endsWith('_percent')) return { unit: '%', better: 'lower' };
  if (type === 'COUNTER' || type === 'DERIVE') return { unit: alias.endsWith('_bytes') ? 'bytes/s' : '/s', better: 'none' };
  if (alias.endsWith('_bytes')) return { unit: 'bytes', better: 'none' };
  if (alias.startsWith('host.load')) return { unit: 'load', better: 'lower' };
  return { unit: '', better: 'none' };
}

export async function readPointRecord(artifacts: string, id: string): Promise<PointRecord | undefined> {
  const file = join(artifacts, 'points', id, 'point.json');
  const value = await readHostJson(file, (message) => new KvmArtifactError(message));
  if (value === undefined) return undefined;
  const parsed = PointRecordSchema.safeParse(value);
  if (!parsed.success) throw new KvmArtifactError(`${file}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.id !== id) throw new KvmArtifactError(`${file}: names point ${parsed.data.id}, expected ${id}`);
  return parsed.data;
}

/** points/<id>/repeat.json, undefined when the point was not repeated. */
export async function readRepeatRecord(artifacts: string, id: string): Promise<RepeatRecord | undefined> {
  const file = join(artifacts, 'points', id, 'repeat.json');
  const value = await readHostJson(file, (message) => new KvmArtifactError(message));
  if (value === undefined) return undefined;
  const parsed = RepeatRecordSchema.safeParse(value);
  if (!parsed.success) throw new KvmArtifactError(`${file}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** What a repeated point's loop judged, as a label value: case, case:test or case:test:/pattern/. */
export function repeatMeasure(r: Pick<RepeatRecord, 'case' | 'test' | 'pattern' | 'run'>): string {
  return [r.case, r.test, r.pattern ? `/${r.pattern}/${r.run !== null ? `#${r.run}` : ''}` : ''].filter(Boolean).join(':');
}

/**
 * A repeated point's loop as samples labelled as the point (plus `measure`): repeat.value per run
 * (repeated samples: what was judged), repeat.repetitions, repeat.ci_relative and
 * repeat.ci_half_width (absent below two values), repeat.target_met, repeat.deadline (1 when the
 * phase's deadline ended it).
 */
export function repeatSamples(r: RepeatRecord, labels: Record<string, string>): MetricSample[] {
  const l = { ...labels, measure: repeatMeasure(r) };
  const unit = r.pattern ? '' : 's';
  const out: MetricSample[] = r.values.map((v) => sample('repeat.value', v, unit, 'none', l));
  out.push(sample('repeat.repetitions', r.repetitions, 'count', 'none', l));
  if (r.ci_relative !== null) out.push(sample('repeat.ci_relative', r.ci_relative, 'ratio', 'none', l));
  if (r.ci_half_width !== null) out.push(sample('repeat.ci_half_width', r.ci_half_width, unit, 'none', l));
  out.push(sample('repeat.target_met', r.target_met ? 1 : 0, 'bool', 'none', l));
  out.push(sample('repeat.deadline', r.stop === 'deadline' ? 1 : 0, 'bool', 'none', l));
  return out;
}

type QasetSummary = Pick<QasetParseResult, 'parsed' | 'unparsed' | 'rejected' | 'runId' | 'done' | 'nextRun' | 'duplicates' | 'problems' | 'failedCases'> & { tests: number; sysinfo: number };

export interface PointSummary {
  id: string;
  status: PointRecord['status'] | 'not-run';
  timings_ms: PointRecord['timings_ms'];
  next_run: string;
  done: string;
  error: string;
  run_id?: string;
  boots?: number;
  reboots_ms?: number[];
  progress_from?: PointRecord['progress_from'];
  cases?: PointCases;
  qaset: QasetSummary | null;
  /** The point's repetitions (the scenario's `repeat`), each further run's logs as parsed. */
  repeat?: RepeatRecord & { parsed: { dir: string; qaset: QasetSummary | null }[] };
}

/**
 * QASET's logs collected into DIR (points/<id>[/repeat/<k>]): parsed, the ctcs2 logs of its
 * tarballs kept in LOGS, every sample labelled as the point.
 */
async function parseRun(dir: string, logs: string, runList: readonly string[], labels: Record<string, string>, samples: MetricSample[]): Promise<QasetSummary | null> {
  const tree = join(dir, 'qaset');
  if (!(await isDir(tree))) return null;
  await rm(logs, { recursive: true, force: true });
  // /var/log/qa and /root/qaset/list.failed were collected beside /var/log/qaset
  const qaDir = join(dir, 'qa');
  const listFailed = join(dir, 'list.failed');
  const r = await parseQasetPath(tree, {
    extractTo: logs,
    runList,
    ...((await isDir(qaDir)) ? { qaDir } : {}),
    ...((await isFile(listFailed)) ? { listFailed } : {}),
  });
  for (const s of r.samples) samples.push({ ...s, labels: { ...stableQasetLabels(s.labels), ...labels } });
  return {
    parsed: r.parsed,
    unparsed: r.unparsed,
    rejected: r.rejected,
    runId: r.runId,
    done: r.done,
    nextRun: r.nextRun,
    tests: r.tests.length,
    sysinfo: r.sysinfo.length,
    duplicates: r.duplicates,
    problems: r.problems,
    failedCases: r.failedCases,
  };
}

const HOST_SUMMARIES: [string, string, string][] = [
  ['host.cpu_busy_percent', 'kvm.host.cpu_busy', '%'],
  ['host.mem_used_bytes', 'kvm.host.mem_used', 'bytes'],
  ['host.disk.write_bytes', 'kvm.host.disk_write', 'bytes/s'],
  ['host.disk.read_bytes', 'kvm.host.disk_read', 'bytes/s'],
  ['host.net.rx_bytes', 'kvm.host.net_rx', 'bytes/s'],
  ['host.net.tx_bytes', 'kvm.host.net_tx', 'bytes/s'],
];

const isDir = (p: string) => stat(p).then((st) => st.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((st) => st.isFile(), () => false);

async function normalizePoint(
  artifacts: string,
  jobDir: string,
  point: MatrixPoint,
  record: PointRecord,
  runList: readonly string[],
  samples: MetricSample[],
  series: MetricSeries[],
  nics?: readonly GuestNic[],
): Promise<PointSummary> {
  const labels = pointLabels(point, nics);
  samples.push(sample('kvm.point.completed', record.status === 'done' ? 1 : 0, 'bool', 'higher', labels));
  for (const step of POINT_TIMINGS) {
    const ms = record.timings_ms[step];
    // diagnostic, not the performance under test (and boot/run are only known to a poll interval):
    // a change shows in the trends, never as a regression
    if (ms !== undefined) samples.push(sample(`kvm.point.${step}`, ms / 1000, 's', 'none', labels));
  }
  if (record.boots !== undefined) samples.push(sample('kvm.point.boots', record.boots, 'count', 'none', labels));
  if (record.reboots_ms && record.reboots_ms.length > 0) {
    samples.push(sample('kvm.point.reboot', record.reboots_ms.reduce((a, b) => a + b, 0) / record.reboots_ms.length / 1000, 's', 'none', labels));
  }
  if (record.cases) samples.push(...caseSamples(record.cases, labels));
  const pointDir = join(artifacts, 'points', point.id);
  const first = samples.length;
  const qaset = await parseRun(pointDir, join(jobDir, 'qaset-logs', point.id), runList, labels, samples);
  labelNics(samples, first, nics, point.networkModel);
  let repeat: PointSummary['repeat'];
  const rep = await readRepeatRecord(artifacts, point.id);
  if (rep) {
    const parsed: { dir: string; qaset: QasetSummary | null }[] = [];
    for (const run of rep.runs) {
      if (run.dir === '') continue;
      const logs = join(jobDir, 'qaset-logs', `${point.id}-${run.dir.replace('/', '-')}`);
      parsed.push({ dir: run.dir, qaset: await parseRun(join(pointDir, run.dir), logs, rep.cases, labels, samples) });
    }
    samples.push(...repeatSamples(rep, labels));
    repeat = { ...rep, parsed };
  }
  // the sampler's collector is "host" and its aliases start with "host.": one "host." is enough
  const host = (await readRrdSeries(artifacts, join('points', point.id, 'rrd', 'index.json'), hostSeriesUnit, labels)).map((s) => ({ ...s, metric: s.metric.replace(/^host\.host\./, 'host.') }));
  series.push(...host);
  const byMetric = new Map(host.map((s) => [s.metric, s]));
  for (const [metric, name, unit] of HOST_SUMMARIES) {
    const st = seriesStats(byMetric.get(metric));
    if (!st) continue;
    samples.push(sample(`${name}.mean`, st.mean, unit, 'none', labels));
    samples.push(sample(`${name}.max`, st.max, unit, 'none', labels));
  }
  return {
    id: point.id,
    status: record.status,
    timings_ms: record.timings_ms,
    next_run: record.next_run,
    done: record.done,
    error: record.error,
    ...(record.run_id !== undefined ? { run_id: record.run_id } : {}),
    ...(record.boots !== undefined ? { boots: record.boots } : {}),
    ...(record.reboots_ms ? { reboots_ms: record.reboots_ms } : {}),
    ...(record.progress_from ? { progress_from: record.progress_from } : {}),
    ...(record.cases ? { cases: record.cases } : {}),
    qaset,
    ...(repeat ? { repeat } : {}),
  };
}

/**
 * A network benchmark's samples (iperf3's, labelled with the peer they measured against) get the
 * NIC that peer sits behind: `nic` (its index in guest.network) and `nic_model` (its model at this
 * point), so a point with several NICs tells them apart. Samples from `from` on are relabelled.
 */
export function labelNics(samples: MetricSample[], from: number, nics: readonly GuestNic[] | undefined, pointModel: NetworkModel): void {
  if (!nics || nics.length === 0) return;
  const byPeer = new Map(nics.flatMap((n, i) => (n.peer ? [[addressOf(n.peer.address), i] as const] : [])));
  for (let k = from; k < samples.length; k++) {
    const s = samples[k]!;
    const peer = s.labels['peer'];
    if (!s.metric.startsWith('iperf3.') || peer === undefined) continue;
    const i = byPeer.get(peer);
    if (i === undefined) continue;
    samples[k] = { ...s, labels: { ...s.labels, nic: String(i), nic_model: nicModel(nics[i]!, pointModel) } };
  }
}

/**
 * Each QASET case that ran to its end as qaset.case.passed{case} (1 passed, 0 failed: QASET put it in
 * list.failed); a case listed twice gets an `occurrence` label from its second run on. Plus the
 * counts of cases finished and failed.
 */
export function caseSamples(cases: PointCases, labels: Record<string, string>): MetricSample[] {
  const out: MetricSample[] = [];
  const passed = [...cases.passed];
  const seen = new Map<string, number>();
  for (const name of cases.finished) {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    const i = passed.indexOf(name);
    if (i >= 0) passed.splice(i, 1);
    out.push(sample('qaset.case.passed', i >= 0 ? 1 : 0, 'bool', 'higher', { ...labels, case: name, ...(n > 1 ? { occurrence: String(n) } : {}) }));
  }
  out.push(sample('qaset.cases.finished', cases.finished.length, 'count', 'higher', labels));
  out.push(sample('qaset.cases.failed', cases.failed.length, 'count', 'lower', labels));
  return out;
}

/**
 * Metrics of every point that ran. Fails (the job fails) when no point finished; the metrics of
 * the points that did run are still written to kvm-points.json's summary beside raw/.
 */
export async function normalizeKvm(rawDir: string, params: KvmParams): Promise<MetricsDraft> {
  const artifacts = rawArtifactsIn(rawDir);
  const samples: MetricSample[] = [];
  const series: MetricSeries[] = [];
  const summaries: PointSummary[] = [];
  for (const point of matrixPoints(params.matrix)) {
    const record = await readPointRecord(artifacts, point.id);
    if (!record) {
      summaries.push({ id: point.id, status: 'not-run', timings_ms: {}, next_run: '', done: '', error: '', qaset: null });
      continue;
    }
    summaries.push(await normalizePoint(artifacts, dirname(rawDir), point, record, params.qaset.run_list, samples, series, params.guest.network));
  }
  const done = summaries.filter((s) => s.status === 'done').length;
  samples.push(sample('kvm.points.done', done, 'count', 'higher'));
  samples.push(sample('kvm.points.planned', summaries.length, 'count', 'none'));
  samples.push(sample('qaset.outputs.unparsed', summaries.reduce((n, s) => n + (s.qaset?.unparsed.length ?? 0), 0), 'count', 'lower'));
  await writeJsonAtomically(join(dirname(rawDir), 'kvm-points.json'), { points: summaries });
  if (done === 0) {
    throw new KvmArtifactError(`no matrix point finished: ${summaries.map((s) => `${s.id} ${s.status}${s.error ? ` (${s.error})` : ''}`).join('; ')}`);
  }
  return { samples, series };
}

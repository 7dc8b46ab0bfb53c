// Benchmark section "kvm": what the kvm scenario costs per matrix point besides QASET's own work,
// with task A's Debian systemd guest and its QASET stand-in (real benchmarks, QASET's protocol).
// One lab hypervisor host (test/lab: a real sshd on loopback driving this machine's libvirtd)
// runs a sweep of REPS repetitions of one point (1 vCPU, 768 MiB, TCG where /dev/kvm does not run
// guests); QASET runs sysbench_sys, then - after the reboot QASET makes between cases -
// dbench4_async_xfs. Measured per point (points/<id>/point.json, job manifest):
//   image      the golden image ready (task A's builder; cached by its recipe: built once)
//   prepare, inject, define    the orchestrator's work before the guest starts
//   boot       start until the guest's QASET watcher first reports
//   run        until QASET ends (DONE), the reboots between cases included; each reboot apart
//   shutdown, collect, teardown  the orchestrator's work after it
//   phase      the point phase's wall time as the orchestrator saw it
// Overhead = phase - boot - run: everything that is not the guest booting and QASET running
// (disks, injection, define, bringing the guest down, collection, teardown, the agent and the
// transport; the poll interval's detection delay is inside run). It is reported against the
// measured QASET run and against a 10-minute QASET run (the target: at most 10 %).
//
// Environment knobs: BENCH_KVM_REPS (default 2), BENCH_KVM_INJECT=debugfs|guestfish (default debugfs).
import { mkdtemp, readFile, rm, chmod } from 'node:fs/promises';
import path from 'node:path';
import { labUp } from '../lab/lab.js';
import { hypervisorMissing, hypervisorUp, smallPointParams, writeKvmInventory } from '../lab/hypervisor.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { PointRecordSchema, type PointRecord } from '../../orchestrator/scenarios/kvm/normalize.js';
import { POINT_TIMINGS } from '../../orchestrator/scenarios/kvm/points.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable, median } from './stats.js';

export const name = 'kvm';
export const description = 'kvm: time per matrix point by step with the systemd guest (image, inject, boot, run, each reboot, shutdown, collect, teardown) and the overhead against a 10-minute QASET run';

const SUBNET = 121;
const REPS = Math.max(1, Number(process.env.BENCH_KVM_REPS ?? 2) || 2);
const INJECT = process.env.BENCH_KVM_INJECT === 'guestfish' ? 'guestfish' : 'debugfs';
const TEN_MINUTES_MS = 10 * 60_000;

function log(line: string): void {
  process.stderr.write(`[kvm] ${line}\n`);
}

type Point = PointRecord & { phase_ms: number };

export async function run(): Promise<SectionResult> {
  const missing = await hypervisorMissing();
  if (missing) throw new Error(`kvm bench needs the lab's hypervisor: ${missing}`);
  const work = await mkdtemp('/var/tmp/bench-kvm-');
  await chmod(work, 0o755);
  const t0 = Date.now();
  const hv = await hypervisorUp();
  const imageMs = Date.now() - t0;
  const lab = await labUp({ subnet: SUBNET, hosts: 1, dir: path.join(work, 'lab'), reports: false });
  const points: Point[] = [];
  let wall = 0;
  try {
    const results = path.join(work, 'results');
    const params = smallPointParams(hv, {
      backing: 'bench',
      inject: INJECT,
      repetitions: REPS,
      qaset: {
        run_list: ['sysbench_sys', 'dbench4_async_xfs'],
        prepared: true,
        config: { STANDIN_SYSBENCH_TIME: 2, STANDIN_SYSBENCH_THREADS: '1', STANDIN_DBENCH_TIME: 5, STANDIN_DBENCH_CLIENTS: 1 },
        timeout: '30m',
        poll_interval: 2,
      },
      extra: { domain_type: 'auto' },
    });
    (params['matrix'] as Record<string, unknown>)['memory_mib'] = [768];
    const inventory = await writeKvmInventory(lab, { file: path.join(work, 'bench.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
    log(`${REPS} point(s), inject ${INJECT}`);
    const t1 = Date.now();
    const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
    wall = (Date.now() - t1) / 1000;
    if (code !== 0) throw new Error(`sweep exited ${code}:\n${stdout}\n${stderr}`);
    const { dir } = await onlySweep(results);
    const manifest = await jobManifest(dir, 'lab-01--kvm');
    for (const phase of manifest.phases.filter((p) => p.name.startsWith('point-'))) {
      const id = phase.name.slice('point-'.length);
      const record = PointRecordSchema.parse(JSON.parse(await readFile(path.join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'point.json'), 'utf8')));
      if (record.status !== 'done') throw new Error(`point ${id} ended ${record.status}: ${record.error}`);
      points.push({ ...record, phase_ms: phase.durationMs ?? Number.NaN });
    }
    log(`sweep ${wall.toFixed(1)} s`);
  } finally {
    await lab.down();
    await hv.stop();
    await rm(work, { recursive: true, force: true });
  }
  const med = (f: (p: Point) => number) => median(points.map(f));
  const t = (p: Point, s: (typeof POINT_TIMINGS)[number]) => p.timings_ms[s] ?? Number.NaN;
  const overhead = (p: Point) => p.phase_ms - t(p, 'boot') - t(p, 'run');
  const reboots = points.flatMap((p) => p.reboots_ms ?? []);
  const header = ['step', 'median (ms)', 'min (ms)', 'max (ms)'];
  const rows: string[][] = [];
  const row = (label: string, values: number[]) => rows.push([label, fixed(median(values), 0), fixed(Math.min(...values), 0), fixed(Math.max(...values), 0)]);
  row('image (cached build)', [imageMs]);
  for (const s of POINT_TIMINGS) row(s, points.map((p) => t(p, s)));
  row('each reboot (within run)', reboots);
  row('point phase (wall)', points.map((p) => p.phase_ms));
  row('overhead (phase - boot - run)', points.map(overhead));
  const share = med(overhead) / med((p) => t(p, 'run'));
  const shareOf10 = med(overhead) / TEN_MINUTES_MS;
  const table = [
    markdownTable(header, rows),
    '',
    `${points.length} point(s), inject ${INJECT}, ${points[0]?.domain_type ?? '?'} guests, ${points[0]?.boots ?? '?'} boots each; sweep ${fixed(wall, 1)} s.`,
    `Overhead per point: ${fixed(med(overhead) / 1000, 1)} s = ${fixed(share * 100, 1)} % of this scaled QASET run (${fixed(med((p) => t(p, 'run')) / 1000, 1)} s), ${fixed(shareOf10 * 100, 1)} % of a 10-minute run (target <= 10 %).`,
    'boot: start until the guest\'s watcher first reports; run: until QASET\'s DONE is seen (reboots between cases included, detection within the poll interval); overhead: everything else in the point phase (disks, injection, define, bringing the guest down, collection, teardown, agent and transport).',
  ].join('\n');
  return { table, json: { reps: REPS, inject: INJECT, image_ms: imageMs, sweep_wall_s: wall, overhead_ms: med(overhead), overhead_share_of_run: share, overhead_share_of_10min: shareOf10, points } };
}

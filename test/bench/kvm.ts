// Benchmark section "kvm": what the kvm scenario costs per matrix point besides the guest's own
// work. One lab hypervisor host (test/lab: a real sshd on loopback driving this machine's
// libvirtd) runs a sweep of REPS repetitions of one small point (1 vCPU, 256 MiB, the QASET
// stand-in running only its numa_nodes case) per way into the guest:
//   debugfs   — raw copy of the base image, inputs and logs through debugfs (e2fsprogs)
//   guestfish — qcow2 overlay of the base image, inputs and logs through guestfish (libguestfs;
//               skipped when it is not installed)
// Per point, from points/<id>/point.json: prepare (disks), inject, define, boot (start until
// QASET's NEXT_RUN shows), run (until DONE), collect, teardown; and the point phase's wall time
// as the orchestrator saw it (job manifest), so the overhead around the helper is known too.
// The guest runs under TCG (domain type qemu) where /dev/kvm does not run guests.
//
// Environment knobs: BENCH_KVM_REPS (default 3), BENCH_KVM_METHODS=debugfs,guestfish.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { labUp } from '../lab/lab.js';
import { hypervisorMissing, hypervisorUp, smallPointParams, writeKvmInventory } from '../lab/hypervisor.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { PointRecordSchema, type PointRecord } from '../../orchestrator/scenarios/kvm/normalize.js';
import { POINT_STEPS } from '../../orchestrator/scenarios/kvm/points.js';
import type { SectionResult } from './section.js';
import { fixed, markdownTable, median } from './stats.js';

export const name = 'kvm';
export const description = 'kvm: time per matrix point split into prepare, inject, define, boot, run, collect, teardown (debugfs vs guestfish)';

const exec = promisify(execFile);
const SUBNET = 214;
const REPS = Math.max(1, Number(process.env.BENCH_KVM_REPS ?? 3) || 3);
const METHODS = (process.env.BENCH_KVM_METHODS ?? 'debugfs,guestfish').split(',').filter((m): m is 'debugfs' | 'guestfish' => m === 'debugfs' || m === 'guestfish');

function log(line: string): void {
  process.stderr.write(`[kvm] ${line}\n`);
}

interface MethodRun {
  method: 'debugfs' | 'guestfish';
  sweep_wall_s: number;
  points: (PointRecord & { phase_ms: number })[];
}

export async function run(): Promise<SectionResult> {
  const missing = await hypervisorMissing();
  if (missing) throw new Error(`kvm bench needs the lab's hypervisor: ${missing}`);
  const guestfish = await exec('sh', ['-c', 'command -v guestfish']).then(() => true, () => false);
  const work = await mkdtemp(path.join(os.tmpdir(), 'bench-kvm-'));
  const hv = await hypervisorUp();
  const lab = await labUp({ subnet: SUBNET, hosts: 1, dir: path.join(work, 'lab'), reports: false });
  const runs: MethodRun[] = [];
  try {
    for (const method of METHODS) {
      if (method === 'guestfish' && !guestfish) {
        log('guestfish is not installed: skipped');
        continue;
      }
      const results = path.join(work, `results-${method}`);
      const inventory = await writeKvmInventory(lab, {
        file: path.join(work, `${method}.yaml`),
        resultsDir: results,
        kvm: {
          'lab-01': smallPointParams(hv, {
            backing: 'bench',
            inject: method,
            repetitions: REPS,
            qaset: { run_list: ['numa_nodes'], timeout: '10m', poll_interval: method === 'guestfish' ? 5 : 1 },
            extra: { domain_type: 'auto' },
          }),
        },
      });
      log(`${method}: ${REPS} point(s)`);
      const t0 = Date.now();
      const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
      const wall = (Date.now() - t0) / 1000;
      if (code !== 0) throw new Error(`${method} sweep exited ${code}:\n${stdout}\n${stderr}`);
      const { dir } = await onlySweep(results);
      const manifest = await jobManifest(dir, 'lab-01--kvm');
      const points: MethodRun['points'] = [];
      for (const phase of manifest.phases.filter((p) => p.name.startsWith('point-'))) {
        const id = phase.name.slice('point-'.length);
        const record = PointRecordSchema.parse(JSON.parse(await readFile(path.join(dir, 'jobs', 'lab-01--kvm', 'raw/artifacts/points', id, 'point.json'), 'utf8')));
        if (record.status !== 'done') throw new Error(`${method}: point ${id} ended ${record.status}`);
        points.push({ ...record, phase_ms: phase.durationMs ?? Number.NaN });
      }
      runs.push({ method, sweep_wall_s: wall, points });
      log(`${method}: sweep ${wall.toFixed(1)} s`);
    }
  } finally {
    await lab.down();
    await hv.stop();
    await rm(work, { recursive: true, force: true });
  }
  const header = ['inject', 'points', ...POINT_STEPS.map((s) => `${s} (ms)`), 'one control read (ms)', 'point phase (ms)', 'overhead (ms)', 'overhead share'];
  const rows = runs.map((r) => {
    const med = (f: (p: MethodRun['points'][number]) => number) => median(r.points.map(f));
    const guest = med((p) => (p.timings_ms.boot ?? 0) + (p.timings_ms.run ?? 0));
    const phase = med((p) => p.phase_ms);
    return [
      r.method,
      String(r.points.length),
      ...POINT_STEPS.map((s) => fixed(med((p) => p.timings_ms[s] ?? Number.NaN), 0)),
      fixed(med((p) => p.control_read_ms ?? Number.NaN), 0),
      fixed(phase, 0),
      fixed(phase - guest, 0),
      `${fixed(((phase - guest) / phase) * 100, 1)} %`,
    ];
  });
  const table = [
    markdownTable(header, rows),
    '',
    'Medians per point. boot: start until QASET\'s NEXT_RUN shows; run: until DONE (both known to within the poll interval plus one control read); overhead: the point phase\'s wall time minus boot and run (disks, injection, define, collection, teardown and the transport).',
  ].join('\n');
  return { table, json: { reps: REPS, runs } };
}


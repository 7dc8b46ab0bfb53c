// Section "cli": the orchestrator as a user runs it, through its bin:
//   orchestrate --inventory INV --scenario sysinfo --no-report --no-publish --no-progress
// with sysinfo's sample_seconds 0 and a fresh results dir per run (so every run writes its own sweep,
// manifests and artifacts). INV is the lab's inventory with `concurrency: N` (every host at once, as
// parallel-ssh -p N). Wall time and the CPU of the whole client process tree (/usr/bin/time).
//
// The check reads what the run stored: exactly one sweep, and for every lab host a job manifest
// with status ok and a sysinfo.json that passes the product's own schema (readSysinfo).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../lab/lab.js';
import { readSysinfo } from '../../../orchestrator/scenarios/sysinfo.js';
import { timed } from './cli-tools.js';
import type { FactsMethod, FactsRun, FactsTarget } from './types.js';

/** The package's bin, as `npm link` / `npx orchestrate` runs it. */
export const ORCHESTRATE_BIN = path.join(REPO_ROOT, 'orchestrator', 'bin', 'orchestrate.js');

/** Also build the report site after the sweep (BENCH_CLI_REPORT=1); the default leaves it to section site-build. */
const WITH_REPORT = process.env.BENCH_CLI_REPORT === '1';

export function orchestrateArgv(inventory: string): string[] {
  return [
    process.execPath, ORCHESTRATE_BIN,
    '--inventory', inventory,
    '--scenario', 'sysinfo',
    ...(WITH_REPORT ? [] : ['--no-report']),
    '--no-publish',
    '--no-progress',
  ];
}

export const orchestrateCli: FactsMethod = {
  id: 'orchestrate',
  label: WITH_REPORT ? 'orchestrate --scenario sysinfo (+ report)' : 'orchestrate --scenario sysinfo',
  async run(target: FactsTarget, runDir: string): Promise<FactsRun> {
    const inventory = await target.lab.writeInventory({
      file: path.join(runDir, 'inventory.yaml'),
      resultsDir: path.join(runDir, 'results'),
      scenarios: { sysinfo: { sample_seconds: 0 } },
      extra: { concurrency: target.n },
    });
    const r = await timed(orchestrateArgv(inventory), { timeFile: path.join(runDir, 'time.txt'), cwd: runDir });
    if (r.exitCode !== 0) {
      throw new Error(`orchestrate: exit ${r.exitCode}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    }
    return { wallS: r.wallS, cpuS: r.cpuS, cpuOf: 'client process tree (/usr/bin/time)', clientPid: r.pid, detail: { userS: r.userS, systemS: r.systemS } };
  },
  async verify(target: FactsTarget, runDir: string): Promise<void> {
    const sweepsDir = path.join(runDir, 'results', 'sweeps');
    const sweeps = await readdir(sweepsDir).catch(() => [] as string[]);
    if (sweeps.length !== 1) throw new Error(`orchestrate: expected one sweep in ${sweepsDir}, found ${sweeps.length}`);
    const jobsDir = path.join(sweepsDir, sweeps[0]!, 'jobs');
    const problems: string[] = [];
    await Promise.all(
      target.hosts.map(async (host) => {
        const jobDir = path.join(jobsDir, `${host.name}--sysinfo`);
        try {
          const manifest = JSON.parse(await readFile(path.join(jobDir, 'manifest.json'), 'utf8')) as { status?: unknown; host?: { name?: unknown } };
          if (manifest.status !== 'ok' || manifest.host?.name !== host.name) {
            problems.push(`${host.name}: job status ${JSON.stringify(manifest.status)}`);
            return;
          }
          const doc = await readSysinfo(path.join(jobDir, 'raw'));
          if (!doc.lscpu || !doc.lsblk || !doc.mounts || doc.meminfo_kb['MemTotal'] === undefined) {
            problems.push(`${host.name}: sysinfo.json lacks lscpu, lsblk, mounts or MemTotal`);
          }
        } catch (error) {
          problems.push(`${host.name}: ${(error as Error).message}`);
        }
      }),
    );
    if (problems.length > 0) throw new Error(`orchestrate did not store every host's facts (${problems.length} problem(s)): ${problems.slice(0, 8).join('; ')}`);
  },
};

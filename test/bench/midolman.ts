// Benchmark section "midolman": what the midolman scenario's measurement chain can do on one lab
// host (test/lab: a real sshd on loopback; the traffic stays in per-job namespaces of this kernel).
//
// 1. Generator ceilings: each generator of the scenario's table (nmap, trafgen, pktgen) step by step
//    from 1000 pps upward, achieved/requested (source capture) and delivered/requested
//    (destination capture), until a rate is held short of the request by more than 5% twice (that
//    generator's ceiling on this machine) or the last step (50k pps); a generator the check phase
//    refuses is reported with its reason. One real sweep per step (the orchestrator's CLI,
//    linux_bridge topology, no shaping): test/bench/midolman-generators.ts.
// 2. The orchestrator's own overhead per job: job wall time (manifest startedAt..endedAt) minus
//    the sum of its phase durations (what the phases themselves took on the host, transport
//    included), over every job of part 1 (same file).
// 3. The build under test's cost per job (push, install, restart, readiness), apart from the
//    measurement: test/bench/midolman-build.ts.
//
// Environment knobs (for quick runs; the defaults are the benchmark):
//   BENCH_MIDOLMAN_PARTS=generator,build which parts run (default both)
//   BENCH_MIDOLMAN_GENERATORS=nmap,trafgen,pktgen   generators of part 1, in order
//   BENCH_MIDOLMAN_RATES=1000,2000,...   requested rates, ascending (default up to 50000)
//   BENCH_MIDOLMAN_SECONDS=2             seconds of traffic per step (burst = rate x seconds, <= 65535)
//   BENCH_MIDOLMAN_BUILD_RUNS=4          jobs per kind in part 3
import type { SectionResult } from './section.js';
import { measureBuildCost } from './midolman-build.js';
import { runGenerators } from './midolman-generators.js';

export const name = 'midolman';
export const description =
  'midolman: each generator (nmap, trafgen, pktgen) achieved and delivered vs requested rate up to its ceiling (or 50k pps); orchestrator overhead per job; build cost per job';

const PARTS = (process.env['BENCH_MIDOLMAN_PARTS'] ?? 'generator,build').split(',').map((s) => s.trim());

export async function run(): Promise<SectionResult> {
  const generator = PARTS.includes('generator') ? await runGenerators() : undefined;
  const build = PARTS.includes('build') ? await measureBuildCost() : undefined;
  return {
    table: [generator?.table, build?.table].filter((t) => t !== undefined).join('\n\n'),
    json: { ...(generator ? { generator: generator.json } : {}), ...(build ? { build: build.json } : {}) },
  };
}

// The midolman scenario's adaptive repetitions end to end on the lab, through the real CLI: one lab
// host (real sshd on loopback) with its stand-in agent JVM, the linux_bridge topology shaped as in
// midolman.e2e.test.ts (2000 pps, 1 probe in 16 dropped), real SYN traffic from nmap, and
// `repeat: { min: 2, max: 4, target_ci: 0.001 }`: each scan step's burst is sent again until the
// 95% interval of its delivered rate is within 0.1% of the mean (real noise does not allow that),
// 4 bursts, or the phase's deadline. What the host recorded is checked against the bursts it
// sent, the stopping rule and the interval recomputed in TypeScript, and the job's metrics.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { readRepeats, readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';
import { meanInterval, repeatVerdict } from '../../orchestrator/analysis/confidence-interval.js';
import { startStandin, type Standin } from './standin.js';

const e2e = suite('midolman adaptive repetitions on the lab');
let lab: Lab;
let work: string;
let standin: Standin | undefined;

e2e.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'midolman-repeat-e2e-'));
  lab = await labUp({ subnet: 50, hosts: 1, dir: join(work, 'lab'), reports: false });
  standin = await startStandin(work, lab.hosts[0]!.name);
});
e2e.after(async () => {
  await standin?.stop();
  await lab?.down();
  if (process.env.MIDOLMAN_E2E_KEEP) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
});

e2e('each scan step repeats until its interval is narrow enough or max: the records agree with the bursts, the rule and the metrics', async () => {
  const results = join(work, 'results');
  const host = lab.hosts[0]!;
  const repeat = { min: 2, max: 4, target_ci: 0.001 };
  const inventory = await lab.writeInventory({
    file: join(work, 'repeat.yaml'),
    resultsDir: results,
    scenarios: { midolman: { topology: 'linux_bridge', shape: { rate_pps: 2000, drop_one_in: 16 } } },
    defaults: { retries: 0 },
    hostExtra: {
      [host.name]: { profile: 'lab-smoke', scenarios: { midolman: { agent: { jmx_url: standin!.jmxUrl, pid_file: standin!.pidFile }, heap_dump: false, repeat } } },
    },
  });
  const started = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  const seconds = (Date.now() - started) / 1000;
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);
  const jobId = `${host.name}--midolman`;
  const manifest = await jobManifest(dir, jobId);
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  assert.equal(manifest.scenario.params['repeat'], { ...repeat, metric: 'delivered_pps' }, 'the rule is in the manifest (the scenario params)');
  const raw = join(dir, 'jobs', jobId, 'raw');

  const steps = (await readSteps(raw)).filter((s) => s.phase === 'throughput');
  const records = await readRepeats(raw);
  console.log(`repeat e2e (${seconds.toFixed(1)} s sweep):\n${records.map((r) => `${r.offered_pps} pps: ${r.repetitions} bursts ${r.values.map((v) => v.toFixed(1)).join(' ')} +-${((r.ci_relative ?? Infinity) * 100).toFixed(2)}% ${r.stop}`).join('\n')}`);
  assert.is(records.length, 5, 'one record per scan step (1000..3000 by 500)');
  for (const r of records) {
    const bursts = steps.filter((s) => s.index === r.index);
    assert.equal(bursts.map((b) => b.repetition), Array.from({ length: r.repetitions }, (_, i) => i + 1), `step ${r.index}: its bursts numbered 1..${r.repetitions}`);
    assert.equal(r.values, bursts.map((b) => b.delivered_pps), `step ${r.index}: the values are its bursts' delivered rates`);
    assert.ok(r.repetitions >= 1 && r.repetitions <= repeat.max);
    // the interval as the TypeScript computes it
    const ci = meanInterval(r.values);
    assert.ok(Math.abs(r.mean! - ci.mean) <= 1e-9 * ci.mean, `mean ${r.mean} vs ${ci.mean}`);
    if (r.n >= 2) assert.ok(Math.abs(r.ci_relative! - ci.relative) <= 1e-9, `relative ${r.ci_relative} vs ${ci.relative}`);
    // the rule: every earlier count said continue (no deadline with this budget), the last one said stop
    const rule = { min: repeat.min, max: repeat.max, targetCi: repeat.target_ci };
    for (let n = 1; n < r.repetitions; n++) assert.is(repeatVerdict(rule, n, meanInterval(r.values.slice(0, n)).relative, 1e9, 0), 'continue', `step ${r.index} after ${n}`);
    assert.is(repeatVerdict(rule, r.repetitions, ci.relative, 1e9, 0), r.stop, `step ${r.index} stopped ${r.stop}`);
    assert.is(r.target_met, r.stop === 'target');
  }
  assert.ok(records.some((r) => r.repetitions > repeat.min), 'real noise keeps at least one step past min');
  assert.ok(records.every((r) => r.repetitions >= repeat.min || r.stop === 'deadline'));

  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(dir, 'jobs', jobId, 'metrics.json'), 'utf8')));
  for (const r of records) {
    const labels = { phase: 'throughput', step: String(r.index), offered_pps: String(r.offered_pps), mode: 'linear' };
    const same = (l: Record<string, string>) => JSON.stringify(l) === JSON.stringify(labels);
    assert.equal(metrics.samples.filter((s) => s.metric === 'traffic.delivered' && same(s.labels)).map((s) => s.value), r.values, 'every burst a sample of the step\'s key');
    const rep = metrics.samples.find((s) => s.metric === 'repeat.repetitions' && s.labels['step'] === String(r.index));
    assert.is(rep?.value, r.repetitions);
  }
  const summary = JSON.parse(await readFile(join(dir, 'jobs', jobId, 'repeats.json'), 'utf8'));
  assert.is(summary.steps.length, 5);
  assert.is(JSON.parse(await readFile(join(raw, 'artifacts', 'teardown.json'), 'utf8')).clean, true);
});

e2e.run();

// remote-scripts/lib/traffic-repeat.sh, run by real bash under the helpers' `set -euo pipefail`,
// with lib/traffic-common.sh's traffic_step replaced by a stand-in burst (no namespaces here)
// whose delivered rate, loss, latency and duration the test dictates: a step repeated until its
// interval is narrow enough, until max, until the phase's deadline; what steps.jsonl and
// repeats.jsonl then hold, and what an NDR trial is judged on. The records are read back through
// the scenario's normalize schemas.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { meanInterval, repeatVerdict } from '../../orchestrator/analysis/confidence-interval.js';
import { readRepeats, readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';

const exec = promisify(execFile);
const LIB = fileURLToPath(new URL('../../remote-scripts/lib/', import.meta.url));

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'traffic-repeat-'));
});
test.after.each(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Runs SCRIPT with the libraries sourced and traffic_step replaced: burst k of any step delivers
 * DELIVERED[k-1] pps with LOSS[k-1] and takes SLEEP seconds; every burst is a steps.jsonl line as
 * the real one writes it (with its repetition). Events go to events.jsonl.
 */
async function run(script: string, env: Record<string, string>, delivered: number[], loss: number[] = [], sleep = 0): Promise<string> {
  const prelude = ['common.sh', 'json.sh', 'events.sh', 'midolman-common.sh', 'repeat.sh', 'traffic-repeat.sh'].map((f) => `. ${JSON.stringify(join(LIB, f))}`).join('\n');
  const stub = `
BURST=0
traffic_step() {
  local -a repetition=()
  BURST=$((BURST + 1))
  [[ -z \${TRAFFIC_REPETITION:-} ]] || repetition=(repetition n "$TRAFFIC_REPETITION")
  local d=(${delivered.join(' ')}) l=(${(loss.length ? loss : delivered.map(() => 0)).join(' ')})
  TRAFFIC_LAST_T0=$(mm_now)
  sleep ${sleep}
  TRAFFIC_LAST_T1=$(mm_now)
  TRAFFIC_LAST_DELIVERED_PPS=\${d[BURST - 1]} TRAFFIC_LAST_ACHIEVED_PPS=$3 TRAFFIC_LAST_LOSS=\${l[BURST - 1]}
  TRAFFIC_LAST_LATENCY='{"count":10,"min":1,"mean":5,"p50":4000,"p90":9,"p99":9000,"max":10}'
  TRAFFIC_LAST_STEP=$(orch_json_object phase s "$1" index n "$2" "\${repetition[@]}" generator s nmap mode s "\${TRAFFIC_MODE:-linear}" \\
    t_start n "$TRAFFIC_LAST_T0" t_end n "$TRAFFIC_LAST_T1" offered_pps n "$3" probes n "$4" sent n "$4" delivered n "$4" send_duration_s n 1 \\
    achieved_pps n "$3" delivered_pps n "$TRAFFIC_LAST_DELIVERED_PPS" loss n "$TRAFFIC_LAST_LOSS" latency_ns j "$TRAFFIC_LAST_LATENCY" \\
    link j '{"src_tx_packets":null,"dst_rx_packets":null}' generator_report j null)
  printf '%s\\n' "$TRAFFIC_LAST_STEP" >>"$ORCH_ARTIFACTS/steps.jsonl"
}`;
  await exec('mkdir', ['-p', join(dir, 'artifacts')]);
  const { stdout } = await exec('bash', ['-c', `set -euo pipefail\n${prelude}\n${stub}\nexec 3>>${JSON.stringify(join(dir, 'events.jsonl'))}\n${script}`], {
    env: { PATH: process.env.PATH!, ORCH_ARTIFACTS: join(dir, 'artifacts'), THROUGHPUT_SCAN_PAUSE_SECONDS: '0', ...env },
  });
  return stdout;
}

const rule = (min: number, max: number, target: number, extra: Record<string, string> = {}) => ({
  MIDOLMAN_REPEAT_MIN: String(min),
  MIDOLMAN_REPEAT_MAX: String(max),
  MIDOLMAN_REPEAT_TARGET_CI: String(target),
  MIDOLMAN_REPEAT_METRIC: 'delivered_pps',
  MIDOLMAN_REPEAT_BUDGET_S: '3600',
  ...extra,
});

test('without repeat (max 1, or no MIDOLMAN_REPEAT_*), a step is one burst with no repetition field and no record', async () => {
  await run('traffic_repeat_step throughput 1 1000 50', {}, [990]);
  await run('traffic_repeat_step throughput 2 1500 50', { MIDOLMAN_REPEAT_MAX: '1' }, [1490]);
  const lines = (await readFile(join(dir, 'artifacts/steps.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
  assert.is(lines.length, 2);
  assert.not.ok('repetition' in lines[0] || 'repetition' in lines[1]);
  assert.equal(await readRepeats(dir), []);
});

test('target met early: the step stops at the first burst count whose interval is within the target, recorded with its values', async () => {
  const delivered = [1000, 1010, 995, 1002, 999];
  await run('traffic_repeat_step throughput 3 1000 50', rule(2, 5, 0.02), delivered);
  const steps = await readSteps(dir);
  const [rec] = await readRepeats(dir);
  // [1000, 1010]: 12.706 * 7.07 / 1.414 / 1005 = 6.3% > 2%; [1000, 1010, 995]: 4.30 * 7.64 / 1.73 / 1001.7 = 1.9%
  assert.equal(steps.map((s) => [s.index, s.repetition, s.delivered_pps]), [[3, 1, 1000], [3, 2, 1010], [3, 3, 995]]);
  assert.ok(rec);
  assert.is(rec.stop, 'target');
  assert.is(rec.target_met, true);
  assert.is(rec.repetitions, 3);
  assert.equal(rec.values, [1000, 1010, 995]);
  const ci = meanInterval([1000, 1010, 995]);
  assert.ok(Math.abs(rec.mean! - ci.mean) < 1e-9 && Math.abs(rec.ci_half_width! - ci.halfWidth) < 1e-9 && Math.abs(rec.ci_relative! - ci.relative) < 1e-12);
  assert.equal([rec.phase, rec.index, rec.offered_pps, rec.metric, rec.min, rec.max, rec.target_ci], ['throughput', 3, 1000, 'delivered_pps', 2, 5, 0.02]);
});

test('max reached: a noisy step sends max bursts and says the target was not met; NDR judges the mean loss of the bursts', async () => {
  const out = await run('traffic_repeat_step throughput 1 2000 50; printf "%s" "$TRAFFIC_LAST_LOSS"', rule(2, 4, 0.01), [1000, 1500, 700, 1200, 900], [0, 0.1, 0.2, 0.3, 0.4]);
  const [rec] = await readRepeats(dir);
  assert.is(rec!.stop, 'max');
  assert.is(rec!.target_met, false);
  assert.equal(rec!.values, [1000, 1500, 700, 1200]);
  assert.ok(Math.abs(Number(out) - 0.15) < 1e-12, `the mean loss of the four bursts: ${out}`);
  assert.is((await readSteps(dir)).length, 4);
});

test('the phase deadline stops a step (below min too), keeping time for the steps still to come; recorded as deadline with a warning', async () => {
  // bursts of 0.3 s, 1 s of budget: after burst 1 (t ~ 0.3) another burst plus the 2 steps to come
  // needs 0.9 s: fits; after burst 2 (t ~ 0.6) it does not
  await run('TRAFFIC_REPEAT_STEPS_LEFT=2; traffic_repeat_start; traffic_repeat_step throughput 1 1000 50', rule(4, 8, 0.0001, { MIDOLMAN_REPEAT_BUDGET_S: '1' }), [1000, 1100, 900, 1000, 1000, 1000, 1000, 1000], [], 0.3);
  const [rec] = await readRepeats(dir);
  assert.is(rec!.stop, 'deadline');
  assert.ok(rec!.repetitions >= 1 && rec!.repetitions < 4, `stopped below min: ${rec!.repetitions}`);
  const events = await readFile(join(dir, 'events.jsonl'), 'utf8');
  assert.match(events, /repetitions stopped at the phase's deadline/);
  // the rule that stopped it, in TypeScript: one more burst and two steps to come did not fit
  assert.is(repeatVerdict({ min: 4, max: 8, targetCi: 0.0001 }, rec!.repetitions, rec!.ci_relative ?? Infinity, 1 - rec!.seconds, (rec!.seconds / rec!.repetitions) * 3), 'deadline');
});

test('the judged measurement: latency percentiles from the burst, the agent\'s CPU from the /proc sampler over the burst\'s window, and no value ends the loop', async () => {
  const p = await run('TRAFFIC_LAST_LATENCY=\'{"count":3,"p50":1234,"p99":5678}\'; traffic_step_value latency_p50_ns; echo; traffic_step_value latency_p99_ns; echo; TRAFFIC_LAST_LATENCY=\'{"count":0,"p50":null,"p99":null}\'; echo "[$(traffic_step_value latency_p99_ns)]"', {}, [1]);
  assert.is(p, '1234\n5678\n[]\n');
  await exec('mkdir', ['-p', join(dir, 'artifacts/collectors')]);
  await writeFile(
    join(dir, 'artifacts/collectors/proc.jsonl'),
    ['{"kind":"types","t":99,"types":{}}', '{"kind":"sample","t":100.5,"values":{"agent.cpu_percent":50.00}}', '{"kind":"sample","t":101.5,"values":{"host.cpu_busy_percent":3,"agent.cpu_percent":30.00,"agent.rss_bytes":1}}',
     '{"kind":"sample","t":102.5,"values":{"agent.cpu_percent":10.00}}', '{"kind":"sample","t":103.5,"values":{"agent.cpu_percent":99.00}}'].join('\n') + '\n',
  );
  // a burst from 101 to 102: the samples after 101 up to one interval past 102 (101.5, 102.5)
  assert.is(await run('traffic_agent_cpu 101 102', {}, [1]), '20.000000');
  assert.is(await run('echo "[$(traffic_agent_cpu 200 201)]"', {}, [1]), '[]\n');
  await run('traffic_repeat_step throughput 1 1000 50', rule(2, 5, 0.02, { MIDOLMAN_REPEAT_METRIC: 'latency_p99_ns' }), [1000, 1000]);
  const [rec] = await readRepeats(dir);
  assert.is(rec!.stop, 'target', 'equal latencies: a zero-width interval');
  await rm(join(dir, 'artifacts/repeats.jsonl'));
  await run('traffic_repeat_step throughput 1 1000 50', rule(2, 5, 0.02, { MIDOLMAN_REPEAT_METRIC: 'agent_cpu_percent' }), [1000, 1000]);
  const [none] = await readRepeats(dir);
  assert.equal([none!.stop, none!.repetitions, none!.n, none!.values], ['no-value', 1, 0, []], 'no sample in the burst\'s window');
});

test.run();

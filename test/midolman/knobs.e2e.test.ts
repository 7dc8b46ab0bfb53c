// Knob precedence end to end, through the real CLI and the real helper on a lab host: a profile
// directory named after the host beats the inventory's profile; built-in < the profile's
// perftests.conf < the host's inventory vars < the scenario's overrides; profile.json records each
// value's layer and place; an unknown knob is a warning in the job's log; and the traffic the helper
// sent is the traffic the resolved knobs asked for (steps.jsonl).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { labUp, type Lab } from '../lab/lab.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';
import { readSteps } from '../../orchestrator/scenarios/midolman/normalize.js';
import { commandsMissing, guardedSuite, missingRequirement, needsRoot } from '../support/requirements.js';

const t = suite('midolman knobs through the real helper');
const missing = await missingRequirement(needsRoot, () => commandsMissing('nmap', 'tcpdump', 'tc', 'ip', 'rrdtool'));
const test = guardedSuite(t, missing, 'the knob precedence end-to-end test');

let lab: Lab | undefined;
let work = '';

t.before(async () => {
  if (missing) return;
  work = mkdtempSync(join(tmpdir(), 'midolman-knobs-'));
  lab = await labUp({ subnet: 38, hosts: 1, dir: join(work, 'lab'), reports: false });
});
t.after(async () => {
  await lab?.down();
  if (work && !process.env['MIDOLMAN_E2E_KEEP']) rmSync(work, { recursive: true, force: true });
});

test('a profile named after the host, then perftests.conf < vars < overrides: recorded, warned and obeyed by the traffic', async () => {
  const host = lab!.hosts[0]!.name;
  const profiles = join(work, 'profiles.d');
  mkdirSync(join(profiles, 'default'), { recursive: true });
  mkdirSync(join(profiles, 'tuned'), { recursive: true });
  mkdirSync(join(profiles, host), { recursive: true });
  // default/ supplies what the host's own profile lacks (the MBean file falls back too).
  writeFileSync(join(profiles, 'default', 'perftests.conf'), 'THROUGHPUT_SCAN_MAX_RATE=9999\n');
  // the inventory names 'tuned', but a directory named after the host wins
  writeFileSync(join(profiles, 'tuned', 'perftests.conf'), 'THROUGHPUT_SCAN_BURST=7777\n');
  writeFileSync(
    join(profiles, host, 'perftests.conf'),
    [
      '# this host, by name',
      'THROUGHPUT_SCAN_START_RATE=500',
      'THROUGHPUT_SCAN_STEP=500',
      'THROUGHPUT_SCAN_MAX_RATE=5000', // vars lower it
      'THROUGHPUT_SCAN_BURST=300',
      'THROUGHPUT_SCAN_PAUSE_SECONDS=0',
      'WARMUP_RATE=200',
      'WARMUP_BURST=40',
      'WARMUP_ITERATIONS=2',
      'WARMUP_SETTLE_SECONDS=0',
      'LONG_RUNNING_SCAN_ITERATIONS=9', // overrides lower it
      'LONG_RUNNING_SCAN_RATE=800',
      'LONG_RUNNING_SCAN_BURST=200',
      '',
    ].join('\n'),
  );
  const results = join(work, 'results');
  const inventory = await lab!.writeInventory({
    file: join(work, 'lab.yaml'),
    resultsDir: results,
    scenarios: { midolman: { heap_dump: false, overrides: { LONG_RUNNING_SCAN_ITERATIONS: 1 } } },
    defaults: { retries: 0 },
    hostExtra: { [host]: { profile: 'tuned', vars: { THROUGHPUT_SCAN_MAX_RATE: 1500, THROUGHPUT_MAX_SCAN_RATE: 8000 } } },
    extra: { profiles_dir: profiles },
  });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir } = await onlySweep(results);
  const jobId = `${host}--midolman`;
  const manifest = await jobManifest(dir, jobId);
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  assert.is(manifest.profile, host, 'the manifest names the profile the host really got');

  const profile = JSON.parse(await readFile(join(dir, 'jobs', jobId, 'raw', 'artifacts', 'profile.json'), 'utf8'));
  assert.is(profile.profile, host);
  assert.match(profile.reason, new RegExp(`profiles\\.d/${host}/ is named after the host: it wins over the inventory's profile 'tuned'`));
  assert.equal(profile.files['perftests.conf'], `${host}/perftests.conf`);
  assert.equal(profile.values.THROUGHPUT_SCAN_BURST, { value: 300, source: 'profile', at: `${host}/perftests.conf:5` });
  assert.is(profile.values.THROUGHPUT_SCAN_MAX_RATE.value, 1500);
  assert.is(profile.values.THROUGHPUT_SCAN_MAX_RATE.source, 'vars');
  assert.match(profile.values.THROUGHPUT_SCAN_MAX_RATE.at, /^inventory vars \(.*lab\.yaml:\d+:\d+\)$/);
  assert.equal(profile.values.LONG_RUNNING_SCAN_ITERATIONS.value, 1);
  assert.is(profile.values.LONG_RUNNING_SCAN_ITERATIONS.source, 'overrides');
  assert.equal(profile.values.LONG_RUNNING_SCAN_RATE, { value: 800, source: 'profile', at: `${host}/perftests.conf:12` });
  assert.equal(profile.files['jmx-mbeans'], '', 'neither this profile nor default/ has an MBean file here');
  assert.ok(profile.warnings.some((w: string) => w.includes('unknown knob THROUGHPUT_MAX_SCAN_RATE') && w.includes('did you mean THROUGHPUT_SCAN_MAX_RATE?')), JSON.stringify(profile.warnings));
  const log = await readFile(join(dir, 'jobs', jobId, 'orchestrator.log'), 'utf8');
  assert.match(log, /unknown knob THROUGHPUT_MAX_SCAN_RATE/, 'the warning is in the job log');

  // The traffic obeyed the resolved knobs, not the profile alone.
  const steps = await readSteps(join(dir, 'jobs', jobId, 'raw'));
  const of = (phase: string) => steps.filter((s) => s.phase === phase);
  assert.equal(of('throughput').map((s) => s.offered_pps), [500, 1000, 1500], 'START 500, STEP 500, MAX 1500 from vars (not 5000)');
  assert.ok(of('throughput').every((s) => s.probes === 300), 'THROUGHPUT_SCAN_BURST 300');
  assert.equal(of('warm-up').map((s) => [s.offered_pps, s.probes]), [[200, 40], [200, 40]]);
  assert.equal(of('long-running').map((s) => [s.offered_pps, s.probes]), [[800, 200]], 'one iteration (overrides), not nine');
});

t.run();

// remote-scripts/midolman's profile phase (phase_profile), sourced by real bash (its main does
// not run): the host's own check of the knobs the orchestrator resolved (MIDOLMAN_KNOBS lines
// "KEY=VALUE<TAB>SOURCE<TAB>AT"). Every knob the orchestrator knows (PROFILE_KNOBS) is one the
// helper knows and needs; a value that is not a whole number, a knob or source it does not know,
// a missing knob or a burst beyond one probe per port stops the phase before profile.env exists.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILE_KNOBS } from '../../orchestrator/scenarios/midolman/params.js';
import { sourced } from './sourced-bash.js';

type Knobs = Record<string, number | string>;
const knobLines = (knobs: Knobs, source = 'builtin') => Object.entries(knobs).map(([k, v]) => `${k}=${v}\t${source}\tbuilt-in default`).join('\n');

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midolman-profile-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const profile = (knobs: string, env: Record<string, string> = {}) =>
  sourced(['midolman'], 'mm_init; phase_profile', {
    env: { ORCH_JOB_DIR: join(dir, 'job'), ORCH_ARTIFACTS: join(dir, 'job/artifacts'), ORCH_SWEEP_ID: 's', ORCH_JOB_ID: 'j', MIDOLMAN_KNOBS: knobs, ...env },
  });

test('the orchestrator\'s knobs, each with its source, are recorded in profile.env and profile.json with the warnings it sent', async () => {
  const knobs: Knobs = { ...PROFILE_KNOBS, WARMUP_RATE: 250 };
  const lines = knobLines(knobs).replace('WARMUP_RATE=250\tbuiltin\tbuilt-in default', 'WARMUP_RATE=250\tvars\tinventory.yaml:12:5');
  const run = await profile(lines, { MIDOLMAN_PROFILE_NAME: 'perf', MIDOLMAN_PROFILE_WARNINGS: 'WARMUP_RATE is "250" "quoted"\nsecond warning' });
  assert.is(run.code, 0, run.stderr);
  const env = await readFile(join(dir, 'job/midolman/profile.env'), 'utf8');
  assert.is(env, Object.entries(knobs).map(([k, v]) => `${k}=${v}\n`).join(''));
  const doc = JSON.parse(await readFile(join(dir, 'job/artifacts/profile.json'), 'utf8'));
  assert.is(doc.profile, 'perf');
  assert.equal(doc.warnings, ['WARMUP_RATE is "250" "quoted"', 'second warning']);
  assert.equal(Object.keys(doc.values), Object.keys(PROFILE_KNOBS));
  assert.equal(doc.values.WARMUP_RATE, { value: 250, source: 'vars', at: 'inventory.yaml:12:5' });
  assert.equal(doc.values.THROUGHPUT_SCAN_STEP, { value: 500, source: 'builtin', at: 'built-in default' });
  assert.match(run.stderr, /"level":"warning","message":"profile: second warning"/);
});

test('refused, before profile.env is written: a knob the helper does not know, a value that is not a whole number, an unknown source, a missing knob, bounds', async () => {
  const cases: [string, RegExp][] = [
    [knobLines({ ...PROFILE_KNOBS, THROUGHPUT_SCAN_RATE: 1 }), /the orchestrator sent an unknown knob: THROUGHPUT_SCAN_RATE/],
    [knobLines({ ...PROFILE_KNOBS, WARMUP_RATE: '1e3' }), /WARMUP_RATE \(from built-in default\) must be a whole number, got '1e3'/],
    [knobLines({ ...PROFILE_KNOBS, WARMUP_RATE: '-5' }), /WARMUP_RATE .* must be a whole number, got '-5'/],
    [knobLines({ ...PROFILE_KNOBS, WARMUP_RATE: '$(reboot)' }), /WARMUP_RATE .* must be a whole number, got '\$\(reboot\)'/],
    [knobLines(PROFILE_KNOBS, 'somewhere'), /knob THROUGHPUT_SCAN_START_RATE: unknown source 'somewhere'/],
    [knobLines(Object.fromEntries(Object.entries(PROFILE_KNOBS).filter(([k]) => k !== 'WARMUP_BURST'))), /no value for knob WARMUP_BURST \(MIDOLMAN_KNOBS is incomplete\)/],
    [knobLines({ ...PROFILE_KNOBS, THROUGHPUT_SCAN_STEP: 0 }), /THROUGHPUT_SCAN_STEP must be positive/],
    [knobLines({ ...PROFILE_KNOBS, THROUGHPUT_SCAN_BURST: 65536 }), /THROUGHPUT_SCAN_BURST must be 1\.\.65535/],
    [knobLines({ ...PROFILE_KNOBS, LONG_RUNNING_SCAN_BURST: 0 }), /LONG_RUNNING_SCAN_BURST must be 1\.\.65535/],
    [knobLines({ ...PROFILE_KNOBS, WARMUP_BURST: 70000 }), /WARMUP_BURST must be 1\.\.65535/],
    ['', /no value for knob THROUGHPUT_SCAN_START_RATE/],
  ];
  for (const [lines, message] of cases) {
    const run = await profile(lines);
    assert.is(run.code, 1, `${message}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.not.ok(existsSync(join(dir, 'job/midolman/profile.env')), `${message}: no profile.env`);
  }
});

test.run();

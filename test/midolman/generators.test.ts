// The helper's generator table, phase by phase on this machine (no lab, no orchestrator): the
// check phase refuses a generator that cannot run here, with the reason, before anything is set
// up; and the scenario's params accept the generators of the table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../e2e/cli-helpers.js';
import { MidolmanParams } from '../../orchestrator/scenarios/midolman.js';

const generators = suite('midolman traffic generators');

function runPhase(phase: string, env: Record<string, string>): { code: number | null; stderr: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'midolman-gen-'));
  const result = spawnSync('bash', [join(REPO, 'remote-scripts/midolman'), phase], {
    env: {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      ORCH_BUNDLE: REPO,
      ORCH_JOB_DIR: join(dir, 'job'),
      ORCH_ARTIFACTS: join(dir, 'job/artifacts'),
      ORCH_TOPOLOGIES: join(REPO, 'topologies'),
      ORCH_SWEEP_ID: 'unit',
      ORCH_JOB_ID: 'generators',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe', 'ignore'],
    encoding: 'utf8',
  });
  return { code: result.status, stderr: result.stderr, dir };
}

generators('params accept the generators of the table, nothing else', () => {
  assert.is(MidolmanParams.parse({ generator: 'pktgen' }).generator, 'pktgen');
  assert.is(MidolmanParams.parse({ generator: 'nmap' }).generator, 'nmap');
  assert.not.ok(MidolmanParams.safeParse({ generator: 'iperf' }).success);
  assert.not.ok(MidolmanParams.safeParse({ inject_failure: 'throughput' }).success, 'no test-only failure switch');
});

generators('check refuses pktgen where the kernel has no /proc/net/pktgen, saying why, before anything is set up', () => {
  if (existsSync('/proc/net/pktgen')) {
    console.log('  (skipped: this kernel has pktgen)');
    return;
  }
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'pktgen' });
  try {
    assert.is(code, 1, stderr);
    assert.match(stderr, /traffic generator 'pktgen' cannot run: \/proc\/net\/pktgen does not exist on kernel \S+/);
    assert.match(stderr, /use generator: nmap/);
    assert.equal(readdirSync(join(dir, 'job/artifacts')), [], 'no check.json: nothing recorded as checked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

generators('check refuses a generator that is not in the table', () => {
  const { code, stderr, dir } = runPhase('check', { MIDOLMAN_GENERATOR: 'iperf' });
  rmSync(dir, { recursive: true, force: true });
  assert.is(code, 1);
  assert.match(stderr, /unknown traffic generator 'iperf' \(known: /);
});

generators.run();

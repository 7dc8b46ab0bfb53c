// End to end through the real CLI on a `connection: local` host: the sysinfo scenario runs on
// this machine, as this user, through the local connector (no sshd, no host key), and its results
// are the same kind a host reached over SSH gives.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { SysinfoDocumentSchema } from '../../orchestrator/scenarios/sysinfo.js';
import { REPO, jobManifest, onlySweep, runCli } from './cli-helpers.js';

const local = suite('connection: local end to end');
let work: string;

local.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'local-connection-e2e-'));
});
local.after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeInventory(name: string, results: string): Promise<string> {
  const file = join(work, `${name}.yaml`);
  await writeFile(
    file,
    stringify({
      results_dir: results,
      known_hosts: join(work, 'known_hosts'),
      ssh_config: 'none',
      profiles_dir: join(REPO, 'inventory', 'profiles.d'),
      hosts: { here: { connection: 'local', remote_dir: join(work, 'remote'), scenarios: { sysinfo: {} } } },
    }),
  );
  return file;
}

local('a sysinfo sweep on a local host runs on this machine as this user and keeps its results', async () => {
  const results = join(work, 'results');
  const inventory = await writeInventory('sweep', results);
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report']);
  assert.is(code, 0, `${stdout}\n${stderr}`);

  const { dir, sweep } = await onlySweep(results);
  assert.is(sweep.status, 'ok');
  assert.equal(sweep.counts, { ok: 1, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 });
  const manifest = await jobManifest(dir, 'here--sysinfo');
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  assert.equal(manifest.host, { name: 'here', address: 'localhost', port: 0, user: userInfo().username, roles: [], groups: [] });
  assert.equal(manifest.phases.map((p) => [p.name, p.status]), [['provenance', 'ok'], ['sysinfo', 'ok']]);
  assert.is(manifest.environment?.kernel.release, execFileSync('uname', ['-r']).toString().trim());
  assert.is(manifest.artifacts?.status, 'complete');

  const jobDir = join(dir, 'jobs', 'here--sysinfo');
  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(jobDir, 'metrics.json'), 'utf8')));
  assert.ok(metrics.samples.some((s) => s.metric === 'cpu.logical' && s.value >= 1));
  const document = SysinfoDocumentSchema.parse(JSON.parse(await readFile(join(jobDir, 'raw/artifacts/sysinfo.json'), 'utf8')));
  assert.ok(document, 'the sysinfo document validates');
  assert.match(await readFile(join(jobDir, 'orchestrator.log'), 'utf8'), /phase sysinfo ok/);

  // The helpers really ran here: the bundle and the job's state are in remote_dir on this machine.
  assert.ok((await readdir(join(work, 'remote', 'bundles'))).length >= 1, 'the bundle was installed in remote_dir');
  assert.ok((await stat(join(work, 'remote', 'jobs'))).isDirectory());
  // No host key applies to a local host: known_hosts is neither needed nor written.
  assert.not.ok(await stat(join(work, 'known_hosts')).then(() => true, () => false), 'known_hosts was not created');
});

local('orchestrate check answers for a local host', async () => {
  const inventory = await writeInventory('check', join(work, 'results-check'));
  const { code, stdout, stderr } = await runCli(['check', '--inventory', inventory]);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /here/);
  assert.match(stdout, new RegExp(`local \\(${userInfo().username} on this machine\\)`));
  assert.match(stdout, new RegExp(execFileSync('uname', ['-r']).toString().trim().replace(/[.+]/g, '\\$&')));
});

local.run();

// The kvm scenario's adaptive repetitions end to end on the lab, through the real CLI: one lab
// hypervisor host (real sshd) drives this machine's libvirtd to boot the lab's Debian systemd guest
// under TCG, whose QASET stand-in runs the real sysbench. One point, run list
// [_reboot_off, sysbench_sys], `repeat` judging sysbench-cpu's events per second with a target no
// real run meets (0.01%) and max 2: the guest runs the case twice (the point's own run, then a
// repetition, injected anew and booted once more), each run's logs collected apart; the
// values recorded on the host are checked against the raw outputs, the interval against the
// TypeScript, the metrics hold one sample per run of the point's key, nothing is left behind.
// About 3 minutes under TCG (each run boots the guest: 65-140 s here); test/kvm/repeat.test.ts
// covers the loop's other endings (target, a failed run, the deadline) at the script level.
// Needs root, libvirt, qemu and the lab guest (bash test/install-deps.sh): missing, the test fails
// in CI and is counted as skipped elsewhere.
import { filesUnder } from '../support/file-tree.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labUp, type Lab } from '../lab/lab.js';
import { hypervisorMissing, hypervisorUp, smallPointParams, writeKvmInventory, type HypervisorLab } from '../lab/hypervisor.js';
import { MetricsFileSchema } from '../../orchestrator/results/metrics.js';
import { PointRecordSchema, RepeatRecordSchema } from '../../orchestrator/scenarios/kvm/normalize.js';
import { meanInterval, repeatVerdict } from '../../orchestrator/analysis/confidence-interval.js';
import { guardedSuite, missingRequirement } from '../support/requirements.js';
import { jobManifest, onlySweep, runCli } from '../e2e/cli-helpers.js';

const run = promisify(execFile);
const e2e = suite('kvm adaptive repetitions end to end (systemd guest, QASET stand-in)');
const missing = await missingRequirement(hypervisorMissing);
const it = guardedSuite(e2e, missing, 'the kvm repetition end-to-end test');
let lab: Lab | undefined;
let hv: HypervisorLab | undefined;
let work = '';

e2e.before(async () => {
  if (missing) return;
  work = await mkdtemp('/var/tmp/kvm-repeat-e2e-');
  await chmod(work, 0o755);
  hv = await hypervisorUp();
  lab = await labUp({ subnet: 50, hosts: 1, dir: join(work, 'lab'), reports: false });
});

e2e.after(async () => {
  await lab?.down();
  await hv?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});


it('a point repeats its measured case in the same guest until max: two runs, each judged from its own log, one sample per run of the point\'s key', async () => {
  const results = join(work, 'results');
  const pattern = 'events per second: *[0-9.]+';
  const repeat = { min: 1, max: 2, target_ci: 0.0001, metric: { case: 'sysbench_sys', test: 'sysbench-cpu', pattern }, cases: ['_reboot_off', 'sysbench_sys'] };
  const params = smallPointParams(hv!, {
    backing: 'e2erepeat',
    qaset: { run_list: ['_reboot_off', 'sysbench_sys'], prepared: true, config: { STANDIN_SYSBENCH_TIME: 1, STANDIN_SYSBENCH_THREADS: '1' }, timeout: '10m', stall_timeout: '5m', poll_interval: 1 },
    extra: { domain_type: 'qemu', repeat },
  });
  (params['matrix'] as Record<string, unknown>)['memory_mib'] = [768];
  const inventory = await writeKvmInventory(lab!, { file: join(work, 'kvm.yaml'), resultsDir: results, kvm: { 'lab-01': params } });
  const t0 = Date.now();
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress', '--no-report', '--no-publish']);
  console.log(`kvm repeat e2e: sweep ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  assert.is(code, 0, `${stdout}\n${stderr}`);
  const { dir, sweep } = await onlySweep(results);
  const job = join(dir, 'jobs', 'lab-01--kvm');
  const manifest = await jobManifest(dir, 'lab-01--kvm');
  assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
  assert.equal((manifest.scenario.params['repeat'] as { max: number }).max, 2, 'the rule is in the manifest (the scenario params)');
  const id = 'smp1x1x1-dir.e2erepeat-raw-writeback-threads-virtio-m768-net.none-r1';
  const art = join(job, 'raw/artifacts/points', id);
  const point = PointRecordSchema.parse(JSON.parse(await readFile(join(art, 'point.json'), 'utf8')));
  assert.is(point.status, 'done', JSON.stringify(point));
  assert.is(point.boots, 1, 'the point\'s own run: no reboot under _reboot_off (its record is the first run\'s)');

  const rec = RepeatRecordSchema.parse(JSON.parse(await readFile(join(art, 'repeat.json'), 'utf8')));
  console.log(`kvm repeat e2e: ${rec.runs.map((r) => `run ${r.repetition} ${r.status} ${r.value} (${r.seconds} s)`).join('; ')}; +-${((rec.ci_relative ?? Infinity) * 100).toFixed(2)}% ${rec.stop}`);
  assert.equal([rec.repetitions, rec.stop, rec.target_met], [2, 'max', false]);
  assert.equal(rec.runs.map((r) => [r.repetition, r.status, r.dir]), [[1, 'done', ''], [2, 'done', 'repeat/2']]);
  assert.equal(rec.cases, ['_reboot_off', 'sysbench_sys']);
  // each value is the mean events per second of that run's own raw output (as normalize unpacked it)
  for (const r of rec.runs) {
    const logs = join(job, 'qaset-logs', r.dir ? `${id}-${r.dir.replace('/', '-')}` : id);
    const file = (await filesUnder(logs)).find((f) => f.endsWith('/sysbench-cpu') || f === 'sysbench-cpu');
    assert.ok(file, `run ${r.repetition}: no sysbench-cpu under ${logs}`);
    const eps = [...(await readFile(join(logs, file!), 'utf8')).matchAll(/events per second: *([0-9.]+)/g)].map((m) => Number(m[1]));
    assert.ok(eps.length >= 1);
    assert.ok(Math.abs(r.value! - eps.reduce((a, b) => a + b, 0) / eps.length) < 1e-9 * r.value!, `run ${r.repetition}: ${r.value} vs ${eps.join(' ')}`);
    if (r.dir) {
      const run = JSON.parse(await readFile(join(art, r.dir, 'run.json'), 'utf8'));
      assert.is(run.status, 'done');
      assert.is(run.boots, 1, `run ${r.repetition} booted once`);
      assert.ok((await readdir(join(art, r.dir, 'qaset/log'))).some((f) => f.startsWith('sysbench_sys-')), 'its own tarball');
    }
  }
  const ci = meanInterval(rec.values);
  assert.ok(Math.abs(rec.ci_relative! - ci.relative) < 1e-9 && Math.abs(rec.mean! - ci.mean) < 1e-9 * ci.mean);
  const rule = { min: 1, max: 2, targetCi: 0.0001 };
  assert.is(repeatVerdict(rule, 1, meanInterval(rec.values.slice(0, 1)).relative, 1e9, 0), 'continue', 'one value: no interval yet');
  assert.is(repeatVerdict(rule, 2, ci.relative, 1e9, 0), 'max');

  const metrics = MetricsFileSchema.parse(JSON.parse(await readFile(join(job, 'metrics.json'), 'utf8')));
  const eps = metrics.samples.filter((s) => s.metric === 'sysbench.cpu.events_per_sec' && s.labels['point'] === id);
  assert.is(eps.length, 2, 'one sample per run');
  assert.is(new Set(eps.map((s) => JSON.stringify(s.labels))).size, 1, 'of one key');
  assert.equal(eps.map((s) => s.value), rec.values, 'one run of one thread count each: the judged values');
  assert.equal(metrics.samples.filter((s) => s.metric === 'repeat.value').map((s) => s.value), rec.values);
  assert.is(metrics.samples.find((s) => s.metric === 'repeat.repetitions')?.value, 2);
  assert.equal(metrics.samples.filter((s) => s.metric === 'qaset.case.passed').map((s) => s.labels['case']), ['sysbench_sys'], 'the case record is the point\'s own run\'s');

  const domains = (await run('virsh', ['-q', '-c', 'qemu:///system', 'list', '--all', '--name'])).stdout;
  assert.not.match(domains, /orch-lab-01-/);
  const tag = sweep.sweepId.replace(/[^A-Za-z0-9_.-]/g, '_');
  assert.equal((await readdir(hv!.imagesDir)).filter((n) => n.includes(tag)), []);
  assert.equal((await readdir(hv!.backingDir)).filter((n) => n.includes(tag)), []);
});

e2e.run();

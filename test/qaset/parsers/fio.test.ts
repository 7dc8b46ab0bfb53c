import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricSampleSchema } from '../../../orchestrator/results/metrics.js';
import { parse } from '../../../orchestrator/qaset/parsers/fio.js';
import { parseOutput } from '../../../orchestrator/qaset/registry.js';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { all, needsPrograms, one, run, scratchDir } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const read = (f: string) => readFileSync(path.join(FIX, f), 'utf8');

test('fio JSON recorded from a real run: read/write IOPS, bandwidth and latency equal the JSON values', () => {
  const job = JSON.parse(read('fio.json')).jobs[0];
  const r = parse(read('fio.json'), 'fio.json');
  assert.is(one(r.samples, 'fio.iops', { rw: 'read' }).value, job.read.iops);
  assert.is(one(r.samples, 'fio.iops', { rw: 'write' }).value, job.write.iops);
  assert.is(one(r.samples, 'fio.bw', { rw: 'read' }).value, job.read.bw);
  assert.is(one(r.samples, 'fio.lat_mean', { rw: 'read' }).value, job.read.lat_ns.mean / 1000);
  assert.is(one(r.samples, 'fio.clat_p99', { rw: 'write' }).value, job.write.clat_ns.percentile['99.000000'] / 1000);
  assert.is(r.samples.filter((s) => s.labels['rw'] === 'trim').length, 0, 'no samples for an idle direction');
  assert.is(parseOutput(read('fio.json'), 'x', 'out.json').benchmark, 'fio', 'recognised by its content');
});

test('fio 3.x text recorded from a real run', () => {
  const r = parse(read('fio.txt'), 'fio.txt');
  assert.is(one(r.samples, 'fio.iops', { rw: 'read', job: 'randrw' }).value, 10200);
  assert.is(one(r.samples, 'fio.bw', { rw: 'write' }).value, 40 * 1024);
  assert.is(one(r.samples, 'fio.lat_mean', { rw: 'read' }).value, 78.81);
  assert.is(one(r.samples, 'fio.lat_mean', { rw: 'write' }).value, 4.46);
});

test.run();

const real = suite('fio 3.33 really run twice with two jobs each, JSON documents concatenated');
const it = guardedSuite(real, await missingRequirement(needsPrograms('fio')), 'the real fio runs');
let work = '';
real.before(async () => {
  work = await scratchDir('fio');
});
real.after(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

it('every job of every run, with its bs and iodepth; repeated runs told apart; values equal fio own JSON', async () => {
  const args = ['--output-format=json', `--directory=${work}`, '--ioengine=psync', '--size=4M', '--name=randread', '--rw=randread', '--bs=4k', '--name=seqwrite', '--rw=write', '--bs=64k'];
  const outputs = [await run('fio', args, { cwd: work, timeoutMs: 60_000 }), await run('fio', args, { cwd: work, timeoutMs: 60_000 })];
  const r = parse(outputs.join('\n'), 'fio-randread');
  const docs = outputs.map((o) => JSON.parse(o.slice(o.indexOf('{'))));
  assert.equal(all(r.samples, 'fio.iops').map((s) => [s.labels['job'], s.labels['rw'], s.labels['bs'], s.labels['repeat']]), [
    ['randread', 'read', '4k', '1'],
    ['seqwrite', 'write', '64k', '1'],
    ['randread', 'read', '4k', '2'],
    ['seqwrite', 'write', '64k', '2'],
  ]);
  docs.forEach((doc, i) => {
    const repeat = String(i + 1);
    const [rr, sw] = doc.jobs;
    assert.is(one(r.samples, 'fio.iops', { job: 'randread', repeat }).value, rr.read.iops);
    assert.is(one(r.samples, 'fio.bw', { job: 'randread', repeat }).value, rr.read.bw);
    assert.is(one(r.samples, 'fio.lat_mean', { job: 'randread', repeat }).value, rr.read.lat_ns.mean / 1000);
    assert.is(one(r.samples, 'fio.clat_p99', { job: 'randread', repeat }).value, rr.read.clat_ns.percentile['99.000000'] / 1000);
    assert.is(one(r.samples, 'fio.iops', { job: 'seqwrite', repeat }).value, sw.write.iops);
    assert.is(one(r.samples, 'fio.bw', { job: 'seqwrite', repeat }).value, sw.write.bw);
    assert.ok(rr.read.io_bytes === 4 * 1024 * 1024, 'fio read the --size asked for');
  });
  for (const s of r.samples) assert.ok(MetricSampleSchema.safeParse(s).success, JSON.stringify(s));
});

real.run();

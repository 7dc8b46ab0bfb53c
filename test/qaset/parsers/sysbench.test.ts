import { suite, test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricSampleSchema } from '../../../orchestrator/results/metrics.js';
import { parse, parser } from '../../../orchestrator/qaset/parsers/sysbench.js';
import { parseOutput } from '../../../orchestrator/qaset/registry.js';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { all, needsPrograms, one, run, scratchDir } from './real-programs.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'qaset');
const v048 = (mode: string) => readFileSync(path.join(FIX, 'sysbench-0.4.8', `sysbench-${mode}`), 'utf8');
const threadsOf = (samples: { labels: Record<string, string> }[]) => samples.map((s) => s.labels['threads']);

// ------------------------------------------------------------ sysbench 0.4.8, QASET's version

test('0.4.8 cpu file (QASET layout): all nine runs, one per thread count, latencies in seconds read as ms', () => {
  const r = parseOutput(v048('cpu'), 'qa/sysbench-sys/sysbench-cpu', 'sysbench-cpu');
  assert.is(r.benchmark, 'sysbench');
  const eps = all(r.samples, 'sysbench.cpu.events_per_sec');
  assert.equal(threadsOf(eps), ['1', '2', '4', '8', '16', '32', '64', '128', '256']);
  // 0.4 prints no rate: events / total time (10000 events in 20.0000 s, then 10.0000 s)
  assert.equal(eps.slice(0, 2).map((s) => s.value), [500, 1000]);
  assert.is(one(r.samples, 'sysbench.cpu.latency_avg', { threads: '1' }).value, 2); // "0.0020s"
  assert.is(one(r.samples, 'sysbench.cpu.latency_p95', { threads: '2' }).value, 4.1); // "approx.  95 percentile: 0.0041s"
  assert.is(one(r.samples, 'sysbench.cpu.latency_max', { threads: '256' }).value, 18); // "0.0180s"
  assert.is(one(r.samples, 'sysbench.cpu.total_time', { threads: '256' }).value, 12.56);
  assert.is(one(r.samples, 'sysbench.cpu.events', { threads: '8' }).labels['max_prime'], '20000');
  for (const s of r.samples) assert.ok(MetricSampleSchema.safeParse(s).success, JSON.stringify(s));
  assert.not.ok(r.samples.some((s) => 'repeat' in s.labels), 'every run has its own thread count');
});

test('0.4.8 threads, memory and mutex files: every run, each with its thread count; memory MB/sec and ops/sec', () => {
  const thr = parse(v048('threads'), 'sysbench-threads');
  assert.equal(threadsOf(all(thr.samples, 'sysbench.threads.events_per_sec')), ['1', '2', '4', '8']);
  assert.is(one(thr.samples, 'sysbench.threads.events_per_sec', { threads: '1' }).value, 4000); // 10000 / 2.5000 s
  assert.is(one(thr.samples, 'sysbench.threads.latency_avg', { threads: '4' }).value, 1.2); // "0.0012s"
  const mem = parse(v048('memory'), 'sysbench-memory');
  assert.equal(threadsOf(all(mem.samples, 'sysbench.memory.throughput')), ['1', '2', '4']);
  assert.is(one(mem.samples, 'sysbench.memory.throughput', { threads: '2' }).value, 2343.75);
  assert.is(one(mem.samples, 'sysbench.memory.ops_per_sec', { threads: '4' }).value, 2500000);
  assert.equal(one(mem.samples, 'sysbench.memory.ops_per_sec', { threads: '4' }).labels, { source: 'sysbench-memory', threads: '4', block_size: '1K', operation: 'write' });
  const mtx = parse(v048('mutex'), 'sysbench-mutex');
  assert.equal(threadsOf(all(mtx.samples, 'sysbench.mutex.total_time')), ['1', '2', '4']);
  assert.is(one(mtx.samples, 'sysbench.mutex.total_time', { threads: '4' }).value, 2.75);
});

test('0.4.8 oltp: both runs, the real published one included (transactions and read/write requests per second)', () => {
  const r = parse(v048('oltp'), 'sysbench-oltp');
  assert.equal(threadsOf(all(r.samples, 'sysbench.oltp.tps')), ['8', '16']);
  assert.is(one(r.samples, 'sysbench.oltp.tps', { threads: '16' }).value, 38.81);
  assert.is(one(r.samples, 'sysbench.oltp.rw_requests_per_sec', { threads: '16' }).value, 737.46);
  assert.is(one(r.samples, 'sysbench.oltp.latency_avg', { threads: '16' }).value, 412.1); // "0.4121s"
  assert.is(one(r.samples, 'sysbench.oltp.latency_p95', { threads: '16' }).value, 1753.9);
  assert.is(one(r.samples, 'sysbench.oltp.latency_max', { threads: '8' }).value, 850);
});

test('0.4.10+ prints latencies in ms ("2.81ms"); the same run repeated gets a repeat label instead of collapsing', () => {
  const run012 = [
    'sysbench 0.4.12:  multi-threaded system evaluation benchmark',
    '',
    'Running the test with following options:',
    'Number of threads: 2',
    '',
    'Doing CPU performance benchmark',
    '',
    'Threads started!',
    'Done.',
    '',
    'Maximum prime number checked in CPU test: 20000',
    '',
    'Test execution summary:',
    '    total time:                          14.1474s',
    '    total number of events:              10000',
    '    total time taken by event execution: 28.2911',
    '    per-request statistics:',
    '         min:                                  2.81ms',
    '         avg:                                  2.83ms',
    '         max:                                  4.57ms',
    '         approx.  95 percentile:               2.83ms',
    '',
  ].join('\n');
  const r = parse(`${run012}\n${run012}`, 'sysbench-cpu');
  const avg = all(r.samples, 'sysbench.cpu.latency_avg');
  assert.equal(avg.map((s) => [s.value, s.labels['threads'], s.labels['repeat']]), [
    [2.83, '2', '1'],
    [2.83, '2', '2'],
  ]);
});

test('a run that printed no numbers is noted, not silently dropped; the name decides threads vs mutex for 1.0 output', () => {
  const broken = 'sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)\n\nRunning the test with following options:\nNumber of threads: 4\n\nFATAL: out of memory\n';
  const ok = readFileSync(path.join(FIX, 'sysbench-cpu.txt'), 'utf8');
  const r = parse(`${ok}${broken}`, 'x/sysbench-cpu');
  assert.is(all(r.samples, 'sysbench.cpu.events_per_sec').length, 1);
  assert.match(r.notes?.join('\n') ?? '', /run 2 of 2 \(cpu, 4 threads\): no result numbers \(FATAL: out of memory\)/);
  const generic = ok.replace(/Prime numbers limit: \d+\n/, '').replace(/CPU speed:\n\s+events per second:\s+[\d.]+\n/, '');
  assert.ok(all(parse(generic, 'ctcs2/x/sysbench-mutex').samples, 'sysbench.mutex.events_per_sec').length === 1);
  assert.ok(all(parse(generic, 'ctcs2/x/sysbench-threads').samples, 'sysbench.threads.events_per_sec').length === 1);
  assert.is(parse('nothing here\n', 'sysbench-cpu').samples.length, 0);
  assert.ok(parser.sniff(v048('oltp')));
});

test.run();

// ------------------------------------------------------------ Debian's sysbench 1.0, really run

const real = suite('sysbench 1.0 really run at 1, 2 and 4 threads, concatenated as QASET does');
const it = guardedSuite(real, await missingRequirement(needsPrograms('sysbench')), 'the real sysbench runs');

const MODES: Record<string, string[]> = {
  cpu: ['--cpu-max-prime=2000', '--events=3000', '--time=0'],
  threads: ['--events=400', '--time=0'],
  memory: ['--memory-total-size=64M', '--time=0'],
  mutex: ['--mutex-num=64', '--mutex-locks=2000', '--mutex-loops=100'],
};
const THREADS = [1, 2, 4];

/** What the test reads itself from each run: split at the banner, the numbers sysbench printed. */
function ownReading(text: string) {
  return text
    .split(/^(?=sysbench \d)/m)
    .filter((r) => /^sysbench \d/.test(r)) // sysbench may warn before its banner
    .map((r) => ({
      threads: /Number of threads: (\d+)/.exec(r)?.[1],
      events: Number(/total number of events:\s+(\d+)/.exec(r)?.[1]),
      totalTime: Number(/total time:\s+([\d.]+)s/.exec(r)?.[1]),
      avgMs: Number(/^\s+avg:\s+([\d.]+)$/m.exec(r)?.[1]),
      eps: /events per second:\s+([\d.]+)/.exec(r)?.[1],
      mibPerSec: /\(([\d.]+) MiB\/sec\)/.exec(r)?.[1],
    }));
}

let work = '';
real.before(async () => {
  work = await scratchDir('sysbench');
});
real.after(async () => {
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

for (const [mode, args] of Object.entries(MODES)) {
  it(`sysbench-${mode}: three runs, each with its thread count, values as sysbench printed them`, async () => {
    let text = '';
    for (const t of THREADS) text += await run('sysbench', [mode, `--threads=${t}`, ...args, 'run'], { cwd: work, timeoutMs: 30_000 });
    await fsp.writeFile(path.join(work, `sysbench-${mode}`), text);
    const r = parseOutput(text, `ctcs2/qa_sysbench-x/sysbench-${mode}`, `sysbench-${mode}`);
    assert.is(r.benchmark, 'sysbench');
    assert.is(r.notes, undefined);
    const own = ownReading(text);
    assert.equal(own.map((o) => o.threads), THREADS.map(String), 'the test asked for 1, 2, 4 threads');
    assert.equal(threadsOf(all(r.samples, `sysbench.${mode}.events`)), THREADS.map(String), 'one sample set per run');
    for (const o of own) {
      const l = { threads: o.threads! };
      assert.is(one(r.samples, `sysbench.${mode}.events`, l).value, o.events);
      assert.is(one(r.samples, `sysbench.${mode}.total_time`, l).value, o.totalTime);
      assert.is(one(r.samples, `sysbench.${mode}.latency_avg`, l).value, o.avgMs);
      if (mode === 'cpu') assert.is(one(r.samples, 'sysbench.cpu.events_per_sec', l).value, Number(o.eps));
      if (mode === 'memory') assert.is(one(r.samples, 'sysbench.memory.throughput', l).value, Number(o.mibPerSec));
      if (mode === 'threads' || mode === 'mutex') assert.is(one(r.samples, `sysbench.${mode}.events_per_sec`, l).value, o.events / o.totalTime);
    }
    if (mode === 'cpu') assert.is(one(r.samples, 'sysbench.cpu.events', { threads: '2' }).value, 3000, 'the --events asked for');
    for (const s of r.samples) assert.ok(MetricSampleSchema.safeParse(s).success, JSON.stringify(s));
  });
}

real.run();

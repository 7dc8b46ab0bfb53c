// remote-scripts/lib/host-sampler.sh for real on this machine (no lab): the sampler runs detached
// for a few seconds at 0.5 s while a file is written with O_DIRECT, then its JSON lines become RRD
// files (rrdtool) and JSON exports listed in an index.json; stop is idempotent and leaves no
// process. Plus rrd_build_dir's index paths under a caller's prefix (lib/rrd.sh), as the kvm
// scenario writes them per matrix point. ORCH_BUNDLE is the repo root (the libs are sourced from it).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const sampler = suite('host sampler');

const SERIES: Record<string, string> = {
  'host.cpu_busy_percent': 'GAUGE',
  'host.mem_available_bytes': 'GAUGE',
  'host.mem_used_bytes': 'GAUGE',
  'host.disk.read_bytes': 'COUNTER',
  'host.disk.write_bytes': 'COUNTER',
  'host.net.rx_bytes': 'COUNTER',
  'host.net.tx_bytes': 'COUNTER',
  'host.load1': 'GAUGE',
};

interface IndexEntry {
  collector: string;
  alias: string;
  type: string;
  rrd: string;
  json: string;
}
interface Index {
  step: number;
  heartbeat: number;
  series: IndexEntry[];
}
interface Xport {
  meta: { start: number; step: number; legend: string[] };
  data: (number | null)[][];
}

let work = '';

/** A temp dir on a real disk: on tmpfs O_DIRECT fails and no write reaches /proc/diskstats. */
function workBase(): string {
  const fs = spawnSync('stat', ['-f', '-c', '%T', tmpdir()], { encoding: 'utf8' }).stdout.trim();
  if (fs !== 'tmpfs') return tmpdir();
  const base = join(REPO, 'test/.output');
  mkdirSync(base, { recursive: true });
  return base;
}

/** Run SCRIPT in bash with the libs sourced from the bundle (the repo), ARGS as $1... */
function bash(script: string, args: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const libs = 'set -euo pipefail\nfor f in common json events rrd host-sampler; do . "$ORCH_BUNDLE/remote-scripts/lib/$f.sh"; done\n';
  const result = spawnSync('bash', ['-c', libs + script, 'test', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ORCH_BUNDLE: REPO },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Processes whose command line mentions DIR, not counting zombies (their command line is empty). */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** State of PID from /proc/PID/stat ('R', 'S', 'Z'...), undefined when there is no such process. */
function procState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[0];
  } catch {
    return undefined;
  }
}

sampler.before(() => {
  work = mkdtempSync(join(workBase(), 'host-sampler-'));
});
sampler.after(() => {
  rmSync(work, { recursive: true, force: true });
});

sampler('samples the host at 0.5 s during disk writes; RRD files, exports and index; stop twice; nothing left running', () => {
  const dir = join(work, 'real');
  const started = Date.now();
  const run = bash(
    `d=$1
hs_start "$d/state" "$d/artifacts/host.jsonl" 0.5
read -r pid _ <"$d/state/host-sampler.pid"
printf 'pid %s\\n' "$pid"
# Load: 32 MiB written past the page cache, and /proc read in a loop.
dd if=/dev/zero of="$d/load.bin" bs=1M count=32 oflag=direct status=none 2>/dev/null ||
  dd if=/dev/zero of="$d/load.bin" bs=1M count=32 conv=fsync status=none
end=$((SECONDS + 3))
while ((SECONDS < end)); do cat /proc/stat /proc/meminfo /proc/diskstats >/dev/null; sleep 0.05; done
hs_stop "$d/state" "$d/artifacts/host.jsonl" "$d/series" "$d/artifacts/rrd" rrd`,
    [dir],
  );
  assert.is(run.code, 0, run.stderr);
  const pid = Number(/^pid (\d+)$/m.exec(run.stdout)?.[1]);
  assert.ok(pid > 0, run.stdout);

  // JSON lines: a types line with every series, then the samples.
  const lines = readFileSync(join(dir, 'artifacts/host.jsonl'), 'utf8').trimEnd().split('\n');
  const docs = lines.map((line) => JSON.parse(line) as { kind: string; t: number; types?: Record<string, string>; values?: Record<string, number> });
  assert.is(docs[0]!.kind, 'types');
  assert.equal(docs[0]!.types, SERIES);
  const samples = docs.slice(1);
  assert.ok(samples.every((s) => s.kind === 'sample' && typeof s.t === 'number'), 'every other line is a sample');
  assert.ok(samples.length >= 4, `at least 4 samples in ~3 s at 0.5 s, got ${samples.length}`);
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.t > samples[i - 1]!.t, 'timestamps increase');
  const cpu = samples.map((s) => s.values!['host.cpu_busy_percent']).filter((v): v is number => v !== undefined);
  assert.is(cpu.length, samples.length - 1, 'CPU busy in every sample but the first (no delta yet)');
  assert.ok(cpu.every((v) => v >= 0 && v <= 100), `CPU busy within 0..100: ${cpu.join(' ')}`);
  for (const s of samples) {
    assert.ok(s.values!['host.mem_available_bytes']! > 0 && s.values!['host.mem_used_bytes']! > 0, 'memory bytes > 0');
    assert.ok(s.values!['host.load1']! >= 0, 'load1');
  }
  const written = samples.at(-1)!.values!['host.disk.write_bytes']! - samples[0]!.values!['host.disk.write_bytes']!;
  assert.ok(written >= 32 << 20, `the disk write counter rose by the 32 MiB written (rose by ${written})`);
  for (const key of Object.keys(SERIES).filter((k) => SERIES[k] === 'COUNTER')) {
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.values![key]! >= samples[i - 1]!.values![key]!, `${key} never goes back`);
  }

  // index.json lists the host series, with paths relative to the artifacts dir.
  const index = JSON.parse(readFileSync(join(dir, 'artifacts/rrd/index.json'), 'utf8')) as Index;
  assert.is(index.step, 1);
  assert.is(index.heartbeat, 400);
  assert.equal(index.series.map((s) => s.alias).sort(), Object.keys(SERIES).sort());
  for (const s of index.series) {
    assert.equal(Object.keys(s), ['collector', 'alias', 'type', 'rrd', 'json'], 'the same shape as midolman’s index');
    assert.is(s.collector, 'host');
    assert.is(s.type, SERIES[s.alias]);
    assert.is(s.rrd, `rrd/host.${s.alias}.rrd`);
    assert.is(s.json, `rrd/host.${s.alias}.json`);
    assert.ok(existsSync(join(dir, 'artifacts', s.rrd)) && existsSync(join(dir, 'artifacts', s.json)), `${s.alias}: files exist`);
  }

  // Real RRD files (rrdtool reads them back) and JSON exports with rows.
  const info = spawnSync('rrdtool', ['info', join(dir, 'artifacts/rrd/host.host.disk.write_bytes.rrd')], { encoding: 'utf8' });
  assert.is(info.status, 0, info.stderr);
  assert.match(info.stdout, /^ds\[value\]\.type = "COUNTER"$/m);
  assert.match(info.stdout, /^step = 1$/m);
  const exported = JSON.parse(readFileSync(join(dir, 'artifacts/rrd/host.host.disk.write_bytes.json'), 'utf8')) as Xport;
  assert.equal(exported.meta.legend, ['average', 'min', 'max']);
  assert.ok(exported.data.length >= 2, `export rows: ${exported.data.length}`);
  assert.ok(exported.data.some((row) => (row[0] ?? 0) > 0), 'the write rate shows in the export');
  const cpuExport = JSON.parse(readFileSync(join(dir, 'artifacts/rrd/host.host.cpu_busy_percent.json'), 'utf8')) as Xport;
  assert.ok(cpuExport.data.some((row) => row[0] !== null), 'CPU busy exported');

  // Nothing left: the PID is gone (reaped by the shell that started it), no process mentions the dir.
  assert.is(procState(pid), undefined, `pid ${pid} is gone`);
  assert.equal(processesUnder(dir), []);
  assert.not.ok(existsSync(join(dir, 'state/host-sampler.pid')), 'the PID file is removed');

  // A second stop (another shell, as a teardown would) succeeds and rebuilds the same index.
  const again = bash('hs_stop "$1/state" "$1/artifacts/host.jsonl" "$1/series" "$1/artifacts/rrd" rrd', [dir]);
  assert.is(again.code, 0, again.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'artifacts/rrd/index.json'), 'utf8')), index);
  assert.ok(Date.now() - started < 12_000, `took ${Date.now() - started} ms`);
});

sampler('detached from the phase: started in one shell, refused twice, stopped from another; nothing left running', () => {
  const dir = join(work, 'detached');
  const start = bash('hs_start "$1/state" "$1/host.jsonl" 0.2 && hs_pid "$1/state"', [dir]);
  assert.is(start.code, 0, start.stderr);
  const pid = Number(start.stdout.trim());
  assert.ok(pid > 0 && procState(pid) !== undefined && procState(pid) !== 'Z', 'the sampler outlives the shell that started it');
  const twice = bash('hs_start "$1/state" "$1/host.jsonl" 0.2', [dir]);
  assert.is(twice.code, 1);
  assert.match(twice.stderr, /already running \(pid \d+/);
  spawnSync('sleep', ['0.6']);
  const stop = bash('hs_stop "$1/state" "$1/host.jsonl" "$1/series" "$1/rrd" "points/p-01/rrd"', [dir]);
  assert.is(stop.code, 0, stop.stderr);
  // Its parent is now init, which reaps it (where init does not reap, a zombie is all that is left).
  const state = procState(pid);
  assert.ok(state === undefined || state === 'Z', `pid ${pid} does not run (state ${state})`);
  assert.equal(processesUnder(dir), []);
  const samples = readFileSync(join(dir, 'host.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"sample"'));
  assert.ok(samples.length >= 3, `samples: ${samples.length}`);
  const index = JSON.parse(readFileSync(join(dir, 'rrd/index.json'), 'utf8')) as Index;
  assert.is(index.series.length, 8);
  assert.ok(index.series.every((s) => s.rrd === `points/p-01/rrd/host.${s.alias}.rrd` && s.json === `points/p-01/rrd/host.${s.alias}.json`));
});

sampler('stop without a start: no process to stop, an empty index', () => {
  const dir = join(work, 'never');
  const stop = bash('hs_stop "$1/state" "$1/host.jsonl" "$1/series" "$1/rrd" && hs_stop "$1/state" "$1/host.jsonl" "$1/series" "$1/rrd"', [dir]);
  assert.is(stop.code, 0, stop.stderr);
  assert.equal(JSON.parse(readFileSync(join(dir, 'rrd/index.json'), 'utf8')), { step: 1, heartbeat: 400, series: [] });
});

sampler('rrd_build_dir: every <collector>/<alias>.tsv into <collector>.<alias>.{rrd,json}, index paths under the prefix', () => {
  const dir = join(work, 'build');
  const t0 = 1_700_000_000;
  for (const [collector, alias, type, value] of [
    ['alpha', 'x.gauge', 'GAUGE', (i: number) => 10 + i],
    ['beta', 'y_count', 'COUNTER', (i: number) => i * 1000],
  ] as const) {
    mkdirSync(join(dir, 'tsv', collector), { recursive: true });
    writeFileSync(join(dir, 'tsv', collector, `${alias}.tsv`), Array.from({ length: 6 }, (_, i) => `${t0 + i}.25 ${value(i)}\n`).join(''));
    writeFileSync(join(dir, 'tsv', collector, `${alias}.type`), `${type}\n`);
  }
  const run = bash(
    `rrd_build_dir "$1/tsv" "$1/points/p-01/rrd" "points/p-01/rrd/"; printf 'count %s\\n' "$RRD_BUILD_COUNT"
rrd_build_dir "$1/tsv" "$1/plain"; printf 'count %s\\n' "$RRD_BUILD_COUNT"`,
    [dir],
  );
  assert.is(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n'), ['count 2', 'count 2']);
  const index = JSON.parse(readFileSync(join(dir, 'points/p-01/rrd/index.json'), 'utf8')) as Index;
  assert.equal(index, {
    step: 1,
    heartbeat: 400,
    series: [
      { collector: 'alpha', alias: 'x.gauge', type: 'GAUGE', rrd: 'points/p-01/rrd/alpha.x.gauge.rrd', json: 'points/p-01/rrd/alpha.x.gauge.json' },
      { collector: 'beta', alias: 'y_count', type: 'COUNTER', rrd: 'points/p-01/rrd/beta.y_count.rrd', json: 'points/p-01/rrd/beta.y_count.json' },
    ],
  });
  for (const s of index.series) assert.ok(existsSync(join(dir, s.rrd)) && existsSync(join(dir, s.json)), `${s.rrd} and its export exist`);
  const exported = JSON.parse(readFileSync(join(dir, 'points/p-01/rrd/beta.y_count.json'), 'utf8')) as Xport;
  assert.ok(exported.data.some((row) => Math.abs((row[0] ?? 0) - 1000) < 1e-6), 'the counter exports as its rate (1000/s)');
  // Without a prefix: "rrd/<file>", as midolman's normalizer reads them.
  const plain = JSON.parse(readFileSync(join(dir, 'plain/index.json'), 'utf8')) as Index;
  assert.equal(plain.series.map((s) => [s.rrd, s.json]), [
    ['rrd/alpha.x.gauge.rrd', 'rrd/alpha.x.gauge.json'],
    ['rrd/beta.y_count.rrd', 'rrd/beta.y_count.json'],
  ]);
  assert.equal(readdirSync(join(dir, 'plain')).filter((f) => f.includes('.tmp')), [], 'no temp file left');
});

sampler.run();

// The helpers' clocks on a host installed with a decimal-comma locale (de_DE): bash writes
// EPOCHREALTIME as 1796564663,373334 there. Every time a helper puts in JSON or does arithmetic
// on is still seconds with a '.', or whole milliseconds: events (lib/events.sh), the midolman
// clock (lib/midolman-common.sh), the kvm watch clock (lib/kvm-guest.sh) and the host sampler's
// lines (lib/host-sampler.sh).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commaLocaleEnv } from '../comma-locale.js';
import { sourced } from '../sourced-bash.js';

const BASE = ['lib/common.sh', 'lib/json.sh', 'lib/events.sh'];
const nowSeconds = () => Date.now() / 1000;

test('mm_now is seconds with a decimal point, and mm_seconds subtracts two of them', async () => {
  const env = await commaLocaleEnv();
  const run = await sourced([...BASE, 'lib/midolman-common.sh'], 'a=$(mm_now); b=$(mm_now); printf "%s %s %s" "$a" "$b" "$(mm_seconds "$a" "$b")"', { env });
  assert.is(run.code, 0, run.stderr);
  const [a, b, d] = run.stdout.split(' ');
  assert.match(a!, /^\d+\.\d+$/);
  assert.ok(Math.abs(Number(a) - nowSeconds()) < 600, run.stdout);
  assert.ok(Number(b) >= Number(a));
  assert.match(d!, /^\d+\.\d{3}$/, `mm_seconds: ${d}`);
});

test('kvm_now_ms is whole milliseconds since the epoch', async () => {
  const env = await commaLocaleEnv();
  const run = await sourced([...BASE, 'lib/kvm-guest.sh'], 'kvm_now_ms', { env });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^\d{13}$/);
  assert.ok(Math.abs(Number(run.stdout) - Date.now()) < 600_000, run.stdout);
});

test('the host sampler\'s lines are JSON with t in seconds', async () => {
  const env = await commaLocaleEnv();
  const dir = await mkdtemp(join(tmpdir(), 'sampler-locale-'));
  try {
    const out = join(dir, 'host.jsonl');
    const run = await sourced([...BASE, 'lib/host-sampler.sh'], '(hs_sample "$1" 0.2) & pid=$!; sleep 1.2; kill -TERM "$pid"; wait "$pid" || true', { env, args: [out] });
    assert.is(run.code, 0, run.stderr);
    const lines = (await readFile(out, 'utf8')).split('\n').filter(Boolean);
    assert.ok(lines.length >= 2, `a types line and at least one sample: ${lines.length}`);
    for (const line of lines) {
      const doc = JSON.parse(line) as { t: unknown };
      assert.ok(typeof doc.t === 'number' && Math.abs(doc.t - nowSeconds()) < 600, line);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();

// remote-scripts/lib/ovs.sh's process checks, sourced by real bash against real processes (a
// sleep this test starts and stops by PID, and a zombie a parent that never reaps leaves): the
// checks that decide whether a daemon the job started still runs, before it is signalled or after
// it was stopped. No switch runs here (test/midolman/ovs*.e2e.test.ts run the real ones).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourced } from '../sourced-bash.js';

const LIBS = ['lib/common.sh', 'lib/ovs.sh'];

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ovs-lib-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs SCRIPT with a live `sleep` as $p (its start time $s), stopped by PID after; prints yes/no per check. */
const withSleeper = (script: string) =>
  sourced(LIBS, `sleep 30 & p=$!; trap 'kill "$p" 2>/dev/null || true' EXIT; orch_start_time "$p"; s=$REPLY; yn() { if "$@"; then printf 'yes '; else printf 'no '; fi; }; ${script}`, {
    env: { TOPOLOGY_STATE_DIR: dir },
  });

test('ovs_process_gone: a live process with its start time is not gone; a PID with another start time (reused) is', async () => {
  const run = await withSleeper('yn ovs_process_gone "$p" "$s"; yn ovs_process_gone "$p" ""; yn ovs_process_gone "$p" "$((s + 1))"; kill "$p"; wait "$p" || true; yn ovs_process_gone "$p" "$s"');
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, 'no no yes yes ');
});

test('ovs_process_gone and ovs_pid_is: a zombie (exited, not yet reaped) counts as gone, never as the program', async () => {
  const run = await withSleeper(`sh -c 'sleep 0.1 & echo $! >"$1"; exec sleep 5' _ "$1/zombie" & holder=$!
    for ((i = 0; i < 50; i++)); do read -r z <"$1/zombie" 2>/dev/null && [[ -n $z && $(cut -d' ' -f3 "/proc/$z/stat" 2>/dev/null) == Z ]] && break; sleep 0.1; done
    printf '%s ' "$(cut -d' ' -f3 "/proc/$z/stat")"
    yn ovs_process_gone "$z" ""; yn ovs_pid_is "$z" sleep
    kill "$holder"; wait "$holder" || true`.replaceAll('"$1/zombie"', JSON.stringify(join(dir, 'zombie'))));
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, 'Z yes no ');
});

test('ovs_pid_is: true only for a live PID running that program; false for another program or a PID that is not a number', async () => {
  const run = await withSleeper('yn ovs_pid_is "$p" sleep; yn ovs_pid_is "$p" ovs-vswitchd; yn ovs_pid_is "1x" sleep');
  assert.is(run.code, 0, run.stderr);
  assert.is(run.stdout, 'yes no no ');
});

test('ovs_daemon_pid: the recorded daemon while that very process (PID and start time) runs, nothing once its start time differs', async () => {
  const run = await withSleeper('ovs_state_set pids/sleep "$p $s"; printf "%s " "$(ovs_daemon_pid sleep)"; ovs_state_set pids/sleep "$p $((s + 1))"; yn ovs_daemon_pid sleep; printf "%s" "$p"');
  assert.is(run.code, 0, run.stderr);
  const [first, reused, pid] = run.stdout.split(' ');
  assert.is(first, pid, 'the recorded PID');
  assert.is(reused, 'no');
});

test.run();

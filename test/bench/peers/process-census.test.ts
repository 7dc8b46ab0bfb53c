// The process census's attribution of perf task events to roots (the bench's host-side process
// counts). The input is `perf script --show-task-events` text as perf 6.1 prints it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attribute } from './process-census.js';

const line = (time: string, kind: 'FORK' | 'EXIT', pid: number, tid: number, ppid: number, ptid: number) =>
  `            comm ${pid} [000] ${time}: PERF_RECORD_${kind}(${pid}:${tid}):(${ppid}:${ptid})`;

test('processes forked under a root, at any depth and after exec or re-parenting, count for it', () => {
  const text = [
    line('0.000000', 'FORK', 100, 100, 1, 1), // listener of host a, synthesized (existed before)
    line('0.000000', 'FORK', 200, 200, 1, 1), // listener of host b
    '            sshd 100 [000] 0.000000: PERF_RECORD_COMM: sshd:100/100',
    line('10.000001', 'FORK', 101, 101, 100, 100), // sshd session of a
    'sshd 101 [000] 10.000002: PERF_RECORD_COMM exec: sshd:101/101',
    line('10.000003', 'FORK', 102, 102, 101, 101),
    'sshd 102 [000] 10.0000035: PERF_RECORD_COMM exec: bash:102/102',
    line('10.000004', 'FORK', 103, 103, 102, 102), // the shell's command
    'bash 103 [000] 10.0000045: PERF_RECORD_COMM exec: lscpu:103/103',
    line('10.000005', 'EXIT', 103, 103, 102, 102),
    line('10.000006', 'FORK', 104, 104, 102, 102), // a detached helper: lives on
    line('10.000007', 'EXIT', 102, 102, 101, 101), // its parent exits, 104 is re-parented
    line('10.000008', 'FORK', 105, 105, 104, 104), // still counted for a
    line('10.000009', 'FORK', 201, 201, 200, 200), // host b
    line('10.000010', 'FORK', 300, 300, 1, 1), // somebody else's process
  ].join('\n');
  const r = attribute(text, new Map([[100, 'a'], [200, 'b']]));
  // 101, 104, 105 never exited; 104 and 105 are forks of bash that did not exec
  assert.equal(r.byRoot.get('a'), { processes: 5, threads: 0, stillRunning: 3, programs: { sshd: 1, bash: 3, lscpu: 1 } });
  assert.equal(r.byRoot.get('b'), { processes: 1, threads: 0, stillRunning: 1, programs: { '?': 1 } });
  assert.is(r.otherProcesses, 1);
});

test('threads are counted apart from processes, and the synthesized task list is not counted', () => {
  const text = [
    line('0.000000', 'FORK', 100, 100, 1, 1),
    line('0.000000', 'FORK', 150, 150, 100, 100), // a child that existed before the census: owned, not counted
    line('5.000000', 'FORK', 150, 151, 150, 150), // a new thread of it
    line('5.000001', 'FORK', 152, 152, 150, 151), // a process forked from that thread
  ].join('\n');
  const r = attribute(text, new Map([[100, 'a']]));
  assert.equal(r.byRoot.get('a'), { processes: 1, threads: 1, stillRunning: 1, programs: { '?': 1 } });
});

test('a recycled PID forked by an unrelated parent no longer belongs to the root', () => {
  const text = [
    line('1.0', 'FORK', 101, 101, 100, 100),
    line('1.1', 'EXIT', 101, 101, 100, 100),
    line('1.2', 'FORK', 101, 101, 7, 7), // PID 101 reused elsewhere
    line('1.3', 'FORK', 102, 102, 101, 101), // its child is not the root's
  ].join('\n');
  const r = attribute(text, new Map([[100, 'a']]));
  assert.equal(r.byRoot.get('a'), { processes: 1, threads: 0, stillRunning: 0, programs: { '?': 1 } });
  assert.is(r.otherProcesses, 2);
});

test('a root the census did not see start is an error (perf started late, counts would be short)', () => {
  const client = 500;
  const seen = [line('2.0', 'FORK', client, client, 9, 9), line('2.1', 'FORK', 501, 501, client, client)].join('\n');
  assert.is(attribute(seen, new Map([[client, 'client']]), [client]).byRoot.get('client')!.processes, 1);
  const late = [line('0.000000', 'FORK', client, client, 9, 9), line('2.1', 'FORK', 501, 501, client, client)].join('\n');
  assert.throws(() => attribute(late, new Map([[client, 'client']]), [client]), /started too late/);
});

test.run();

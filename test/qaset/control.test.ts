import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentCase, parseDoneStamp, parseNextRun, parseRunIdFile, readControl } from '../../orchestrator/qaset/control.js';

const LIST = ['_reboot_off', 'sysbench_sys', 'dbench4_async_xfs', 'bonniepp_async_xfs'];

test('NEXT_RUN as QASET writes it: "<index> <name>" names the next case; `echo "" ""` is blank', () => {
  assert.equal(parseNextRun('2 dbench4_async_xfs\n'), { state: 'names-next', next: { index: 2, name: 'dbench4_async_xfs' } });
  assert.equal(parseNextRun(' \n'), { state: 'blank', next: null });
  assert.equal(parseNextRun(''), { state: 'blank', next: null });
  assert.is(parseNextRun('2 $(reboot)\n'), null, 'not a case name');
  assert.is(parseNextRun('two things here\n'), null);
});

test('the case running is the entry before the one NEXT_RUN names, or the last while NEXT_RUN is blank', () => {
  const names = (i: number) => ({ nextRunState: 'names-next' as const, next: { index: i, name: LIST[i]! }, done: null });
  assert.equal(currentCase(names(2), LIST, true).current, { index: 1, name: 'sysbench_sys' });
  assert.equal(currentCase(names(1), LIST, true).current, { index: 0, name: '_reboot_off' });
  assert.equal(currentCase({ nextRunState: 'blank', next: null, done: null }, LIST, true).current, { index: 3, name: 'bonniepp_async_xfs' });
  assert.is(currentCase({ nextRunState: 'blank', next: null, done: null }, LIST, false).current, null, 'blank after a reset, not started');
  assert.is(currentCase({ nextRunState: 'blank', next: null, done: '2026-11-22T06:15:53' }, LIST, true).current, null, 'done: nothing runs');
  assert.is(currentCase({ nextRunState: 'absent', next: null, done: null }, LIST, true).current, null);
  const wrong = currentCase({ nextRunState: 'names-next', next: { index: 2, name: 'kernbench' }, done: null }, LIST, true);
  assert.is(wrong.current, null);
  assert.match(wrong.problem ?? '', /NEXT_RUN names kernbench at index 2, but the run list has dbench4_async_xfs/);
  assert.match(currentCase({ nextRunState: 'names-next', next: { index: 9, name: 'x' }, done: null }, LIST, true).problem ?? '', /only 4 entries/);
});

test('RUN_ID and DONE as QASET writes them', () => {
  assert.is(parseRunIdFile('SQ_TEST_RUN_ID=20261122\n'), '20261122');
  assert.is(parseRunIdFile('SQ_TEST_RUN_ID="20261122"\n'), '20261122');
  assert.is(parseRunIdFile('SQ_TEST_RUN_ID=\n'), null);
  assert.is(parseRunIdFile('_QASET_RUNID=nightly7\n'), null, '_QASET_RUNID does not set the run id');
  assert.is(parseDoneStamp('2026-11-22-06-15-53\n'), '2026-11-22T06:15:53');
  assert.is(parseDoneStamp('\n'), null);
});

test('readControl: every control file, lock.d, and what could not be read', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'qaset-control-'));
  const c = path.join(root, 'control');
  await fsp.mkdir(c);
  assert.equal(await readControl(root), { nextRunState: 'absent', next: null, done: null, stop: false, systemDirty: false, prepared: false, locked: false, runId: null, problems: [] });
  await fsp.writeFile(path.join(c, 'NEXT_RUN'), '3 bonniepp_async_xfs\n');
  await fsp.writeFile(path.join(c, 'RUN_ID'), 'SQ_TEST_RUN_ID=20261122\n');
  await fsp.writeFile(path.join(c, 'STOP'), '');
  await fsp.writeFile(path.join(c, 'SYSTEM_DIRTY'), '2026-11-22-06-00-00\n');
  await fsp.writeFile(path.join(c, 'PREPARED'), '');
  await fsp.mkdir(path.join(root, 'lock.d'));
  await fsp.symlink('/etc/passwd', path.join(c, 'DONE'));
  const r = await readControl(root);
  assert.equal({ ...r, problems: [] }, { nextRunState: 'names-next', next: { index: 3, name: 'bonniepp_async_xfs' }, done: null, stop: true, systemDirty: true, prepared: true, locked: true, runId: '20261122', problems: [] });
  assert.match(r.problems.join('\n'), /DONE: is a symbolic link, not read/);
  await fsp.writeFile(path.join(c, 'NEXT_RUN'), '\u001b[2J gibberish\n');
  assert.is((await readControl(root)).nextRunState, 'unreadable');
  await fsp.rm(root, { recursive: true, force: true });
});

test.run();

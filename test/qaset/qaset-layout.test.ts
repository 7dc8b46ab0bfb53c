import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isTcfDirName, parseTarballName, tcfBaseName } from '../../orchestrator/qaset/qaset-layout.js';

test('log tarball names: case, run id and time; a comment after the run id; no run id; no ACAP2', () => {
  assert.equal(parseTarballName('bonniepp_async_xfs-ACAP2-20261122-20261122T061000.tar.bz2'), { case: 'bonniepp_async_xfs', runId: '20261122', stamp: '20261122T061000' });
  assert.equal(parseTarballName('sysbench_sys-ACAP2-20261122-nightly-20261122T061000.tar.bz2'), { case: 'sysbench_sys', runId: '20261122', stamp: '20261122T061000' });
  assert.equal(parseTarballName('sysbench_sys-ACAP2-20261122T061000.tar.bz2'), { case: 'sysbench_sys', runId: null, stamp: '20261122T061000' });
  assert.equal(parseTarballName('kernbench-20261122T061000.tar.bz2'), { case: 'kernbench', runId: null, stamp: '20261122T061000' });
  assert.is(parseTarballName('random.tar.bz2'), null);
  assert.is(parseTarballName('x-ACAP2X-20261122T061000.tar.bz2'), null);
});

test('ctcs2 result directory names', () => {
  assert.ok(isTcfDirName('qa_sysbench-2026-11-30-23-58-00'));
  assert.is(tcfBaseName('qa_sysbench-2026-11-30-23-58-00'), 'qa_sysbench');
  assert.not.ok(isTcfDirName('ctcs2'));
  assert.is(tcfBaseName('ctcs2'), 'ctcs2');
});

test.run();

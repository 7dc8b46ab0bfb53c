// A sweep's outcome as the CLI turns it into lines and an exit status: the table of jobs that did
// not finish ok, the candidates and alerts, warnings for failed steps after the jobs, the summary,
// the URL line, the --resume advice after a full disk, and 0/1/2/3/74/75/130 (README, Exit statuses).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Candidate } from '../../orchestrator/analysis/findings.js';
import { outcomeLines } from '../../orchestrator/cli/execute-sweep.js';
import { EXIT, sweepExitCode } from '../../orchestrator/cli/exit-codes.js';
import type { FinishResult } from '../../orchestrator/fleet/finish-sweep.js';
import type { SweepOutcome, SweepRecord } from '../../orchestrator/fleet/sweep.js';

const okRecord: SweepRecord = {
  sweepId: '20261206T010000Z-ab12',
  dir: '/r/sweeps/20261206T010000Z-ab12',
  status: 'ok',
  counts: { ok: 2, failed: 0, unreachable: 0, interrupted: 0, skipped: 0 },
  jobs: [
    { jobId: 'lab-01--sysinfo', host: 'lab-01', scenario: 'sysinfo', status: 'ok' },
    { jobId: 'lab-02--sysinfo', host: 'lab-02', scenario: 'sysinfo', status: 'ok' },
  ],
};
const failedRecord: SweepRecord = {
  ...okRecord,
  status: 'failed',
  counts: { ok: 1, failed: 0, unreachable: 1, interrupted: 0, skipped: 0 },
  jobs: [okRecord.jobs[0]!, { ...okRecord.jobs[1]!, status: 'unreachable' }],
};
const candidate: Candidate = {
  change: {
    keyId: 'k',
    key: { host: 'lab-01', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', labels: {} },
    unit: '%',
    better: 'lower',
    kind: 'regression',
    sweepId: okRecord.sweepId,
    at: '2026-12-06T01:00:00.000Z',
    beforeMean: 10,
    afterMean: 20,
    relativeChange: 1,
    pValue: 0.001,
  },
  status: 'confirmed',
  evidence: { jobIds: ['lab-01--sysinfo~rerun1'], values: [20], baseline: [10], relativeChange: 1, pValue: 0.01 },
  paged: true,
};
const quiet: FinishResult = { newRegressions: [], newlyPaged: [], alerts: [], problems: [] };
const findings = (candidates: Candidate[]) => ({ schema: 'orchestrate/findings@1' as const, sweepId: okRecord.sweepId, at: '', comparable: true, candidates, stillPresent: [], improvements: [], failedJobs: [] });
const context = { inventoryArg: 'lab.yaml' };
const text = (outcome: SweepOutcome, stream: 'out' | 'err') =>
  outcomeLines(outcome, context)
    .filter((line) => line.stream === stream)
    .map((line) => line.text)
    .join('\n');

test('exit statuses: refused 2, locked 75, store 74, interrupted 130; completed 0, 1 (a job, a step after), 3 (paged)', () => {
  const completed = (sweep: SweepRecord, finish: FinishResult): SweepOutcome => ({ kind: 'completed', sweep, finish });
  assert.is(sweepExitCode({ kind: 'refused', message: 'x' }), EXIT.usage);
  assert.is(sweepExitCode({ kind: 'locked', message: 'x' }), 75);
  assert.is(sweepExitCode({ kind: 'store-unwritable', message: 'x' }), 74);
  assert.is(sweepExitCode({ kind: 'store-problem', sweep: failedRecord, problem: 'disk full', recorded: true }), 74);
  assert.is(sweepExitCode({ kind: 'interrupted' }), 130);
  assert.is(sweepExitCode({ kind: 'interrupted', sweep: failedRecord }), 130);
  assert.is(sweepExitCode(completed(okRecord, quiet)), 0);
  assert.is(sweepExitCode(completed(failedRecord, quiet)), 1);
  assert.is(sweepExitCode(completed({ ...okRecord, status: 'aborted' }, quiet)), 1, 'the failure budget stopped it');
  assert.is(sweepExitCode(completed(okRecord, { ...quiet, problems: ['report build failed: x'] })), 1);
  const paged = { ...quiet, newRegressions: [candidate.change], newlyPaged: [candidate], findings: findings([candidate]) };
  assert.is(sweepExitCode(completed(okRecord, paged)), 3);
  assert.is(sweepExitCode(completed(failedRecord, paged)), 1, 'a failed job wins over a regression');
  assert.is(sweepExitCode(completed(okRecord, { ...paged, problems: ['publish to reports failed: x'] })), 1);
  assert.is(sweepExitCode(completed(okRecord, { ...quiet, alerts: [{ kind: 'command', target: 'a', ok: false, detail: 'exit status 1', durationMs: 1 }] })), 0, 'a failed alert never changes it');
});

test('a completed sweep: problem jobs, candidates, alerts, summary, results, report and the URL line', () => {
  const finish: FinishResult = {
    newRegressions: [candidate.change],
    newlyPaged: [candidate],
    findings: findings([candidate]),
    alerts: [{ kind: 'command', target: 'alert.sh', ok: true, detail: 'exit status 0', durationMs: 100 }],
    siteDir: '/r/site',
    published: {
      releaseId: 'r3-ab',
      previousId: null,
      uploadedFiles: 7,
      uploadedBytes: 1,
      wireBytes: 1,
      stateBytes: 1,
      indexUpload: 'delta',
      indexSha256: '0'.repeat(64),
      compressed: true,
      hashedFiles: 7,
      removedFiles: 0,
      unchangedFiles: 0,
      totalFiles: 7,
      totalBytes: 7,
      prunedReleases: [],
      cleaned: [],
      ms: 250,
      url: 'http://127.66.0.2:8080/',
    },
    problems: ['drop-off to reports:in failed: no space'],
  };
  const out = text({ kind: 'completed', sweep: failedRecord, finish }, 'out');
  assert.match(out, /^\nJOB\s+STATUS\n-+\s+-+\nlab-02--sysinfo\s+unreachable\ndetails: \/r\/sweeps\/20261206T010000Z-ab12\/jobs\/<job>\/manifest\.json and orchestrator\.log\n/);
  assert.match(out, /\nNEW REGRESSION: lab-01 sysinfo host\.cpu\.busy\.mean \+100\.0% .*\[confirmed: re-runs \+100\.0%, p=0\.010\]\n/);
  assert.match(out, /\nalert command alert\.sh: sent 1 regression\(s\) \(exit status 0, 0\.1 s\)\n/);
  assert.match(out, /\nsummary: 1 ok, 0 failed, 1 unreachable, 0 interrupted, 0 skipped; 1 confirmed regression\(s\), 0 not reproduced\nresults: \/r\/sweeps\/20261206T010000Z-ab12\nreport: \/r\/site\/index\.html\npublished: r3-ab \(7 file\(s\) uploaded\) at http:\/\/127\.66\.0\.2:8080\/$/);
  assert.is(text({ kind: 'completed', sweep: failedRecord, finish }, 'err'), 'warning: drop-off to reports:in failed: no space');
});

test('a full results disk: the summary, then on stderr what stopped it and the --resume command', () => {
  const outcome: SweepOutcome = { kind: 'store-problem', sweep: { ...failedRecord, status: 'aborted' }, problem: 'the results disk is full (ENOSPC)', recorded: true };
  assert.match(text(outcome, 'out'), /summary: 1 ok, 0 failed, 1 unreachable, 0 interrupted, 0 skipped; 0 new regression\(s\)\nresults: /);
  assert.is(
    text(outcome, 'err'),
    'error: the sweep stopped: the results disk is full (ENOSPC).\n/r/sweeps/20261206T010000Z-ab12/sweep.json says aborted; no report was built or published.\nFree space, then re-run what did not finish: orchestrate --inventory lab.yaml --resume 20261206T010000Z-ab12',
  );
  assert.match(text({ ...outcome, recorded: false }, 'err'), /sweep\.json could not be updated either \(it shows an earlier state\)\./);
});

test('refusals are one line on stderr; an interrupt before the sweep started prints nothing', () => {
  assert.equal(outcomeLines({ kind: 'refused', message: 'results directory /r is on a read-only filesystem' }, context), [
    { stream: 'err', text: 'results directory /r is on a read-only filesystem; nothing was contacted.' },
  ]);
  assert.equal(outcomeLines({ kind: 'store-unwritable', message: 'cannot write /r/x: EACCES' }, context), [{ stream: 'err', text: 'error: cannot write /r/x: EACCES; nothing was contacted.' }]);
  assert.equal(outcomeLines({ kind: 'locked', message: 'another sweep ... Not starting.' }, context), [{ stream: 'err', text: 'another sweep ... Not starting.' }]);
  assert.equal(outcomeLines({ kind: 'interrupted' }, context), []);
});

test.run();

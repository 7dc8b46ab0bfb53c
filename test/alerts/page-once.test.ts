// Page once: which detections are the same change, the paging record, and rebuilding it from the
// findings when it is lost.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINDINGS_SCHEMA, PAGED_SCHEMA, type Candidate, type Findings } from '../../orchestrator/analysis/findings.js';
import { findPaged, loadPagedState, pagedEntries, pagedStateFromFindings, sameChange, withPaged } from '../../orchestrator/alerts/page-once.js';
import { emptyPagedState, readPagedState, writeFindings, writePagedState } from '../../orchestrator/results/store.js';

const S = (n: number) => `2026010${Math.floor(n / 10)}T0${n % 10}0000Z-a${n}`;
const SWEEPS = Array.from({ length: 10 }, (_, n) => S(n));

test('sameChange: one series, regime starts a sweep or two apart are one change; far apart, or another series, are not', () => {
  assert.ok(sameChange({ keyId: 'k', sweepId: S(4) }, { keyId: 'k', sweepId: S(4) }));
  assert.ok(sameChange({ keyId: 'k', sweepId: S(4) }, { keyId: 'k', sweepId: S(5) }, SWEEPS), 'moved by a point');
  assert.ok(sameChange({ keyId: 'k', sweepId: S(4) }, { keyId: 'k', sweepId: S(6) }, SWEEPS), 'moved by two');
  assert.not.ok(sameChange({ keyId: 'k', sweepId: S(1) }, { keyId: 'k', sweepId: S(8) }, SWEEPS));
  assert.not.ok(sameChange({ keyId: 'k', sweepId: S(4) }, { keyId: 'other', sweepId: S(4) }, SWEEPS));
  // Counted in the series' own sweeps: nights the series missed do not count.
  assert.ok(sameChange({ keyId: 'k', sweepId: S(1) }, { keyId: 'k', sweepId: S(8) }, [S(0), S(1), S(8), S(9)]));
  // Without the series' sweeps only the same start is the same change.
  assert.not.ok(sameChange({ keyId: 'k', sweepId: S(4) }, { keyId: 'k', sweepId: S(5) }));
});

test('the paging record: entries by changeId, found again when the start moved', () => {
  let state = emptyPagedState();
  state = withPaged(state, { keyId: 'abc', sweepId: S(4) }, S(6), '2026-01-06T03:00:00.000Z');
  assert.equal(state, { schema: PAGED_SCHEMA, paged: { [`abc@${S(4)}`]: { sweepId: S(6), at: '2026-01-06T03:00:00.000Z' } } });
  const entries = pagedEntries(state);
  assert.equal(entries, [{ id: `abc@${S(4)}`, keyId: 'abc', sweepId: S(4), pagedBy: S(6), pagedAt: '2026-01-06T03:00:00.000Z' }]);
  assert.is(findPaged(entries, { keyId: 'abc', sweepId: S(5) }, SWEEPS)?.pagedBy, S(6));
  assert.is(findPaged(entries, { keyId: 'abc', sweepId: S(9) }, SWEEPS), undefined);
  assert.is(findPaged(entries, { keyId: 'xyz', sweepId: S(4) }, SWEEPS), undefined);
});

function candidate(keyId: string, sweepId: string, status: Candidate['status'], paged: boolean): Candidate {
  return {
    change: {
      keyId,
      key: { host: 'h1', scenario: 'sysinfo', metric: 'm', labels: {} },
      unit: '%',
      better: 'lower',
      kind: 'regression',
      sweepId,
      at: '',
      beforeMean: 1,
      afterMean: 2,
      relativeChange: 1,
      pValue: 0.01,
    },
    status,
    paged,
  };
}

function findings(sweepId: string, candidates: Candidate[]): Findings {
  return { schema: FINDINGS_SCHEMA, sweepId, at: `${sweepId}-at`, comparable: true, candidates, stillPresent: [], improvements: [], failedJobs: [] };
}

test('pagedStateFromFindings: every candidate a sweep paged, by the first sweep that paged it', () => {
  const state = pagedStateFromFindings([
    findings(S(7), [candidate('abc', S(4), 'confirmed', true)]),
    findings(S(6), [candidate('abc', S(4), 'confirmed', true), candidate('def', S(5), 'not-reproduced', false)]),
    findings(S(8), [candidate('ghi', S(6), 'unconfirmed', true)]),
  ]);
  assert.equal(state.paged, {
    [`abc@${S(4)}`]: { sweepId: S(6), at: `${S(6)}-at` },
    [`ghi@${S(6)}`]: { sweepId: S(8), at: `${S(8)}-at` },
  });
});

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'page-once-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('loadPagedState: the record when there is one; empty in a new store; rebuilt from findings when lost or damaged', async () => {
  assert.equal(await loadPagedState(dir), { state: emptyPagedState() });
  for (const n of [6, 7]) await mkdir(join(dir, 'sweeps', S(n)), { recursive: true });
  await writeFindings(dir, findings(S(6), [candidate('abc', S(4), 'confirmed', true)]));
  await writeFindings(dir, findings(S(7), []));

  const lost = await loadPagedState(dir);
  assert.equal(Object.keys(lost.state.paged), [`abc@${S(4)}`]);
  assert.match(lost.rebuilt!, /paged\.json was missing; rebuilt from the findings of 2 sweep\(s\): 1 change\(s\) paged before/);

  const kept = withPaged(emptyPagedState(), { keyId: 'zzz', sweepId: S(1) }, S(2), 'then');
  await writePagedState(dir, kept);
  assert.equal(await loadPagedState(dir), { state: kept }, 'the record wins over the findings');
  assert.equal(await readPagedState(dir), kept);

  await writeFile(join(dir, 'alerts', 'paged.json'), '{"schema": "orchestrate/paged@2"}');
  const damaged = await loadPagedState(dir);
  assert.equal(Object.keys(damaged.state.paged), [`abc@${S(4)}`]);
  assert.match(damaged.rebuilt!, /paged\.json: .*set aside and rebuilt/);
  assert.ok((await readdir(join(dir, 'alerts'))).some((name) => name.startsWith('paged.json.damaged-')));
});

test.run();

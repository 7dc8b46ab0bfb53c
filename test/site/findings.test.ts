// The site's reader of a sweep's findings.json (orchestrator/site/findings.ts): validated with the
// analysis' FindingsSchema; an older sweep without one is "missing" (the site computes instead);
// anything unusable is a problem, never an exception.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FINDINGS_SCHEMA } from '../../orchestrator/analysis/findings.js';
import { loadFindings } from '../../orchestrator/site/findings.js';
import { findingsPath } from '../../orchestrator/results/store.js';

let dir = '';
const SWEEP = '20261010T020000Z-1009';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'site-findings-'));
  await mkdir(join(dir, 'sweeps', SWEEP), { recursive: true });
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const valid = {
  schema: FINDINGS_SCHEMA,
  sweepId: SWEEP,
  at: '2026-10-10T03:00:00.000Z',
  comparable: true,
  candidates: [
    {
      change: {
        keyId: 'abc123abc123',
        key: { host: 'node-a', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', labels: {} },
        unit: '%',
        better: 'lower',
        kind: 'regression',
        sweepId: SWEEP,
        at: '2026-10-10T02:00:01.000Z',
        beforeMean: 20,
        afterMean: 32,
        relativeChange: 0.6,
        pValue: 0.004,
      },
      status: 'confirmed',
      evidence: { jobIds: ['node-a--sysinfo~rerun1'], values: [31.9], baseline: [20, 20.1], relativeChange: 0.59, pValue: 0.03 },
      paged: true,
    },
  ],
  stillPresent: [],
  improvements: [],
  failedJobs: [{ jobId: 'node-b--sysinfo', host: 'node-b', scenario: 'sysinfo', status: 'failed' }],
};

const put = (value: unknown) => writeFile(findingsPath(dir, SWEEP), typeof value === 'string' ? value : JSON.stringify(value));

test('a valid findings.json is read as the sweep wrote it', async () => {
  await put(valid);
  const loaded = await loadFindings(dir, SWEEP);
  assert.is(loaded.state, 'found');
  if (loaded.state !== 'found') return;
  assert.is(loaded.findings.candidates[0]!.status, 'confirmed');
  assert.equal(loaded.findings.failedJobs, valid.failedJobs);
  assert.is(loaded.path, join(dir, 'sweeps', SWEEP, 'findings.json'));
});

test('a sweep without findings.json (written before there were findings) is missing, not a problem', async () => {
  await rm(findingsPath(dir, SWEEP), { force: true });
  assert.equal(await loadFindings(dir, SWEEP), { state: 'missing', path: findingsPath(dir, SWEEP) });
  assert.is((await loadFindings(dir, 'no-such-sweep')).state, 'missing');
});

test('findings that are not JSON, break the schema or are another sweep\'s are a problem, with why', async () => {
  await put('{"schema": "orchestrate/findings@1", ');
  const broken = await loadFindings(dir, SWEEP);
  assert.is(broken.state, 'invalid');
  if (broken.state === 'invalid') assert.match(broken.problem.message, /^not valid JSON/);

  await put({ ...valid, candidates: [{ ...valid.candidates[0], status: 'maybe' }] });
  const wrong = await loadFindings(dir, SWEEP);
  assert.is(wrong.state, 'invalid');
  if (wrong.state === 'invalid') assert.match(wrong.problem.message, /^not a findings file: candidates\.0\.status/);

  await put({ ...valid, schema: 'orchestrate/findings@2' });
  assert.is((await loadFindings(dir, SWEEP)).state, 'invalid', 'a schema this site does not know');

  await put({ ...valid, sweepId: '20261009T020000Z-1008' });
  const other = await loadFindings(dir, SWEEP);
  assert.is(other.state, 'invalid');
  if (other.state === 'invalid') assert.match(other.problem.message, /the findings of sweep 20261009T020000Z-1008/);
});

test.run();

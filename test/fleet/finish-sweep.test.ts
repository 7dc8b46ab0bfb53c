// finishSweep after each night of a synthetic store: candidates confirmed by re-runs (a fake
// runner stores them as the real one does), page once (paged.json, stillPresent, --resume, a lost
// record), findings.json, and alerts that never change the sweep's outcome.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FindingsSchema, PagedStateSchema, type Findings } from '../../orchestrator/analysis/findings.js';
import { finishSweep, type FinishResult } from '../../orchestrator/fleet/finish-sweep.js';
import type { EngineEvent } from '../../orchestrator/fleet/events.js';
import { eventText } from '../../orchestrator/fleet/event-text.js';
import type { AlertsConfig, Inventory } from '../../orchestrator/inventory/types.js';
import { closedPort } from '../alerts/loopback.js';
import { fakeRunner, inventoryOf, METRIC, sweepIdOf, writeNight, type FakeRunner } from './confirm-fixtures.js';

const JITTER = [0, 0.4, -0.3, 0.2, -0.1, 0.3, -0.4, 0.1, -0.2, 0.25, -0.15, 0.05, 0.35, -0.25, 0.15, -0.05];
const BASE_NIGHTS = 10;
/** h1 and h2 both regress (x2) from night BASE_NIGHTS on; h1's re-runs reproduce it, h2's do not. */
const nightValues = (night: number) => {
  const step = night >= BASE_NIGHTS ? 2 : 1;
  return { h1: (10 + JITTER[night % JITTER.length]!) * step, h2: (20 + JITTER[(night + 5) % JITTER.length]!) * step };
};
const rerunValue = (host: string, attempt: number) => (host === 'h1' ? 20 + attempt * 0.1 : 20 + attempt * 0.1 - 0.15);

let dir = '';
let results = '';
let current = '';
let fake: FakeRunner;
let alertDir = '';

test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'finish-sweep-'));
  results = join(dir, 'results');
  alertDir = join(dir, 'alerts-received');
  await writeFile(join(dir, 'alert.sh'), `#!/bin/bash\nmkdir -p "$1" && cat > "$1/$(date +%s%N).json"\n`);
  await chmod(join(dir, 'alert.sh'), 0o755);
  fake = fakeRunner(results, () => current, rerunValue);
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

function inventory(extra: Partial<Inventory> = {}): Inventory {
  return inventoryOf(results, ['h1', 'h2'], { alerts: { command: [join(dir, 'alert.sh'), alertDir], timeoutMs: 5000 }, ...extra });
}

/** What finishSweep returned, with its events: `log` every event's line, `lines` those the CLI prints after the summary table (candidates, alerts). */
type Finished = FinishResult & { events: EngineEvent[]; log: string[]; lines: string[] };

async function finish(night: number, inv: Inventory, options: { values?: Record<string, number | null>; alertEnv?: NodeJS.ProcessEnv } = {}): Promise<Finished> {
  const { sweepId, sweepDir } = await writeNight(results, night, options.values ?? nightValues(night));
  current = sweepId;
  const events: EngineEvent[] = [];
  const result = await finishSweep({
    inventory: inv,
    sweepId,
    sweepDir,
    report: false,
    publish: false,
    acceptNewHostKeys: false,
    emit: (event) => events.push(event),
    rerun: fake.runner,
    ...(options.alertEnv ? { alertEnv: options.alertEnv } : {}),
  });
  const log = events.map(eventText);
  const lines = events.filter((e) => e.kind === 'regression-candidate' || e.kind === 'alert-sent').map(eventText);
  return { ...result, events, log, lines };
}

async function findingsOf(night: number): Promise<Findings> {
  return FindingsSchema.parse(JSON.parse(await readFile(join(results, 'sweeps', sweepIdOf(night), 'findings.json'), 'utf8')));
}

async function received(): Promise<unknown[]> {
  const files = await readdir(alertDir).catch(() => [] as string[]);
  return Promise.all(files.sort().map(async (f) => JSON.parse(await readFile(join(alertDir, f), 'utf8'))));
}

/** Nights until one pages (at most BASE_NIGHTS + 6); returns that night and every result. */
async function runUntilPaged(inv: Inventory): Promise<{ paged: number; byNight: Map<number, Finished> }> {
  const byNight = new Map<number, Finished>();
  for (let night = 0; night < BASE_NIGHTS + 6; night++) {
    const result = await finish(night, inv);
    byNight.set(night, result);
    assert.equal(result.problems, [], `night ${night}: ${result.problems.join('; ')}`);
    if (result.newRegressions.length > 0) return { paged: night, byNight };
  }
  throw new Error('no night paged');
}

test('the first sweep: nothing to compare yet; failed jobs are listed', async () => {
  const result = await finish(0, inventory(), { values: { h1: 10, h2: null } });
  const findings = await findingsOf(0);
  assert.is(findings.comparable, false);
  assert.equal(findings.candidates, []);
  assert.equal(findings.failedJobs, [{ jobId: 'h2--sysinfo', host: 'h2', scenario: 'sysinfo', status: 'failed' }]);
  assert.equal(result.findings, findings);
  assert.is((await finish(1, inventory())).findings?.comparable, true);
});

test('a regression is confirmed by re-runs and paged once; one the re-runs do not show is never paged', async () => {
  const { paged, byNight } = await runUntilPaged(inventory());
  assert.ok(paged >= BASE_NIGHTS + 1, `paged on night ${paged}`);
  if (process.env.DEBUG_FINISH) console.log(paged, byNight.get(paged)!.lines, byNight.get(paged)!.log);
  for (let night = 0; night < paged; night++) assert.equal(byNight.get(night)!.findings?.candidates, [], `night ${night}`);
  const result = byNight.get(paged)!;
  const findings = await findingsOf(paged);
  assert.equal(findings.candidates.map((c) => [c.change.key.host, c.change.key.metric, c.status, c.paged]), [
    ['h1', METRIC, 'confirmed', true],
    ['h2', METRIC, 'not-reproduced', false],
  ]);
  const [h1, h2] = findings.candidates;
  assert.equal(h1!.evidence?.jobIds, ['h1--sysinfo~rerun1', 'h1--sysinfo~rerun2']);
  assert.equal(h1!.evidence?.values, [20.1, 20.2]);
  assert.is(h1!.evidence?.baseline.length, BASE_NIGHTS);
  assert.ok(h1!.evidence!.pValue <= 0.05);
  assert.ok(h2!.evidence!.pValue > 0.05, 'h2 re-ran at its old level');
  assert.equal(result.newRegressions.map((c) => c.key.host), ['h1']);
  assert.match(result.lines[0]!, /^NEW REGRESSION: h1 sysinfo host\.cpu\.busy\.mean .*\[confirmed: re-runs \+\d/);
  assert.match(result.lines[1]!, /^not reproduced \(not paged\): h2 sysinfo host\.cpu\.busy\.mean/);
  // The re-runs are stored in the sweep, marked, and not in sweep.json.
  const rerun = JSON.parse(await readFile(join(results, 'sweeps', sweepIdOf(paged), 'jobs', 'h1--sysinfo~rerun1', 'manifest.json'), 'utf8'));
  assert.equal(rerun.rerunOf, { jobId: 'h1--sysinfo', attempt: 1 });
  const sweep = JSON.parse(await readFile(join(results, 'sweeps', sweepIdOf(paged), 'sweep.json'), 'utf8'));
  assert.equal(sweep.jobs.map((j: { jobId: string }) => j.jobId), ['h1--sysinfo', 'h2--sysinfo']);

  const state = PagedStateSchema.parse(JSON.parse(await readFile(join(results, 'alerts', 'paged.json'), 'utf8')));
  assert.equal(Object.values(state.paged).map((entry) => entry.sweepId), [sweepIdOf(paged)]);
  assert.equal(Object.keys(state.paged), [`${h1!.change.keyId}@${h1!.change.sweepId}`]);

  // One alert, carrying the paged regression only, on the command's stdin.
  const alerts = (await received()) as { schema: string; sweepId: string; regressions: { change: { key: { host: string } }; status: string; line: string }[] }[];
  assert.is(alerts.length, 1);
  assert.is(alerts[0]!.schema, 'orchestrate/alert@1');
  assert.is(alerts[0]!.sweepId, sweepIdOf(paged));
  assert.equal(alerts[0]!.regressions.map((r) => [r.change.key.host, r.status]), [['h1', 'confirmed']]);
  assert.match(alerts[0]!.regressions[0]!.line, /^NEW REGRESSION: h1 /);
  assert.equal(result.alerts.map((a) => [a.kind, a.target, a.ok]), [['command', 'alert.sh', true]]);
  const sweepLog = await readFile(join(results, 'sweeps', sweepIdOf(paged), 'sweep.log'), 'utf8');
  assert.match(sweepLog, /alert command alert\.sh: sent 1 regression\(s\)/);
  assert.match(sweepLog, /NEW REGRESSION: h1 /);

  // The nights after: the regime holds, nothing pages again, h1 is still present, no new alert.
  const reruns = fake.calls.length;
  for (let night = paged + 1; night <= paged + 3; night++) {
    const later = await finish(night, inventory());
    assert.equal(later.newRegressions, [], `night ${night} pages nothing`);
    const f = await findingsOf(night);
    assert.equal(f.candidates.filter((c) => c.change.key.host === 'h1'), [], `night ${night}: h1 is no candidate`);
    assert.equal(f.stillPresent.map((c) => c.key.host), ['h1'], `night ${night}: still present`);
  }
  assert.is(fake.calls.length, reruns, "no more re-runs: no new candidates");
  assert.is((await received()).length, 1, 'no second alert');
  const after = PagedStateSchema.parse(JSON.parse(await readFile(join(results, 'alerts', 'paged.json'), 'utf8')));
  assert.equal(Object.keys(after.paged), Object.keys(state.paged));
});

test('--resume: finishing the same sweep again keeps its decisions, re-runs nothing and alerts no one again', async () => {
  const { paged } = await runUntilPaged(inventory());
  const calls = fake.calls.length;
  const first = await findingsOf(paged);
  current = sweepIdOf(paged);
  const againEvents: EngineEvent[] = [];
  const again = await finishSweep({
    inventory: inventory(),
    sweepId: sweepIdOf(paged),
    sweepDir: join(results, 'sweeps', sweepIdOf(paged)),
    report: false,
    publish: false,
    acceptNewHostKeys: false,
    emit: (event) => againEvents.push(event),
    rerun: fake.runner,
  });
  assert.is(fake.calls.length, calls, 'no re-run');
  assert.equal(again.alerts, []);
  assert.is((await received()).length, 1);
  assert.equal(again.newRegressions.map((c) => c.key.host), ['h1'], 'the sweep still says it paged h1 (exit status 3)');
  const second = await findingsOf(paged);
  assert.equal(second.candidates, first.candidates);
  assert.match(againEvents.filter((e) => e.kind === 'regression-candidate').map(eventText)[0]!, /already paged by this sweep/);
});

test('paged.json lost or damaged: rebuilt from the findings, and nothing pages twice', async () => {
  const { paged } = await runUntilPaged(inventory());
  const record = join(results, 'alerts', 'paged.json');
  const before = await readFile(record, 'utf8');
  await rm(record);
  const next = await finish(paged + 1, inventory());
  assert.equal(next.newRegressions, []);
  assert.ok(next.log.some((line) => /paging record: .*paged\.json was missing; rebuilt from the findings of \d+ sweep\(s\): 1 change\(s\) paged before/.test(line)), next.log.join('\n'));
  assert.equal(Object.keys(JSON.parse(await readFile(record, 'utf8')).paged), Object.keys(JSON.parse(before).paged));
  await writeFile(record, '{"schema": "orchestrate/paged@1", "paged": ');
  const third = await finish(paged + 2, inventory());
  assert.equal(third.newRegressions, []);
  assert.ok(third.log.some((line) => /not valid JSON.*set aside and rebuilt/.test(line)), third.log.join('\n'));
  assert.ok((await readdir(join(results, 'alerts'))).some((name) => name.startsWith('paged.json.damaged-')));
  assert.equal((await findingsOf(paged + 2)).stillPresent.map((c) => c.key.host), ['h1']);
});

test('unconfirmed: with confirmation off, paged only when regressions.confirm.required is false', async () => {
  const off = { default: {}, metrics: [], confirm: { reruns: 0 } };
  const { byNight } = await runUntilPaged(inventory({ regressions: { ...off, confirm: { reruns: 0, required: false } } }));
  const night = [...byNight.keys()].at(-1)!;
  const findings = await findingsOf(night);
  assert.equal(findings.candidates.map((c) => [c.change.key.host, c.status, c.paged]), [
    ['h1', 'unconfirmed', true],
    ['h2', 'unconfirmed', true],
  ]);
  assert.match(findings.candidates[0]!.note!, /re-runs are off/);
  assert.is(fake.calls.length, 0);
  assert.match(byNight.get(night)!.lines[0]!, /unconfirmed, paged as regressions\.confirm\.required is false/);

  // The same store again, required: candidates are shown but nothing pages.
  await rm(results, { recursive: true, force: true });
  await rm(alertDir, { recursive: true, force: true });
  for (let n = 0; n <= night; n++) {
    const result = await finish(n, inventory({ regressions: off }));
    assert.equal(result.newRegressions, []);
  }
  const required = await findingsOf(night);
  assert.equal(required.candidates.map((c) => [c.status, c.paged]), [['unconfirmed', false], ['unconfirmed', false]]);
  assert.equal(await received(), []);
});

test('a failing alert is logged, never fatal, and never shows its secrets', async () => {
  await writeFile(join(dir, 'fail.sh'), '#!/bin/bash\ncat >/dev/null; echo "mailer down" >&2; exit 4\n');
  await chmod(join(dir, 'fail.sh'), 0o755);
  const port = await closedPort();
  const alerts: AlertsConfig = {
    command: [join(dir, 'fail.sh'), '--token', 'cmd-secret-42'],
    // A loopback port nothing listens on: the connection is refused at once.
    webhook: { url: `http://127.0.0.1:${port}/hooks/T0/secret-path-77`, headers: { Authorization: 'Bearer ${ALERT_TOKEN}' } },
    timeoutMs: 5000,
  };
  const inv = inventory({ alerts });
  let result: Finished | undefined;
  for (let night = 0; night < BASE_NIGHTS + 6; night++) {
    result = await finish(night, inv, { alertEnv: { ALERT_TOKEN: 'tok-sekret-99', PATH: process.env.PATH } });
    if (result.newRegressions.length > 0) break;
  }
  assert.equal(result!.newRegressions.map((c) => c.key.host), ['h1'], 'the results still say: a new regression (exit status 3)');
  assert.equal(result!.problems, [], 'an alert failure is no problem of the sweep');
  assert.equal(result!.alerts.map((a) => [a.kind, a.target, a.ok]), [['command', 'fail.sh', false], ['webhook', `http://127.0.0.1:${port}`, false]]);
  assert.match(result!.alerts[0]!.detail, /exit status 4: mailer down/);
  assert.is(result!.alerts[1]!.detail, 'ECONNREFUSED');
  const sweepLog = await readFile(join(results, 'sweeps', current, 'sweep.log'), 'utf8');
  assert.match(sweepLog, /alert command fail\.sh: FAILED \(exit status 4: mailer down/);
  assert.ok(sweepLog.includes(`alert webhook http://127.0.0.1:${port}: FAILED (ECONNREFUSED`), sweepLog);
  for (const secret of ['tok-sekret-99', 'secret-path-77', 'cmd-secret-42', 'ALERT_TOKEN']) assert.not.ok(sweepLog.includes(secret), `${secret} in sweep.log`);
});

test.run();

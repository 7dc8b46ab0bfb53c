// Confirmation re-runs and alerts end to end on the local lab, through the real CLI: real sweeps of
// two real sshd hosts (sysinfo sampling host.cpu.busy for a second; lower is better), the re-runs
// through the fleet's own runner over SSH, the real results store, detection, paging and alerts.
//
// What the hosts measure is shaped on the hosts themselves, through one of their own tools: the
// lab hosts share this machine's CPUs with whatever else runs on it, so their real CPU figures say
// nothing reliable. sysinfo's sampler writes each second's figure to cpu-busy.jsonl, then calls
// `awk` (for its progress line); a shadowed awk first rewrites the figures written so far to what
// the test put in the host's ~/busy-primary (the night's jobs) or ~/busy-rerun (re-runs, job ids
// `~rerun<n>`), as a host whose own tools lie would. lab-01 slows down for good (its re-runs see it
// too: confirmed, paged, exit 3, the alert command and the webhook get it); lab-02 slows down only
// in the nights' jobs, a passing disturbance the re-runs do not show: not reproduced, never paged.
// The next night lab-01 is still slow and pages no one again (exit 0).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { FindingsSchema, PagedStateSchema, changeId, type Findings } from '../../orchestrator/analysis/findings.js';
import { jobManifest, runCli } from './cli-helpers.js';

const e2e = suite('confirmation re-runs and alerts end to end');
let lab: Lab;
let work: string;
let server: Server;
let webhookUrl = '';
const posts: { headers: IncomingMessage['headers']; body: string }[] = [];
const TOKEN = 'e2e-tok-5f3a9';

/** sysinfo's progress awk, shadowed: the CPU figures written so far become the test's. */
const LYING_AWK = `f=\${ORCH_ARTIFACTS:-}/cpu-busy.jsonl
if [ "\${ORCH_PHASE:-}" = sysinfo ] && [ -f "$f" ]; then
  case \${ORCH_JOB_ID:-} in *~rerun*) v=$(cat "$HOME/busy-rerun") ;; *) v=$(cat "$HOME/busy-primary") ;; esac
  sed -i "s/\\"busy_percent\\":[0-9.]*/\\"busy_percent\\":$v/" "$f"
fi
exec /usr/bin/awk "$@"`;

e2e.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'confirm-e2e-'));
  lab = await labUp({ subnet: 49, hosts: 2, dir: join(work, 'lab'), reports: false });
  for (const host of lab.hosts) await lab.shadowTools(host.name, { awk: LYING_AWK });
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      posts.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/perf/secret-path`;
});
e2e.after(async () => {
  for (const host of lab?.hosts ?? []) await lab.shadowTools(host.name, null).catch(() => undefined);
  await lab?.down();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  if (process.env.CONFIRM_E2E_KEEP) console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
});

/** What each host will report tonight: its night's job, and its re-runs. */
async function measure(host: string, primary: number, rerun: number): Promise<void> {
  const home = lab.hosts.find((h) => h.name === host)!.home;
  await writeFile(join(home, 'busy-primary'), primary.toFixed(2));
  await writeFile(join(home, 'busy-rerun'), rerun.toFixed(2));
}

async function findings(results: string, sweepId: string): Promise<Findings> {
  return FindingsSchema.parse(JSON.parse(await readFile(join(results, 'sweeps', sweepId, 'findings.json'), 'utf8')));
}

async function newestSweep(results: string): Promise<string> {
  return (await readdir(join(results, 'sweeps'))).sort().at(-1)!;
}

e2e('a regression the re-runs reproduce is paged once (exit 3, alert command, webhook); one they do not is shown apart', async () => {
  const started = Date.now();
  const results = join(work, 'results');
  const received = join(work, 'received');
  const alertScript = join(work, 'alert.sh');
  await writeFile(alertScript, `#!/bin/bash\nmkdir -p "$1" && cat > "$1/$(date +%s%N).json"\n`);
  await chmod(alertScript, 0o755);
  process.env['E2E_ALERT_TOKEN'] = TOKEN;
  const inventory = await lab.writeInventory({
    file: join(work, 'lab.yaml'),
    resultsDir: results,
    scenarios: { sysinfo: { sample_seconds: 1 } },
    defaults: { retries: 1 },
    extra: {
      // Few nights suffice: a large change (50%) at a loose p; two re-runs against the old regime.
      regressions: { default: { min_change: '50%', p_value: 0.2 }, confirm: { reruns: 2, budget: '3m', required: true } },
      alerts: {
        command: [alertScript, received],
        webhook: { url: webhookUrl, headers: { Authorization: 'Bearer ${E2E_ALERT_TOKEN}', 'X-Lab': 'confirm-e2e' } },
        timeout: '10s',
      },
    },
  });
  const night = async () => {
    const run = await runCli(['--inventory', inventory, '--no-progress', '--no-report']);
    const sweepId = await newestSweep(results);
    return { ...run, sweepId, findings: await findings(results, sweepId) };
  };

  // Baseline nights: ~10 % and ~20 % busy.
  const wobble = [0, 0.6, -0.4, 0.3, -0.2, 0.5, -0.5, 0.1];
  for (let n = 0; n < 4; n++) {
    await measure('lab-01', 10 + wobble[n]!, 10 + wobble[n]!);
    await measure('lab-02', 20 + wobble[n + 2]!, 20 + wobble[n + 2]!);
    const run = await night();
    assert.is(run.code, 0, `baseline night ${n + 1}:\n${run.stdout}\n${run.stderr}`);
    assert.is(run.findings.comparable, n > 0);
    assert.equal(run.findings.candidates, [], `baseline night ${n + 1}`);
  }

  // Both slow down; lab-02's re-runs measure its old level. Nights until the candidates show.
  const shaped: Awaited<ReturnType<typeof night>>[] = [];
  for (let n = 0; n < 5 && !shaped.at(-1)?.findings.candidates.length; n++) {
    await measure('lab-01', 40 + wobble[n]!, 40 + wobble[n + 3]!);
    await measure('lab-02', 70 + wobble[n + 1]!, 20 + wobble[n + 4]!);
    shaped.push(await night());
  }
  const paged = shaped.at(-1)!;
  for (const run of shaped.slice(0, -1)) assert.is(run.code, 0, `before the candidates:\n${run.stdout}\n${run.stderr}`);
  const { code, stdout, stderr, sweepId } = paged;
  assert.is(code, 3, `${stdout}\n${stderr}`);
  const candidates = paged.findings.candidates;
  const lab01 = candidates.filter((c) => c.change.key.host === 'lab-01');
  const lab02 = candidates.filter((c) => c.change.key.host === 'lab-02');
  assert.equal(candidates.map((c) => c.change.key.metric).sort(), ['host.cpu.busy.max', 'host.cpu.busy.max', 'host.cpu.busy.mean', 'host.cpu.busy.mean']);
  for (const c of lab01) {
    assert.is(c.status, 'confirmed', JSON.stringify(c));
    assert.is(c.paged, true);
    assert.equal(c.evidence!.jobIds, ['lab-01--sysinfo~rerun1', 'lab-01--sysinfo~rerun2']);
    assert.is(c.evidence!.values.length, 2);
    assert.ok(c.evidence!.values.every((v) => v > 39), `re-runs measured ${c.evidence!.values}`);
    assert.equal(c.evidence!.baseline, [10, 10.6, 9.6, 10.3]);
    assert.ok(c.evidence!.pValue <= 0.2 && c.evidence!.relativeChange >= 0.5, JSON.stringify(c.evidence));
  }
  for (const c of lab02) {
    assert.is(c.status, 'not-reproduced', JSON.stringify(c));
    assert.is(c.paged, false);
    assert.equal(c.evidence!.jobIds, ['lab-02--sysinfo~rerun1', 'lab-02--sysinfo~rerun2']);
    assert.ok(c.evidence!.values.every((v) => v < 21), `re-runs measured ${c.evidence!.values}`);
  }

  // The CLI says so, line by line and in the summary.
  assert.match(stdout, /NEW REGRESSION: lab-01 sysinfo host\.cpu\.busy\.max .*\[confirmed: re-runs \+/);
  assert.match(stdout, /NEW REGRESSION: lab-01 sysinfo host\.cpu\.busy\.mean .*\[confirmed: re-runs \+/);
  assert.match(stdout, /not reproduced \(not paged\): lab-02 sysinfo host\.cpu\.busy\.mean .*\[the re-runs did not show it/);
  assert.not.match(stdout, /NEW REGRESSION: lab-02/);
  assert.ok(stdout.includes('summary: 2 ok, 0 failed, 0 unreachable, 0 interrupted, 0 skipped; 2 confirmed regression(s), 2 not reproduced'), stdout);
  assert.match(stdout, /re-run: lab-01: job lab-01--sysinfo~rerun1 \(sysinfo\) started/);
  assert.match(stdout, /alert command alert\.sh: sent 2 regression\(s\) \(exit status 0/);
  assert.match(stdout, /alert webhook http:\/\/127\.0\.0\.1:\d+: sent 2 regression\(s\) \(HTTP 202/);

  // The re-runs: jobs of the sweep under their own ids, marked, and not in sweep.json.
  const sweepDir = join(results, 'sweeps', sweepId);
  for (const id of ['lab-01--sysinfo~rerun1', 'lab-01--sysinfo~rerun2', 'lab-02--sysinfo~rerun1', 'lab-02--sysinfo~rerun2']) {
    const manifest = await jobManifest(sweepDir, id);
    assert.is(manifest.status, 'ok', JSON.stringify(manifest.errors));
    assert.equal(manifest.phases.map((p) => [p.name, p.status]), [['provenance', 'ok'], ['sysinfo', 'ok']]);
    const raw = JSON.parse(await readFile(join(sweepDir, 'jobs', id, 'manifest.json'), 'utf8'));
    assert.equal(raw.rerunOf, { jobId: id.replace(/~rerun\d$/, ''), attempt: Number(id.at(-1)) });
  }
  const sweep = JSON.parse(await readFile(join(sweepDir, 'sweep.json'), 'utf8'));
  assert.equal(sweep.jobs.map((j: { jobId: string }) => j.jobId).sort(), ['lab-01--sysinfo', 'lab-02--sysinfo']);
  const sweepLog = await readFile(join(sweepDir, 'sweep.log'), 'utf8');
  assert.match(sweepLog, /lab-01: job lab-01--sysinfo~rerun2 OK/);
  assert.match(sweepLog, /alert webhook http:\/\/127\.0\.0\.1:\d+: sent 2 regression\(s\)/);

  // Paged once: the record names lab-01's changes only.
  const state = PagedStateSchema.parse(JSON.parse(await readFile(join(results, 'alerts', 'paged.json'), 'utf8')));
  assert.equal(Object.keys(state.paged).sort(), lab01.map((c) => changeId(c.change)).sort());
  assert.equal(Object.values(state.paged).map((entry) => entry.sweepId), [sweepId, sweepId]);

  // The alert command's stdin and the webhook's body: the same JSON, lab-01's regressions.
  const files = await readdir(received);
  assert.is(files.length, 1);
  const stdin = await readFile(join(received, files[0]!), 'utf8');
  const alert = JSON.parse(stdin);
  assert.is(alert.schema, 'orchestrate/alert@1');
  assert.is(alert.sweepId, sweepId);
  assert.is(alert.inventory, inventory);
  assert.equal(alert.regressions.map((r: { change: { key: { host: string; metric: string } }; status: string }) => [r.change.key.host, r.change.key.metric, r.status]), [
    ['lab-01', 'host.cpu.busy.max', 'confirmed'],
    ['lab-01', 'host.cpu.busy.mean', 'confirmed'],
  ]);
  assert.match(alert.regressions[0].line, /^NEW REGRESSION: lab-01 sysinfo host\.cpu\.busy\.max /);
  assert.is(posts.length, 1);
  assert.is(posts[0]!.body, stdin);
  assert.is(posts[0]!.headers.authorization, `Bearer ${TOKEN}`);
  assert.is(posts[0]!.headers['x-lab'], 'confirm-e2e');
  assert.is(posts[0]!.headers['content-type'], 'application/json');
  for (const text of [stdout, stderr, sweepLog]) {
    assert.not.ok(text.includes(TOKEN), 'the token is never logged');
    assert.not.ok(text.includes('secret-path'), "the webhook's path is never logged");
  }

  // The next night: lab-01 still slow, still present, paged by no one again; exit 0.
  await measure('lab-01', 40.2, 40.2);
  await measure('lab-02', 70.3, 20);
  const next = await night();
  assert.is(next.code, 0, `${next.stdout}\n${next.stderr}`);
  assert.equal(next.findings.candidates, []);
  assert.equal(next.findings.stillPresent.map((c) => [c.key.host, c.key.metric]), [
    ['lab-01', 'host.cpu.busy.max'],
    ['lab-01', 'host.cpu.busy.mean'],
  ]);
  assert.match(next.stdout, /0 confirmed regression\(s\), 0 not reproduced, 2 still present \(paged before\)/);
  assert.is((await readdir(received)).length, 1, 'no second alert command');
  assert.is(posts.length, 1, 'no second POST');
  const seconds = (Date.now() - started) / 1000;
  console.log(`confirm e2e: ${4 + shaped.length + 1} nights in ${seconds.toFixed(0)} s`);
  assert.ok(seconds < 180, `took ${seconds} s`);
});

e2e.run();

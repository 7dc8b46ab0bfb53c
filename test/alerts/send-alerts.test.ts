// Alerts: a local command gets the JSON on its stdin, a webhook on loopback gets it POSTed with its
// headers; time limits, failures as outcomes (never thrown), secrets never in what is logged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedPort } from './loopback.js';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ALERT_SCHEMA,
  alertOutcomeLine,
  expandHeaders,
  postWebhook,
  runAlertCommand,
  sendAlerts,
  webhookTarget,
  type AlertOutcome,
  type AlertPayload,
} from '../../orchestrator/alerts/send-alerts.js';

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alerts-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

const payload: AlertPayload = {
  schema: ALERT_SCHEMA,
  sweepId: '20260110T020000Z-10a',
  at: '2026-01-10T03:00:00.000Z',
  inventory: '/etc/perf/lab.yaml',
  results: '/srv/results/sweeps/20260110T020000Z-10a',
  report: 'http://reports.lab:8080/',
  regressions: [
    {
      change: {
        keyId: 'abc123def456',
        key: { host: 'mm1', scenario: 'sysinfo', metric: 'host.cpu.busy.mean', labels: {} },
        unit: '%',
        better: 'lower',
        kind: 'regression',
        sweepId: '20260108T020000Z-108',
        at: '2026-01-08T02:00:00.000Z',
        beforeMean: 10,
        afterMean: 20,
        relativeChange: 1,
        pValue: 0.01,
      },
      status: 'confirmed',
      evidence: { jobIds: ['mm1--sysinfo~rerun1'], values: [20], baseline: [10, 10], relativeChange: 1, pValue: 0.03 },
      paged: true,
      line: 'NEW REGRESSION: mm1 sysinfo host.cpu.busy.mean 100.0% (10.00 -> 20.00 %, p=0.010)',
    },
  ],
};

async function script(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/bash\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

test('command: the JSON arrives whole on its stdin, with the arguments; exit 0 is ok', async () => {
  const out = join(dir, 'stdin.json');
  const page = await script('page.sh', 'printf "%s\\n" "$@" > "$2.args"; cat > "$2"');
  const outcome = await runAlertCommand([page, '--to', out], JSON.stringify(payload), 5000);
  assert.equal([outcome.kind, outcome.target, outcome.ok, outcome.detail], ['command', 'page.sh', true, 'exit status 0']);
  assert.equal(JSON.parse(await readFile(out, 'utf8')), payload);
  assert.is(await readFile(`${out}.args`, 'utf8'), `--to\n${out}\n`);
});

test('command: a failure says how it ended and its last stderr line; one that cannot start says so', async () => {
  const fail = await script('fail.sh', 'cat >/dev/null; echo "first" >&2; echo "smtp: connection refused" >&2; exit 3');
  const failed = await runAlertCommand([fail], '{}', 5000);
  assert.is(failed.ok, false);
  assert.is(failed.detail, 'exit status 3: smtp: connection refused');
  const missing = await runAlertCommand([join(dir, 'no-such-program')], '{}', 5000);
  assert.is(missing.ok, false);
  assert.match(missing.detail, /^cannot run: .*ENOENT/);
  // One that never reads its stdin is judged by its exit status alone.
  const deaf = await script('deaf.sh', 'exit 0');
  assert.is((await runAlertCommand([deaf], 'x'.repeat(1 << 20), 5000)).ok, true);
});

test('command: the time limit stops it and what it started (its process group)', async () => {
  const pids = join(dir, 'pids');
  const hang = await script('hang.sh', `sleep 60 & echo "$$ $!" > ${pids}; wait`);
  const started = Date.now();
  const outcome = await runAlertCommand([hang], '{}', 500);
  assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  assert.is(outcome.ok, false);
  assert.match(outcome.detail, /^timed out after 500 ms; stopped$/);
  const [shell, sleeper] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const pid of [shell!, sleeper!]) {
    // Gone, or a zombie its new parent has not reaped yet: either way it runs no more.
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    assert.ok(stat === '' || state === 'Z', `process ${pid} still runs (${state})`);
  }
});

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

const close = (server: Server) => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});

test('webhook: POSTs the JSON with its headers (${NAME} from the environment); 2xx is ok; nothing secret in the outcome', async () => {
  const { server, url, got } = await receiver((_req, res) => res.writeHead(204).end());
  try {
    const outcome = await postWebhook(
      { url: `${url}/hooks/T000/B000/very-secret-path?token=q-secret`, headers: { Authorization: 'Bearer ${PAGER_TOKEN}', 'X-Team': 'perf' } },
      JSON.stringify(payload),
      5000,
      { env: { PAGER_TOKEN: 's3cr3t-token' } },
    );
    assert.equal([outcome.kind, outcome.target, outcome.ok, outcome.detail], ['webhook', url, true, 'HTTP 204']);
    assert.is(got.length, 1);
    assert.is(got[0]!.method, 'POST');
    assert.is(got[0]!.url, '/hooks/T000/B000/very-secret-path?token=q-secret');
    assert.is(got[0]!.headers.authorization, 'Bearer s3cr3t-token');
    assert.is(got[0]!.headers['x-team'], 'perf');
    assert.is(got[0]!.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(got[0]!.body), payload);
    const line = alertOutcomeLine(outcome, 1);
    assert.match(line, /^alert webhook http:\/\/127\.0\.0\.1:\d+: sent 1 regression\(s\) \(HTTP 204, \d+\.\d s\)$/);
    for (const secret of ['s3cr3t-token', 'very-secret-path', 'q-secret']) assert.not.ok(JSON.stringify(outcome).includes(secret), secret);
  } finally {
    await close(server);
  }
});

test('webhook: an error status, a redirect, no answer in time, a refused connection, an unset variable: failed outcomes', async () => {
  const { server, url } = await receiver((req, res) => {
    if (req.url === '/500') res.writeHead(500, 'Internal Server Error').end('boom');
    else if (req.url === '/302') res.writeHead(302, { location: '/elsewhere' }).end();
    // /hang: never answers
  });
  try {
    const error = await postWebhook({ url: `${url}/500`, headers: {} }, '{}', 5000);
    assert.equal([error.ok, error.detail], [false, 'HTTP 500 Internal Server Error']);
    const redirect = await postWebhook({ url: `${url}/302`, headers: {} }, '{}', 5000);
    assert.equal([redirect.ok, redirect.detail], [false, 'HTTP 302: redirects are not followed']);
    const started = Date.now();
    const hang = await postWebhook({ url: `${url}/hang`, headers: { Authorization: 'Bearer abcdef' } }, '{}', 400);
    assert.equal([hang.ok, hang.detail], [false, 'no answer within 400 ms']);
    assert.ok(Date.now() - started < 3000);
    const refused = await postWebhook({ url: `http://127.0.0.1:${await closedPort()}/x`, headers: {} }, '{}', 5000);
    assert.equal([refused.ok, refused.detail], [false, 'ECONNREFUSED']);
    const unset = await postWebhook({ url: `${url}/500`, headers: { Authorization: 'Bearer ${NOT_SET_ANYWHERE}' } }, '{}', 5000, { env: {} });
    assert.equal([unset.ok, unset.detail], [false, 'header Authorization names ${NOT_SET_ANYWHERE}, which is not set in the environment']);
  } finally {
    await close(server);
  }
});

test('sendAlerts: both targets at once, the same JSON to each; the default time limit is 30 s', async () => {
  const out = join(dir, 'stdin.json');
  const page = await script('page.sh', `cat > ${out}`);
  const { server, url, got } = await receiver((_req, res) => res.writeHead(200).end('ok'));
  try {
    const outcomes: AlertOutcome[] = await sendAlerts({ command: [page], webhook: { url: `${url}/hook`, headers: {} } }, payload);
    assert.equal(outcomes.map((o) => [o.kind, o.ok]), [['command', true], ['webhook', true]]);
    assert.is(await readFile(out, 'utf8'), got[0]!.body);
    assert.equal(JSON.parse(got[0]!.body), payload);
    assert.equal(await sendAlerts({}, payload), []);
  } finally {
    await close(server);
  }
});

test('expandHeaders and webhookTarget', () => {
  assert.equal(expandHeaders({ A: 'x ${B} ${B}', C: 'plain $D' }, { B: 'y' }), { A: 'x y y', C: 'plain $D' });
  assert.throws(() => expandHeaders({ A: '${MISSING}' }, {}), /header A names \$\{MISSING\}/);
  assert.is(webhookTarget('https://hooks.slack.com/services/T/B/secret'), 'https://hooks.slack.com');
});

test.run();

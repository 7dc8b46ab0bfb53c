// The inventory's alerts: and regressions.confirm: as loaded, and what is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, issuesOf, load } from '../inventory/helpers.js';

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alerts-inventory-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inventory(text: string): Promise<string> {
  const file = join(dir, 'lab.yaml');
  await writeFile(file, `hosts:\n  mm1: {address: 10.0.0.1}\n${text}`);
  return file;
}

test('alerts: a command (a path relative to the inventory, or a name on PATH), a webhook with headers, a time limit', async () => {
  const loaded = await load(
    await inventory(`alerts:
  command: [./bin/page-perf, --team, perf]
  webhook:
    url: https://chat.example.com/hooks/T0/B0/xyz
    headers: {Authorization: "Bearer \${CHAT_TOKEN}"}
  timeout: 10s
`),
  );
  assert.equal(loaded.alerts, {
    command: [join(dir, 'bin/page-perf'), '--team', 'perf'],
    webhook: { url: 'https://chat.example.com/hooks/T0/B0/xyz', headers: { Authorization: 'Bearer ${CHAT_TOKEN}' } },
    timeoutMs: 10_000,
  });
  const onPath = await load(await inventory('alerts: {command: [mail, -s, perf, perf@example.com]}\n'));
  assert.equal(onPath.alerts, { command: ['mail', '-s', 'perf', 'perf@example.com'] });
  assert.is((await load(await inventory(''))).alerts, undefined);
});

test('regressions.confirm: written keys only (the defaults live in confirmPolicy)', async () => {
  const loaded = await load(await inventory('regressions:\n  confirm: {reruns: 3, budget: 45m, required: false}\n'));
  assert.equal(loaded.regressions?.confirm, { reruns: 3, budgetMs: 2_700_000, required: false });
  assert.equal((await load(await inventory('regressions: {confirm: {reruns: 0}}\n'))).regressions?.confirm, { reruns: 0 });
  assert.equal((await load(await inventory('regressions: {confirm: {}}\n'))).regressions?.confirm, {});
  assert.is((await load(await inventory('regressions: {default: {min_change: 5%}}\n'))).regressions?.confirm, undefined);
});

test('refused: a webhook that is not http(s), an empty command, a bad header name, bad confirm values', async () => {
  const issues = await issuesOf(
    await inventory(`alerts:
  command: []
  webhook: {url: "ftp://example.com/x", headers: {"Bad Header": x}}
  timeout: soon
regressions:
  confirm: {reruns: -1, budget: 0, required: maybe, rerun: 2}
`),
    ENV,
  );
  const text = issues.map((issue) => `${issue.line}: ${issue.message} (${issue.expected ?? ''})`).join('\n');
  for (const expected of [
    /^4: alerts\.command: the list has too few items/m,
    /^5: alerts\.webhook\.url: 'ftp:\/\/example\.com\/x' is not an http\(s\) URL \(an http:\/\/ or https:\/\/ URL\)/m,
    /^5: alerts\.webhook\.headers: 'Bad Header' is not a valid HTTP header name/m,
    /^6: alerts\.timeout: 'soon' is not a duration/m,
    /^8: regressions\.confirm\.reruns: -1 is too small/m,
    /^8: regressions\.confirm\.budget: 0 is not a duration/m,
    /^8: regressions\.confirm\.required: wrong type, got the string 'maybe' \(true \(only confirmed/m,
    /^8: unknown key 'rerun' in regressions\.confirm; did you mean 'reruns'\?/m,
  ]) {
    assert.match(text, expected);
  }
});

test.run();

// inventory/lab.yaml (used by the quick start) must describe the lab that
// `test/lab/cli.ts up --hosts 5 --subnet 0` brings up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const file = fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url));

test('inventory/lab.yaml names the default lab: lab-01..05 on 127.66.0.10-14:2222 and the reports host', async () => {
  const doc = YAML.parse(await readFile(file, 'utf8')) as {
    hosts: Record<string, { address: string }>;
    defaults: { port: number; identity_file: string };
    known_hosts: string;
    reports: { host: string };
  };
  for (let i = 1; i <= 5; i++) {
    assert.is(doc.hosts[`lab-0${i}`]?.address, `127.66.0.${9 + i}`);
  }
  assert.is(doc.hosts['reports']?.address, '127.66.0.2');
  assert.is(doc.reports.host, 'reports');
  assert.is(doc.defaults.port, 2222);
  assert.is(doc.defaults.identity_file, '../test/lab/.run/0/client/id_ed25519');
  assert.is(doc.known_hosts, '../test/lab/.run/0/known_hosts');
});

test.run();

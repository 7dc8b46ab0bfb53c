// The SSH transport against real lab sshd hosts: hostile values arrive byte for byte
// and run nothing, jump hosts work, new host keys are recorded only when asked.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, type Lab } from '../lab/lab.js';
import { KnownHosts } from '../../orchestrator/connectors/ssh/known-hosts.js';
import { SshConnector } from '../../orchestrator/connectors/ssh/ssh-connector.js';
import { command } from '../../orchestrator/connectors/shell-command.js';
import type { ConnectionSettings } from '../../orchestrator/inventory/types.js';
import { jobManifest, onlySweep, runCli } from './cli-helpers.js';

const transport = suite('transport end to end');
let lab: Lab;
let work: string;
const marker = () => join(tmpdir(), `pwned-${process.pid}-${Math.random().toString(36).slice(2)}`);

function settings(address: string, jump: ConnectionSettings['jump'] = []): ConnectionSettings {
  return { address, port: 2222, user: 'root', identityFiles: [lab.clientKey], jump, connectTimeoutMs: 5000, keepaliveIntervalMs: 5000, retries: 0 };
}

transport.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'transport-e2e-'));
  lab = await labUp({ subnet: 22, hosts: 3, dir: join(work, 'lab') });
});
transport.after(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

transport('hostile values reach the remote shell as exact bytes and run nothing', async () => {
  const mark = marker();
  const values = [
    'two words',
    "it's",
    'say "hi"',
    'back\\slash',
    `$(touch ${mark})`,
    `\`touch ${mark}\``,
    `; touch ${mark}`,
    `&& touch ${mark}`,
    `| touch ${mark}`,
    'line1\nline2',
    'tab\there',
    '*',
    '?',
    '-n',
    '',
    'ünïcødé ✓',
    'x'.repeat(10_000),
  ];
  const connector = new SshConnector('lab-01', settings(lab.hosts[0]!.address), { knownHosts: await KnownHosts.load(lab.knownHostsFile), acceptNew: false });
  await connector.connect();
  try {
    const argv = await connector.run(command(['printf', '%s\\0', ...values]));
    assert.is(argv.exitCode, 0, argv.stderr);
    assert.equal(argv.stdout.split('\0').slice(0, -1), values);
    for (const value of values) {
      const env = await connector.run(command(['sh', '-c', 'printf %s "$HOSTILE"'], { env: { HOSTILE: value } }));
      assert.is(env.stdout, value);
    }
  } finally {
    await connector.close();
  }
  assert.not.ok(await stat(mark).then(() => true, () => false), 'no injected command ran');
});

transport('inventory vars with hostile values reach the helpers quoted, through a whole sweep', async () => {
  const mark = marker();
  const results = join(work, 'results-vars');
  const inventory = await lab.writeInventory({
    file: join(work, 'vars.yaml'),
    hosts: ['lab-01'],
    resultsDir: results,
    hostExtra: { 'lab-01': { vars: { ORCH_PACKAGES: `bash $(touch ${mark}) 'q" \`touch ${mark}\`\n; touch ${mark}`, ODD_VALUE: "'; touch " + mark + "; '" } } },
  });
  const { code, stdout, stderr } = await runCli(['--inventory', inventory, '--no-progress']);
  assert.is(code, 0, stdout + stderr);
  const { dir } = await onlySweep(results);
  const manifest = await jobManifest(dir, 'lab-01--sysinfo');
  assert.ok(manifest.environment?.packages['bash'], 'the var was used as data (bash looked up)');
  assert.not.ok(await stat(mark).then(() => true, () => false), 'no injected command ran');
});

transport('a jump host carries the connection to the target', async () => {
  const knownHosts = await KnownHosts.load(lab.knownHostsFile);
  const jump = { label: 'lab-01', address: lab.hosts[0]!.address, port: 2222, user: 'root', identityFiles: [lab.clientKey] };
  const connector = new SshConnector('lab-03', settings(lab.hosts[2]!.address, [jump]), { knownHosts, acceptNew: false });
  const before = lab.sessionPids('lab-01').length;
  await connector.connect();
  try {
    assert.ok(lab.sessionPids('lab-01').length > before, 'a session is open on the jump host');
    const result = await connector.run(command(['sh', '-c', 'echo "$HOME"']));
    assert.is(result.stdout.trim(), lab.hosts[2]!.home, 'the command ran on the target');
  } finally {
    await connector.close();
  }
});

transport('new host keys are refused by default and recorded only with --accept-new-host-keys', async () => {
  const partialKnownHosts = join(work, 'partial_known_hosts');
  const lines = (await readFile(lab.knownHostsFile, 'utf8')).split('\n').filter((l) => l && !l.includes(lab.hosts[2]!.address));
  await writeFile(partialKnownHosts, `${lines.join('\n')}\n`);
  const inventory = await lab.writeInventory({ file: join(work, 'accept.yaml'), resultsDir: join(work, 'results-accept'), extra: { known_hosts: partialKnownHosts }, defaults: { retries: 0 } });
  const refused = await runCli(['check', '--inventory', inventory]);
  assert.is(refused.code, 1);
  assert.match(refused.stdout, /lab-03\s+\S+\s+FAILED.*not in .*known_hosts.*--accept-new-host-keys/s);
  const accepted = await runCli(['check', '--inventory', inventory, '--accept-new-host-keys']);
  assert.is(accepted.code, 0, accepted.stdout);
  assert.match(await readFile(partialKnownHosts, 'utf8'), new RegExp(`\\[${lab.hosts[2]!.address.replace(/\./g, '\\.')}\\]:2222 ssh-ed25519 `));
  const again = await runCli(['check', '--inventory', inventory]);
  assert.is(again.code, 0, again.stdout);
});

transport.run();

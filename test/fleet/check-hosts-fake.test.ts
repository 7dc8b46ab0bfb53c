// `orchestrate check` through fake connectors: a host that answers shows what it runs, one that
// refuses shows why (without repeating its name), an odd answer is a failure with the host's text
// made inert, and a local host is shown as this machine; every connector is closed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkHosts } from '../../orchestrator/fleet/check-hosts.js';
import { ConnectError } from '../../orchestrator/connectors/connect-errors.js';
import { FakeConnector, type FakeScript } from './fake-connector.js';
import { hostSpec, inventoryOf } from './confirm-fixtures.js';

const answer = (stdout: string, exitCode = 0): FakeScript => (call) =>
  call.argv.join(' ') === 'sh -c echo ok; uname -sr' ? { stdout, exitCode } : undefined;

test('each host: ok with its kernel, the reason it failed, or a local host shown as this machine', async () => {
  const local = hostSpec('here');
  local.connection = { ...local.connection, transport: 'local', address: 'localhost', port: 0 };
  const hosts = [hostSpec('up'), hostSpec('down'), hostSpec('odd'), local];
  const connectors = new Map<string, FakeConnector>([
    ['up', new FakeConnector('up', answer('ok\nLinux 6.1.0-fake\n'))],
    ['down', new FakeConnector('down', answer(''), { connectError: new ConnectError('down', 'perf@127.0.0.1:22', 'refused', 'down: connection refused at perf@127.0.0.1:22', 4) })],
    ['odd', new FakeConnector('odd', () => ({ stdout: 'hello\n', stderr: 'motd \u001b[31mred\n', exitCode: 3 }))],
    ['here', new FakeConnector('here', answer('ok\nLinux 6.1.0-local\n'))],
  ]);
  const results = await checkHosts(inventoryOf('/nonexistent/results', []), hosts, { acceptNewHostKeys: false, connectorFor: (host) => connectors.get(host.name)! });
  const by = new Map(results.map((r) => [r.host, r]));
  assert.equal([by.get('up')!.ok, by.get('up')!.endpoint], [true, 'perf@127.0.0.1:22']);
  assert.match(by.get('up')!.detail, /Linux 6\.1\.0-fake/);
  assert.equal([by.get('down')!.ok, by.get('down')!.detail], [false, 'connection refused at perf@127.0.0.1:22']);
  assert.not.ok(by.get('odd')!.ok);
  assert.match(by.get('odd')!.detail, /unexpected answer \(exit 3\)/);
  assert.not.match(by.get('odd')!.detail, /\u001b/, 'host text is inert');
  assert.equal([by.get('here')!.ok, by.get('here')!.endpoint], [true, 'local (perf on this machine)']);
  for (const connector of connectors.values()) assert.ok(connector.closed, `${connector.hostName} closed`);
});

test.run();

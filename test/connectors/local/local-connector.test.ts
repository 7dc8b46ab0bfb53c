// The local connector keeps the connector contract with real processes on this machine: command
// values arrive byte for byte and run nothing, streams and exit statuses come through, close()
// ends the command's whole process group (a detached session lives on), and the environment is a
// login's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { LocalConnector } from '../../../orchestrator/connectors/local/local-connector.js';
import { ConnectionLostError } from '../../../orchestrator/connectors/connect-errors.js';
import { command } from '../../../orchestrator/connectors/shell-command.js';
import { isAlive as alive, waitGone } from '../../lab/proc.js';

const local = suite('local connector');
let work: string;
let connector: LocalConnector;

local.before.each(async () => {
  work = await mkdtemp(join(tmpdir(), 'local-connector-'));
  connector = new LocalConnector('here', { PATH: process.env.PATH, LANG: 'C.UTF-8', NODE_OPTIONS: '--leak', SSH_AUTH_SOCK: '/tmp/agent' });
  await connector.connect();
});
local.after.each(async () => {
  await connector.close();
  await rm(work, { recursive: true, force: true });
});

const exists = (path: string) => stat(path).then(() => true, () => false);

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

local('hostile values in a command value arrive as exact bytes and run nothing', async () => {
  const mark = join(work, 'pwned');
  const values = ['two words', "it's", `$(touch ${mark})`, `\`touch ${mark}\``, `; touch ${mark}`, 'line1\nline2', '*', '-n', '', 'ünïcødé ✓'];
  const argv = await connector.run(command(['printf', '%s\\0', ...values]));
  assert.is(argv.exitCode, 0, argv.stderr);
  assert.equal(argv.stdout.split('\0').slice(0, -1), values);
  const env = await connector.run(command(['sh', '-c', 'printf %s "$HOSTILE"'], { env: { HOSTILE: `"; touch ${mark}` } }));
  assert.is(env.stdout, `"; touch ${mark}`);
  assert.not.ok(await exists(mark), 'no injected command ran');
});

local('stdin, stdout, stderr and the exit status come through; a signal is reported by name', async () => {
  const result = await connector.run(command(['sh', '-c', 'cat; echo oops >&2; exit 7']), { stdin: 'from stdin\n' });
  assert.equal([result.exitCode, result.stdout, result.stderr], [7, 'from stdin\n', 'oops\n']);
  const killed = await connector.run(command(['exec', 'sh', '-c', 'kill -TERM $$']));
  assert.equal([killed.exitCode, killed.signal], [null, 'TERM']);
});

local('a command runs in the login directory with a login environment, not the orchestrator\'s', async () => {
  const result = await connector.run(command(['sh', '-c', 'pwd; echo "$HOME|$USER|$LOGNAME|$LANG|${NODE_OPTIONS-unset}|${SSH_AUTH_SOCK-unset}"']));
  const user = userInfo().username;
  assert.is(result.stdout, `${homedir()}\n${homedir()}|${user}|${user}|C.UTF-8|unset|unset\n`);
});

local('close() ends the command and everything it started (its process group), and done settles', async () => {
  const channel = await connector.exec(command(['sh', '-c', 'sleep 300 & echo $!; wait']));
  const pid = await new Promise<number>((resolve) => channel.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  assert.ok(alive(pid), 'the background sleep runs');
  channel.close();
  channel.close(); // idempotent
  const exit = await channel.done;
  assert.is(exit.exitCode, null);
  assert.equal(await waitGone([pid], 5000), [], 'the background sleep of the closed command was ended');
});

local('what ignores SIGHUP in the closed group is killed 2 s later', async () => {
  const channel = await connector.exec(command(['sh', '-c', "trap '' HUP; echo $$; while :; do sleep 0.1; done"]));
  const pid = await new Promise<number>((resolve) => channel.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  const closed = Date.now();
  channel.close();
  await channel.done;
  assert.equal(await waitGone([pid], 10_000), [], 'the HUP-proof shell was killed');
  assert.ok(Date.now() - closed >= 1500, 'not before the grace period');
});

local('a detached session (setsid) outlives close(), as a detached phase outlives a closed SSH channel', async () => {
  const pidFile = join(work, 'pid');
  const channel = await connector.exec(command(['sh', '-c', 'setsid sh -c \'echo $$ > "$1"; exec sleep 300\' x "$1" </dev/null >/dev/null 2>&1 & sleep 300', 'x', pidFile]));
  let detached = 0;
  const started = await until(() => {
    detached = Number(existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : 0);
    return detached > 0;
  }, 5000);
  assert.ok(started, 'the detached session started');
  channel.close();
  await channel.done;
  await new Promise((resolve) => setTimeout(resolve, 300));
  try {
    assert.ok(alive(detached), 'the detached session lives on');
  } finally {
    process.kill(detached, 'SIGKILL');
  }
});

local('closing the connector ends its running commands; exec after close() is a lost connection', async () => {
  const channel = await connector.exec(command(['sleep', '300']));
  await connector.close();
  assert.is((await channel.done).exitCode, null);
  assert.not.ok(connector.isConnected());
  try {
    await connector.exec(command(['true']));
    assert.unreachable('exec after close');
  } catch (error) {
    assert.instance(error, ConnectionLostError);
  }
});

local.run();

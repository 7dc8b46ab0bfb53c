// remote-scripts/guest/deploy-once (runs inside a kvm guest at first boot), sourced by real bash
// (its main does not run): script_path takes from the conf file only an absolute path of safe
// characters, since the guest then executes it as root; the state file is replaced atomically.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourced } from '../sourced-bash.js';

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deploy-once-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function scriptPath(conf: string | null): Promise<{ code: number; path: string }> {
  const file = join(dir, 'deploy.conf');
  if (conf !== null) await writeFile(file, conf);
  const run = await sourced(['guest/deploy-once'], 'if p=$(script_path); then printf "%s" "$p"; else exit 3; fi', { env: { DEPLOY_ONCE_CONF: file } });
  return { code: run.code, path: run.stdout };
}

test('script_path: the DEPLOY_SCRIPT line\'s absolute path', async () => {
  assert.equal(await scriptPath('# written at injection\nOTHER=x\nDEPLOY_SCRIPT=/opt/deploy/run-me_1.sh\n'), { code: 0, path: '/opt/deploy/run-me_1.sh' });
  assert.equal(await scriptPath('DEPLOY_SCRIPT=/a\nDEPLOY_SCRIPT=/b\n'), { code: 0, path: '/a' }, 'the first one');
});

test('script_path: no conf, no such line, a relative path or one with shell or blank characters gives none', async () => {
  for (const conf of [null, '', 'OTHER=/x\n', 'DEPLOY_SCRIPT=relative.sh\n', 'DEPLOY_SCRIPT=/x;reboot\n', 'DEPLOY_SCRIPT=/x $(id)\n', 'DEPLOY_SCRIPT=/x`id`\n', 'DEPLOY_SCRIPT=/x y\n', 'DEPLOY_SCRIPT=\n', ' DEPLOY_SCRIPT=/x\n']) {
    assert.equal(await scriptPath(conf), { code: 3, path: '' }, JSON.stringify(conf));
  }
});

test('set_state: the state file holds the new text, no temp file is left', async () => {
  const run = await sourced(['guest/deploy-once'], 'set_state running; set_state "exit=0"', { env: { DEPLOY_ONCE_STATE_DIR: dir } });
  assert.is(run.code, 0, run.stderr);
  assert.is(await readFile(join(dir, 'deploy.state'), 'utf8'), 'exit=0\n');
  assert.equal(await readdir(dir), ['deploy.state']);
});

test.run();

// remote-scripts/lib/midolman-config.sh, sourced by real bash through remote-scripts/midolman (its
// main does not run): the profile's agent configuration files installed over the originals and
// the originals put back byte for byte (content and mode), a file the job added removed again, a
// file someone changed since left alone; and the path check that keeps a file inside the agent's
// configuration directory. All in temp directories standing for /etc/midolman and the host cache.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourced } from '../sourced-bash.js';

const HELPER = ['midolman'];
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

let dir = '';
test.before.each(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midolman-config-'));
});
test.after.each(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('mm_config_check_path: relative paths of plain names pass; anything that could leave the directory is refused (the target is always DIR/PATH)', async () => {
  const check = (path: string) => sourced(HELPER, 'mm_config_check_path "$1"', { args: [path] });
  for (const ok of ['midolman.conf', 'conf.d/10-perf.conf', 'logback.xml', 'a_b+c-d.1']) {
    assert.is((await check(ok)).code, 0, ok);
  }
  for (const bad of ['../etc/passwd', 'conf.d/../../shadow', '..', './midolman.conf', 'a/./b', '/etc/midolman/x', 'a b', 'x;reboot', '$(id)', 'tab\there', '']) {
    const run = await check(bad);
    assert.is(run.code, 1, JSON.stringify(bad));
    assert.match(run.stderr, /configuration file path refused/);
  }
});

test('apply then restore: the profile\'s files replace the originals (mode kept) and are recorded; restore puts each original back byte for byte and removes what the job added', async () => {
  const etc = join(dir, 'etc-midolman');
  const files = join(dir, 'job-files');
  const art = join(dir, 'artifacts');
  await mkdir(etc);
  await mkdir(files);
  await mkdir(art);
  const original = '# the host\'s own\nzookeeper_hosts = 10.0.0.1:2181\n';
  await writeFile(join(etc, 'midolman.conf'), original, { mode: 0o640 });
  await writeFile(join(files, 'a'), 'profile midolman.conf\n');
  await writeFile(join(files, 'b'), '<configuration/>\n');
  const env = {
    ORCH_ARTIFACTS: art,
    ORCH_CACHE: join(dir, 'cache'),
    MIDOLMAN_AGENT_CONFIG_DIR: etc,
    MIDOLMAN_CONFIG_FILES: 'midolman.conf\tprofiles.d/perf/midolman/midolman.conf\nlogback.xml\tprofiles.d/default/midolman/logback.xml',
    ORCH_JOB_FILES: `config:midolman.conf\t${join(files, 'a')}\nconfig:logback.xml\t${join(files, 'b')}`,
  };
  const applied = await sourced(HELPER, 'mm_config_apply', { env });
  assert.is(applied.code, 0, applied.stderr);
  assert.is(await readFile(join(etc, 'midolman.conf'), 'utf8'), 'profile midolman.conf\n');
  assert.is((await stat(join(etc, 'midolman.conf'))).mode & 0o777, 0o640, 'the original\'s mode');
  assert.is(await readFile(join(etc, 'logback.xml'), 'utf8'), '<configuration/>\n');
  const report = JSON.parse(await readFile(join(art, 'agent-config.json'), 'utf8'));
  assert.equal(report, {
    config_dir: etc,
    files: [
      { path: 'midolman.conf', target: join(etc, 'midolman.conf'), from: 'profiles.d/perf/midolman/midolman.conf', sha256: sha('profile midolman.conf\n'), original_sha256: sha(original), replaced: true },
      { path: 'logback.xml', target: join(etc, 'logback.xml'), from: 'profiles.d/default/midolman/logback.xml', sha256: sha('<configuration/>\n'), original_sha256: '', replaced: false },
    ],
  });

  const restored = await sourced(HELPER, 'mm_config_restore', { env });
  assert.is(restored.code, 0, restored.stderr);
  assert.equal(JSON.parse(restored.stdout), [
    { target: join(etc, 'midolman.conf'), action: 'restored', sha256: sha(original), original_sha256: sha(original) },
    { target: join(etc, 'logback.xml'), action: 'removed', sha256: '', original_sha256: '' },
  ]);
  assert.is(await readFile(join(etc, 'midolman.conf'), 'utf8'), original);
  assert.is((await stat(join(etc, 'midolman.conf'))).mode & 0o777, 0o640);
  assert.not.ok(existsSync(join(etc, 'logback.xml')), 'the file the job added is gone');
  assert.not.ok(existsSync(join(dir, 'cache/midolman-config')), 'the record is gone once restored');
  assert.is((await sourced(HELPER, 'mm_config_restore', { env })).stdout, '[]', 'a second restore has nothing to do');
});

test('restore leaves alone (with a warning) a file changed since the job installed it', async () => {
  const etc = join(dir, 'etc');
  await mkdir(etc);
  await writeFile(join(dir, 'new'), 'from the profile\n');
  const env = {
    ORCH_ARTIFACTS: dir,
    ORCH_CACHE: join(dir, 'cache'),
    MIDOLMAN_AGENT_CONFIG_DIR: etc,
    MIDOLMAN_CONFIG_FILES: 'x.conf\tprofile',
    ORCH_JOB_FILES: `config:x.conf\t${join(dir, 'new')}`,
  };
  assert.is((await sourced(HELPER, 'mm_config_apply', { env })).code, 0);
  await writeFile(join(etc, 'x.conf'), 'edited by a person\n');
  const run = await sourced(HELPER, 'mm_config_restore', { env });
  assert.is(run.code, 0, run.stderr);
  assert.is(JSON.parse(run.stdout)[0].action, 'left-changed');
  assert.match(run.stderr, /"level":"warning","message":"configuration file [^"]*x\.conf changed since the job installed it: left as it is"/);
  assert.is(await readFile(join(etc, 'x.conf'), 'utf8'), 'edited by a person\n');
});

test.run();

// The build under test and the agent's lifecycle as the inventory writes them: what the schema
// accepts and refuses (moved keys name their new place), what the phases and their environment
// become, which files a job needs from this machine, how build.local_debs globs expand, and which
// build a job's build-info.json names.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '../../orchestrator/inventory/types.js';
import { midolmanScenario } from '../../orchestrator/scenarios/midolman.js';
import { MidolmanParams } from '../../orchestrator/scenarios/midolman/params.js';
import { aptSourceLine } from '../../orchestrator/scenarios/midolman/agent-env.js';
import { expandLocalDebs, fileNameMatcher, LocalDebsError } from '../../orchestrator/scenarios/midolman/local-debs.js';
import { buildIdentityOf, BuildInfoError, BuildInfoSchema, readBuildIdentity } from '../../orchestrator/scenarios/midolman/build-identity.js';

const t = suite('midolman build and agent params');
let dir = '';
t.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midolman-build-'));
});
t.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function host(profile = 'default'): HostSpec {
  return { name: 'h', profile, profileChoice: { reason: 'default' }, vars: {}, varPositions: {}, scenarios: [], position: { file: 'lab.yaml', line: 1, column: 1 } } as unknown as HostSpec;
}

function issues(input: unknown): string[] {
  const r = MidolmanParams.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const SERVICE = { service: 'midolman', pid_file: '/run/midolman/midolman.pid', jmx_url: 'service:jmx:rmi:///jndi/rmi://127.0.0.1:7200/jmxrmi' };

t('a build needs exactly one source and an agent the job restarts', () => {
  assert.equal(issues({ build: { local_debs: ['/ci/*.deb'] }, agent: SERVICE }), []);
  assert.equal(issues({ build: { apt: { url: 'http://127.66.0.3:8080/', packages: { midolman: '2.0.0-lab1' }, trusted: true } }, agent: { start: ['/usr/bin/true'], stop: ['/usr/bin/true'] } }), []);
  assert.match(issues({ build: {}, agent: SERVICE }).join('\n'), /build: names no build/);
  assert.match(issues({ build: { local_debs: ['/a.deb'], host_debs: ['/b.deb'] }, agent: SERVICE }).join('\n'), /one build source at a time/);
  assert.match(issues({ build: { host_debs: ['/b.deb'] } }).join('\n'), /build: a build needs agent\.service or agent\.start\/stop/);
  assert.match(issues({ build: { host_debs: ['relative.deb'] }, agent: SERVICE }).join('\n'), /host_debs\.0/);
  assert.match(issues({ build: { host_debs: ['/with space.deb'] }, agent: SERVICE }).join('\n'), /host_debs\.0/);
  assert.match(issues({ build: { apt: { url: 'ftp://x/', packages: { midolman: '1' } } }, agent: SERVICE }).join('\n'), /apt\.url/);
  assert.match(issues({ build: { apt: { url: 'http://x/', packages: { midolman: '1 2' } } }, agent: SERVICE }).join('\n'), /apt\.packages\.midolman/);
  assert.match(issues({ build: { apt: { url: 'http://x/\n#', packages: { midolman: '1' } } }, agent: SERVICE }).join('\n'), /apt\.url/, 'no line breaks into the source list');
});

t('agent: a service or start/stop commands as word lists, not both; durations parsed', () => {
  assert.match(issues({ agent: { service: 'midolman', start: ['x'], stop: ['y'] } }).join('\n'), /exclude each other/);
  assert.match(issues({ agent: { start: ['x'] } }).join('\n'), /agent\.stop: start and stop commands go together/);
  assert.match(issues({ agent: { status: ['x'] } }).join('\n'), /status command needs start and stop/);
  assert.match(issues({ agent: { start: 'systemctl start midolman', stop: ['x'] } }).join('\n'), /agent\.start/, 'a shell string is refused');
  assert.match(issues({ agent: { service: 'mido lman' } }).join('\n'), /agent\.service/);
  const parsed = MidolmanParams.parse({ agent: { service: 'midolman', ready_timeout: '90s' } });
  assert.is(parsed.agent?.ready_timeout, 90_000);
});

t('the old keys are refused with a message naming the new one', () => {
  const all = issues({ packages: ['/x.deb'], agent_pid_file: '/run/x.pid', agent_main_class: 'A', jmx_url: 'service:jmx:x' }).join('\n');
  assert.match(all, /packages: packages was replaced: use build: \{ host_debs: \[\.\.\.\] \}/);
  assert.match(all, /agent_pid_file: .*use agent: \{ pid_file: \.\.\. \}/);
  assert.match(all, /agent_main_class: .*agent: \{ main_class/);
  assert.match(all, /jmx_url: .*agent: \{ jmx_url/);
});

t('cluster_check: endpoints as host:port, commands as word lists, something to check', () => {
  assert.equal(issues({ cluster_check: { endpoints: ['127.0.0.1:2181', '[::1]:9042'], commands: [['true']] } }), []);
  assert.match(issues({ cluster_check: { endpoints: ['127.0.0.1'] } }).join('\n'), /cluster_check\.endpoints\.0/);
  assert.match(issues({ cluster_check: {} }).join('\n'), /names nothing to check/);
});

t('phases: a managed agent adds agent-start after install and build-info after both; cluster-check before install', () => {
  const params = MidolmanParams.parse({ build: { host_debs: ['/var/tmp/midolman.deb'] }, agent: SERVICE, cluster_check: { endpoints: ['127.0.0.1:2181'], commands: [['zkCli.sh', 'ls', '/'], ['nodetool', 'status']] } });
  const phases = midolmanScenario.phases({ host: host('lab-smoke'), params, profilesDir: join(process.cwd(), 'inventory/profiles.d') });
  assert.equal(phases.map((p) => p.name).slice(0, 7), ['check', 'cleanup', 'profile', 'cluster-check', 'install', 'agent-start', 'build-info']);
  const env = phases[0]!.env!;
  assert.is(env['MIDOLMAN_BUILD_SOURCE'], 'host');
  assert.is(env['MIDOLMAN_BUILD_HOST_DEBS'], '/var/tmp/midolman.deb');
  assert.is(env['MIDOLMAN_AGENT_SERVICE'], 'midolman');
  assert.is(env['MIDOLMAN_AGENT_MANAGED'], '1');
  assert.is(env['MIDOLMAN_AGENT_STOP_AT_TEARDOWN'], '1');
  assert.is(env['MIDOLMAN_AGENT_READY_TIMEOUT'], '120');
  assert.is(env['MIDOLMAN_JMX_URL'], SERVICE.jmx_url);
  assert.is(env['MIDOLMAN_CLUSTER_ENDPOINTS'], '127.0.0.1:2181');
  assert.is(env['MIDOLMAN_CLUSTER_COMMANDS'], 'zkCli.sh\nls\n/\n\nnodetool\nstatus');
  const start = phases.find((p) => p.name === 'agent-start')!;
  assert.ok(start.timeoutMs! >= 120_000 + 60_000, 'agent-start waits at least the readiness limit');

  const kept = midolmanScenario.phases({ host: host(), params: MidolmanParams.parse({ agent: { ...SERVICE, stop_at_teardown: false, ready_timeout: '5m' } }), profilesDir: join(process.cwd(), 'inventory/profiles.d') });
  assert.is(kept[0]!.env!['MIDOLMAN_AGENT_STOP_AT_TEARDOWN'], '0');
  assert.is(kept[0]!.env!['MIDOLMAN_AGENT_READY_TIMEOUT'], '300');
  assert.ok(kept.find((p) => p.name === 'agent-start')!.timeoutMs! >= 300_000);

  const unmanaged = midolmanScenario.phases({ host: host(), params: MidolmanParams.parse({ agent: { pid_file: '/run/x.pid' } }), profilesDir: join(process.cwd(), 'inventory/profiles.d') });
  assert.not.ok(unmanaged.some((p) => p.name === 'agent-start' || p.name === 'cluster-check'));
  assert.is(unmanaged[0]!.env!['MIDOLMAN_AGENT_MANAGED'], '0');
  assert.is(unmanaged[0]!.env!['MIDOLMAN_BUILD_SOURCE'], 'none');
});

t('apt: one sources.list line, flat or with a suite and components', () => {
  assert.is(aptSourceLine({ url: 'http://127.66.0.3:8080/', packages: { midolman: '1' }, trusted: true }), 'deb [trusted=yes] http://127.66.0.3:8080/ ./');
  assert.is(aptSourceLine({ url: 'https://ci/midonet', suite: 'bookworm', components: ['main', 'nightly'], packages: { midolman: '1' }, signed_by: '/etc/apt/keyrings/ci.gpg' }), 'deb [signed-by=/etc/apt/keyrings/ci.gpg] https://ci/midonet bookworm main nightly');
});

t("job files: the build's local .debs (globs expanded) and the profile's agent configuration, only for a managed agent", async () => {
  const ci = join(dir, 'ci');
  await mkdir(ci, { recursive: true });
  for (const f of ['midolman_2.0.0-1_all.deb', 'midonet-tools_2.0.0-1_all.deb', 'notes.txt', '.hidden.deb']) await writeFile(join(ci, f), f);
  const profiles = join(dir, 'profiles');
  await mkdir(join(profiles, 'default', 'midolman'), { recursive: true });
  await mkdir(join(profiles, 'night', 'midolman'), { recursive: true });
  await writeFile(join(profiles, 'default', 'midolman', 'midolman.conf'), '[zookeeper]\n');
  await writeFile(join(profiles, 'default', 'midolman', 'logback.xml'), '<configuration/>');
  await writeFile(join(profiles, 'night', 'midolman', 'midolman.conf'), '[standin]\npps = 900\n');
  const params = MidolmanParams.parse({ build: { local_debs: [join(ci, '*.deb')] }, agent: SERVICE });
  const got = await midolmanScenario.jobFiles!({ host: host('night'), params, profilesDir: profiles });
  assert.equal(got, [
    { local: join(ci, 'midolman_2.0.0-1_all.deb'), label: 'build' },
    { local: join(ci, 'midonet-tools_2.0.0-1_all.deb'), label: 'build' },
    { local: join(profiles, 'default', 'midolman', 'logback.xml'), label: 'config:logback.xml' },
    { local: join(profiles, 'night', 'midolman', 'midolman.conf'), label: 'config:midolman.conf' },
  ]);
  const env = midolmanScenario.phases({ host: host('night'), params, profilesDir: profiles })[0]!.env!;
  assert.is(env['MIDOLMAN_CONFIG_FILES'], 'logback.xml\tdefault/midolman/logback.xml\nmidolman.conf\tnight/midolman/midolman.conf');

  const unmanaged = MidolmanParams.parse({ agent: { pid_file: '/run/x.pid' } });
  assert.equal(await midolmanScenario.jobFiles!({ host: host('night'), params: unmanaged, profilesDir: profiles }), [], 'no restart: no configuration sent');
  const env2 = midolmanScenario.phases({ host: host('night'), params: unmanaged, profilesDir: profiles })[0]!.env!;
  assert.is(env2['MIDOLMAN_CONFIG_FILES'], undefined);
  assert.is(env2['MIDOLMAN_CONFIG_FILES_UNAPPLIED'], 'default/midolman/logback.xml\nnight/midolman/midolman.conf');
});

t('local_debs: wildcards in the file name only; no match and missing files are errors naming them', async () => {
  assert.ok(fileNameMatcher('midolman_*.deb')('midolman_2.0_all.deb'));
  assert.not.ok(fileNameMatcher('midolman_?.deb')('midolman_12.deb'));
  assert.ok(fileNameMatcher('m[a-c]x.deb')('mbx.deb'));
  assert.not.ok(fileNameMatcher('m[!a-c]x.deb')('mbx.deb'));
  assert.ok(fileNameMatcher('a+b.deb')('a+b.deb'), 'regex characters are literal');
  assert.ok(fileNameMatcher('a(b)*.deb')('a(b)1.deb'), 'parentheses are literal');
  assert.ok(fileNameMatcher('a{b,c}|d.deb')('a{b,c}|d.deb'), 'braces and bars are literal');
  assert.not.ok(fileNameMatcher('a{b,c}.deb')('ab.deb'), 'no brace expansion');
  assert.not.ok(fileNameMatcher('*.deb')('.hidden.deb'), 'dot files only when named');
  const ci = join(dir, 'ci');
  assert.equal(await expandLocalDebs([join(ci, 'midolman_*.deb'), join(ci, 'midolman_2.0.0-1_all.deb')]), [join(ci, 'midolman_2.0.0-1_all.deb')], 'each file once');
  const fails = async (patterns: string[], re: RegExp) => {
    try {
      await expandLocalDebs(patterns);
      assert.unreachable(`accepted ${patterns.join(' ')}`);
    } catch (error) {
      assert.instance(error, LocalDebsError);
      assert.match((error as Error).message, re);
    }
  };
  await fails([join(ci, 'nothing-*.deb')], /nothing-\*\.deb matches no file/);
  await fails([join(ci, 'gone.deb')], /gone\.deb does not exist on this machine/);
  await fails([join(dir, '*', 'x.deb')], /wildcards are allowed in the file name only/);
});

t("build identity: the running agent's version and revision win; the param's revision fills in; host JSON validated", async () => {
  const info = (build: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) =>
    BuildInfoSchema.parse({ agent_package: 'midolman', agent_package_version: '2.0.0-lab1', ...(build ? { build } : {}), ...extra });
  const b = { package: 'midolman', source: 'local', version_before: '1.0.0-lab1', version_after: '2.0.0-lab1', version_running: '2.0.0-lab1', revision: 'FA3EF2D8221DFF74A58EDD040D8230E7D4C633A3', verified: true };
  assert.equal(buildIdentityOf(info(b)), { label: 'midolman 2.0.0-lab1', package: 'midolman', version: '2.0.0-lab1', revision: 'fa3ef2d8221dff74a58edd040d8230e7d4c633a3' });
  assert.equal(buildIdentityOf(info({ ...b, version_running: '', revision: '' }, { git_revision: 'c8b3b72c2f' })), { label: 'midolman 2.0.0-lab1', package: 'midolman', version: '2.0.0-lab1', revision: 'c8b3b72c2f' });
  assert.equal(buildIdentityOf(info(undefined)), { label: 'midolman 2.0.0-lab1', package: 'midolman', version: '2.0.0-lab1' });
  assert.is(buildIdentityOf({ agent_package: 'midolman', agent_package_version: '' }), undefined);
  // The running agent was checked and holds no jar of the package: its version is not claimed.
  assert.equal(buildIdentityOf(info({ ...b, version_running: '', revision: '', verified: false }, { git_revision: 'c8b3b72c2f' })), { label: 'midolman (unknown version, revision c8b3b72c2f)', package: 'midolman', revision: 'c8b3b72c2f' });
  assert.is(buildIdentityOf(info({ ...b, version_running: '', revision: '', verified: false })), undefined);

  const raw = join(dir, 'raw');
  await mkdir(join(raw, 'artifacts'), { recursive: true });
  assert.is(await readBuildIdentity(raw), undefined, 'no build-info.json: nothing said');
  // A job that failed before build-info (its agent did not come up) is named by what it installed.
  await writeFile(join(raw, 'artifacts', 'install.json'), JSON.stringify({ source: 'local', package: 'midolman', version_before: '2.0.0-lab1', version_after: '2.1.0-lab1' }));
  assert.equal(await readBuildIdentity(raw, 'abcdef12'), { label: 'midolman 2.1.0-lab1', package: 'midolman', version: '2.1.0-lab1', revision: 'abcdef12' });
  await writeFile(join(raw, 'artifacts', 'build-info.json'), JSON.stringify(info(b)));
  assert.is((await readBuildIdentity(raw))?.version, '2.0.0-lab1');
  await writeFile(join(raw, 'artifacts', 'build-info.json'), JSON.stringify({ agent_package: 'midolman', build: { ...b, source: 'ftp' } }));
  try {
    await readBuildIdentity(raw);
    assert.unreachable('accepted an unknown source');
  } catch (error) {
    assert.instance(error, BuildInfoError);
    assert.match((error as Error).message, /build-info\.json: build\.source/);
  }
});

t('an agent that is no JVM: process_name finds it (one way to find the agent at a time) and reaches the helpers', () => {
  assert.equal(issues({ topology: 'ovs_bridge', agent: { process_name: 'ovs-vswitchd' } }), []);
  assert.match(issues({ agent: { process_name: 'ovs-vswitchd', pid_file: '/run/x.pid' } }).join('\n'), /agent\.process_name: process_name and pid_file exclude each other/);
  assert.match(issues({ agent: { process_name: 'ovs vswitchd' } }).join('\n'), /agent\.process_name: a program name/);
  const params = MidolmanParams.parse({ topology: 'ovs_l3', agent: { process_name: 'ovs-vswitchd' }, heap_dump: false });
  const phases = midolmanScenario.phases({ host: host(), params, profilesDir: join(process.cwd(), 'inventory/profiles.d') });
  assert.is(phases[0]!.env!['MIDOLMAN_AGENT_PROCESS_NAME'], 'ovs-vswitchd');
  assert.is(phases[0]!.env!['MIDOLMAN_TOPOLOGY'], 'ovs_l3');
});

t.run();

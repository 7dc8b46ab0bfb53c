// The lab's agent packages, built for real (javac, jar, dpkg-deb, dpkg-scanpackages) into a temp
// root: what each .deb holds, what its jar's MANIFEST says, that the broken build fails at startup
// with an error in its log, the flat repository's index, and the content-hash cache.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gunzipSync } from 'node:zlib';
import { guardedSuite, missingRequirement } from '../../support/requirements.js';
import { AGENT_VERSIONS, buildAgentPackages, jarVersionOf, type AgentPackages } from './build.js';

const t = suite('lab agent package');
const missing = await missingRequirement(async () => {
  for (const tool of ['javac', 'jar', 'java', 'dpkg-deb', 'dpkg-scanpackages', 'unzip']) {
    const r = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (r.exitCode !== 0) return `needs ${tool} (test/install-deps.sh: openjdk-17-jdk-headless, dpkg-dev, unzip)`;
  }
  return null;
});
const test = guardedSuite(t, missing, 'the agent package tests');

let root = '';
let built: AgentPackages;

t.before(async () => {
  if (missing) return;
  root = await mkdtemp(path.join(os.tmpdir(), 'agent-package-'));
  built = await buildAgentPackages({ root });
});
t.after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function debField(deb: string, field: string): Promise<string> {
  return (await execa('dpkg-deb', ['-f', deb, field])).stdout.trim();
}

async function debFile(deb: string, member: string, dir: string): Promise<Buffer> {
  const out = path.join(dir, `x-${path.basename(deb)}`);
  await execa('dpkg-deb', ['-x', deb, out]);
  return readFile(path.join(out, member));
}

test('three packages named midolman: v1 and v2 good, one broken; each laid out like midolman with conffiles', async () => {
  assert.is(built.built, true);
  const versions = Object.values(built.packages).map((p) => p.version).sort();
  assert.equal(versions, [AGENT_VERSIONS.v1.version, AGENT_VERSIONS.v2.version, AGENT_VERSIONS.broken.version].sort());
  for (const p of Object.values(built.packages)) {
    assert.is(await debField(p.deb, 'Package'), 'midolman');
    assert.is(await debField(p.deb, 'Version'), p.version);
    assert.match(await debField(p.deb, 'Depends'), /openjdk-17-jre-headless \| java17-runtime-headless/);
    assert.is(createHash('sha256').update(await readFile(p.deb)).digest('hex'), p.sha256);
    const listing = (await execa('dpkg-deb', ['-c', p.deb])).stdout;
    for (const f of ['./usr/share/midolman/midolman.jar', './etc/midolman/midolman.conf', './etc/midolman/midolman-env.sh', './etc/midolman/logback.xml', './etc/init.d/midolman', './lib/systemd/system/midolman.service', './usr/share/midolman/midolman-start', './var/log/midolman/']) {
      assert.ok(listing.includes(f), `${p.version}: ${f} in\n${listing}`);
    }
    const control = path.join(root, `ctl-${p.name}`);
    await execa('dpkg-deb', ['-e', p.deb, control]);
    assert.equal((await readFile(path.join(control, 'conffiles'), 'utf8')).trim().split('\n'), ['/etc/midolman/midolman.conf', '/etc/midolman/midolman-env.sh', '/etc/midolman/logback.xml', '/etc/init.d/midolman']);
    const md5sums = await readFile(path.join(control, 'md5sums'), 'utf8');
    assert.ok(md5sums.includes(`${p.jarMd5}  usr/share/midolman/midolman.jar`), md5sums);
    // Maintainer scripts never start or restart the agent.
    for (const script of ['postinst', 'prerm', 'postrm']) {
      const text = await readFile(path.join(control, script), 'utf8');
      assert.not.match(text.replace(/^#.*$/gm, ''), /\b(start|restart)\b/, `${script} must not (re)start the agent`);
    }
  }
  const env = (await debFile(built.packages.v1.deb, 'etc/midolman/midolman-env.sh', root)).toString();
  assert.match(env, /jmxremote\.host=127\.0\.0\.1/, 'JMX on loopback only');
  assert.match(env, /-Xlog:gc\*:file=/, 'a GC log');
});

test("each jar's MANIFEST names its build: title, version, a git-like revision; versions differ observably", async () => {
  const revisions = new Set<string>();
  for (const p of Object.values(built.packages)) {
    const jar = path.join(root, `${p.name}.jar`);
    await writeFile(jar, await debFile(p.deb, 'usr/share/midolman/midolman.jar', root));
    const manifest = (await execa('unzip', ['-p', jar, 'META-INF/MANIFEST.MF'])).stdout;
    // as MidoNet's gradle build: the project's snapshot version, not the package's; the revision in git.properties
    assert.match(manifest, /^Implementation-Title: Midolman Java daemon$/m);
    assert.match(manifest, new RegExp(`^Implementation-Version: ${jarVersionOf(p.version).replace(/\./g, '\\.')}$`, 'm'));
    assert.is(jarVersionOf(p.version), `${p.version.split('-')[0]}-SNAPSHOT`);
    const gitProps = (await execa('unzip', ['-p', jar, 'git.properties'])).stdout;
    assert.match(gitProps, new RegExp(`^git\\.commit\\.id=${p.revision}$`, 'm'));
    assert.match(p.revision, /^[0-9a-f]{40}$/);
    revisions.add(p.revision);
    assert.is(/Standin-Startup-Failure/.test(manifest), p.broken);
  }
  assert.is(revisions.size, 3);
  assert.is.not(AGENT_VERSIONS.v1.latencyNs, AGENT_VERSIONS.v2.latencyNs);
});

test('the broken build logs an ERROR to the logback file and exits 1; a good build logs its version and keeps running', async () => {
  const log = path.join(root, 'agent.log');
  const logback = path.join(root, 'logback.xml');
  await writeFile(logback, `<configuration><appender name="FILE" class="ch.qos.logback.core.FileAppender"><file>${log}</file></appender><root level="DEBUG"><appender-ref ref="FILE"/></root></configuration>`);
  const broken = path.join(root, 'broken.jar');
  await writeFile(broken, await debFile(built.packages.broken.deb, 'usr/share/midolman/midolman.jar', root));
  const run = await execa('java', ['-Xmx32m', `-Dlogback.configurationFile=${logback}`, '-cp', broken, 'MidolmanStandin'], { reject: false, timeout: 60_000 });
  assert.is(run.exitCode, 1);
  const text = await readFile(log, 'utf8');
  assert.match(text, /INFO .*version 2\.1\.0-SNAPSHOT, revision [0-9a-f]{40}/);
  assert.match(text, /ERROR .*Midolman failed to start: cannot bind the datapath/);

  await writeFile(log, '');
  const good = path.join(root, 'v2.jar');
  await writeFile(good, await debFile(built.packages.v2.deb, 'usr/share/midolman/midolman.jar', root));
  const conf = path.join(root, 'midolman.conf');
  await writeFile(conf, '[zookeeper]\nzookeeper_hosts = 127.0.0.1:2181\n[standin]\npps = 700\n');
  const child = execa('java', ['-Xmx32m', `-Dlogback.configurationFile=${logback}`, `-Dmidolman.conf=${conf}`, '-cp', good, 'MidolmanStandin'], { reject: false });
  try {
    const deadline = Date.now() + 60_000;
    while (!(await readFile(log, 'utf8')).includes('started:')) {
      assert.ok(child.exitCode === null, `the v2 agent exited: ${child.exitCode}`);
      assert.ok(Date.now() < deadline, 'the v2 agent did not log its start within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = await readFile(log, 'utf8');
    assert.match(started, /version 2\.0\.0-SNAPSHOT/);
    assert.match(started, /configuration .*midolman\.conf sha256 [0-9a-f]{64}/);
    assert.match(started, /DEBUG .*config \[standin\] pps = 700/, 'the root level DEBUG of logback.xml is honoured');
    assert.match(started, /700 simulated packets\/s, mean simulation latency 32000 ns/);
  } finally {
    child.kill('SIGTERM');
    await child;
  }
});

test('a flat apt repository of the three (Packages, Packages.gz, Release with their checksums)', async () => {
  const packages = await readFile(path.join(built.repoDir, 'Packages'), 'utf8');
  for (const p of Object.values(built.packages)) {
    assert.match(packages, new RegExp(`Version: ${p.version.replace(/\./g, '\\.')}\\n`));
    assert.ok(packages.includes(`SHA256: ${p.sha256}`), `${p.version} checksum in Packages`);
    assert.ok(packages.includes(`Filename: ./${path.basename(p.deb)}`));
  }
  assert.is(gunzipSync(await readFile(path.join(built.repoDir, 'Packages.gz'))).toString(), packages);
  const release = await readFile(path.join(built.repoDir, 'Release'), 'utf8');
  const sum = createHash('sha256').update(packages).digest('hex');
  assert.ok(release.includes(` ${sum} ${Buffer.byteLength(packages)} Packages\n`), release);
});

test('cached by the content hash of its inputs: a second build reuses the first', async () => {
  const again = await buildAgentPackages({ root });
  assert.is(again.built, false);
  assert.is(again.dir, built.dir);
  assert.equal(again.packages, built.packages);
});

t.run();

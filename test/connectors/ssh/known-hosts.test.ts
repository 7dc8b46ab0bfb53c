// Host key verification against real OpenSSH keys and files: keys come from ssh-keygen,
// hashed lines from `ssh-keygen -H`, fingerprints are compared with `ssh-keygen -lf`, and the
// end-to-end suite talks to a real sshd on 127.0.0.1.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  HostKeyChangedError,
  KnownHosts,
  RevokedHostKeyError,
  UnknownHostKeyError,
  fingerprintSha256,
  keyTypeOf,
  makeHostVerifier,
} from '../../../orchestrator/connectors/ssh/known-hosts.js';

interface Key {
  type: string;
  b64: string;
  blob: Buffer;
  pub: string;
  priv: string;
}

const root = mkdtempSync(join(tmpdir(), 'known-hosts-test-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

let keyCounter = 0;
function genKey(t: 'ed25519' | 'rsa' | 'ecdsa', bits?: number): Key {
  const priv = join(root, `key${++keyCounter}_${t}`);
  const args = ['-q', '-t', t, '-N', '', '-C', `test${keyCounter}`, '-f', priv];
  if (bits) args.push('-b', String(bits));
  execFileSync('ssh-keygen', args);
  const [type, b64] = readFileSync(`${priv}.pub`, 'utf8').trim().split(' ') as [string, string];
  return { type, b64, blob: Buffer.from(b64, 'base64'), pub: `${priv}.pub`, priv };
}

function keygenFingerprint(pubFile: string): string {
  // "256 SHA256:xxxx comment (ED25519)"
  return execFileSync('ssh-keygen', ['-lf', pubFile], { encoding: 'utf8' }).split(' ')[1]!;
}

let fileCounter = 0;
function khFile(lines: string[]): string {
  const f = join(root, `known_hosts_${++fileCounter}`);
  writeFileSync(f, lines.join('\n') + '\n');
  return f;
}

const ed1 = genKey('ed25519');
const ed2 = genKey('ed25519');
const ed3 = genKey('ed25519');
const rsa = genKey('rsa', 2048);
const ec256 = genKey('ecdsa', 256);
const ec384 = genKey('ecdsa', 384);

/** Resolves with what p rejected with; fails the test if p resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return assert.unreachable('expected a rejection');
}

const line = (hosts: string, k: Key) => `${hosts} ${k.type} ${k.b64}`;

// ---------------------------------------------------------------------------------------------
const basics = suite('known-hosts: fingerprints and parsing');

basics('fingerprintSha256 equals ssh-keygen -lf, keyTypeOf reads the blob type', () => {
  for (const k of [ed1, rsa, ec256, ec384]) {
    assert.is(fingerprintSha256(k.blob), keygenFingerprint(k.pub), k.type);
    assert.is(keyTypeOf(k.blob), k.type);
  }
  assert.is(keyTypeOf(ed1.blob), 'ssh-ed25519');
  assert.is(keyTypeOf(rsa.blob), 'ssh-rsa');
  assert.is(keyTypeOf(ec384.blob), 'ecdsa-sha2-nistp384');
  assert.not.match(fingerprintSha256(ed1.blob), /=/);
  assert.throws(() => keyTypeOf(Buffer.from([0, 0, 0, 50, 1, 2])));
  assert.throws(() => keyTypeOf(Buffer.alloc(2)));
});

basics('missing file is an empty known_hosts', async () => {
  const kh = await KnownHosts.load(join(root, 'does', 'not', 'exist'));
  assert.equal(kh.check('h', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.knownKeyAlgorithms('h', 22), []);
  assert.equal(kh.skippedLines, []);
});

basics('plain host entry matches port 22 only, case-insensitively', async () => {
  const kh = await KnownHosts.load(khFile([line('node1.lab.example', ed1)]));
  assert.equal(kh.check('node1.lab.example', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('NODE1.Lab.Example', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('node1.lab.example', 2222, ed1.blob), { status: 'unknown' });
  assert.equal(kh.check('node2.lab.example', 22, ed1.blob), { status: 'unknown' });
});

basics('[host]:port entry matches that port only', async () => {
  const kh = await KnownHosts.load(khFile([line('[10.0.0.5]:2222', ed1), line('[::1]:2200', ed2)]));
  assert.equal(kh.check('10.0.0.5', 2222, ed1.blob), { status: 'match' });
  assert.equal(kh.check('10.0.0.5', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.check('10.0.0.5', 2223, ed1.blob), { status: 'unknown' });
  assert.equal(kh.check('::1', 2200, ed2.blob), { status: 'match' });
});

basics('comma lists, * and ? wildcards, ! negation', async () => {
  const kh = await KnownHosts.load(
    khFile([line('*.lab.example,10.0.0.?,!bad.lab.example', ed1), line('[gw?]:*', ed2), line('!only-negated', ed3)]),
  );
  assert.equal(kh.check('a.lab.example', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('deep.sub.lab.example', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('10.0.0.7', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('10.0.0.70', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.check('lab.example', 22, ed1.blob), { status: 'unknown' });
  // negated: the line is excluded although *.lab.example matches
  assert.equal(kh.check('bad.lab.example', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.check('gw1', 2022, ed2.blob), { status: 'match' });
  assert.equal(kh.check('gw1', 22, ed2.blob), { status: 'unknown' });
  assert.equal(kh.check('gw12', 2022, ed2.blob), { status: 'unknown' });
  // a line with only a negated pattern matches nothing
  assert.equal(kh.check('anything', 22, ed3.blob), { status: 'unknown' });
});

basics('hashed entries written by ssh-keygen -H', async () => {
  const f = khFile([line('host1.lab.example', ed1), line('[127.0.0.1]:2200', ed2), line('10.1.1.1', rsa)]);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', f], { stdio: 'ignore' });
  rmSync(`${f}.old`, { force: true });
  const text = readFileSync(f, 'utf8');
  assert.not.match(text, /host1|127\.0\.0\.1|10\.1\.1\.1/);
  assert.is(text.split('\n').filter((l) => l.startsWith('|1|')).length, 3);
  const kh = await KnownHosts.load(f);
  assert.equal(kh.skippedLines, []);
  assert.equal(kh.check('host1.lab.example', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('HOST1.lab.example', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('127.0.0.1', 2200, ed2.blob), { status: 'match' });
  assert.equal(kh.check('127.0.0.1', 22, ed2.blob), { status: 'unknown' });
  assert.equal(kh.check('host2.lab.example', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.knownKeyAlgorithms('10.1.1.1', 22), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  assert.is(kh.check('host1.lab.example', 22, ed3.blob).status, 'changed');
});

basics('@revoked refuses the key even when a plain line matches it', async () => {
  const f = khFile(['# fleet keys', line('node1', ed1), line('node1', ed2), `@revoked * ${ed2.type} ${ed2.b64}`, `@revoked other ${ed1.type} ${ed1.b64}`]);
  const kh = await KnownHosts.load(f);
  const c = kh.check('node1', 22, ed2.blob);
  assert.equal(c, {
    status: 'revoked',
    presented: { type: 'ssh-ed25519', fingerprint: keygenFingerprint(ed2.pub) },
    file: f,
    line: 4,
  });
  // the @revoked line for ed1 names another host only
  assert.equal(kh.check('node1', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('other', 22, ed1.blob).status, 'revoked');
  // revoked keys are not "known" key types either
  assert.equal(kh.knownKeyTypes('other', 22), []);
});

basics('changed: same type, different key; error shows both fingerprints and file:line', async () => {
  const f = khFile(['# comment', '', line('[10.0.0.9]:2222', ed1), line('[10.0.0.9]:2222', ec256)]);
  const kh = await KnownHosts.load(f);
  const c = kh.check('10.0.0.9', 2222, ed2.blob);
  assert.equal(c, {
    status: 'changed',
    presented: { type: 'ssh-ed25519', fingerprint: keygenFingerprint(ed2.pub) },
    known: [{ type: 'ssh-ed25519', fingerprint: keygenFingerprint(ed1.pub), file: f, line: 3 }],
  });
  const v = makeHostVerifier(kh, '10.0.0.9', 2222, true);
  let ok: boolean | undefined;
  v.verify(ed2.blob, (r) => (ok = r));
  assert.is(ok, false, 'a changed key is refused even with acceptNew');
  const err = v.errorFor();
  assert.instance(err, HostKeyChangedError);
  const e = err as HostKeyChangedError;
  assert.is(e.host, '10.0.0.9');
  assert.is(e.port, 2222);
  assert.match(e.message, keygenFingerprint(ed1.pub));
  assert.match(e.message, keygenFingerprint(ed2.pub));
  assert.match(e.message, `${f}:3`);
  assert.match(e.message, `ssh-keygen -R '[10.0.0.9]:2222' -f ${f}`);
  assert.not.match(e.message, keygenFingerprint(ec256.pub));
  assert.is(await v.commit(), false);
  assert.is(readFileSync(f, 'utf8').split('\n').length, 5, 'file untouched');
});

basics('unknown, and other-key-types-only is unknown', async () => {
  const f = khFile([line('node1', rsa), line('node1', ec256)]);
  const kh = await KnownHosts.load(f);
  assert.equal(kh.check('node1', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.check('node1', 22, ec384.blob), { status: 'unknown' }, 'nistp384 is another type than nistp256');
  assert.equal(kh.check('node2', 22, ed1.blob), { status: 'unknown' });
  assert.equal(kh.knownKeyAlgorithms('node1', 22), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256']);
  assert.equal(kh.preferredKeyAlgorithms('node1', 22).slice(0, 5), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ecdsa-sha2-nistp256', 'ssh-ed25519']);
  const v = makeHostVerifier(kh, 'node1', 22, false);
  let ok: boolean | undefined;
  v.verify(ed1.blob, (r) => (ok = r));
  assert.is(ok, false);
  assert.equal(v.outcome(), { status: 'unknown' });
  const err = v.errorFor();
  assert.instance(err, UnknownHostKeyError);
  assert.match(err!.message, f);
  assert.match(err!.message, keygenFingerprint(ed1.pub));
  assert.match(err!.message, '--accept-new-host-keys');
  assert.match(err!.message, 'ssh-keyscan -t ssh-ed25519 node1 >>');
  assert.equal((err as UnknownHostKeyError).otherKnownTypes, ['ssh-rsa', 'ecdsa-sha2-nistp256']);
});

basics('several keys for one host: any of them matches', async () => {
  const kh = await KnownHosts.load(khFile([line('n1', ed1), line('n1,n2', ec256), line('n1', ed3)]));
  assert.equal(kh.check('n1', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('n1', 22, ed3.blob), { status: 'match' });
  assert.equal(kh.check('n1', 22, ec256.blob), { status: 'match' });
  const c = kh.check('n1', 22, ed2.blob);
  assert.is(c.status, 'changed');
  assert.equal(c.status === 'changed' ? c.known.map((k) => k.line) : [], [1, 3]);
  assert.equal(kh.knownKeyAlgorithms('n1', 22), ['ssh-ed25519', 'ecdsa-sha2-nistp256']);
});

basics('malformed lines are skipped and counted; @cert-authority is ignored for plain keys', async () => {
  const f = join(root, 'kh_malformed');
  const lines = [
    '# comment', // 1
    '', // 2
    '   ', // 3
    line('good', ed1), // 4
    'lonely-host', // 5: no key
    `bad ${ed1.type}`, // 6: no base64
    `bad ${ed1.type} !!!notbase64`, // 7
    `bad ssh-rsa ${ed1.b64}`, // 8: declared type is not the blob's type
    `@bogus good ${ed2.type} ${ed2.b64}`, // 9: unknown marker
    'bad 1024 65537 12345678901234567890', // 10: SSH-1 key
    `|1|c2FsdA==|aGFzaA== ${ed2.type} ${ed2.b64}`, // 11: salt/hash of wrong length
    `@cert-authority *.lab ${ed3.type} ${ed3.b64}`, // 12: parsed, ignored
    `\t ${line('tabbed', ed2)} trailing comment words`, // 13
    `${line('crlf', ec256)}\r`, // 14
  ];
  writeFileSync(f, lines.join('\n')); // no final newline
  const kh = await KnownHosts.load(f);
  assert.equal(kh.skippedLines, [5, 6, 7, 8, 9, 10, 11]);
  assert.equal(kh.check('good', 22, ed1.blob), { status: 'match' });
  assert.equal(kh.check('tabbed', 22, ed2.blob), { status: 'match' });
  assert.equal(kh.check('crlf', 22, ec256.blob), { status: 'match' });
  assert.equal(kh.check('x.lab', 22, ed3.blob), { status: 'unknown' }, 'a CA line never accepts a plain key');
  assert.equal(kh.knownKeyTypes('x.lab', 22), []);
});

// ---------------------------------------------------------------------------------------------
const adding = suite('known-hosts: add()');

adding('add then reload matches; OpenSSH reads the lines; file 0600, dir 0700', async () => {
  const dir = join(root, 'fresh', 'ssh');
  const f = join(dir, 'known_hosts');
  const kh = await KnownHosts.load(f);
  await kh.add('Node1.Lab', 22, ed1.blob);
  await kh.add('127.0.0.1', 2222, rsa.blob);
  assert.equal(kh.check('node1.lab', 22, ed1.blob), { status: 'match' }, 'in-memory index updated');
  assert.is(readFileSync(f, 'utf8'), `node1.lab ssh-ed25519 ${ed1.b64}\n[127.0.0.1]:2222 ssh-rsa ${rsa.b64}\n`);
  assert.is(statSync(f).mode & 0o777, 0o600);
  assert.is(statSync(dir).mode & 0o777, 0o700);
  const again = await KnownHosts.load(f);
  assert.equal(again.check('node1.lab', 22, ed1.blob), { status: 'match' });
  assert.equal(again.check('127.0.0.1', 2222, rsa.blob), { status: 'match' });
  assert.equal(again.skippedLines, []);
  const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', f], { encoding: 'utf8' });
  assert.match(found, 'found: line 2');
  // in-memory line numbers of added keys are right
  const c = kh.check('127.0.0.1', 2222, genKey('rsa', 2048).blob);
  assert.equal(c.status === 'changed' ? c.known[0]!.line : 0, 2);
});

adding('add to a file without a final newline starts a new line', async () => {
  const f = join(root, 'kh_no_eol');
  writeFileSync(f, `# x\n${line('a', ed1)}`);
  const kh = await KnownHosts.load(f);
  await kh.add('b', 22, ed2.blob);
  assert.is(readFileSync(f, 'utf8'), `# x\n${line('a', ed1)}\n${line('b', ed2)}\n`);
  const c = kh.check('b', 22, ed3.blob);
  assert.equal(c.status === 'changed' ? c.known[0]!.line : 0, 3);
});

adding('20 concurrent adds give 20 well-formed lines; duplicates are written once', async () => {
  const f = join(root, 'kh_concurrent');
  const kh = await KnownHosts.load(f);
  const keys = [ed1, ed2, ed3, ec256];
  await Promise.all(Array.from({ length: 20 }, (_, i) => kh.add(`host${i}.lab`, 2000 + i, keys[i % keys.length]!.blob)));
  // the same new key from several connections at once
  await Promise.all(Array.from({ length: 5 }, () => kh.add('dup.lab', 22, ed1.blob)));
  const lines = readFileSync(f, 'utf8').split('\n');
  assert.is(lines.pop(), '');
  assert.is(lines.length, 21);
  for (const l of lines) assert.match(l, /^(\[host\d+\.lab\]:\d+|dup\.lab) (ssh-ed25519|ecdsa-sha2-nistp256) [A-Za-z0-9+/]+=*$/);
  const again = await KnownHosts.load(f);
  assert.equal(again.skippedLines, []);
  for (let i = 0; i < 20; i++) assert.equal(again.check(`host${i}.lab`, 2000 + i, keys[i % keys.length]!.blob), { status: 'match' });
  assert.is(statSync(f).mode & 0o777, 0o600);
});

adding('add refuses changed and revoked keys, and hosts that are not one plain name', async () => {
  const f = khFile([line('n1', ed1), `@revoked * ${ed3.type} ${ed3.b64}`]);
  const before = readFileSync(f, 'utf8');
  const kh = await KnownHosts.load(f);
  assert.instance(await rejection(kh.add('n1', 22, ed2.blob)), HostKeyChangedError);
  assert.instance(await rejection(kh.add('n2', 22, ed3.blob)), RevokedHostKeyError);
  for (const bad of ['a b', 'a\nb ssh-ed25519 AAAA', 'a,b', '*.lab', '!x', '|1|x', '[h]:22', '', '-oProxyCommand=x']) {
    assert.match(String(await rejection(kh.add(bad, 22, ed2.blob))), /invalid host/, JSON.stringify(bad));
  }
  assert.match(String(await rejection(kh.add('ok', 0, ed2.blob))), /invalid port/);
  assert.match(String(await rejection(kh.add('ok', 22, Buffer.from('junk')))), /malformed/);
  assert.is(readFileSync(f, 'utf8'), before);
});

// ---------------------------------------------------------------------------------------------
// End to end against a real sshd on 127.0.0.1.

const e2e = suite('known-hosts: real sshd');

interface SshdCtx {
  dir: string;
  port: number;
  proc?: ChildProcess;
  hostKey: Key;
  clientKey: Key;
  stderr: string;
}
const ctx: SshdCtx = { dir: '', port: 0, hostKey: ed1, clientKey: ed1, stderr: '' };

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function stopSshd(): void {
  const p = ctx.proc;
  if (p && p.exitCode === null && p.signalCode === null && p.pid) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
}
process.on('exit', stopSshd);

async function startSshd(): Promise<void> {
  ctx.dir = mkdtempSync(join(root, 'sshd-'));
  const hostPriv = join(ctx.dir, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sshd', '-f', hostPriv]);
  const [type, b64] = readFileSync(`${hostPriv}.pub`, 'utf8').trim().split(' ') as [string, string];
  ctx.hostKey = { type, b64, blob: Buffer.from(b64, 'base64'), pub: `${hostPriv}.pub`, priv: hostPriv };
  ctx.clientKey = genKey('ed25519');
  writeFileSync(join(ctx.dir, 'authorized_keys'), readFileSync(ctx.clientKey.pub));
  ctx.port = await freePort();
  const conf = join(ctx.dir, 'sshd_config');
  writeFileSync(
    conf,
    [
      `Port ${ctx.port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostPriv}`,
      `PidFile ${join(ctx.dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(ctx.dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // sshd refuses to start without its privilege separation directory, which only exists once
  // something (the system's sshd service, the lab) made it since boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const proc = spawn('/usr/sbin/sshd', ['-f', conf, '-D', '-e'], { stdio: ['ignore', 'ignore', 'pipe'] });
  ctx.proc = proc;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`sshd did not start:\n${ctx.stderr}`)), 5000);
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      ctx.stderr += d;
      if (ctx.stderr.includes('Server listening on 127.0.0.1')) {
        clearTimeout(timer);
        res();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`sshd exited (${code}):\n${ctx.stderr}`));
    });
  });
}

/** Connects with the verifier; resolves with `echo ok` output, or rejects with the ssh2 error. */
function connectAndRun(kh: KnownHosts, acceptNew: boolean) {
  const v = makeHostVerifier(kh, '127.0.0.1', ctx.port, acceptNew);
  const algos = kh.knownKeyAlgorithms('127.0.0.1', ctx.port);
  const result = new Promise<string>((res, rej) => {
    const c = new Client();
    c.once('error', (err) => {
      c.end();
      rej(err);
    });
    c.once('ready', () => {
      v.commit().then(
        () =>
          c.exec('echo ok', (err, stream) => {
            if (err) return rej(err);
            let out = '';
            stream.on('data', (d: Buffer) => (out += d.toString()));
            stream.on('close', () => {
              c.end();
              res(out);
            });
          }),
        (err: unknown) => {
          c.end();
          rej(err);
        },
      );
    });
    c.connect({
      host: '127.0.0.1',
      port: ctx.port,
      username: userInfo().username,
      privateKey: readFileSync(ctx.clientKey.priv),
      hostVerifier: v.verify,
      readyTimeout: 5000,
      ...(algos.length > 0 ? { algorithms: { serverHostKey: algos } } : {}),
    });
  });
  return { v, result };
}

e2e.before(startSshd);
e2e.after(() => {
  stopSshd();
});

e2e('known key: connects and runs echo ok', async () => {
  const kh = await KnownHosts.load(khFile([line(`[127.0.0.1]:${ctx.port}`, ctx.hostKey)]));
  const { v, result } = connectAndRun(kh, false);
  assert.is(await result, 'ok\n');
  assert.equal(v.outcome(), { status: 'match' });
  assert.is(v.errorFor(), undefined);
});

e2e('a different known key: refused with HostKeyChangedError showing both fingerprints', async () => {
  const f = khFile([line(`[127.0.0.1]:${ctx.port}`, ed2)]);
  const before = readFileSync(f, 'utf8');
  const kh = await KnownHosts.load(f);
  const { v, result } = connectAndRun(kh, true);
  assert.match(String(await rejection(result)), /Host denied/);
  const err = v.errorFor();
  assert.instance(err, HostKeyChangedError);
  assert.match(err!.message, keygenFingerprint(ed2.pub));
  assert.match(err!.message, keygenFingerprint(ctx.hostKey.pub));
  assert.match(err!.message, `${f}:1`);
  assert.is(readFileSync(f, 'utf8'), before);
});

e2e('unknown key and acceptNew false: UnknownHostKeyError, file unchanged', async () => {
  const f = khFile(['# empty']);
  const kh = await KnownHosts.load(f);
  const { v, result } = connectAndRun(kh, false);
  assert.match(String(await rejection(result)), /Host denied/);
  assert.instance(v.errorFor(), UnknownHostKeyError);
  assert.match(v.errorFor()!.message, keygenFingerprint(ctx.hostKey.pub));
  assert.is(readFileSync(f, 'utf8'), '# empty\n');
  const missing = join(root, 'never-created', 'known_hosts');
  const { v: v2, result: r2 } = connectAndRun(await KnownHosts.load(missing), false);
  assert.match(String(await rejection(r2)), /Host denied/);
  assert.instance(v2.errorFor(), UnknownHostKeyError);
  assert.not.ok(existsSync(missing));
});

e2e('unknown key and acceptNew true: connects and records the key', async () => {
  const f = join(root, 'e2e-accept', 'known_hosts');
  const kh = await KnownHosts.load(f);
  const { v, result } = connectAndRun(kh, true);
  assert.is(await result, 'ok\n');
  assert.equal(v.outcome(), { status: 'unknown' });
  assert.is(v.errorFor(), undefined);
  assert.is(readFileSync(f, 'utf8'), `[127.0.0.1]:${ctx.port} ssh-ed25519 ${ctx.hostKey.b64}\n`);
  // next run: known, so it connects without acceptNew
  const { v: v2, result: r2 } = connectAndRun(await KnownHosts.load(f), false);
  assert.is(await r2, 'ok\n');
  assert.equal(v2.outcome(), { status: 'match' });
});

basics.run();
adding.run();
e2e.run();

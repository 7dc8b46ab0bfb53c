import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { ArchiveFormatError, ArchiveLimitError, extractArchive, type ExtractResult } from '../../orchestrator/results/safe-extract.js';

// ---------------------------------------------------------------- helpers

type Spec = Partial<Header> & { name: string; content?: string | Buffer; pax?: Record<string, string> };

/** Builds a tar in memory with tar-stream (it happily writes names GNU tar would refuse). */
async function makeTar(specs: Spec[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  for (const s of specs) {
    const { content, ...header } = s;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (content !== undefined) p.entry({ mtime: new Date(1_600_000_000_000), ...header }, content, cb);
      else p.entry({ mtime: new Date(1_600_000_000_000), ...header }, cb);
    });
  }
  p.finalize();
  return done;
}

function chunked(buf: Buffer, size = 64 * 1024): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function tmpBase(): Promise<{ base: string; dest: string }> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'safe-extract-'));
  return { base, dest: path.join(base, 'dest') };
}

/** All paths under dir (relative, sorted), without following symlinks. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string, rel: string): Promise<void> {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(e.isDirectory() ? `${r}/` : e.isSymbolicLink() ? `${r}@` : r);
      if (e.isDirectory()) await walk(path.join(d, e.name), r);
    }
  }
  await walk(dir, '');
  return out.sort();
}

async function modeOf(p: string): Promise<number> {
  return (await fsp.lstat(p)).mode & 0o7777;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

function rejectedPaths(r: ExtractResult): string[] {
  return r.rejected.map((x) => x.path);
}

const cleanups: string[] = [];
test.after(async () => {
  for (const d of cleanups) await fsp.rm(d, { recursive: true, force: true });
});
async function setup(): Promise<{ base: string; dest: string }> {
  const t = await tmpBase();
  cleanups.push(t.base);
  return t;
}

// ---------------------------------------------------------------- normal extraction

test('normal tree: nested dirs, contents and modes round-trip; destDir is created', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: './', type: 'directory', mode: 0o755 },
    { name: 'a/', type: 'directory', mode: 0o750 },
    { name: 'a/b/', type: 'directory', mode: 0o755 },
    { name: 'a/b/c.txt', content: 'hello c\n', mode: 0o640 },
    { name: 'a/run.sh', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
    { name: 'top.txt', content: 'top', mode: 0o644 },
    { name: 'implicit/deep/file.bin', content: Buffer.from([0, 1, 2, 255]), mode: 0o600 },
    { name: 'empty.txt', content: '', mode: 0o644 },
  ]);
  const r = await extractArchive(chunked(tar, 700), dest, { maxBytes: 1 << 20 });
  assert.equal(r.files, 5);
  assert.equal(r.directories, 2);
  assert.equal(r.links, 0);
  assert.equal(r.bytes, 8 + 18 + 3 + 4);
  assert.equal(r.rejected, []);
  assert.equal(await tree(dest), [
    'a/', 'a/b/', 'a/b/c.txt', 'a/run.sh', 'empty.txt', 'implicit/', 'implicit/deep/', 'implicit/deep/file.bin', 'top.txt',
  ]);
  assert.is(await fsp.readFile(path.join(dest, 'a/b/c.txt'), 'utf8'), 'hello c\n');
  assert.is(await fsp.readFile(path.join(dest, 'a/run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(await fsp.readFile(path.join(dest, 'implicit/deep/file.bin')), Buffer.from([0, 1, 2, 255]));
  assert.is((await fsp.stat(path.join(dest, 'empty.txt'))).size, 0);
  assert.is(await modeOf(path.join(dest, 'a')), 0o750);
  assert.is(await modeOf(path.join(dest, 'a/b/c.txt')), 0o640);
  assert.is(await modeOf(path.join(dest, 'a/run.sh')), 0o755);
  assert.is(await modeOf(path.join(dest, 'top.txt')), 0o644);
  assert.is(await modeOf(path.join(dest, 'implicit/deep/file.bin')), 0o600);
  assert.is((await fsp.stat(path.join(dest, 'top.txt'))).mtime.getTime(), 1_600_000_000_000);
});

test('a Buffer-backed Readable, a streamx stream and gzip input all work', async () => {
  const { dest } = await setup();
  const specs: Spec[] = [{ name: 'x/y.txt', content: 'yy' }];
  const tar = await makeTar(specs);
  const r1 = await extractArchive(Readable.from([tar]), path.join(dest, '1'), { maxBytes: 100 });
  assert.is(r1.files, 1);

  const p = tarPack();
  p.entry({ name: 'streamx.txt' }, 'from a streamx pack');
  p.finalize();
  const r2 = await extractArchive(p as unknown as Readable, path.join(dest, '2'), { maxBytes: 100 });
  assert.is(r2.files, 1);
  assert.is(await fsp.readFile(path.join(dest, '2/streamx.txt'), 'utf8'), 'from a streamx pack');

  const r3 = await extractArchive(chunked(gzipSync(tar), 10), path.join(dest, '3'), { maxBytes: 100, gzip: true });
  assert.is(r3.files, 1);
  assert.is(await fsp.readFile(path.join(dest, '3/x/y.txt'), 'utf8'), 'yy');
});

test("'a/../b' is normalized lexically and extracted as 'b'; './' is destDir itself", async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: '.', type: 'directory' },
    { name: 'sub/../fine.txt', content: 'fine' },
    { name: './x//y/./z.txt', content: 'z' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(r.rejected, []);
  assert.equal(await tree(dest), ['fine.txt', 'x/', 'x/y/', 'x/y/z.txt']);
});

// ---------------------------------------------------------------- hostile names

test('path traversal and absolute names are rejected, content drained, nothing written outside', async () => {
  const { base, dest } = await setup();
  assert.not.ok(existsSync('/etc/evil'), 'precondition: /etc/evil must not exist');
  const absInsideBase = path.join(base, 'abs-evil');
  const big = Buffer.alloc(100_000, 0x41);
  const tar = await makeTar([
    { name: '../evil', content: big },
    { name: 'a/../../evil', content: 'evil' },
    { name: '/etc/evil', content: 'evil' },
    { name: absInsideBase, content: 'evil' },
    { name: './ok/../../x', content: 'evil' },
    { name: '../evil-dir/', type: 'directory' },
    { name: 'ok/inner.txt', content: 'kept' },
  ]);
  const r = await extractArchive(chunked(tar, 4096), dest, { maxBytes: 1 << 20 });
  assert.equal(rejectedPaths(r), ['../evil', 'a/../../evil', '/etc/evil', absInsideBase, './ok/../../x', '../evil-dir/']);
  assert.match(r.rejected[0]!.reason, /escapes/);
  assert.match(r.rejected[2]!.reason, /absolute/);
  assert.is(r.files, 1);
  assert.is(r.bytes, 4);
  assert.is(await fsp.readFile(path.join(dest, 'ok/inner.txt'), 'utf8'), 'kept');
  assert.equal(await fsp.readdir(base), ['dest'], 'the parent of destDir holds only destDir');
  assert.equal(await tree(dest), ['ok/', 'ok/inner.txt']);
  assert.not.ok(existsSync('/etc/evil'));
  assert.not.ok(existsSync(path.join(os.tmpdir(), 'evil')) && (await fsp.readFile(path.join(os.tmpdir(), 'evil'), 'utf8')) === 'evil');
});

test('a name with a NUL byte (via a pax path record) and an empty name are rejected', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'placeholder', pax: { path: 'nul\0name' }, content: 'x' },
    { name: 'emptyfile', pax: { path: '.' }, type: 'file', content: 'x' },
    { name: 'after.txt', content: 'a' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(r.rejected.map((x) => x.reason), ['path contains a NUL byte', 'empty path']);
  assert.equal(await tree(dest), ['after.txt']);
});

// ---------------------------------------------------------------- symlinks

test('symlinks: absolute and escaping targets are rejected, inside targets are created', async () => {
  const { base, dest } = await setup();
  const tar = await makeTar([
    { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' },
    { name: 'link', type: 'symlink', linkname: '..' },
    { name: 'sub/', type: 'directory' },
    { name: 'sub/up', type: 'symlink', linkname: '../..' },
    { name: 'sub/sneaky', type: 'symlink', linkname: '../sub/../..' },
    { name: 'dot', type: 'symlink', linkname: '.' },
    { name: 'chain', type: 'symlink', linkname: 'dot/..' }, // kernel: parent of destDir
    { name: 'file.txt', content: 'target' },
    { name: 'sub/ok', type: 'symlink', linkname: '../file.txt' },
    { name: 'rel', type: 'symlink', linkname: './sub//ok' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(rejectedPaths(r), ['passwd', 'link', 'sub/up', 'sub/sneaky', 'chain']);
  assert.match(r.rejected[0]!.reason, /absolute/);
  assert.match(r.rejected[1]!.reason, /escapes/);
  assert.match(r.rejected[4]!.reason, /'\.\.' after a path component/);
  assert.is(r.links, 3);
  assert.is(await fsp.readlink(path.join(dest, 'dot')), '.');
  assert.is(await fsp.readlink(path.join(dest, 'sub/ok')), '../file.txt');
  assert.is(await fsp.readlink(path.join(dest, 'rel')), 'sub/ok', 'the normalized target is written');
  assert.is(await fsp.readFile(path.join(dest, 'rel'), 'utf8'), 'target');
  assert.equal(await fsp.readdir(base), ['dest']);
});

test('rule: never write through a symlink, even one pointing inside destDir (the entry is rejected)', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'real/', type: 'directory' },
    { name: 'link', type: 'symlink', linkname: 'real' },
    { name: 'link/file', content: 'through the link' },
    { name: 'link/deeper/file2', content: 'through the link' },
    { name: 'real/direct', content: 'direct' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(rejectedPaths(r), ['link/file', 'link/deeper/file2']);
  assert.match(r.rejected[0]!.reason, /parent path component 'link' is a symlink/);
  assert.is(r.links, 1);
  assert.equal(await tree(dest), ['link@', 'real/', 'real/direct']);
});

test("an archive that creates 'd -> /tmp/outside' and then writes 'd/x' never writes into the outside dir", async () => {
  const { base, dest } = await setup();
  const outside = path.join(base, 'outside');
  await fsp.mkdir(outside);
  const tar = await makeTar([
    { name: 'd', type: 'symlink', linkname: outside },
    { name: 'd/x', content: 'payload' },
    { name: 'e', type: 'symlink', linkname: '../outside' },
    { name: 'e/x', content: 'payload' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(rejectedPaths(r), ['d', 'e']);
  assert.equal(await fsp.readdir(outside), []);
  // d and e were never links, so d/x and e/x land in real directories inside destDir
  assert.equal(await tree(dest), ['d/', 'd/x', 'e/', 'e/x']);
});

test('symlinks already present in destDir are neither written through nor followed at the final path', async () => {
  const { base, dest } = await setup();
  const outside = path.join(base, 'outside');
  await fsp.mkdir(outside);
  await fsp.writeFile(path.join(outside, 'victim'), 'original');
  await fsp.mkdir(dest);
  await fsp.symlink(outside, path.join(dest, 'planted-dir'));
  await fsp.symlink(path.join(outside, 'victim'), path.join(dest, 'planted-file'));
  const tar = await makeTar([
    { name: 'planted-dir/x', content: 'payload' },
    { name: 'planted-file', content: 'replaced', mode: 0o644 },
    { name: 'planted-dir', type: 'directory' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(rejectedPaths(r), ['planted-dir/x']);
  assert.is(await fsp.readFile(path.join(outside, 'victim'), 'utf8'), 'original');
  assert.equal(await fsp.readdir(outside), ['victim']);
  assert.ok((await fsp.lstat(path.join(dest, 'planted-file'))).isFile(), 'the old symlink was replaced, not followed');
  assert.is(await fsp.readFile(path.join(dest, 'planted-file'), 'utf8'), 'replaced');
  assert.ok((await fsp.lstat(path.join(dest, 'planted-dir'))).isDirectory(), 'a directory entry replaces the symlink');
});

// ---------------------------------------------------------------- hard links, types, modes

test('hard links: outside, escaping, unknown and non-file targets are rejected; inside ones are real links', async () => {
  const { base, dest } = await setup();
  await fsp.mkdir(dest);
  await fsp.writeFile(path.join(dest, 'preexisting'), 'was here');
  const tar = await makeTar([
    { name: 'h1', type: 'link', linkname: '/etc/passwd' },
    { name: 'h2', type: 'link', linkname: '../x' },
    { name: 'h3', type: 'link', linkname: 'preexisting' },
    { name: 'h4', type: 'link', linkname: 'not-yet' },
    { name: 'dir/', type: 'directory' },
    { name: 'h5', type: 'link', linkname: 'dir' },
    { name: 'sym', type: 'symlink', linkname: 'data.txt' },
    { name: 'h6', type: 'link', linkname: 'sym' },
    { name: 'data.txt', content: 'data' },
    { name: 'sub/h7', type: 'link', linkname: './data.txt' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(rejectedPaths(r), ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
  assert.match(r.rejected[0]!.reason, /absolute/);
  assert.match(r.rejected[1]!.reason, /escapes/);
  assert.is(r.links, 2);
  const a = await fsp.stat(path.join(dest, 'data.txt'));
  const b = await fsp.lstat(path.join(dest, 'sub/h7'));
  assert.ok(b.isFile());
  assert.is(b.ino, a.ino);
  assert.equal(await fsp.readdir(base), ['dest']);
});

test('a later entry over a hard-linked name replaces that name only (never writes into the shared inode)', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'orig', content: 'one' },
    { name: 'alias', type: 'link', linkname: 'orig' },
    { name: 'alias', content: 'two' },
    { name: 'orig', content: 'three' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(r.rejected, []);
  assert.is(await fsp.readFile(path.join(dest, 'alias'), 'utf8'), 'two');
  assert.is(await fsp.readFile(path.join(dest, 'orig'), 'utf8'), 'three');
});

test('a file or link entry never replaces a directory', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'd/', type: 'directory' },
    { name: 'd/keep', content: 'k' },
    { name: 'd', content: 'file over dir' },
    { name: 'd', type: 'symlink', linkname: 'd2' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(rejectedPaths(r), ['d', 'd']);
  assert.match(r.rejected[0]!.reason, /would replace an existing directory/);
  assert.equal(await tree(dest), ['d/', 'd/keep']);
});

test('fifos, character and block devices are rejected', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'pipe', type: 'fifo' },
    { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 },
    { name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 },
    { name: 'ok', content: 'ok' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(r.rejected, [
    { path: 'pipe', reason: 'unsupported entry type: fifo' },
    { path: 'null', reason: 'unsupported entry type: character-device' },
    { path: 'sda', reason: 'unsupported entry type: block-device' },
  ]);
  assert.equal(await tree(dest), ['ok']);
});

test('setuid/setgid/sticky and group/other write bits are stripped; owner keeps rw(x)', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'suid', content: '#!/bin/sh', mode: 0o4755 },
    { name: 'sgid', content: 'x', mode: 0o2775 },
    { name: 'world', content: 'x', mode: 0o666 },
    { name: 'none', content: 'x', mode: 0o000 | 0o040 },
    { name: 'sticky/', type: 'directory', mode: 0o1777 },
    { name: 'sgiddir/', type: 'directory', mode: 0o2770 },
    { name: 'lockeddir/', type: 'directory', mode: 0o500 },
    { name: 'lockeddir/inside', content: 'still writable' },
  ]);
  const r = await extractArchive(chunked(tar), dest, { maxBytes: 100 });
  assert.equal(r.rejected, []);
  assert.is(await modeOf(path.join(dest, 'suid')), 0o755);
  assert.is(await modeOf(path.join(dest, 'sgid')), 0o755);
  assert.is(await modeOf(path.join(dest, 'world')), 0o644);
  assert.is(await modeOf(path.join(dest, 'none')), 0o640);
  assert.is(await modeOf(path.join(dest, 'sticky')), 0o755);
  assert.is(await modeOf(path.join(dest, 'sgiddir')), 0o750);
  assert.is(await modeOf(path.join(dest, 'lockeddir')), 0o700);
  assert.is(await fsp.readFile(path.join(dest, 'lockeddir/inside'), 'utf8'), 'still writable');
});

// ---------------------------------------------------------------- limits

test('bytes limit: a 5 MB entry with maxBytes 1 MB throws ArchiveLimitError, destroys the source, keeps the partial file', async () => {
  const { dest } = await setup();
  const MB = 1024 * 1024;
  const tar = await makeTar([
    { name: 'small.txt', content: 'small' },
    { name: 'big.bin', content: Buffer.alloc(5 * MB, 7) },
    { name: 'never.txt', content: 'never' },
  ]);
  const source = chunked(tar);
  const err = await rejection(extractArchive(source, dest, { maxBytes: MB }));
  assert.instance(err, ArchiveLimitError);
  const e = err as ArchiveLimitError;
  assert.is(e.limit, 'bytes');
  assert.ok(e.writtenBytes <= MB + 64 * 1024, `writtenBytes ${e.writtenBytes}`);
  assert.ok(e.writtenBytes > MB / 2, `writtenBytes ${e.writtenBytes} should be close to the limit`);
  assert.is(e.result.bytes, e.writtenBytes);
  assert.is(e.result.files, 2);
  assert.is((await fsp.stat(path.join(dest, 'big.bin'))).size, e.writtenBytes - 5);
  assert.not.ok(existsSync(path.join(dest, 'never.txt')));
  await new Promise((r) => setImmediate(r));
  assert.ok(source.destroyed, 'the source stream was destroyed');
});

test('bytes limit counts drained content of rejected entries too', async () => {
  const { dest } = await setup();
  const tar = await makeTar([{ name: '../evil', content: Buffer.alloc(300_000) }]);
  const err = await rejection(extractArchive(chunked(tar), dest, { maxBytes: 100_000 }));
  assert.instance(err, ArchiveLimitError);
  assert.is((err as ArchiveLimitError).limit, 'bytes');
  assert.is((err as ArchiveLimitError).writtenBytes, 0);
  assert.equal((err as ArchiveLimitError).result.rejected.map((x) => x.path), ['../evil']);
});

test('entries limit: the entry after maxEntries aborts with limit "entries"', async () => {
  const { dest } = await setup();
  const specs: Spec[] = [];
  for (let i = 0; i < 10; i++) specs.push({ name: `f${i}`, content: `${i}` });
  const tar = await makeTar(specs);
  const err = await rejection(extractArchive(chunked(tar), dest, { maxBytes: 1000, maxEntries: 5 }));
  assert.instance(err, ArchiveLimitError);
  assert.is((err as ArchiveLimitError).limit, 'entries');
  assert.is((err as ArchiveLimitError).result.files, 5);
  assert.equal(await tree(dest), ['f0', 'f1', 'f2', 'f3', 'f4']);
  // exactly maxEntries is fine
  const ok = await extractArchive(chunked(tar), path.join(dest, 'again'), { maxBytes: 1000, maxEntries: 10 });
  assert.is(ok.files, 10);
});

test('a gzip bomb of zero blocks is cut by the raw-stream allowance', async () => {
  const { dest } = await setup();
  const zeros = Buffer.alloc(64 * 1024 * 1024); // 64 MiB of tar padding, ~64 KiB gzipped
  const err = await rejection(extractArchive(chunked(gzipSync(zeros)), dest, { maxBytes: 1024, gzip: true }));
  assert.instance(err, ArchiveLimitError);
  assert.is((err as ArchiveLimitError).limit, 'bytes');
});

// ---------------------------------------------------------------- corrupt input

test('truncated and corrupt archives reject with ArchiveFormatError', async () => {
  const { dest } = await setup();
  const tar = await makeTar([
    { name: 'a.txt', content: Buffer.alloc(10_000, 1) },
    { name: 'b.txt', content: 'b' },
  ]);
  const cases: [string, Buffer, boolean, RegExp][] = [
    ['mid-content', tar.subarray(0, 512 + 5000), false, /truncated/],
    ['mid-header', tar.subarray(0, 512 + 10_240 + 100), false, /truncated/],
    ['entry boundary, no end block', tar.subarray(0, 512 + 10_240 + 512 + 512), false, /end-of-archive/],
    ['empty stream', Buffer.alloc(0), false, /empty/],
    ['not a tar', Buffer.from('this is not a tar archive at all'.repeat(40)), false, /corrupt|truncated/],
    ['gzip cut in half', gzipSync(tar).subarray(0, gzipSync(tar).length >> 1), true, /gzip/],
    ['gzip without its trailer', gzipSync(tar).subarray(0, gzipSync(tar).length - 4), true, /gzip/],
    ['gzip flag on plain tar', tar, true, /gzip/],
  ];
  const corrupt = Buffer.from(tar);
  corrupt[0] = corrupt[0]! ^ 0xff; // the first header's checksum no longer matches
  cases.push(['bad checksum', corrupt, false, /corrupt/]);
  for (const [label, buf, gzip, re] of cases) {
    const err = await rejection(extractArchive(chunked(buf, 1000), path.join(dest, label.replace(/\W+/g, '-')), { maxBytes: 1 << 20, gzip }));
    assert.instance(err, ArchiveFormatError, label);
    assert.match((err as Error).message, re, label);
  }
});

test('an error of the source stream itself is passed through', async () => {
  const { dest } = await setup();
  const boom = new Error('ssh channel reset');
  const source = new Readable({
    read() {
      this.destroy(boom);
    },
  });
  const err = await rejection(extractArchive(source, dest, { maxBytes: 100 }));
  assert.is(err, boom);
});

// ---------------------------------------------------------------- memory

test('a 200 MB entry streamed from a generator extracts with flat memory', async () => {
  const { dest } = await setup();
  const SIZE = 200 * 1024 * 1024;
  const CHUNK = 256 * 1024;
  function* content(): Generator<Buffer> {
    for (let i = 0; i < SIZE / CHUNK; i++) yield Buffer.alloc(CHUNK, i % 251);
  }
  const expected = createHash('sha256');
  const p = tarPack();
  const producing = (async () => {
    const sink = p.entry({ name: 'dumps/heap.hprof', size: SIZE, mode: 0o644 });
    for (const c of content()) {
      expected.update(c);
      if (!sink.write(c)) await new Promise<void>((r) => sink.once('drain', () => r()));
    }
    sink.end(null);
    p.finalize();
  })();

  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  let r: ExtractResult;
  try {
    r = await extractArchive(p as unknown as Readable, dest, { maxBytes: SIZE });
    await producing;
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const growth = peak - before;
  assert.ok(growth < 100 * 1024 * 1024, `rss grew by ${(growth / 1048576).toFixed(1)} MB`);
  assert.is(r.bytes, SIZE);
  const file = path.join(dest, 'dumps/heap.hprof');
  assert.is((await fsp.stat(file)).size, SIZE);
  const actual = createHash('sha256');
  const fh = await fsp.open(file);
  for await (const c of fh.createReadStream({ highWaterMark: 1 << 20 })) actual.update(c as Buffer);
  assert.is(actual.digest('hex'), expected.digest('hex'));
  await fsp.rm(file);
});

test.run();

// A cache derived from a results store (results/derived-cache.ts): read back only when it is
// whole, of its kind and version, and derived from the same store; writing never throws.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { derivedCacheFile } from '../../orchestrator/results/derived-cache.js';

const Schema = z.object({ resultsDir: z.string(), items: z.array(z.number()) });
type Cache = z.infer<typeof Schema>;
const file = derivedCacheFile<Cache>('.cache.json', 'test/cache@2', (parsed) => {
  const checked = Schema.safeParse(parsed);
  return checked.success ? checked.data : undefined;
});

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'derived-cache-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a cache written for a store reads back for that store, in a directory made for it', async () => {
  const at = join(dir, 'made', 'here');
  await file.write(at, { resultsDir: '/stores/a', items: [1, 2, 3] });
  assert.equal(file.read(at, '/stores/a')?.items, [1, 2, 3]);
  assert.is(JSON.parse(await readFile(join(at, '.cache.json'), 'utf8')).schema, 'test/cache@2');
});

test("another store's cache, another version, a damaged or missing file read as nothing", async () => {
  const at = join(dir, 'one');
  await file.write(at, { resultsDir: '/stores/a', items: [1] });
  assert.is(file.read(at, '/stores/b'), undefined, 'derived from another store');
  const good = await readFile(join(at, '.cache.json'), 'utf8');
  await writeFile(join(at, '.cache.json'), good.replace('test/cache@2', 'test/cache@1'));
  assert.is(file.read(at, '/stores/a'), undefined, 'another version');
  await writeFile(join(at, '.cache.json'), good.slice(0, -5));
  assert.is(file.read(at, '/stores/a'), undefined, 'cut short');
  await writeFile(join(at, '.cache.json'), good.replace('[1]', '["x"]'));
  assert.is(file.read(at, '/stores/a'), undefined, 'not of its shape');
  assert.is(file.read(join(dir, 'nowhere'), '/stores/a'), undefined, 'missing');
});

test('a cache that cannot be written is no error', async () => {
  const blocked = join(dir, 'blocked');
  await writeFile(blocked, 'a file where the directory should be');
  await file.write(join(blocked, 'sub'), { resultsDir: '/stores/a', items: [] });
  assert.is(file.read(join(blocked, 'sub'), '/stores/a'), undefined);
});

test.run();

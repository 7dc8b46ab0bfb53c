import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Command } from 'commander';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerQasetCommand } from '../../orchestrator/cli/command-qaset.js';

const FIX = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'qaset');

async function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command().exitOverride();
  registerQasetCommand(program);
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string) => ((out += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((err += c), true)) as typeof process.stderr.write;
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'orchestrate', ...args]);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  const code = process.exitCode as number | undefined;
  process.exitCode = saved;
  return { out, err, code };
}

test('qaset parse prints JSON and exits 0', async () => {
  const r = await run(['qaset', 'parse', path.join(FIX, 'dbench.txt')]);
  assert.is(r.code, 0);
  const j = JSON.parse(r.out);
  assert.is(j.samples[0].metric, 'dbench.throughput');
  assert.equal(j.unparsed, []);
});

test('qaset parse of an unreadable path exits 1', async () => {
  const r = await run(['qaset', 'parse', '/nonexistent/qaset-path']);
  assert.is(r.code, 1);
  assert.match(r.err, /nonexistent/);
});

test.run();

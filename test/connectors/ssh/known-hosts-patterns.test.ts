// known_hosts host patterns (matched with picomatch) agree with OpenSSH's own matcher: every
// generated pattern line is looked up for every generated host with `ssh-keygen -F`, and the lines
// OpenSSH finds are exactly the lines KnownHosts matches (`*`, `?`, `!negation`, comma lists,
// [host]:port, case, and punctuation that means something to a path glob: '.', '[', ']', ':').
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KnownHosts } from '../../../orchestrator/connectors/ssh/known-hosts.js';
import { mulberry32 } from '../../../orchestrator/analysis/random.js';

const work = mkdtempSync(join(tmpdir(), 'known-hosts-patterns-'));
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'key')], { stdio: 'ignore' });
const [keyType, keyB64] = readFileSync(join(work, 'key.pub'), 'utf8').trim().split(/\s+/) as [string, string];
const keyBlob = Buffer.from(keyB64, 'base64');

// seeded (the analysis's own mulberry32), so a failure can be reproduced
const rnd = mulberry32(15);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
const HOST_CHARS = ['a', 'b', 'B', '.', '-', '1', '0'];
const PATTERN_CHARS = [...HOST_CHARS, '*', '*', '?', '?', '.', 'A'];

function hostName(): string {
  let name = pick(['a', 'b', '1', 'B']);
  for (let i = Math.floor(rnd() * 5); i > 0; i--) name += pick(HOST_CHARS);
  return name;
}

function glob(): string {
  let text = '';
  for (let i = 1 + Math.floor(rnd() * 5); i > 0; i--) text += pick(PATTERN_CHARS);
  return text;
}

/** A pattern as known_hosts has them: a host glob, or [host glob]:port glob. */
function pattern(): string {
  if (rnd() < 0.35) return `[${glob()}]:${pick(['22', '2222', '22*', '2?22', '*', '2200'])}`;
  return glob();
}

function field(): string {
  const parts: string[] = [];
  for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) parts.push(rnd() < 0.25 ? `!${pattern()}` : pattern());
  return parts.join(',');
}

test.after(() => rmSync(work, { recursive: true, force: true }));

test('every pattern line matches exactly the hosts OpenSSH (ssh-keygen -F) finds it for', () => {
  const fields = [
    '*.lab.example,!bad.lab.example',
    '[gw?]:22*',
    '[*]:2222',
    '10.0.0.?',
    'a[b',
    '*',
    '!*',
    ...Array.from({ length: 200 }, field),
  ];
  const file = join(work, 'known_hosts');
  writeFileSync(file, fields.map((f) => `${f} ${keyType} ${keyB64}\n`).join(''));
  const lines = fields.map((f) => KnownHosts.parse(`${f} ${keyType} ${keyB64}\n`, file));

  const hosts: [string, number][] = [
    ['x.lab.example', 22],
    ['bad.lab.example', 22],
    ['gw1', 2222],
    ['gw1', 2322],
    ['10.0.0.7', 22],
    ['10.0.0.77', 22],
    ...Array.from({ length: 80 }, (): [string, number] => [hostName(), pick([22, 22, 2222, 2200, 2022])]),
  ];
  let compared = 0;
  let found = 0;
  for (const [host, port] of hosts) {
    const name = port === 22 ? host : `[${host}]:${port}`;
    let out = '';
    try {
      out = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch (error) {
      // ssh-keygen -F exits 1 when no line matches
      if ((error as { status?: number }).status !== 1) throw error;
    }
    const openssh = new Set([...out.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]) - 1));
    lines.forEach((known, index) => {
      const ours = known.check(host, port, keyBlob).status === 'match';
      assert.is(ours, openssh.has(index), `${JSON.stringify(fields[index])} for ${name}: OpenSSH ${openssh.has(index) ? 'matches' : 'does not match'}`);
      compared++;
      if (ours) found++;
    });
  }
  // The generated cases are not all misses (nor all hits): the comparison means something.
  assert.ok(found > 200 && found < compared - 200, `${found} matches of ${compared}`);
});

test.run();

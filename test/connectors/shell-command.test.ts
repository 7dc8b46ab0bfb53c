// Shell commands as values: every hostile value is rendered, run for real through bash, dash
// and sh, and must come back byte for byte with no side effect.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Secret, command, commandText, display, quote, raw, render, type Part } from '../../orchestrator/connectors/shell-command.js';

const work = mkdtempSync(join(tmpdir(), 'shell-command-test-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
// The commands run inside `play`, which holds files, so an unquoted glob would expand visibly.
const play = join(work, 'play');
mkdirSync(play);
for (const f of ['a', 'b', 'c.txt', '-n']) writeFileSync(join(play, f), '');
const trap = join(work, 'trap'); // side effects would land here
mkdirSync(trap);
const pwned = (tag: string) => join(trap, `pwned-${tag}`);

const hasDash = spawnSync('dash', ['-c', 'true']).status === 0;
const shells = ['bash', hasDash ? 'dash' : 'sh', 'sh'];

const big = Array.from({ length: 400 }, (_, i) => `${i} '"\\$(x)\`y\` ;&|*?\n\t`).join('').slice(0, 10240);

const hostile: [string, string][] = [
  ['plain', 'hello'],
  ['spaces', 'a b  c '],
  ['single quote', "it's"],
  ['only quotes', "''"],
  ['double quotes', 'say "hi"'],
  ['mixed quotes', `'"'"`],
  ['backslashes', 'a\\b\\\\c\\'],
  ['backslash-newline', 'a\\\nb'],
  ['command substitution', `$(touch ${pwned('subst')})`],
  ['quoted substitution', `"$(touch ${pwned('subst2')})"`],
  ['backticks', `\`touch ${pwned('bt')}\``],
  ['variable', '$HOME ${PATH} $1 $@ $$'],
  ['semicolon', `x; touch ${pwned('semi')}`],
  ['and', `x && touch ${pwned('and')}`],
  ['or', `false || touch ${pwned('or')}`],
  ['pipe', `x | touch ${pwned('pipe')}`],
  ['background', `x & touch ${pwned('bg')}`],
  ['redirect', `x > ${pwned('redir')}`],
  ['process substitution', `<(touch ${pwned('procsub')})`],
  ['newline', `line1\ntouch ${pwned('nl')}\n`],
  ['carriage return', 'a\rb'],
  ['tabs', '\ta\tb\t'],
  ['star glob', '*'],
  ['question glob', '?'],
  ['bracket glob', '[abc]*'],
  ['brace expansion', '{a,b}'],
  ['tilde', '~'],
  ['tilde user', '~root/x'],
  ['history bang', "it's done!"],
  ['bang alone', '!'],
  ['comment', '#not a comment'],
  ['assignment-looking', 'A=b'],
  ['leading dash', '-n'],
  ['leading dashes', '--help'],
  ['empty', ''],
  ['percent', '%s %d %%'],
  ['unicode', 'héllo wörld ✓ 日本語 🎉'],
  ['unicode spaces', 'a\u00a0b\u2028c'],
  ['10 KB', big],
];

function run(shell: string, script: string, opts: { env?: NodeJS.ProcessEnv } = {}) {
  // stdin not a pipe: Node's pipes are socketpairs, and bash sources ~/.bashrc when its stdin is
  // a socket (its "run by sshd/rshd" heuristic).
  const r = spawnSync(shell, ['-c', script], {
    cwd: play,
    env: { PATH: process.env.PATH, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { out: r.stdout, err: r.stderr.toString(), status: r.status };
}

function assertNoSideEffects() {
  assert.equal(readdirSync(trap), [], 'no side effect file');
  assert.equal(readdirSync(play).sort(), ['-n', 'a', 'b', 'c.txt']);
}

// ---------------------------------------------------------------------------------------------
const argv = suite('shell-command: argv round trip');

for (const shell of shells) {
  argv(`${shell}: every hostile value comes back exactly as one argument`, () => {
    for (const [name, v] of hostile) {
      const script = render(command(['printf', '%s\\0', v]));
      const { out, err, status } = run(shell, script);
      assert.is(status, 0, `${name}: exit status (${err})`);
      assert.is(err, '', name);
      assert.ok(out.equals(Buffer.from(v + '\0', 'utf8')), `${name}: got ${JSON.stringify(out.toString().slice(0, 80))}`);
    }
    assertNoSideEffects();
  });

  argv(`${shell}: all hostile values at once keep their boundaries`, () => {
    const values = hostile.map(([, v]) => v);
    const { out, status } = run(shell, render(command(['printf', '%s\\0', ...values])));
    assert.is(status, 0);
    assert.ok(out.equals(Buffer.from(values.map((v) => v + '\0').join(''), 'utf8')));
    assertNoSideEffects();
  });

  argv(`${shell}: env values reach the program exactly`, () => {
    for (const [name, v] of hostile) {
      const script = render(command(['sh', '-c', 'printf %s "$K"'], { env: { K: v, OTHER_1: v } }));
      const { out, status, err } = run(shell, script);
      assert.is(status, 0, `${name}: ${err}`);
      assert.ok(out.equals(Buffer.from(v, 'utf8')), `${name}: got ${JSON.stringify(out.toString().slice(0, 80))}`);
    }
    assertNoSideEffects();
  });
}

argv('quote(): one word per value, numbers too', () => {
  assert.is(quote(''), "''");
  assert.is(quote(42), '42');
  assert.is(quote(-1.5), '-1.5');
  assert.not.match(quote('A=b'), /^A=/, 'never an assignment word');
  for (const shell of shells) {
    const { out } = run(shell, `printf '%s\\0' ${quote(7)} ${quote(0)}`);
    assert.is(out.toString(), '7\u00000\u0000');
  }
  assert.throws(() => quote('a\0b'), /NUL/);
  assert.throws(() => quote(NaN), /NaN/);
  assert.throws(() => quote(Infinity));
});

// Random strings over the nastiest characters, with a fixed seed so a failure is reproducible.
argv('seeded fuzz: 2000 random words round-trip in bash and dash', () => {
  let seed = 0x5eed;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 2 ** 24;
  const chars = [..."ab '\"\\$`!~=*?[]{},;&|<>()#\n\t\r-%^@:é✓\u00a0"];
  const words = Array.from({ length: 2000 }, () => {
    let s = '';
    for (let n = Math.floor(rnd() * 10); n > 0; n--) s += chars[Math.floor(rnd() * chars.length)];
    return s;
  });
  const script = render(command(['printf', '%s\\0', ...words]));
  for (const shell of shells) {
    const { out, status } = run(shell, script);
    assert.is(status, 0, shell);
    const got = out.toString('utf8').split('\0');
    got.pop();
    assert.is(got.length, words.length, shell);
    for (let i = 0; i < words.length; i++) assert.is(got[i], words[i], `${shell}: ${JSON.stringify(words[i])}`);
  }
  assertNoSideEffects();
});

// ---------------------------------------------------------------------------------------------
const shape = suite('shell-command: rendering');

shape('render shape: env assignments, quoted argv', () => {
  const cmd = command(['run-phase', 'warm up', 5], { env: { RATE: 100, NAME: "o'brien" } });
  assert.is(render(cmd), `RATE=100 NAME="o'brien" run-phase 'warm up' 5`);
  assert.is(render(command(['ls'])), 'ls');
});

shape('env variable names are checked', () => {
  for (const bad of ['', '1A', 'A B', 'A;B', 'A=B', 'A-B', '$A', 'Ä', 'A\n']) {
    assert.throws(() => command(['true'], { env: { [bad]: 'x' } }), /invalid environment variable name/, JSON.stringify(bad));
    // also when the ShellCommand was not built by command()
    assert.throws(() => render({ argv: ['true'], env: { [bad]: 'x' } }), /invalid environment variable name/);
  }
  assert.not.throws(() => command(['true'], { env: { _A1: 'x', a: 'y' } }));
});

shape('bad parts are refused', () => {
  assert.throws(() => command([]), /non-empty/);
  assert.throws(() => command(['echo', undefined as unknown as Part]), /must be a string, number, Secret or raw/);
  assert.throws(() => command(['echo', null as unknown as Part]));
  assert.throws(() => command(['echo', { text: 'rm -rf /' } as unknown as Part]), /got Object/);
  assert.throws(() => command(['echo', ['a'] as unknown as Part]));
  assert.throws(() => command(['echo', 'a\0b']), /NUL/);
  assert.throws(() => render({ argv: ['echo', { text: 'x' } as unknown as Part], env: {} }));
});

shape('command() copies and freezes its input', () => {
  const parts: Part[] = ['echo', 'a'];
  const env: Record<string, Part> = { K: 'v' };
  const cmd = command(parts, { env });
  parts.push('; rm -rf /');
  env.K = '$(bad)';
  assert.is(render(cmd), 'K=v echo a');
  assert.ok(Object.isFrozen(cmd) && Object.isFrozen(cmd.argv) && Object.isFrozen(cmd.env));
});

shape('raw() text is inserted verbatim', () => {
  const cmd = command(['printf', '%s\\n', 'a b', raw('|'), 'wc', '-l']);
  assert.is(render(cmd), `printf '%s\\n' 'a b' | wc -l`);
  for (const shell of shells) assert.is(run(shell, render(cmd)).out.toString().trim(), '1');
  assert.is(display(cmd), render(cmd));
  assert.throws(() => new (raw('x').constructor as new (t: string, b: symbol) => unknown)('x', Symbol('RawShell')));
});

// ---------------------------------------------------------------------------------------------
const secrets = suite('shell-command: secrets');

secrets('render() reveals secrets, display() masks them', () => {
  const token = new Secret(`s3cr'et $(touch ${pwned('secret')})`);
  const cmd = command(['sh', '-c', 'printf "%s|%s" "$1" "$TOKEN"', 'sh', token], { env: { TOKEN: token, USER_NAME: 'qa' } });
  const shown = display(cmd);
  assert.not.match(shown, 's3cr');
  assert.is(shown, `TOKEN=*** USER_NAME=qa sh -c 'printf "%s|%s" "$1" "$TOKEN"' sh ***`);
  const rendered = render(cmd);
  assert.match(rendered, 's3cr');
  for (const shell of shells) {
    const { out, status } = run(shell, rendered);
    assert.is(status, 0);
    assert.is(out.toString(), `${token.reveal()}|${token.reveal()}`);
  }
  assertNoSideEffects();
});

secrets('a Secret never shows its value by accident', () => {
  const s = new Secret('hunter2');
  assert.is(String(s), '***');
  assert.is(`${s}`, '***');
  assert.is(JSON.stringify({ s }), '{"s":"***"}');
  assert.not.match(inspect(s), 'hunter2');
  assert.not.match(inspect({ deep: { s } }, { depth: 5, showHidden: true }), 'hunter2');
  assert.is(Object.keys(s).length, 0);
  assert.is(s.reveal(), 'hunter2');
  assert.throws(() => new Secret(5 as unknown as string));
});

secrets('commandText(): a connector sends render() and shows display(), cut to 200 characters', () => {
  const token = new Secret('hunter2');
  const cmd = command(['curl', '-H', token, 'x'.repeat(300)], { env: { TOKEN: token } });
  const { text, shown } = commandText(cmd);
  assert.is(text, render(cmd));
  assert.ok(text.includes('hunter2'));
  assert.not.match(shown, 'hunter2');
  assert.ok(shown.startsWith('TOKEN=*** curl -H ***'), shown);
  assert.is(shown, `${display(cmd).slice(0, 200)}...`);
});

argv.run();
shape.run();
secrets.run();

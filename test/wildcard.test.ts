// orchestrator/wildcard.ts: the one wildcard matcher (--limit, known_hosts, metric globs). Checked
// against a plain regular-expression reading of the same rule on generated patterns and names full
// of the punctuation picomatch would otherwise read as glob syntax, and on patterns that hang
// picomatch when escaped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hasWildcard, wildcardMatcher, type Wildcards } from '../orchestrator/wildcard.js';

function reference(pattern: string, wildcards: Wildcards): RegExp {
  let out = '';
  for (const c of pattern) {
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?' && wildcards === '*?') out += '[\\s\\S]';
    else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'u');
}

test('agrees with a plain regular expression on 3,000 generated patterns and names', () => {
  const alphabet = ['a', 'b', '.', '/', '\\', '[', ']', '{', '}', '(', ')', '!', '+', '@', ',', '|', '^', '$', '-', ':', 'é', '*', '?'];
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const word = (max: number, withWild: boolean) =>
    Array.from({ length: 1 + random(max) }, () => alphabet[random(withWild ? alphabet.length : alphabet.length - 2)]!).join('');
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const wildcards: Wildcards = i % 2 ? '*?' : '*';
    const pattern = word(6, true);
    const ref = reference(pattern, wildcards);
    const matcher = wildcardMatcher(pattern, wildcards);
    // names built from the pattern (so many match) and random ones
    const fromPattern = pattern.replace(/\*/g, () => word(3, false)).replace(/\?/g, () => (wildcards === '*?' ? alphabet[random(5)]! : '?'));
    for (const name of [fromPattern, word(6, false), pattern]) {
      assert.is(matcher(name), ref.test(name), `${JSON.stringify(pattern)} (${wildcards}) vs ${JSON.stringify(name)}`);
      checked++;
    }
  }
  assert.ok(checked === 9000);
});

test('? is literal where only * is a wildcard; a pattern without wildcards is an exact name', () => {
  assert.ok(wildcardMatcher('a?c', '*')('a?c'));
  assert.not.ok(wildcardMatcher('a?c', '*')('abc'));
  assert.ok(wildcardMatcher('a?c')('abc'));
  assert.not.ok(hasWildcard('a?c', '*'));
  assert.ok(wildcardMatcher('[host]:22')('[host]:22'));
  assert.not.ok(wildcardMatcher('[host]:22')('h'));
});

test('patterns that hang picomatch when escaped are matched literally', () => {
  for (const pattern of ['\\{\\\\*', '*\\{\\\\', '{(*', '*(((((((((a', '\\\\\\(x*']) {
    assert.not.ok(wildcardMatcher(pattern)('zzz'));
    assert.ok(wildcardMatcher(pattern)(pattern.replaceAll('*', '')), pattern);
  }
});

test('a name holding private-use characters matches only what it spells', () => {
  assert.not.ok(wildcardMatcher('a.*')('a\uE02Ex'), 'U+E02E is not a dot');
  assert.not.ok(wildcardMatcher('a.*', '*')('a\uE02Ex'));
  assert.ok(wildcardMatcher('a\uE02E*')('a\uE02Ex'));
});

test.run();

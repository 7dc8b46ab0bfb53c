import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InventoryError, formatIssue } from '../../orchestrator/inventory/errors.js';
import { closestMatch, editDistance } from '../../orchestrator/inventory/suggest.js';

test('an issue is formatted as file:line:column: message (expected: ...)', () => {
  assert.is(formatIssue({ file: 'lab.yaml', line: 3, column: 7, message: 'bad', expected: 'good' }), 'lab.yaml:3:7: bad (expected: good)');
  assert.is(formatIssue({ file: 'lab.yaml', line: 1, column: 1, message: 'bad' }), 'lab.yaml:1:1: bad');
});

test('InventoryError sorts issues by line and column and drops exact repeats', () => {
  const issue = (line: number, column: number, message = 'm') => ({ file: 'f', line, column, message });
  const error = new InventoryError([issue(9, 1), issue(2, 5), issue(2, 3), issue(9, 1), issue(9, 1, 'other')]);
  assert.equal(
    error.issues.map((i) => `${i.line}:${i.column}:${i.message}`),
    ['2:3:m', '2:5:m', '9:1:m', '9:1:other'],
  );
  assert.is(error.message, 'f:2:3: m\nf:2:5: m\nf:9:1: m\nf:9:1: other');
  assert.is(error.name, 'InventoryError');
});

test('the closest known key is suggested only for likely typos', () => {
  const keys = ['address', 'port', 'user', 'identity_file', 'timeouts'];
  assert.is(closestMatch('adress', keys), 'address');
  assert.is(closestMatch('identity_files', keys), 'identity_file');
  assert.is(closestMatch('timeuots', keys), 'timeouts');
  assert.is(closestMatch('prot', keys), 'port');
  assert.is(closestMatch('colour', keys), undefined);
});

test('suggestions share a budget of comparisons: once it is spent, no suggestion', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  const budget = { comparisons: 1500 };
  // Same length as every name: each is compared (a name whose length alone rules it out is not).
  assert.is(closestMatch('nodf-0007', names, budget), 'node-0007');
  assert.is(budget.comparisons, 500);
  assert.is(closestMatch('nodf-0008', names, budget), undefined);
  assert.is(budget.comparisons, 0);
  assert.is(closestMatch('nodf-0008', names), 'node-0008');
  const lengthBudget = { comparisons: 1500 };
  assert.is(closestMatch('nod-0007', names, lengthBudget), 'node-0007');
  assert.is(lengthBudget.comparisons, 1500 - 8);
});

test('edit distance counts insertions, deletions, substitutions and adjacent swaps, case-insensitively', () => {
  assert.is(editDistance('address', 'adress'), 1);
  assert.is(editDistance('timeouts', 'timeuots'), 1);
  assert.is(editDistance('Port', 'port'), 0);
  assert.is(editDistance('kitten', 'sitting'), 3);
  assert.is(editDistance('', 'abc'), 3);
  assert.is(editDistance('node-00042', 'node-00042x'), 1);
  assert.is(editDistance('ca', 'abc'), 3);
});

test.run();

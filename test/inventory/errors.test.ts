import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InventoryError, formatIssue } from '../../orchestrator/inventory/errors.js';
import { closestMatch } from '../../orchestrator/inventory/suggest.js';

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

test.run();

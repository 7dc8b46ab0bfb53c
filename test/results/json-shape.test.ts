// results/json-shape.ts: the hand checks the site's caches and state are read with.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isNumbers, isPathProblem, isRecord, isStrings, isTextRecord } from '../../orchestrator/results/json-shape.js';

test('a record is a plain object, never null or an array', () => {
  assert.ok(isRecord({}));
  assert.ok(isRecord(JSON.parse('{"a":1}')));
  for (const value of [null, [], 'x', 1, undefined]) assert.not.ok(isRecord(value), String(value));
});

test('arrays of strings and of numbers accept only their own items', () => {
  assert.ok(isStrings([]) && isStrings(['a', 'b']));
  assert.not.ok(isStrings(['a', 1]));
  assert.not.ok(isStrings('ab'));
  assert.ok(isNumbers([]) && isNumbers([1, 2.5, -3]));
  assert.not.ok(isNumbers([1, '2']));
  assert.not.ok(isNumbers({ 0: 1, length: 1 }));
});

test('a text record has strings in every field; a problem has a path and a message', () => {
  assert.ok(isTextRecord({}) && isTextRecord({ a: 'x', b: '' }));
  assert.not.ok(isTextRecord({ a: 'x', b: 1 }));
  assert.not.ok(isTextRecord(['x']));
  assert.ok(isPathProblem({ path: 'p', message: 'm' }));
  assert.not.ok(isPathProblem({ path: 'p' }));
  assert.not.ok(isPathProblem({ path: 1, message: 'm' }));
});

test.run();

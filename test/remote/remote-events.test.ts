import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineCounter, parseRemoteEventLine } from '../../orchestrator/remote/remote-events.js';

test('LineCounter hands out complete lines only and counts their bytes for resuming', () => {
  const counter = new LineCounter();
  assert.equal(counter.push(Buffer.from('{"a":1}\n{"b"')), ['{"a":1}']);
  assert.is(counter.consumed, 8);
  assert.equal(counter.push(Buffer.from(':2}\nré\n')), ['{"b":2}', 'ré']);
  assert.is(counter.consumed, 8 + 8 + Buffer.byteLength('ré\n'));
  counter.push(Buffer.from('partial'));
  counter.reset();
  assert.is(counter.consumed, 8 + 8 + 4, 'a partial line is not counted, so it is read again');
});

test('LineCounter drops an endless line instead of growing without bound', () => {
  const counter = new LineCounter(1024);
  const lines = counter.push(Buffer.alloc(4096, 0x61));
  assert.is(lines.length, 1);
  assert.is(lines[0]!.length, 500);
  assert.is(counter.consumed, 4096);
});

test('event lines from a host are validated: known kinds pass, anything else is reported', () => {
  const exit = parseRemoteEventLine('{"t":1.5,"kind":"exit","code":0,"timed_out":false}');
  assert.ok(exit.ok && exit.event.kind === 'exit' && exit.event.code === 0);
  const progress = parseRemoteEventLine('{"kind":"progress","message":"x","fraction":0.5}');
  assert.ok(progress.ok);
  for (const bad of ['not json', '{"kind":"exit","code":"0"}', '{"kind":"progress","message":"x","fraction":7}', '{"kind":"rm -rf"}', '[]']) {
    const parsed = parseRemoteEventLine(bad);
    assert.not.ok(parsed.ok, bad);
  }
});

test.run();

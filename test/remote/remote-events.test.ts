import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineCounter, TextTail, agentStatusIn, parseRemoteEventLine } from '../../orchestrator/remote/remote-events.js';

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

test('event lines from a host are validated: progress and logs pass, a status claimed by a helper is refused', () => {
  const progress = parseRemoteEventLine('{"kind":"progress","message":"x","fraction":0.5}');
  assert.ok(progress.ok);
  for (const bad of ['not json', '{"t":1.5,"kind":"exit","code":0,"timed_out":false}', '{"kind":"rc","code":0,"timed_out":false}', '{"kind":"lost","reason":"x"}', '{"kind":"progress","message":"x","fraction":7}', '{"kind":"rm -rf"}', '[]']) {
    const parsed = parseRemoteEventLine(bad);
    assert.not.ok(parsed.ok, bad);
  }
});

test("the agent's status is its last JSON status line on stderr; other text and malformed lines are ignored", () => {
  const text = 'error: something\n{"kind":"rc","code":0,"timed_out":false}\nnoise {"kind":"rc"}\n{"kind":"rc","code":3,"timed_out":true}\n{"kind":"rc","code":"0"}\n';
  assert.equal(agentStatusIn(text, ['rc', 'lost'] as const), { kind: 'rc', code: 3, timed_out: true });
  assert.equal(agentStatusIn('{"kind":"lost","reason":"gone"}\n', ['rc', 'lost'] as const), { kind: 'lost', reason: 'gone' });
  assert.is(agentStatusIn('{"kind":"collected","tar_code":0}', ['rc', 'lost'] as const), undefined, 'only the kinds asked for');
  assert.is(agentStatusIn('', ['rc'] as const), undefined);
});

test('TextTail keeps the end of a long stream, where the status line is', () => {
  const tail = new TextTail(100);
  for (let i = 0; i < 50; i++) tail.push(Buffer.from('x'.repeat(37)));
  tail.push(Buffer.from('\n{"kind":"rc","code":0,"timed_out":false}\n'));
  assert.is(tail.toString().length, 100);
  assert.ok(tail.toString().endsWith('{"kind":"rc","code":0,"timed_out":false}\n'));
});

test.run();

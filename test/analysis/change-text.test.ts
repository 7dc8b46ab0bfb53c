// A detected change reads the same everywhere, and a change from 0 never reads as "+100.0 %".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { relativeChange } from '../../orchestrator/analysis/e-divisive.js';
import { changeText, signedPercentText } from '../../orchestrator/analysis/change-text.js';

const change = (beforeMean: number, afterMean: number) => ({ beforeMean, afterMean, relativeChange: relativeChange(beforeMean, afterMean) });

test('a loss going from 0 % to 9.06 % reads "from 0", not "+100.0 %" (relativeChange gives it 1 for the magnitude rule)', () => {
  assert.is(relativeChange(0, 9.06), 1);
  assert.is(changeText(change(0, 9.06)), 'from 0');
  assert.is(changeText(change(0, -3)), 'from 0');
  assert.is(changeText(change(0, 0)), '0 %');
});

test('a change reads as a signed percentage with one decimal and thousands separators', () => {
  assert.is(changeText(change(100, 112.34)), '+12.3 %');
  assert.is(changeText(change(100, 99.6)), '-0.4 %');
  assert.is(changeText(change(1, 103.987)), '+10,298.7 %');
  assert.is(changeText(change(-10, -5)), '+50.0 %');
  assert.is(changeText(change(100, 100.01)), '0 %');
  assert.is(changeText(change(100, 112.34), ''), '+12.3%', 'the CLI writes it without a space');
  assert.is(signedPercentText(Number.NaN), '—');
});

test.run();

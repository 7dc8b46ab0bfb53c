// The inventory's regressions: section, as loaded (the thresholds it resolves to per metric are
// tested in test/analysis/thresholds.test.ts).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixture, load } from './helpers.js';

test('regressions: default and per-metric entries load in the order written, percentages as fractions, with positions', async () => {
  const file = fixture('valid', 'regressions.yaml');
  const inventory = await load(file);
  assert.equal(inventory.regressions, {
    default: { minRelativeChange: 0.1, window: 40 },
    metrics: [
      { pattern: 'host.cpu.busy.*', thresholds: { minRelativeChange: 0.2 }, position: { file, line: 5, column: 5 } },
      { pattern: 'throughput.*', thresholds: { minRelativeChange: 0.02, pValue: 0.01 }, position: { file, line: 6, column: 5 } },
      { pattern: 'throughput.pps', thresholds: { window: 60 }, position: { file, line: 7, column: 5 } },
      { pattern: 'latency.*', thresholds: {}, position: { file, line: 8, column: 5 } },
    ],
  });
});

test('an inventory without regressions: has none', async () => {
  const inventory = await load(fixture('valid', 'minimal.yaml'));
  assert.is(inventory.regressions, undefined);
});

test.run();

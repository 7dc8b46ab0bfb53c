// thresholdsResolver: the inventory's regressions: section -> thresholds per metric.
// Rule: exact name > glob with the most non-'*' characters > first written; unset fields
// come from default, then DEFAULT_THRESHOLDS.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SeriesKey } from '../../orchestrator/analysis/history.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { thresholdsResolver } from '../../orchestrator/analysis/thresholds.js';
import type { RegressionConfig } from '../../orchestrator/inventory/types.js';

const position = { file: 'lab.yaml', line: 1, column: 1 };
const key = (metric: string): SeriesKey => ({ host: 'mm1', scenario: 'midolman', metric, labels: {} });

const config: RegressionConfig = {
  default: { minRelativeChange: 0.1, window: 40 },
  metrics: [
    { pattern: 'kvm.*', thresholds: { persistence: 2, noiseFactor: 3 }, position },
    { pattern: 'host.*', thresholds: { minRelativeChange: 0.3 }, position },
    { pattern: 'host.cpu.busy.*', thresholds: { minRelativeChange: 0.2 }, position },
    { pattern: 'throughput.*', thresholds: { minRelativeChange: 0.02, pValue: 0.01 }, position },
    { pattern: '*.pps', thresholds: { window: 50 }, position },
    { pattern: 'throughput.pps', thresholds: { window: 60 }, position },
    { pattern: 'lat*', thresholds: { pValue: 0.02 }, position },
    { pattern: '*cy', thresholds: { pValue: 0.03 }, position },
  ],
};

/** The built-in persistence and noise factor, which this config's default leaves as they are. */
const built = { persistence: 3, noiseFactor: 2 };

test('without a config every metric gets DEFAULT_THRESHOLDS (5%, p 0.05, window 30, persistence 3 nights, 2 noise sds)', () => {
  assert.equal(DEFAULT_THRESHOLDS, { minRelativeChange: 0.05, pValue: 0.05, window: 30, persistence: 3, noiseFactor: 2 });
  assert.equal(thresholdsResolver(undefined)(key('anything')), DEFAULT_THRESHOLDS);
});

test('a metric no pattern matches gets default over the built-in defaults', () => {
  assert.equal(thresholdsResolver(config)(key('loss.ratio')), { minRelativeChange: 0.1, pValue: 0.05, window: 40, ...built });
});

test('persistence and noise factor resolve like the other thresholds: an entry, then default, then built in', () => {
  const resolve = thresholdsResolver(config);
  assert.equal(resolve(key('kvm.fio.iops')), { minRelativeChange: 0.1, pValue: 0.05, window: 40, persistence: 2, noiseFactor: 3 });
  const withDefault = thresholdsResolver({ default: { persistence: 4, noiseFactor: 0 }, metrics: [] });
  assert.equal(withDefault(key('x')), { ...DEFAULT_THRESHOLDS, persistence: 4, noiseFactor: 0 });
});

test('the longest matching glob wins over a shorter one, whatever the order written', () => {
  const resolve = thresholdsResolver(config);
  assert.equal(resolve(key('host.cpu.busy.user')), { minRelativeChange: 0.2, pValue: 0.05, window: 40, ...built });
  assert.equal(resolve(key('host.mem.rss')), { minRelativeChange: 0.3, pValue: 0.05, window: 40, ...built });
});

test('an exact name beats every glob; entries do not merge with each other', () => {
  const resolve = thresholdsResolver(config);
  // throughput.pps matches throughput.* and *.pps too, but only its own entry (plus default) applies.
  assert.equal(resolve(key('throughput.pps')), { minRelativeChange: 0.1, pValue: 0.05, window: 60, ...built });
  assert.equal(resolve(key('throughput.bps')), { minRelativeChange: 0.02, pValue: 0.01, window: 40, ...built });
  assert.equal(resolve(key('rx.pps')), { minRelativeChange: 0.1, pValue: 0.05, window: 50, ...built });
});

test('equally specific globs: the first written wins; * matches dots and nothing', () => {
  const resolve = thresholdsResolver(config);
  assert.is(resolve(key('latency')).pValue, 0.02); // lat* and *cy both have 3 literal characters
  assert.is(resolve(key('lat')).pValue, 0.02);
  assert.is(resolve(key('host.')).minRelativeChange, 0.3);
  assert.is(resolve(key('xhost.cpu')).minRelativeChange, 0.1); // patterns are anchored
});

test('the resolver returns copies: changing one does not change the next answer', () => {
  const resolve = thresholdsResolver(config);
  const first = resolve(key('loss'));
  first.window = 999;
  assert.is(resolve(key('loss')).window, 40);
});

test.run();

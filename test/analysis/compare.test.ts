// compareMetrics: two jobs' samples, metric by metric; too few samples to tell are "inconclusive".

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareMetrics } from '../../orchestrator/analysis/compare.js';
import { DEFAULT_THRESHOLDS } from '../../orchestrator/analysis/regressions.js';
import { METRICS_SCHEMA, sample } from '../../orchestrator/results/metrics.js';
import type { MetricSample, MetricsFile } from '../../orchestrator/results/metrics.js';

const file = (...samples: MetricSample[]): MetricsFile => ({ schema: METRICS_SCHEMA, samples, series: [] });
const repeated = (metric: string, better: 'higher' | 'lower' | 'none', values: number[], labels: Record<string, string> = {}) =>
  values.map((value) => sample(metric, value, 'x', better, labels));

const byName = (comparisons: ReturnType<typeof compareMetrics>) => new Map(comparisons.map((c) => [`${c.metric}${JSON.stringify(c.labels)}`, c]));

test('repeated samples: means, delta in percent of a, Mann-Whitney p (exact 0.1 for 3 vs 3 separated) and verdicts', () => {
  const a = file(
    ...repeated('throughput', 'higher', [100, 102, 98, 101, 99]),
    ...repeated('latency', 'lower', [10, 11, 12]),
    ...repeated('rss', 'lower', [100, 101, 99, 100]),
  );
  const b = file(
    ...repeated('throughput', 'higher', [90, 91, 89, 92, 88]),
    ...repeated('latency', 'lower', [20, 21, 22]),
    ...repeated('rss', 'lower', [100, 102, 98, 100]),
  );
  const result = byName(compareMetrics(a, b));
  const throughput = result.get('throughput{}')!;
  assert.equal(throughput.a, { n: 5, mean: 100 });
  assert.equal(throughput.b, { n: 5, mean: 90 });
  assert.is(throughput.deltaPercent, -10);
  assert.ok(Math.abs(throughput.pValue! - 2 / 252) < 1e-12, `p ${throughput.pValue}`); // exact, 5 vs 5 fully separated
  assert.is(throughput.significant, true);
  assert.is(throughput.verdict, 'worse');

  const latency = result.get('latency{}')!;
  assert.is(latency.deltaPercent, (100 * (21 - 11)) / 11);
  assert.ok(Math.abs(latency.pValue! - 0.1) < 1e-12);
  assert.ok(Math.abs(latency.minPValue! - 0.1) < 1e-12);
  assert.is(latency.significant, false); // 3 vs 3 can never reach p <= 0.05
  assert.is(latency.verdict, 'inconclusive'); // not "same": these samples could not have told
  // With a looser p the same numbers are significant, and a rise of latency is worse.
  assert.is(byName(compareMetrics(a, b, { ...DEFAULT_THRESHOLDS, pValue: 0.1 })).get('latency{}')!.verdict, 'worse');

  const rss = result.get('rss{}')!;
  assert.is(rss.deltaPercent, 0);
  assert.is(rss.verdict, 'same');
});

test('single samples: p = 1 (2 splits); a change under minRelativeChange is same, a bigger one inconclusive, never better or worse', () => {
  const a = file(sample('pps', 1000, 'pps', 'higher'), sample('cpu', 50, '%', 'lower'), sample('flows', 10, '', 'none'));
  const b = file(sample('pps', 1030, 'pps', 'higher'), sample('cpu', 40, '%', 'lower'), sample('flows', 20, '', 'none'));
  const result = byName(compareMetrics(a, b));
  assert.equal(result.get('pps{}')!, {
    metric: 'pps',
    labels: {},
    unit: 'pps',
    better: 'higher',
    a: { n: 1, mean: 1000 },
    b: { n: 1, mean: 1030 },
    deltaPercent: 3,
    pValue: 1,
    minPValue: 1,
    significant: false,
    verdict: 'same', // 3% < 5%
    reading: { call: 'same', tested: false, text: 'same' },
  });
  assert.is(result.get('cpu{}')!.deltaPercent, -20);
  assert.is(result.get('cpu{}')!.verdict, 'inconclusive'); // was "better" from the size alone
  assert.is(result.get('flows{}')!.deltaPercent, 100);
  assert.is(result.get('flows{}')!.verdict, 'same'); // no direction: never better or worse
});

test('what a reader is told: a big change on one sample each reads by its size and direction, marked untested; no direction reads changed', () => {
  // the review's pair: host.cpu.busy.mean +58.3 % (lower is better) read "inconclusive, p 1"; load.1m +5.8 % (no direction) read "same"
  const a = file(sample('cpu', 20.4, '%', 'lower'), sample('load', 1.2, '', 'none'), sample('pps', 1000, 'pps', 'higher'), sample('disk', 7, 'ms', 'lower'));
  const b = file(sample('cpu', 32.3, '%', 'lower'), sample('load', 1.27, '', 'none'), sample('pps', 1030, 'pps', 'higher'), sample('net', 1, 'ms', 'lower'));
  const result = byName(compareMetrics(a, b));
  assert.equal(result.get('cpu{}')!.reading, { call: 'worse', tested: false, text: 'worse, untested (1 sample each)' });
  assert.is(result.get('cpu{}')!.verdict, 'inconclusive'); // the test's own verdict is unchanged: it could not tell
  assert.equal(result.get('load{}')!.reading, { call: 'changed', tested: false, text: 'changed, untested (1 sample each)' });
  assert.equal(result.get('pps{}')!.reading, { call: 'same', tested: false, text: 'same' }); // +3 % < 5 %
  assert.equal(result.get('disk{}')!.reading, { call: 'missing', tested: false, text: 'missing' });
  // uneven counts are named as such; the smallest p of 2 vs 3 (0.2) cannot reach 0.05
  const uneven = compareMetrics(file(...repeated('lat', 'lower', [10, 11])), file(...repeated('lat', 'lower', [8, 8.2, 8.1])))[0]!;
  assert.equal(uneven.reading, { call: 'better', tested: false, text: 'better, untested (2 vs 3 samples)' });
});

test('what a reader is told where a test can decide: its call, tested; no significance reads same whatever the size', () => {
  const worse = compareMetrics(file(...repeated('pps', 'higher', [1000, 1010, 990, 1005])), file(...repeated('pps', 'higher', [500, 505, 495, 502])))[0]!;
  assert.equal(worse.reading, { call: 'worse', tested: true, text: 'worse' });
  const noise = compareMetrics(file(...repeated('pps', 'higher', [100, 80, 120, 100])), file(...repeated('pps', 'higher', [90, 70, 110, 90])))[0]!;
  assert.equal(noise.reading, { call: 'same', tested: true, text: 'same' });
  // without a better direction a significant change reads "changed", tested
  const flows = compareMetrics(file(...repeated('flows', 'none', [10, 11, 12, 10])), file(...repeated('flows', 'none', [20, 21, 22, 20])))[0]!;
  assert.equal(flows.reading, { call: 'changed', tested: true, text: 'changed' });
  assert.is(flows.verdict, 'same');
  // a rise from 0 has no percentage but is never "under the threshold"
  const loss = compareMetrics(file(sample('loss', 0, '%', 'lower')), file(sample('loss', 9.06, '%', 'lower')))[0]!;
  assert.equal(loss.reading, { call: 'worse', tested: false, text: 'worse, untested (1 sample each)' });
});

test('labels separate metrics (in any key order); a metric on one side only is missing', () => {
  const a = file(sample('iops', 100, 'ops/s', 'higher', { fs: 'xfs', cache: 'none' }), sample('old', 1, '', 'higher'));
  const b = file(sample('iops', 130, 'ops/s', 'higher', { cache: 'none', fs: 'xfs' }), sample('iops', 50, 'ops/s', 'higher', { fs: 'ext4', cache: 'none' }));
  const result = compareMetrics(a, b);
  assert.equal(
    result.map((c) => [c.metric, c.labels, c.a.n, c.b.n, c.deltaPercent, c.verdict]),
    [
      ['iops', { cache: 'none', fs: 'ext4' }, 0, 1, null, 'missing'],
      ['iops', { cache: 'none', fs: 'xfs' }, 1, 1, 30, 'inconclusive'],
      ['old', {}, 1, 0, null, 'missing'],
    ],
  );
  assert.equal(result[0]!.a, { n: 0, mean: null });
});

test('a baseline mean of 0 gives no percentage unless both are 0', () => {
  const result = compareMetrics(file(sample('loss', 0, '%', 'lower'), sample('drops', 0, '', 'lower')), file(sample('loss', 2, '%', 'lower'), sample('drops', 0, '', 'lower')));
  assert.equal(
    result.map((c) => [c.metric, c.deltaPercent, c.verdict]),
    [
      ['drops', 0, 'same'],
      ['loss', null, 'inconclusive'],
    ],
  );
});

test('2 vs 2 never says worse from the size of the change alone: inconclusive (the smallest p is 1/3)', () => {
  const result = compareMetrics(file(...repeated('pps', 'higher', [1000, 1010])), file(...repeated('pps', 'higher', [500, 505])))[0]!;
  assert.is(result.deltaPercent! < -49, true);
  assert.ok(Math.abs(result.pValue! - 1 / 3) < 1e-12);
  assert.ok(Math.abs(result.minPValue! - 1 / 3) < 1e-12);
  assert.is(result.verdict, 'inconclusive');
  // 3 vs 4 cannot reach 0.05 either (2/35 = 0.057); 4 vs 4 can (2/70 = 0.029), and then it is worse
  const threeFour = compareMetrics(file(...repeated('pps', 'higher', [1000, 1010, 990])), file(...repeated('pps', 'higher', [500, 505, 495, 502])))[0]!;
  assert.is(threeFour.verdict, 'inconclusive');
  const fourFour = compareMetrics(file(...repeated('pps', 'higher', [1000, 1010, 990, 1005])), file(...repeated('pps', 'higher', [500, 505, 495, 502])))[0]!;
  assert.ok(Math.abs(fourFour.pValue! - 2 / 70) < 1e-12);
  assert.is(fourFour.verdict, 'worse');
});

test('enough samples, no significance: 4 vs 4 overlapping with a 10% mean change is same, not inconclusive', () => {
  const result = compareMetrics(file(...repeated('pps', 'higher', [100, 80, 120, 100])), file(...repeated('pps', 'higher', [90, 70, 110, 90])))[0]!;
  assert.is(result.deltaPercent, -10);
  assert.ok(result.minPValue! <= 0.05 && result.pValue! > 0.05, `p ${result.pValue}, smallest ${result.minPValue}`);
  assert.is(result.verdict, 'same');
});

test('ties count: 3 vs 3 with a tie across the sides is an exact p of 0.3 (scipy permutation_test), inconclusive', () => {
  const result = compareMetrics(file(...repeated('latency', 'lower', [10, 12, 12])), file(...repeated('latency', 'lower', [12, 14, 15])))[0]!;
  assert.ok(Math.abs(result.pValue! - 0.3) < 1e-12, `p ${result.pValue}`);
  assert.is(result.verdict, 'inconclusive');
});

test.run();

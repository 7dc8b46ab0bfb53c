// A trends page's charts come in the order a reader needs them: what changed, then results with a
// better direction, then the rest, and what never moved last.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetricHistory } from '../../orchestrator/analysis/history.js';
import { orderedForReading } from '../../orchestrator/site/trends-pages.js';

function history(metric: string, better: MetricHistory['better'], values: number[], keyId = metric): MetricHistory {
  return {
    key: { host: 'h', scenario: 'midolman', metric, labels: {} },
    keyId,
    unit: 'pps',
    better,
    points: values.map((value, i) => ({ sweepId: `s${i}`, jobId: 'h--midolman', at: `2026-10-0${i + 1}T02:00:00Z`, value })),
  } as MetricHistory;
}

test('changed metrics first, then those with a better direction, then directionless ones, and flat ones last; by name within each', () => {
  const metrics = [
    history('agent.cpu', 'lower', [5, 6, 5]),
    history('cpu.logical', 'none', [16, 16, 16]),
    history('load.1m', 'none', [0.5, 0.7, 0.6]),
    history('throughput.lossless_max', 'higher', [4000, 3500, 3500]),
    history('agent.flows', 'higher', [7, 7, 7]),
    history('traffic.loss', 'lower', [0, 0.09, 0.09]),
  ];
  const byMetric = new Map(metrics.map((h) => [h.key.metric, [h]]));
  const order = orderedForReading(byMetric, [{ keyId: 'traffic.loss' }, { keyId: 'throughput.lossless_max' }]).map(([metric]) => metric);
  assert.equal(order, ['throughput.lossless_max', 'traffic.loss', 'agent.cpu', 'load.1m', 'agent.flows', 'cpu.logical']);
});

test('without any change the order is results, then the rest, then the flat ones', () => {
  const byMetric = new Map([
    ['b', [history('b', 'none', [1, 2])]],
    ['a', [history('a', 'none', [3, 3])]],
    ['c', [history('c', 'higher', [1, 2])]],
  ]);
  assert.equal(orderedForReading(byMetric, []).map(([m]) => m), ['c', 'b', 'a']);
});

test.run();

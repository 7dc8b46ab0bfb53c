import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { displayUnit, numberText, formatDuration, formatIn, formatNanoseconds, formatP, formatPercent, formatRate, formatValue, labelsText, lineNames, unitFamily, withUnit } from '../../orchestrator/site/format.js';

test('durations round before they split: never "60 s"', () => {
  assert.is(formatDuration(null), '—');
  assert.is(formatDuration(4_321), '4.3 s');
  assert.is(formatDuration(9_960), '10 s');
  assert.is(formatDuration(59_400), '59 s');
  assert.is(formatDuration(59_600), '1 min 0 s');
  assert.is(formatDuration(27 * 60_000 + 59_700), '28 min 0 s');
  assert.is(formatDuration(64_000), '1 min 4 s');
  assert.is(formatDuration(3 * 3_600_000 + 5 * 60_000 + 40_000), '3 h 5 min');
});

test('latencies read in the unit that fits, rounded before the unit is chosen', () => {
  assert.is(formatNanoseconds(850), '850 ns');
  assert.is(formatNanoseconds(24_361), '24.4 µs');
  assert.is(formatNanoseconds(999_600), '1 ms');
  assert.is(formatNanoseconds(24_361_268), '24.4 ms');
  assert.is(formatNanoseconds(1_204_000_000), '1.2 s');
  assert.is(formatNanoseconds(null), '—');
  assert.is(formatNanoseconds(Number.NaN), '—');
});

test('rates: whole packets per second with thousands separators; fractions only for small rates', () => {
  assert.is(formatRate(3665), '3,665 pps');
  assert.is(formatRate(2030.836), '2,031 pps');
  assert.is(formatRate(12.46), '12.5 pps');
  assert.is(formatRate(undefined), '—');
});

/** A number with an SI prefix stuck to it ("190m", "274.877907G", "1.5k"): what no value may read as. */
const SI_SUFFIXED = /\d[yzafpnµumkMGTPEZY](\s|$)/;

test('bytes read in binary units, whatever byte unit the metric is in', () => {
  assert.is(formatValue(274_877_906_944, 'bytes'), '256 GiB');
  assert.is(formatValue(68_719_476_736, 'bytes'), '64 GiB');
  assert.is(formatValue(448_900_000, 'bytes'), '428 MiB');
  assert.is(formatValue(1000, 'bytes'), '1,000 B');
  assert.is(formatValue(1023.9 * 1024, 'bytes'), '1 MiB', 'rounding up to the next unit shows the next unit');
  assert.is(formatValue(512, 'MiB'), '512 MiB');
  assert.is(formatValue(2048, 'MiB'), '2 GiB');
  assert.is(formatValue(1_240_000, 'KiB/s'), '1.18 GiB/s', 'a byte rate stays a rate');
  assert.is(formatValue(0, 'bytes'), '0 B');
});

test('no SI prefix is stacked on a unit: times pick their own unit, plain numbers stay plain', () => {
  assert.is(formatValue(0.19, 's'), '190 ms');
  assert.is(formatValue(190, 'ms'), '190 ms');
  assert.is(formatValue(0.000_041, 's'), '41 µs');
  assert.is(formatValue(440.5, 's'), '441 s');
  assert.is(formatValue(120_000_000, 'ns/s'), '120 ms/s');
  assert.is(formatValue(0.6, 'load'), '0.6');
  assert.is(formatValue(0.0042, 'load'), '0.0042');
  assert.is(formatValue(3, 'count'), '3');
  assert.is(formatValue(2_500_000, 'pps'), '2.5 million pps');
  assert.is(formatValue(0.05, 'ratio'), '5 %', 'a ratio reads as a percentage');
  const values = [0.19, 0.6, 0.0042, 190, 3500, 274_877_906_944, 1.2e8, 0.0001, 42_000_000];
  for (const unit of ['s', 'ms', 'ns', 'load', 'count', 'bytes', 'pps', 'ratio', '%', 'events/s', 'KiB/s', '']) {
    for (const v of values) assert.not.match(formatValue(v, unit), SI_SUFFIXED, `${v} ${unit}`);
  }
});

test('precision: three significant digits, whole numbers from 1,000 up, four in tooltips', () => {
  assert.is(formatValue(32.348, '%'), '32.3 %');
  assert.is(formatValue(3579.4, 'pps'), '3,579 pps');
  assert.is(formatValue(0.123_456, 'load'), '0.123');
  assert.is(formatValue(7_308_000_000, 'bytes', 4), '6.806 GiB');
  assert.is(formatValue(null, 'bytes'), '—');
  assert.is(formatValue(Number.NaN, 's'), '—');
});

test('a chart axis takes one display unit for all its values, and says which', () => {
  const mem = displayUnit('bytes', [7.30e9, 7.31e9]);
  assert.equal(mem, { factor: 1 / 1024 ** 3, label: 'GiB', integer: false });
  assert.is(formatIn(7.308e9, mem), '6.806 GiB');
  assert.equal(displayUnit('s', [0.395, 0.41]), { factor: 1000, label: 'ms', integer: false }, 'sub-second seconds read in ms');
  assert.equal(displayUnit('count', [0, 0]), { factor: 1, label: '', integer: true }, 'counts: whole ticks, no unit');
  assert.equal(displayUnit('s', []).label, 's', 'no values: the unit itself');
  assert.is(withUnit('memory.total', 'GiB'), 'memory.total (GiB)');
  assert.is(withUnit('load.1m', ''), 'load.1m');
  assert.is(unitFamily('MiB/s').name, 'bytes');
  assert.is(unitFamily('MB/s').name, 'number', 'decimal byte units are kept as the tool wrote them');
});

test('percent changes and p-values: no "-0.0 %", no "0.0040"', () => {
  assert.is(formatPercent(-0.004), '0 %');
  assert.is(formatPercent(12.34), '+12.3 %');
  assert.is(formatPercent(-5), '-5.0 %');
  assert.is(formatP(0.004), '0.004');
  assert.is(formatP(0.0004), '< 0.001');
  assert.is(formatP(0.51234), '0.51');
  assert.is(formatP(null), '—');
});

test('numberText writes every number as Intl en-US does (grouped thousands, no exponent below 1,000)', () => {
  const intl = new Intl.NumberFormat('en-US', { maximumFractionDigits: 20 });
  const edges = [0, -0, 1, -1, 0.1, 0.1 + 0.2, 999, 999.9, 1000, -1000, 1234.5, 999999, 1e6, 1e-7, 5e-324, 9007199254740991, -9007199254740991, 2 ** 53 + 2, 1e21, NaN, Infinity, -Infinity];
  for (const value of edges) assert.is(numberText(value), intl.format(value), String(value));
  // rounded values as the formatters make them (3 and 4 significant digits), over 26 decades
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 50000; i++) {
    const raw = (random() < 0.5 ? -1 : 1) * random() * 10 ** (random() * 26 - 10);
    for (const digits of [3, 4]) {
      const value = Math.abs(raw) >= 10 ** digits ? Math.round(raw) : Number(raw.toPrecision(digits));
      assert.is(numberText(value), intl.format(value), String(value));
    }
  }
});


test('line names: the labels every line shares once, each line by the labels that differ', () => {
  // a midolman trend's long-running lines: the same mode, phase and rate, one step each
  const longRunning = [1, 2, 3, 4, 5, 6, 7, 8].map((step) => ({ mode: 'linear', phase: 'long-running', offered_pps: '3000', step: String(step) }));
  assert.equal(lineNames(longRunning), { common: 'mode=linear, offered_pps=3000, phase=long-running', names: longRunning.map((l) => `step=${l.step}`) });
  // with throughput steps beside them: only the mode is shared; every name distinct and whole
  const mixed = [...longRunning, ...[1, 2].map((step) => ({ mode: 'linear', phase: 'throughput', offered_pps: String(step * 1000), step: String(step) }))];
  const { common, names } = lineNames(mixed);
  assert.is(common, 'mode=linear');
  assert.is(names[0], 'offered_pps=3000, phase=long-running, step=1');
  assert.is(names[8], 'offered_pps=1000, phase=throughput, step=1');
  assert.is(new Set(names).size, mixed.length, 'distinct label sets get distinct names');
});

test('line names: one line shares all its labels; where every key differs the names are the full labels; a key some lines lack is not shared', () => {
  assert.equal(lineNames([{ loss_threshold: '0' }]), { common: 'loss_threshold=0', names: [''] });
  const apart = [
    { mode: 'linear', phase: 'long-running', step: '1' },
    { mode: 'ndr', phase: 'throughput', step: '2' },
  ];
  assert.equal(lineNames(apart), { common: '', names: apart.map(labelsText) });
  // a line with no labels beyond the shared ones is named '' (the chart names it by its full label)
  assert.equal(lineNames([{ source: 'steps', phase: 'x' }, { source: 'steps' }]), { common: 'source=steps', names: ['phase=x', ''] });
  assert.equal(lineNames([{}, { source: 'steps' }]), { common: '', names: ['', 'source=steps'] });
  assert.equal(lineNames([]), { common: '', names: [] });
  // label text that names an Object property is a label like any other
  const hostile = JSON.parse('[{"constructor": "a", "__proto__": "x"}, {"constructor": "b"}]') as Record<string, string>[];
  assert.equal(lineNames(hostile), { common: '', names: ['__proto__=x, constructor=a', 'constructor=b'] });
});

test.run();

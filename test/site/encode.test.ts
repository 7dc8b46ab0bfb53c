// site/encode.ts: host data in the site's files - CSV cells and JSON inside scripts.
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chartScript, columnRows, compactSpec, dataScript, safeJson, toCsv } from '../../orchestrator/site/encode.js';
import { REPORT_SITE_DIR } from '../../orchestrator/site/assets.js';

const SITE_JS = readFileSync(`${REPORT_SITE_DIR}/assets/site.js`, 'utf8');

/**
 * The specs the report's own site.js hands vega-embed after loading `script` (a charts.js), one per
 * chart figure of the page: site.js runs in a context whose document has a figure per chart key
 * and whose vegaEmbed records what it is given (the boundary faked: the page and Vega).
 */
function specsSiteJsEmbeds(script: string, keys: readonly string[]): unknown[] {
  const embedded: unknown[] = [];
  const element = () => ({ className: '', hidden: false, parentNode: { insertBefore: () => undefined }, remove: () => undefined, classList: { add: () => undefined } });
  const figures = keys.map((key) => ({ getAttribute: () => key, querySelector: () => element() }));
  const window: Record<string, unknown> = {
    vegaEmbed: (_el: unknown, spec: unknown) => {
      embedded.push(JSON.parse(JSON.stringify(spec)));
      return { then: () => ({ catch: () => undefined }) };
    },
    addEventListener: () => undefined,
  };
  const document = {
    querySelectorAll: (selector: string) => (selector.startsWith('figure') ? figures : []),
    getElementById: () => null,
    createElement: element,
  };
  runInNewContext(`${script}\n${SITE_JS}`, { window, document, location: { hash: '' }, history: {}, console });
  return embedded;
}

test('CSV: numbers as they print (negative ones are no formula), text guarded and quoted, objects as JSON', () => {
  const rows = [
    { a: -1.5, b: '=SUM(A1)', c: 'x,"y"', d: { k: 1 } },
    { a: NaN, b: '-2', c: 'line\nbreak', d: null },
    { a: 1e21, b: '+1', c: '@me', d: undefined },
  ];
  assert.is(toCsv(rows), 'a,b,c,d\n-1.5,\'=SUM(A1),"x,""y""","{""k"":1}"\nNaN,\'-2,"line\nbreak",\n1e+21,\'+1,\'@me,\n');
});

test('safeJson writes markup characters and JS line separators as escapes', () => {
  assert.is(safeJson({ t: '</script><a href="x">&\u2028\u2029' }), '{"t":"\\u003c/script\\u003e\\u003ca href=\\"x\\"\\u003e\\u0026\\u2028\\u2029"}');
  assert.is(dataScript('jobs', 'a<b', 1), '(window.__site=window.__site||{});(window.__site.jobs=window.__site.jobs||{})["a\\u003cb"]=1;\n');
});

test('CSV: a text repeated down a column is guarded and quoted alike in every row; no columns is empty lines; no rows is the header', () => {
  const rows = [1, 2, 3].map((i) => ({ series: 'a, "b"', formula: '=1+1', n: i }));
  assert.is(toCsv(rows), 'series,formula,n\n"a, ""b""",\'=1+1,1\n"a, ""b""",\'=1+1,2\n"a, ""b""",\'=1+1,3\n');
  assert.is(toCsv(rows, []), '\n\n\n\n');
  assert.is(toCsv([], ['a', 'b']), 'a,b\n');
});

const trendRows = Array.from({ length: 40 }, (_, i) => ({
  series: `step=${i % 4}`,
  at: `2026-08-${String(1 + (i >> 2)).padStart(2, '0')}T02:00:00.000Z`,
  value: i % 7 === 0 ? 0.1 + 0.2 : i * 1.5,
  sweepId: `s${i >> 2}`,
  href: `../jobs/s${i >> 2}/h.html`,
  // present on some rows only, and not first: the rows without it keep not having it
  ...(i % 3 === 0 ? {} : { build: i < 20 ? 'v1 <b>' : 'v2 & "x"' }),
  shown: `${i} %`,
  t: 1785722401900 + i,
}));

test('charts.js carries a chart\'s rows by column, and the site\'s own script gives the same rows back to vega-embed (layers included)', () => {
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: trendRows },
    layer: [{ mark: 'line' }, { data: { values: trendRows.slice(0, 9).map((r) => ({ ...r, odd: { k: [1, 2] }, none: null })) }, mark: 'point' }],
    params: [{ name: 'legendNames', value: ['a', 'b'] }],
  };
  const small = { data: { values: trendRows.slice(0, 3) }, mark: 'bar' };
  const script = chartScript('page#a', spec) + chartScript('page#b', small);
  assert.equal(specsSiteJsEmbeds(script, ['page#a', 'page#b']), [spec, small]);
  // what the file holds: no row objects, each repeated text once
  const [first, second] = script.trimEnd().split('\n');
  assert.not.ok(first!.includes('"values"'), 'the rows are not written as objects');
  assert.ok(second!.includes('"values":[{"series"'), 'three rows stay as they are');
  assert.is(first!.split('step=1').length - 1, 2, 'a series name is written once per dataset');
  assert.ok(!/[<>&]/.test(script.replace(/\(window\.__site[^;]*;/g, '').replace(/=>|&&/g, '')), 'host text stays escaped');
  assert.ok(script.length < JSON.stringify([spec, small]).length / 2, `${script.length} bytes against ${JSON.stringify([spec, small]).length}`);
});

test('rows by column: fields absent from some rows stay absent, undefined is absent, numbers stay numbers; too few rows or non-plain rows stay rows', () => {
  const rows = [{ a: 1, b: 'x' }, { b: 'x', c: undefined }, { a: 3 }, { a: 4, b: 'y' }, { a: 5, b: 'x' }, { a: 6, b: 'x' }, { a: 7, b: 'x' }, { a: 8, b: 'x' }];
  const columns = columnRows(rows)!;
  assert.equal(JSON.parse(JSON.stringify(columns)), { n: 8, c: [['a', 0, [1, null, 3, 4, 5, 6, 7, 8], [1]], ['b', 1, [['x', 'y'], [0, 0, 0, 1, 0, 0, 0, 0]], [2]]] });
  assert.equal(specsSiteJsEmbeds(dataScript('charts', 'k', { data: { siteRows: columns } }), ['k']), [{ data: { values: JSON.parse(JSON.stringify(rows)) } }]);
  assert.is(columnRows(rows.slice(0, 7)), undefined, 'seven rows: as they are');
  assert.is(columnRows([...rows, [1, 2]]), undefined, 'a row that is not a plain object: as they are');
  assert.equal(compactSpec({ data: { values: rows.slice(0, 2) } }), { data: { values: rows.slice(0, 2) } });
});

test('a field named __proto__ in the rows is a field of the row the site gives vega-embed, never its prototype', () => {
  const rows = Array.from({ length: 8 }, (_, i) => JSON.parse(`{"__proto__": {"polluted": ${i}}, "v": ${i}}`) as Record<string, unknown>);
  const [embedded] = specsSiteJsEmbeds(chartScript('k', { data: { values: rows } }), ['k']) as { data: { values: Record<string, unknown>[] } }[];
  assert.equal(embedded!.data.values.map((r) => [Object.keys(r), (r as { polluted?: number }).polluted]), rows.map(() => [['__proto__', 'v'], undefined]));
});

test.run();

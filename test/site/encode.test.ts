// site/encode.ts: host data in the site's files - CSV cells and JSON inside scripts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dataScript, safeJson, toCsv } from '../../orchestrator/site/encode.js';

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

test.run();

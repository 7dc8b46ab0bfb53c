// parseSeriesCsv: `time,value` with a header, oldest first; every problem as FILE:LINE.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SeriesCsvError, parseSeriesCsv } from '../../orchestrator/analysis/series-csv.js';

function problem(text: string): string {
  try {
    parseSeriesCsv(text, 'night.csv');
  } catch (error) {
    assert.instance(error, SeriesCsvError);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

test('numbers or dates as times, quotes, CRLF, blank lines; equal times are one run', () => {
  const parsed = parseSeriesCsv('\uFEFFtime,value\r\n1,10\r\n2,"11.5"\r\n\r\n2,12\r\n10,-1e3\r\n', 'f.csv');
  assert.equal(parsed.rows, [
    { line: 2, time: '1', value: 10 },
    { line: 3, time: '2', value: 11.5 },
    { line: 5, time: '2', value: 12 },
    { line: 6, time: '10', value: -1000 },
  ]);
  assert.equal(parsed.runs, [0, 1, 1, 2]);
  // numbers compare as numbers (10 after 2), dates as dates
  const dates = parseSeriesCsv('Time, Value\n2026-01-30,1\n2026-01-31T04:00:00Z,2\n2026-02-01,3\n', 'f.csv');
  assert.equal(dates.runs, [0, 1, 2]);
});

test('no header: the first line is data', () => {
  assert.is(problem('1,10\n2,11\n'), 'night.csv:1: no header: the first line is data; expected a header time,value first');
  assert.is(problem('\n\nwhen,value\n1,2\n'), 'night.csv:3: header "when,value" is not time,value');
});

test('a value that is not a number, a wrong field count, an empty time', () => {
  assert.is(problem('time,value\n1,10\n2,ten\n'), 'night.csv:3: value "ten" is not a number');
  assert.is(problem('time,value\n1,10\n2,\n'), 'night.csv:3: value "" is not a number');
  assert.is(problem('time,value\n1,NaN\n'), 'night.csv:2: value "NaN" is not a number');
  assert.is(problem('time,value\n1,10,3\n'), 'night.csv:2: expected 2 fields (time,value), found 3');
  assert.is(problem('time,value\n,10\n'), 'night.csv:2: the time is empty');
});

test('times that go back, or change kind', () => {
  assert.is(problem('time,value\n1,10\n3,11\n2,12\n'), 'night.csv:4: time "2" is before "3" on line 3: rows must be oldest first');
  assert.is(problem('time,value\n2026-02-01,1\n2026-01-31,2\n'), 'night.csv:3: time "2026-01-31" is before "2026-02-01" on line 2: rows must be oldest first');
  assert.is(problem('time,value\n1,10\nyesterday,11\n'), 'night.csv:3: time "yesterday" is not a number like the first row\'s');
  assert.is(problem('time,value\nyesterday,11\n'), 'night.csv:2: time "yesterday" is not a date or a number');
});

test('empty: no lines at all, or a header and nothing else', () => {
  assert.is(problem(''), 'night.csv:1: empty: expected a header time,value and one row per point');
  assert.is(problem('\n \n'), 'night.csv:1: empty: expected a header time,value and one row per point');
  assert.is(problem('time,value\n\n'), 'night.csv:1: no rows after the header: expected one row of time,value per point');
});

test.run();

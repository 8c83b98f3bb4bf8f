/**
 * buildTimeSeries and the JSONL reader's time-series path, by hand: row order, averaging of
 * repeated (time, variable) pairs, out-of-range drops keeping times / variables / values aligned,
 * and outputs that own their buffers (a sample crosses threads by structured clone, which copies
 * a view's whole buffer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTimeSeries, DUPLICATE_MERGED } from '../../src/data/timeseries.js';
import { sampleFromJson } from '../../src/data/sources/jsonlRecords.js';
import { RangePolicy, OUT_OF_RANGE } from '../../src/data/ranges.js';
import { ReportBuilder } from '../../src/data/report.js';
import type { DatasetSpec, TimeSeriesData } from '../../src/data/schema.js';

const owns = (a: Float64Array | Int32Array) => a.byteOffset === 0 && a.buffer.byteLength === a.byteLength;

test('buildTimeSeries: unsorted rows with repeats → sorted by (time, variable), repeats averaged and counted', () => {
  const report = new ReportBuilder();
  // rows: (t, v, x) = (2, 1, 10), (1, 0, 4), (2, 1, 20), (1, 1, 7), (2, 0, 1), (2, 1, 60)
  const d = buildTimeSeries([2, 1, 2, 1, 2, 2], [1, 0, 1, 1, 0, 1], [10, 4, 20, 7, 1, 60], ['a', 'b'], report)!;
  assert.deepEqual([...d.times], [1, 1, 2, 2]);
  assert.deepEqual([...d.variables], [0, 1, 0, 1]);
  assert.deepEqual([...d.values], [4, 7, 1, 30]); // (10 + 20 + 60) / 3
  assert.equal(report.counts[DUPLICATE_MERGED], 2);
  assert.deepEqual(report.byVariable[DUPLICATE_MERGED], { b: 2 });
  for (const a of [d.times, d.variables, d.values]) assert.ok(owns(a), 'a trimmed output is a copy, not a view into a longer buffer');
});

test('buildTimeSeries: rows already in order and without repeats come back as they are; none → undefined', () => {
  const d = buildTimeSeries([0.5, 0.5, 3], [0, 2, 1], [1, 2, 3], ['a', 'b', 'c'])!;
  assert.deepEqual([...d.times], [0.5, 0.5, 3]);
  assert.deepEqual([...d.variables], [0, 2, 1]);
  assert.deepEqual([...d.values], [1, 2, 3]);
  assert.equal(buildTimeSeries([], [], [], ['a']), undefined);
});

test('buildTimeSeries: a repeat whose sum overflows is averaged without overflow', () => {
  const d = buildTimeSeries([1, 1], [0, 0], [1.5e308, 1.5e308], ['a'])!;
  assert.equal(d.values[0], 1.5e308);
});

test('JSONL reader: an out-of-range value is dropped with its time and variable, and counted', () => {
  const spec: DatasetSpec = { name: 't', task: { kind: 'binary', name: 'y' }, horizonHours: 48, modalities: [{ name: 'v', kind: 'timeseries', variables: ['HR', 'Temp'] }] };
  const report = new ReportBuilder();
  const ranges = RangePolicy.from({ ranges: { HR: [0, 300] } });
  const raw = { id: 'r1', modalities: { v: { times: [3, 1, 2, 1], variables: ['HR', 'Temp', 'HR', 1], values: [80, 36.6, 900, 37.0] } } };
  const s = sampleFromJson(spec, raw, 'test:1', report, false, ranges);
  const d = s.modalities['v'] as TimeSeriesData;
  assert.deepEqual([...d.times], [1, 3]); // the 900 at t = 2 is gone; Temp at t = 1 twice → averaged
  assert.deepEqual([...d.variables], [1, 0]);
  assert.ok(Math.abs(d.values[0]! - 36.8) < 1e-12);
  assert.equal(d.values[1], 80);
  assert.deepEqual(report.byVariable[OUT_OF_RANGE], { HR: 1 });
  assert.equal(report.counts[DUPLICATE_MERGED], 1);
});

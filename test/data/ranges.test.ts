import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RangePolicy, DEFAULT_RANGE, OUT_OF_RANGE } from '../../src/data/ranges.js';
import { readJsonl } from '../../src/data/sources/jsonl.js';
import { readLongCsv } from '../../src/data/sources/longCsv.js';
import { readPhysioNet2012 } from '../../src/data/sources/physionet2012.js';
import { loadDataset } from '../../src/data/load.js';
import { fitNormalizer, meanStd, medianSpread, normalizerToJson, normalizerFromJson, quantileSorted } from '../../src/data/normalize.js';
import { ReportBuilder } from '../../src/data/report.js';
import type { DatasetSpec, Sample, TimeSeriesData } from '../../src/data/schema.js';
import { assertDataError, p12Outcomes, p12Record, tmpDir, writeFiles } from './fixtures.js';

const spec: DatasetSpec = {
  name: 't',
  modalities: [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'Temp'] },
    { name: 'demo', kind: 'static', features: ['age'] },
  ],
  task: { kind: 'binary', name: 'y' },
  horizonHours: 48,
};
const header = JSON.stringify({ fleximodal: 1, spec });
const line = (id: string, hr: string, age = '60') => `{"id":"${id}","label":${id.endsWith('1') ? 1 : 0},"modalities":{"vitals":{"times":[0,1],"variables":["HR","Temp"],"values":[${hr},37]},"demo":{"values":[${age}]}}}`;

function jsonl(lines: string[]): string {
  const dir = tmpDir();
  writeFiles(dir, { 'd.jsonl': [header, ...lines, ''].join('\n') });
  return `${dir}/d.jsonl`;
}

test('RangePolicy: default ±1e9, presets, overrides, unknown names and empty ranges refused', async () => {
  const d = RangePolicy.default();
  assert.deepEqual(d.rangeOf('anything'), DEFAULT_RANGE);
  assert.ok(d.inRange('x', 1e9) && d.inRange('x', -1e9) && !d.inRange('x', 1.0000001e9));
  const r = new ReportBuilder();
  assert.equal(d.keep('HR', 1e30, r), false);
  assert.deepEqual(r.byVariable[OUT_OF_RANGE], { HR: 1 });
  const p = RangePolicy.from({ rangePreset: 'physionet2012', ranges: { HR: [0, 250] } });
  assert.deepEqual(p.rangeOf('HR'), [0, 250]);
  assert.deepEqual(p.rangeOf('Urine'), [0, 24000]);
  assert.deepEqual(RangePolicy.from({ ranges: { '*': [null, null] } }).rangeOf('HR'), [null, null]);
  await assertDataError(() => RangePolicy.from({ ranges: { Hr: [0, 1] } }, 'none', ['HR'], 'ranges'), 'unknown variable "Hr"');
  await assertDataError(() => RangePolicy.from({ ranges: { HR: [5, 1] } }), 'is empty');
});

test('1e300 and 1e30 in JSONL are dropped by the default range and counted per variable (static too)', async () => {
  const ds = await readJsonl(jsonl([line('a0', '1e300'), line('a1', '1e30', '1e12'), line('a2', '80')]));
  assert.equal(ds.report.counts[OUT_OF_RANGE], 3);
  assert.deepEqual(ds.report.byVariable[OUT_OF_RANGE], { HR: 2, age: 1 });
  const v0 = ds.samples[0]!.modalities['vitals'] as TimeSeriesData;
  assert.deepEqual(Array.from(v0.values), [37]); // HR dropped, Temp kept
  assert.ok(Number.isNaN((ds.samples[1]!.modalities['demo'] as { values: Float64Array }).values[0]!));
  // configured ranges (data.ranges) through loadDataset
  const dir = tmpDir();
  writeFiles(dir, { 'd.jsonl': [header, line('a0', '250'), line('a1', '80'), ''].join('\n') });
  const ds2 = await loadDataset({ type: 'jsonl', path: 'd.jsonl', ranges: { HR: [1, 200] } }, dir);
  assert.deepEqual(ds2.report.byVariable[OUT_OF_RANGE], { HR: 1 });
});

test('Infinity is rejected with the same message by JSONL (token and 1e999), long CSV and PhysioNet', async () => {
  const msg = 'not a finite number';
  await assertDataError(() => readJsonl(jsonl([line('a0', 'Infinity')])), 'd.jsonl:2', 'modalities.vitals.values[0] is Infinity', msg);
  await assertDataError(() => readJsonl(jsonl([line('a0', '1e999')])), 'd.jsonl:2', 'modalities.vitals.values[0] is Infinity', msg);
  await assertDataError(() => readJsonl(jsonl([line('a0', '-1e999')])), 'is -Infinity', msg);
  const dir = tmpDir();
  writeFiles(dir, {
    'o.csv': 'id,time,variable,value\np1,0,HR,80\np1,1,HR,1e999\n',
    't.csv': 'id,time,variable,value\np1,1e999,HR,80\n',
    'l.csv': 'id,label\np1,1\n',
    'rec/132539.txt': p12Record(132539, ['00:07,HR,1e999']),
    'out.txt': p12Outcomes([[132539, 0]]),
  });
  await assertDataError(() => readLongCsv({ path: 'o.csv', labels: 'l.csv', modalityMap: { HR: 'vitals' }, baseDir: dir }), 'o.csv:3', 'value of HR is 1e999', msg);
  await assertDataError(() => readLongCsv({ path: 't.csv', labels: 'l.csv', modalityMap: { HR: 'vitals' }, baseDir: dir }), 't.csv:2', 'time of HR is 1e999', msg);
  await assertDataError(() => readPhysioNet2012({ records: 'rec', outcomes: 'out.txt', baseDir: dir }), '132539.txt:8', 'HR is 1e999', msg);
});

test('PhysioNet Urine has an upper bound: a typo such as 9e12 is dropped and counted', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'rec/132539.txt': p12Record(132539, ['00:07,Urine,9e12', '01:00,Urine,250']), 'out.txt': p12Outcomes([[132539, 1]]) });
  const ds = await readPhysioNet2012({ records: 'rec', outcomes: 'out.txt', baseDir: dir });
  assert.deepEqual(ds.report.byVariable[OUT_OF_RANGE], { Urine: 1 });
  // without the preset the default range (±1e9) still drops it; only an explicit unbounded "*" keeps it
  const none = await readPhysioNet2012({ records: 'rec', outcomes: 'out.txt', baseDir: dir, rangePreset: 'none' });
  assert.deepEqual(none.report.byVariable[OUT_OF_RANGE], { Urine: 1 });
  const open = await readPhysioNet2012({ records: 'rec', outcomes: 'out.txt', baseDir: dir, rangePreset: 'none', ranges: { '*': [null, null] } });
  assert.deepEqual(open.report.byVariable[OUT_OF_RANGE], undefined);
});

function samplesWith(hr: number[]): Sample[] {
  return hr.map((x, i) => ({
    id: `s${i}`,
    label: i % 2,
    modalities: { vitals: { kind: 'timeseries', times: Float64Array.of(0), variables: Int32Array.of(0), values: Float64Array.of(x) } },
  }));
}

test('meanStd: float64 Welford without overflow; hand-computed values', () => {
  const a = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.ok(Math.abs(a.mean - 5) < 1e-12);
  assert.ok(Math.abs(a.std - Math.sqrt(32 / 7)) < 1e-12);
  const b = meanStd([1e300, -1e300]); // naive sum of squares overflows to Infinity
  assert.equal(b.mean, 0);
  assert.ok(Math.abs(b.std / (Math.SQRT2 * 1e300) - 1) < 1e-12);
  assert.deepEqual(meanStd([]), { mean: 0, std: 0 });
});

test('robust scaling: median and IQR/1.349, hand-computed; mean/std elsewhere', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  const hr = [1, 2, 3, 4, 100];
  const ms = medianSpread(hr);
  assert.equal(ms.median, 3);
  assert.ok(Math.abs(ms.spread - 2 / 1.349) < 1e-12); // q75 4, q25 2
  const n = fitNormalizer(spec, samplesWith(hr), { robust: ['HR'] });
  assert.equal(n.modalities['vitals']!.mean[0], 3);
  assert.ok(Math.abs(n.modalities['vitals']!.std[0]! - 2 / 1.349) < 1e-12);
  assert.deepEqual(n.modalities['vitals']!.robust, [true, false]);
  const plain = fitNormalizer(spec, samplesWith(hr));
  assert.equal(plain.modalities['vitals']!.mean[0], 22);
  assert.equal(plain.modalities['vitals']!.robust, undefined);
});

test('normaliser: warns when a few extreme values flatten a variable; refuses to save or load a non-finite statistic', async () => {
  const warnings: string[] = [];
  const hr = [70, 72, 75, 80, 1e30];
  const n = fitNormalizer(spec, samplesWith(hr), { onWarning: (w) => warnings.push(w) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /vitals\.HR: std 4\.47e\+29/);
  assert.ok(Number.isFinite(n.modalities['vitals']!.std[0]!));
  // std that overflows float64 is an error at fit time
  await assertDataError(() => fitNormalizer(spec, samplesWith([1.7e308, -1.7e308])), 'vitals.HR', 'overflows float64');
  const broken = structuredClone(n);
  broken.modalities['vitals']!.std[0] = Infinity;
  await assertDataError(() => normalizerToJson(broken), 'refusing to save a non-finite statistic', 'vitals.HR');
  const saved = JSON.parse(JSON.stringify(broken)); // Infinity → null, as in a model.json
  await assertDataError(() => normalizerFromJson(saved), 'variable "HR"', 'std null', 'retrain');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLongCsv, type LongCsvModalityMap } from '../../src/data/sources/longCsv.js';
import type { StaticData, TimeSeriesData } from '../../src/data/schema.js';
import { assertDataError, tmpDir, writeFiles } from './fixtures.js';

const map: LongCsvModalityMap = { HR: 'vitals', Temp: 'vitals', BUN: 'labs', Age: { modality: 'demo', static: true }, Sex: { modality: 'demo', static: true } };
const data = ['id,time,variable,value', 'p1,0.5,HR,80', 'p1,0.5,Temp,37', 'p1,1,HR,90', 'p1,1,HR,100', 'p1,,Age,63', 'p2,2,BUN,20', 'p2,,Sex,1', ''].join('\n');
const labels = 'id,label\np1,1\np2,0\np3,0\n';

function setup(files: Record<string, string>): string {
  const dir = tmpDir();
  writeFiles(dir, { 'data.csv': data, 'labels.csv': labels, 'map.json': JSON.stringify(map), ...files });
  return dir;
}

test('long CSV: reads modalities, static, duplicates, labels; map from a file', async () => {
  const dir = setup({});
  const d = await readLongCsv({ path: 'data.csv', labels: 'labels.csv', modalityMap: 'map.json', baseDir: dir });
  assert.deepEqual(d.spec.modalities, [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'Temp'] },
    { name: 'labs', kind: 'timeseries', variables: ['BUN'] },
    { name: 'demo', kind: 'static', features: ['Age', 'Sex'] },
  ]);
  assert.equal(d.spec.horizonHours, 2);
  assert.deepEqual(d.samples.map((s) => [s.id, s.label]), [['p1', 1], ['p2', 0]]);
  const v = d.samples[0]!.modalities['vitals'] as TimeSeriesData;
  assert.deepEqual(Array.from(v.times), [0.5, 0.5, 1]);
  assert.deepEqual(Array.from(v.values), [80, 37, 95]);
  assert.equal(d.samples[0]!.modalities['labs'], undefined);
  const st = d.samples[0]!.modalities['demo'] as StaticData;
  assert.equal(st.values[0], 63);
  assert.ok(Number.isNaN(st.values[1]!));
  assert.equal(d.report.counts['duplicate (time, variable) merged'], 1);
  assert.equal(d.report.counts['label row without observations'], 1);
  assert.equal(Object.keys(d.hashes!).length, 3);
});

test('long CSV errors: missing header, truncated line, non-numeric value, unknown variable, missing label, duplicate label', async () => {
  const run = (dir: string) => readLongCsv({ path: 'data.csv', labels: 'labels.csv', modalityMap: map, baseDir: dir });
  await assertDataError(() => run(setup({ 'data.csv': data.replace('id,time,variable,value\n', '') })), 'data.csv:1', 'missing header');
  await assertDataError(() => run(setup({ 'data.csv': data.replace('id,time,variable,value', 'ID,time,variable,value') })), 'data.csv:1', 'missing header');
  await assertDataError(() => run(setup({ 'data.csv': data.replace('p1,1,HR,90', 'p1,1,HR') })), 'data.csv:4', 'truncated line');
  await assertDataError(() => run(setup({ 'data.csv': data.replace('p1,1,HR,90', 'p1,1,HR,ninety') })), 'data.csv:4', 'non-numeric value "ninety"');
  await assertDataError(() => run(setup({ 'data.csv': data.replace('p1,1,HR,90', 'p1,1,hr,90') })), 'data.csv:4', 'unknown variable "hr"');
  await assertDataError(() => run(setup({ 'data.csv': data.replace('p1,0.5,Temp,37', 'p1,0:30,Temp,37') })), 'data.csv:3', 'bad time');
  await assertDataError(() => run(setup({ 'labels.csv': 'id,label\np1,1\n' })), 'labels.csv', 'id "p2"', 'data.csv:7');
  await assertDataError(() => run(setup({ 'labels.csv': 'id,label\np1,1\np1,0\n' })), 'labels.csv:3', 'duplicate id "p1"');
  await assertDataError(() => run(setup({ 'labels.csv': 'p1,1\n' })), 'labels.csv:1', 'missing header');
  await assertDataError(() => run(setup({ 'data.csv': data.replace('p1,1,HR,90', 'p1,"1,HR,90') })), 'data.csv:', 'malformed CSV');
});

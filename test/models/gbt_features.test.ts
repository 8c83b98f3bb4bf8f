import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeBatch } from '../../src/data/batch.js';
import type { DatasetSpec, Sample } from '../../src/data/schema.js';
import { treeFeatureNames, treeFeatures } from '../../src/models/gbt/features.js';

const spec: DatasetSpec = {
  name: 'tiny',
  horizonHours: 48,
  task: { kind: 'binary', name: 'y' },
  modalities: [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'SBP'] },
    { name: 'notes', kind: 'embedding', dim: 2 },
    { name: 'demo', kind: 'static', features: ['age', 'sex'] },
  ],
};

// A: HR 80 (t0), 90 (t1), 70 (t3); SBP 120 (t1); notes [1,2] (t2), [3,6] (t5); age 65, sex missing.
const a: Sample = {
  id: 'a',
  label: 1,
  modalities: {
    vitals: { kind: 'timeseries', times: Float64Array.from([0, 1, 1, 3]), variables: Int32Array.from([0, 0, 1, 0]), values: Float64Array.from([80, 90, 120, 70]) },
    notes: { kind: 'embedding', times: Float64Array.from([2, 5]), vectors: [Float32Array.from([1, 2]), Float32Array.from([3, 6])] },
    demo: { kind: 'static', values: Float64Array.from([65, NaN]) },
  },
};
// B: only demo (sex 1, age missing): vitals and notes absent.
const b: Sample = { id: 'b', label: 0, modalities: { demo: { kind: 'static', values: Float64Array.from([NaN, 1]) } } };

function row(values: Float32Array, cols: number, i: number, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((n, j) => [n, values[i * cols + j]!]));
}

test('tree features: names, layout and hand-computed statistics of a tiny sample', () => {
  const names = treeFeatureNames(spec);
  assert.equal(names.length, 2 * 7 + (2 + 1) + 2 + 3);
  assert.deepEqual(names.slice(0, 7), ['vitals.HR.last', 'vitals.HR.first', 'vitals.HR.min', 'vitals.HR.max', 'vitals.HR.mean', 'vitals.HR.std', 'vitals.HR.count']);
  assert.deepEqual(names.slice(-3), ['vitals.present', 'notes.present', 'demo.present']);

  // no normaliser: the raw values, so every statistic can be checked by hand
  const f = treeFeatures(spec, makeBatch(spec, [a, b], null));
  assert.equal(f.rows, 2);
  assert.equal(f.cols, names.length);
  const ra = row(f.values, f.cols, 0, names);
  const close = (x: number, want: number, what: string) => assert.ok(Math.abs(x - want) < 1e-4, `${what}: ${x} vs ${want}`);
  assert.equal(ra['vitals.HR.last'], 70);
  assert.equal(ra['vitals.HR.first'], 80);
  assert.equal(ra['vitals.HR.min'], 70);
  assert.equal(ra['vitals.HR.max'], 90);
  close(ra['vitals.HR.mean']!, 80, 'HR mean');
  close(ra['vitals.HR.std']!, Math.sqrt(200 / 3), 'HR population std'); // deviations 0, 10, -10
  assert.equal(ra['vitals.HR.count'], 3);
  for (const s of ['last', 'first', 'min', 'max', 'mean']) assert.equal(ra[`vitals.SBP.${s}`], 120, `SBP ${s}`);
  assert.equal(ra['vitals.SBP.std'], 0);
  assert.equal(ra['vitals.SBP.count'], 1);
  assert.equal(ra['notes.dim0.mean'], 2);
  assert.equal(ra['notes.dim1.mean'], 4);
  assert.equal(ra['notes.count'], 2);
  assert.equal(ra['demo.age'], 65);
  assert.ok(Number.isNaN(ra['demo.sex']!), 'a missing static value is NaN');
  assert.deepEqual([ra['vitals.present'], ra['notes.present'], ra['demo.present']], [1, 1, 1]);

  const rb = row(f.values, f.cols, 1, names);
  for (const v of ['HR', 'SBP']) {
    for (const s of ['last', 'first', 'min', 'max', 'mean', 'std']) assert.ok(Number.isNaN(rb[`vitals.${v}.${s}`]!), `absent modality: ${v}.${s} is NaN`);
    assert.equal(rb[`vitals.${v}.count`], 0);
  }
  assert.ok(Number.isNaN(rb['notes.dim0.mean']!) && Number.isNaN(rb['notes.dim1.mean']!));
  assert.equal(rb['notes.count'], 0);
  assert.ok(Number.isNaN(rb['demo.age']!));
  assert.equal(rb['demo.sex'], 1);
  assert.deepEqual([rb['vitals.present'], rb['notes.present'], rb['demo.present']], [0, 0, 1]);
});

test('tree features: a variable unobserved in a present modality has NaN statistics and count 0', () => {
  const c: Sample = {
    id: 'c',
    label: 0,
    modalities: { vitals: { kind: 'timeseries', times: Float64Array.from([4, 7]), variables: Int32Array.from([1, 1]), values: Float64Array.from([100, 140]) } },
  };
  const names = treeFeatureNames(spec);
  const f = treeFeatures(spec, makeBatch(spec, [c], null));
  const r = row(f.values, f.cols, 0, names);
  assert.ok(Number.isNaN(r['vitals.HR.mean']!));
  assert.equal(r['vitals.HR.count'], 0);
  assert.deepEqual([r['vitals.SBP.first'], r['vitals.SBP.last'], r['vitals.SBP.mean'], r['vitals.SBP.std'], r['vitals.SBP.count']], [100, 140, 120, 20, 2]);
  assert.equal(r['vitals.present'], 1);
});

test('tree features: only the latest maxTimesteps observation times enter (the batch window)', () => {
  const f = treeFeatures(spec, makeBatch(spec, [a], null, { maxTimesteps: 2 }));
  const r = row(f.values, f.cols, 0, treeFeatureNames(spec));
  // times 1 and 3 kept: HR 90, 70; SBP 120
  assert.deepEqual([r['vitals.HR.first'], r['vitals.HR.last'], r['vitals.HR.count'], r['vitals.SBP.count']], [90, 70, 2, 1]);
});

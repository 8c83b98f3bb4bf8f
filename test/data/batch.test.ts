import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeBatch, batchIterator, newBatchCounters } from '../../src/data/batch.js';
import { fitNormalizer, normalizerFromJson, normalizerToJson, trainingMeans, type Normalizer } from '../../src/data/normalize.js';
import { groupCounts, groupIdFromName, groupName } from '../../src/data/groups.js';
import type { DatasetSpec, Sample } from '../../src/data/schema.js';
import { Rng } from '../../src/engine/rng.js';

const spec: DatasetSpec = {
  name: 'toy',
  modalities: [
    { name: 'demo', kind: 'static', features: ['a', 'b'] },
    { name: 'vitals', kind: 'timeseries', variables: ['x', 'y'] },
    { name: 'notes', kind: 'embedding', dim: 2 },
  ],
  task: { kind: 'binary', name: 'y' },
  horizonHours: 10,
};

const s1: Sample = {
  id: 's1',
  label: 1,
  modalities: {
    demo: { kind: 'static', values: Float64Array.from([1, NaN]) },
    vitals: { kind: 'timeseries', times: Float64Array.from([0, 0, 5]), variables: Int32Array.from([0, 1, 0]), values: Float64Array.from([10, 20, 30]) },
    notes: { kind: 'embedding', times: Float64Array.from([2]), vectors: [Float32Array.from([1, 2])] },
  },
};
const s2: Sample = {
  id: 's2',
  label: 0,
  modalities: {
    vitals: { kind: 'timeseries', times: Float64Array.from([5]), variables: Int32Array.from([1]), values: Float64Array.from([40]) },
  },
};

const norm: Normalizer = {
  version: 1,
  clip: null,
  modalities: {
    demo: { kind: 'static', names: ['a', 'b'], mean: [1, 0], std: [2, 1], count: [1, 0] },
    vitals: { kind: 'timeseries', names: ['x', 'y'], mean: [20, 30], std: [10, 10], count: [2, 2] },
  },
};

test('makeBatch on a hand-checked 2-sample example', () => {
  const b = makeBatch(spec, [s1, s2], norm);
  assert.equal(b.size, 2);
  assert.deepEqual(b.ids, ['s1', 's2']);
  const v = b.modalities['vitals']!;
  assert.ok(v.kind === 'timeseries');
  assert.equal(v.T, 2);
  assert.equal(v.V, 2);
  assert.deepEqual(Array.from(v.times), [0, 0.5, 0.5, 0]);
  assert.deepEqual(Array.from(v.timeMask), [1, 1, 1, 0]);
  assert.deepEqual(Array.from(v.values), [-1, -1, 1, 0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(v.mask), [1, 1, 1, 0, 0, 1, 0, 0]);
  const n = b.modalities['notes']!;
  assert.ok(n.kind === 'embedding');
  assert.equal(n.T, 1);
  assert.deepEqual(Array.from(n.times), [Math.fround(0.2), 0]);
  assert.deepEqual(Array.from(n.timeMask), [1, 0]);
  assert.deepEqual(Array.from(n.values), [1, 2, 0, 0]);
  const d = b.modalities['demo']!;
  assert.ok(d.kind === 'static');
  assert.deepEqual(Array.from(d.values), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(d.mask), [1, 0, 0, 0]);
  assert.deepEqual(Array.from(b.present), [1, 1, 1, 0, 1, 0]);
  assert.deepEqual(Array.from(b.groupIds), [7, 2]);
  assert.deepEqual(Array.from(b.labels), [1, 0]);
  assert.equal(groupName(spec, 7), 'demo+vitals+notes');
  assert.equal(groupName(spec, 2), 'vitals');
  assert.equal(groupName(spec, 0), 'none');
  assert.equal(groupIdFromName(spec, 'notes+demo'), 5);
  assert.deepEqual(groupCounts({ spec, samples: [s1, s2, s2] }), [
    { id: 2, name: 'vitals', count: 2 },
    { id: 7, name: 'demo+vitals+notes', count: 1 },
  ]);
});

test('makeBatch keeps the LAST maxTimesteps times and counts truncations', () => {
  const counters = newBatchCounters();
  const b = makeBatch(spec, [s1, s2], norm, { maxTimesteps: 1, counters });
  const v = b.modalities['vitals']!;
  assert.ok(v.kind === 'timeseries');
  assert.equal(v.T, 1);
  assert.deepEqual(Array.from(v.times), [0.5, 0.5]);
  assert.deepEqual(Array.from(v.values), [1, 0, 0, 1]);
  assert.equal(counters.truncatedTimesteps, 1);
  assert.equal(counters.truncatedObservations, 2);
});

test('makeBatch: a modality missing in every sample has T = 1 and zero masks', () => {
  const b = makeBatch(spec, [s2], norm);
  const n = b.modalities['notes']!;
  assert.ok(n.kind === 'embedding');
  assert.equal(n.T, 1);
  assert.deepEqual(Array.from(n.timeMask), [0]);
});

test('normaliser is fitted on the training samples only; clip counted; JSON round trip', () => {
  const train = [s1, s2];
  const outlier: Sample = {
    id: 'test',
    label: 0,
    modalities: { vitals: { kind: 'timeseries', times: Float64Array.from([1]), variables: Int32Array.from([0]), values: Float64Array.from([1e6]) } },
  };
  const n = fitNormalizer(spec, train, { clip: 1.5 });
  const vx = n.modalities['vitals']!;
  // x observed in train: 10, 30 → mean 20, sample std sqrt(200)
  assert.equal(vx.mean[0], 20);
  assert.ok(Math.abs(vx.std[0]! - Math.sqrt(200)) < 1e-12);
  // y observed: 20, 40 → mean 30
  assert.equal(vx.mean[1], 30);
  // static: a observed once → mean 1, std 1 (fewer than 2); b never → mean 0 std 1
  assert.deepEqual(n.modalities['demo']!.mean, [1, 0]);
  assert.deepEqual(n.modalities['demo']!.std, [1, 1]);
  assert.equal(n.modalities['notes'], undefined);
  assert.deepEqual(trainingMeans(n, 'vitals'), [0, 0]);
  assert.deepEqual(trainingMeans(n, 'vitals', false), [20, 30]);
  const counters = newBatchCounters();
  const b = makeBatch(spec, [outlier], n, { counters });
  const v = b.modalities['vitals']!;
  assert.ok(v.kind === 'timeseries');
  assert.equal(v.values[0], 1.5);
  assert.equal(counters.clippedValues, 1);
  const back = normalizerFromJson(JSON.parse(JSON.stringify(normalizerToJson(n))), spec);
  assert.deepEqual(back, n);
  const withEmb = fitNormalizer(spec, train, { embeddings: true });
  assert.deepEqual(withEmb.modalities['notes']!.mean, [1, 2]);
  assert.throws(() => normalizerFromJson({ version: 2 }), /invalid normaliser/);
});

test('batchIterator: sizes, seeded shuffle, no shuffle keeps order', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i);
  assert.deepEqual([...batchIterator(xs, 4)], [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  const a = [...batchIterator(xs, 3, new Rng(1))].flat();
  const b = [...batchIterator(xs, 3, new Rng(1))].flat();
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((p, q) => p - q), xs);
  assert.notDeepEqual(a, xs);
  assert.deepEqual(xs, Array.from({ length: 10 }, (_, i) => i));
});

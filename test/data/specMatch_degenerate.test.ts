import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchSpec, alignDataset } from '../../src/data/specMatch.js';
import { readJsonl } from '../../src/data/sources/jsonl.js';
import { checkSplitClasses, checkEmptySamples, writeTrainingSamples, trainingOverlap,
  sharedWithTraining, NO_MODALITY } from '../../src/data/degenerate.js';
import { readSplitFile } from '../../src/data/split.js';
import { assertFiniteWeights } from '../../src/models/finiteWeights.js';
import { tf } from '../../src/engine/tf.js';
import type { DatasetSpec, Sample, StaticData, TimeSeriesData } from '../../src/data/schema.js';
import { assertDataError, tmpDir, writeFiles } from './fixtures.js';

const model: DatasetSpec = {
  name: 'm',
  modalities: [
    { name: 'vitals', kind: 'timeseries', variables: ['HR', 'Temp', 'RR'] },
    { name: 'demo', kind: 'static', features: ['age', 'sex'] },
  ],
  task: { kind: 'multiclass', name: 'y', classes: ['a', 'b', 'c'] },
  horizonHours: 48,
};
const reordered: DatasetSpec = {
  ...model,
  modalities: [
    { name: 'demo', kind: 'static', features: ['sex', 'age'] },
    { name: 'vitals', kind: 'timeseries', variables: ['RR', 'HR', 'Temp'] },
  ],
  task: { kind: 'multiclass', name: 'y', classes: ['c', 'a', 'b'] },
};

test('spec by name: a reordered header is remapped to the model order (variables, features, classes)', async () => {
  const line = '{"id":"p1","label":"a","modalities":{"vitals":{"times":[0,0,1],"variables":["RR","HR","Temp"],"values":[16,80,37]},"demo":{"values":[1,63]}}}';
  const dir = tmpDir();
  writeFiles(dir, { 'r.jsonl': [JSON.stringify({ fleximodal: 1, spec: reordered }), line, ''].join('\n') });
  const own = await readJsonl(join(dir, 'r.jsonl'));
  const aligned = alignDataset(model, own, 'r.jsonl');
  const viaReader = await readJsonl(join(dir, 'r.jsonl'), { spec: model }); // predict's path
  for (const ds of [aligned, viaReader]) {
    const s = ds.samples[0]!;
    const v = s.modalities['vitals'] as TimeSeriesData;
    assert.deepEqual(Array.from(v.variables), [0, 2, 1]); // HR, RR at t=0 (sorted), Temp at t=1
    assert.deepEqual(Array.from(v.values), [80, 16, 37]);
    assert.deepEqual(Array.from((s.modalities['demo'] as StaticData).values), [63, 1]);
    assert.equal(s.label, 0); // class "a" is index 0 in the model
  }
  assert.equal(matchSpec(model, model, 'x').identity, true);
  assert.equal(matchSpec(model, reordered, 'x').identity, false);
});

test('spec by name: renamed, missing and unknown names are one error listing them', async () => {
  const renamed: DatasetSpec = {
    ...model,
    modalities: [
      { name: 'vitals', kind: 'timeseries', variables: ['HeartRate', 'Temp', 'RR'] },
      { name: 'notes', kind: 'embedding', dim: 4 },
    ],
  };
  await assertDataError(() => matchSpec(model, renamed, 'data.jsonl', { strict: true }), 'data.jsonl', 'vitals.HR', 'modality demo', 'vitals.HeartRate', 'modality notes');
  // not strict: the model's modality 'demo' that the data lack is a missing modality, not an error
  await assert.rejects(async () => matchSpec(model, renamed, 'data.jsonl'), (e: Error) => !/modality demo/.test(e.message) && /vitals\.HR/.test(e.message));
  await assertDataError(() => matchSpec(model, { ...model, task: { kind: 'binary', name: 'y' } }, 'w'), 'the task is binary in the data but multiclass');
});

const bin = (id: string, label: number, mods: Sample['modalities'] = { demo: { kind: 'static', values: Float64Array.of(1, 0) } }): Sample => ({ id, label, modalities: mods });

test('degenerate: one-class training or (binary) validation split is an error', async () => {
  const task = { kind: 'binary', name: 'y' } as const;
  await assertDataError(() => checkSplitClasses(task, { train: [bin('a', 0), bin('b', 0)], val: [bin('c', 0), bin('d', 1)] }, 'config key split'), 'config key split', 'training split has one class only (2 × 0)');
  await assertDataError(() => checkSplitClasses(task, { train: [bin('a', 0), bin('b', 1)], val: [bin('c', 1)] }, 's'), 'validation split has one class only');
  checkSplitClasses(task, { train: [bin('a', 0), bin('b', 1)], val: [bin('c', 0), bin('d', 1)] }, 's');
});

test('degenerate: samples with no modality are counted in the report; refused on request', async () => {
  const spec: DatasetSpec = { ...model, task: { kind: 'binary', name: 'y' } };
  const dir = tmpDir();
  writeFiles(dir, {
    'e.jsonl': [
      JSON.stringify({ fleximodal: 1, spec }),
      '{"id":"ok","label":1,"modalities":{"demo":{"values":[1,2]}}}',
      '{"id":"e1","label":0,"modalities":{}}',
      '{"id":"e2","label":0,"modalities":{"demo":{"values":[null,null]}}}',
      '',
    ].join('\n'),
  });
  const ds = await readJsonl(join(dir, 'e.jsonl'));
  assert.equal(ds.report.counts[NO_MODALITY], 2);
  checkEmptySamples(ds, 'flag', 'data');
  await assertDataError(() => checkEmptySamples(ds, 'refuse', 'config key data'), '2 sample(s) have no modality at all: e1, e2');
});

test('degenerate: a split file that leaves samples unassigned is an error unless they are "excluded"', async () => {
  const ds = { samples: ['a', 'b', 'c', 'd'].map((id) => bin(id, 0)) };
  const dir = tmpDir();
  const split = { seed: 0, fractions: [0.5, 0.25, 0.25], train: ['a', 'b'], val: ['c'], test: [] as string[] };
  writeFileSync(join(dir, 's.json'), JSON.stringify(split));
  await assertDataError(() => readSplitFile(join(dir, 's.json'), ds), 's.json', '1 of 4 dataset samples are in no split: d', '"excluded"');
  writeFileSync(join(dir, 's2.json'), '\uFEFF' + JSON.stringify({ ...split, excluded: ['d'] })); // a BOM is accepted too
  assert.deepEqual((await readSplitFile(join(dir, 's2.json'), ds)).excluded, ['d']);
});

test('degenerate: training overlap is detected by id AND data hash', () => {
  const spec: DatasetSpec = { ...model, task: { kind: 'binary', name: 'y' } };
  const dir = tmpDir();
  const train = [bin('a', 0), bin('b', 1)];
  writeTrainingSamples(dir, spec, train);
  const sameIdOtherData = bin('b', 1, { demo: { kind: 'static', values: Float64Array.of(9, 9) } });
  assert.deepEqual(trainingOverlap(dir, spec, [bin('a', 0), sameIdOtherData, bin('z', 0)]), ['a']);
  assert.equal(trainingOverlap(tmpDir(), spec, train), null); // older model dirs: no file, no check
  assert.deepEqual(sharedWithTraining(spec, train, [bin('a', 0), sameIdOtherData, bin('z', 0)]), ['a']); // the same test, in memory
});

test('degenerate: weights holding NaN are refused, naming the tensors', async () => {
  const ok = new Map([['w', tf.tensor1d([1, 2])]]);
  assertFiniteWeights(ok, 'weights.safetensors');
  const bad = new Map([['w', tf.tensor1d([1, 2])], ['v', tf.tensor1d([NaN, 1, Infinity])]]);
  await assertDataError(() => assertFiniteWeights(bad, 'weights.safetensors'), 'weights.safetensors', "'v' (2 of 3 values)");
  [...ok.values(), ...bad.values()].forEach((t) => t.dispose());
});

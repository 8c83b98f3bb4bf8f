import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapReplicates, differenceInterval, metricFn, quantileSorted } from '../../src/benchmark/bootstrap.js';

const accuracyBinary = metricFn('accuracy', { kind: 'binary', width: 1 });
const aurocBinary = metricFn('auroc', { kind: 'binary', width: 1 });
const f32 = (x: number[]) => Float32Array.from(x);

test('quantiles interpolate linearly between order statistics (type 7)', () => {
  assert.equal(quantileSorted([0, 1, 2, 3, 4], 0.5), 2);
  assert.equal(quantileSorted([0, 10], 0.25), 2.5);
  assert.equal(quantileSorted([5], 0.975), 5);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

test('identical predictions: the difference is 0 on every resample', () => {
  const labels = f32([0, 1, 1, 0, 1, 0]);
  const p = f32([0.2, 0.9, 0.6, 0.4, 0.3, 0.1]);
  const r = bootstrapReplicates([[p], [p]], labels, { width: 1, labelWidth: 1, metric: accuracyBinary, reps: 200, seed: 3 });
  const d = differenceInterval(r, 0, 1, 'b');
  assert.deepEqual([d.diff, d.lo, d.hi, d.excludesZero, d.reps], [0, 0, 0, false, 200]);
});

test('a always right, b always wrong: accuracy difference 1 on every resample', () => {
  const labels = f32([0, 1, 1, 0]);
  const a = f32([0.1, 0.9, 0.8, 0.3]); // every sample right at 0.5
  const b = f32([0.9, 0.1, 0.2, 0.7]); // every sample wrong
  const r = bootstrapReplicates([[a], [b]], labels, { width: 1, labelWidth: 1, metric: accuracyBinary, reps: 300, seed: 1 });
  assert.deepEqual(r.point, [1, 0]);
  const d = differenceInterval(r, 0, 1, 'b');
  assert.deepEqual([d.diff, d.lo, d.hi, d.excludesZero], [1, 1, 1, true]);
  const back = differenceInterval(r, 1, 0, 'a');
  assert.deepEqual([back.diff, back.lo, back.hi, back.excludesZero], [-1, -1, -1, true]);
});

test('n = 3, a right only on sample 0, b never: the resampled difference is Binomial(3, 1/3)/3', () => {
  // per-sample accuracy differences d = [1, 0, 0]; a resample's difference = (#draws of sample 0)/3:
  // P(0) = 8/27 ≈ 0.296, P(1/3) = 12/27, P(2/3) = 6/27, P(1) = 1/27 ≈ 0.037 — so the 95 % interval is [0, 1]
  const labels = f32([1, 1, 1]);
  const a = f32([0.9, 0.1, 0.1]);
  const b = f32([0.1, 0.1, 0.1]);
  const reps = 4000;
  const r = bootstrapReplicates([[a], [b]], labels, { width: 1, labelWidth: 1, metric: accuracyBinary, reps, seed: 11 });
  const diffs = Array.from(r.reps[0]!, (x, i) => x - r.reps[1]![i]!);
  const share = (v: number) => diffs.filter((x) => Math.abs(x - v) < 1e-9).length / reps;
  for (const [v, p] of [[0, 8 / 27], [1 / 3, 12 / 27], [2 / 3, 6 / 27], [1, 1 / 27]] as const) {
    assert.ok(Math.abs(share(v) - p) < 4 * Math.sqrt((p * (1 - p)) / reps), `P(diff = ${v}) = ${share(v)}, expected ${p}`);
  }
  const d = differenceInterval(r, 0, 1, 'b');
  assert.ok(Math.abs(d.diff - 1 / 3) < 1e-12);
  assert.deepEqual([d.lo, d.hi, d.excludesZero], [0, 1, false]);
});

test('seeded: the same seed gives the same interval, another seed another one', () => {
  const labels = f32([0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0]);
  const a = f32([0.1, 0.3, 0.2, 0.8, 0.7, 0.6, 0.4, 0.9, 0.35, 0.55, 0.45, 0.5]);
  const b = f32([0.2, 0.6, 0.1, 0.7, 0.4, 0.5, 0.5, 0.6, 0.3, 0.3, 0.65, 0.45]);
  const run = (seed: number) => differenceInterval(bootstrapReplicates([[a], [b]], labels, { width: 1, labelWidth: 1, metric: aurocBinary, reps: 300, seed }), 0, 1, 'b');
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual([run(5).lo, run(5).hi], [run(6).lo, run(6).hi]);
  // AUROC is undefined on a one-class resample: such replicates are left out and counted
  const r = run(5);
  assert.equal(r.reps + r.undefinedReps, 300);
});

test('several seeds: a replicate is the mean over seeds of the metric on the same resample', () => {
  const labels = f32([0, 1, 1, 0]);
  const right = f32([0.1, 0.9, 0.8, 0.3]);
  const wrong = f32([0.9, 0.1, 0.2, 0.7]);
  // method a: seed 1 always right, seed 2 always wrong → accuracy 0.5 on every resample
  const r = bootstrapReplicates([[right, wrong], [wrong]], labels, { width: 1, labelWidth: 1, metric: accuracyBinary, reps: 50, seed: 2 });
  assert.deepEqual(r.point, [0.5, 0]);
  assert.ok(r.reps[0]!.every((x) => x === 0.5));
  const d = differenceInterval(r, 0, 1, 'b');
  assert.deepEqual([d.lo, d.hi], [0.5, 0.5]);
});

test('multi-class accuracy uses the argmax of each row', () => {
  const labels = f32([0, 2, 1]);
  const p = f32([0.7, 0.2, 0.1, 0.1, 0.2, 0.7, 0.5, 0.3, 0.2]); // right, right, wrong
  const m = metricFn('accuracy', { kind: 'multiclass', width: 3 });
  assert.ok(Math.abs(m(p, labels) - 2 / 3) < 1e-12);
  assert.throws(() => bootstrapReplicates([[f32([0.1])]], labels, { width: 3, labelWidth: 1, metric: m, reps: 1, seed: 0 }), /do not match 3 samples/);
});

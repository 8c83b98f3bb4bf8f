import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { LayerNorm } from '../../src/nn/layerNorm.js';
import { TimeEmbedding } from '../../src/nn/timeEmbedding.js';
import { maskedMeanPool } from '../../src/nn/pooling.js';
import { Dropout } from '../../src/nn/dropout.js';
import { stopGradient, subtractMaxNoGrad } from '../../src/nn/stopGradient.js';
import { assertClose, setVar, checkVariableGrads } from './helpers.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

test('layerNorm: hand-computed normalisation with gain and bias', () => {
  const ln = new LayerNorm('ln', { dim: 3, eps: 0 });
  setVar(ln.g, [1, 2, 1]);
  setVar(ln.b, [0, 0, 1]);
  const y = ln.apply(tf.tensor2d([1, 2, 3, 5, 5, 8], [2, 3]));
  // row 1: mean 2, var 2/3 → (-1, 0, 1)/√(2/3) = ±1.2247449
  // row 2: mean 6, var ((1+1+4)/3)=2 → (-1,-1,2)/√2
  const s = 1 / Math.sqrt(2 / 3);
  const r2 = 1 / Math.SQRT2;
  assertClose(y.dataSync(), [-s, 0, s + 1, -r2, -2 * r2, 2 * r2 + 1]);
  assert.deepEqual(
    ln.variables().map((v) => v.name),
    ['ln.g', 'ln.b'],
  );
  const x = tf.tensor2d([0.1, 0.7, -0.4, 1.2, 0.3, 0.9], [2, 3]);
  const w = tf.tensor2d([0.3, -1, 0.5, 2, 0.1, -0.2], [2, 3]);
  const r = checkVariableGrads(() => tf.sum(tf.mul(ln.apply(x), w)) as tf.Scalar, ln.variables());
  assert.ok(r.maxRelError < 1e-2, `FD rel error ${r.maxRelError}`);
});

test('timeEmbedding: φ(τ)[0] = w₀τ + b₀, φ(τ)[i] = sin(w_iτ + b_i)', () => {
  const te = new TimeEmbedding('te', { dim: 3 }, new Rng(1));
  setVar(te.w, [2, 3, -1]);
  setVar(te.b, [0.5, 0.1, 0.2]);
  const y = te.apply(tf.tensor2d([0, 0.25, 1, 0.5], [2, 2]));
  assert.deepEqual(y.shape, [2, 2, 3]);
  const phi = (t: number) => [2 * t + 0.5, Math.sin(3 * t + 0.1), Math.sin(-t + 0.2)];
  assertClose(y.dataSync(), [0, 0.25, 1, 0.5].flatMap(phi), 1e-6);
  const t = tf.tensor1d([0.1, 0.6, 0.9]);
  const r = checkVariableGrads(() => tf.sum(tf.square(te.apply(t))) as tf.Scalar, te.variables(), { eps: 1e-3 });
  assert.ok(r.maxRelError < 1e-2, `FD rel error ${r.maxRelError}`);
});

test('maskedMeanPool: mean over valid tokens, 0 for an empty row', () => {
  const x = tf.tensor3d([1, 2, 3, 4, 100, 100, 5, 6, 7, 8, 9, 10], [2, 3, 2]);
  const m = tf.tensor2d([1, 1, 0, 0, 0, 0], [2, 3]);
  assertClose(maskedMeanPool(x, m).dataSync(), [2, 3, 0, 0]);
});

test('dropout: identity at inference; seeded, fresh mask per call, inverted scaling', () => {
  const x = tf.ones([1000]);
  const d1 = new Dropout('d', { rate: 0.3 }, new Rng(4));
  const d2 = new Dropout('d', { rate: 0.3 }, new Rng(4));
  assert.deepEqual(Array.from(d1.apply(x, false).dataSync()), Array.from(x.dataSync()));
  const a = d1.apply(x, true).dataSync();
  const b = d1.apply(x, true).dataSync();
  const a2 = d2.apply(x, true).dataSync();
  assert.deepEqual(Array.from(a), Array.from(a2), 'same seed → same masks');
  assert.notDeepEqual(Array.from(a), Array.from(b), 'a new mask every call');
  const zeros = a.filter((v) => v === 0).length;
  assert.ok(zeros > 240 && zeros < 360, `zeros ${zeros}`);
  assert.ok(a.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6));
  assert.throws(() => new Dropout('bad', { rate: 1 }, new Rng(1)), /dropout rate/);
});

test('stopGradient: value passes, gradient is zero', () => {
  const x = tf.tensor1d([1, 2]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(v, 3), tf.square(stopGradient(v)))))(x);
  assertClose(g.dataSync(), [3, 3]);
  assertClose(stopGradient(x).dataSync(), [1, 2]);
});

test('subtractMaxNoGrad: x − max(x) over the last axis with the max as a constant', () => {
  const x = tf.tensor2d([1, 3, 2, -1, -5, 0], [2, 3]);
  assertClose(subtractMaxNoGrad(x).dataSync(), [-2, 0, -1, -1, -5, 0]);
  const w = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(subtractMaxNoGrad(v), w)))(x);
  assertClose(g.dataSync(), [1, 2, 3, 4, 5, 6]);
});

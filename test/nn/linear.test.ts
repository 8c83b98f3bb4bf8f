import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { Linear } from '../../src/nn/linear.js';
import { Mlp } from '../../src/nn/mlp.js';
import { gelu, geluFast, activate } from '../../src/nn/activations.js';
import { assertClose, setVar, checkVariableGrads } from './helpers.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

test('linear: hand-computed values on a rank-3 input, names, shapes', () => {
  const lin = new Linear('enc.x.lin', { inDim: 2, outDim: 3 }, new Rng(1));
  assert.deepEqual(
    lin.variables().map((v) => v.name),
    ['enc.x.lin.w', 'enc.x.lin.b'],
  );
  setVar(lin.w, [1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]]
  setVar(lin.b!, [0.5, -1, 0]);
  const x = tf.tensor3d([1, 0, 0, 1, 2, -1, 1, 1], [2, 2, 2]);
  const y = lin.apply(x);
  assert.deepEqual(y.shape, [2, 2, 3]);
  // rows: [1,0]→[1.5,1,3]; [0,1]→[4.5,4,6]; [2,-1]→[2-4+.5, 4-5-1, 6-6]; [1,1]→[5.5,6,9]
  assertClose(y.dataSync(), [1.5, 1, 3, 4.5, 4, 6, -1.5, -2, 0, 5.5, 6, 9]);
});

test('linear: Glorot-uniform bound, seeded and reproducible, no bias option', () => {
  const a = new Linear('a', { inDim: 30, outDim: 20, bias: false }, new Rng(5));
  const b = new Linear('b', { inDim: 30, outDim: 20, seed: 9 }, new Rng(123));
  const c = new Linear('c', { inDim: 30, outDim: 20, seed: 9 }, new Rng(456));
  assert.equal(a.variables().length, 1);
  const bound = Math.sqrt(6 / 50);
  const w = a.w.dataSync();
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w) > 0.8 * bound && Math.min(...w) < -0.8 * bound);
  assert.deepEqual(Array.from(b.w.dataSync()), Array.from(c.w.dataSync()));
  assert.throws(() => a.apply(tf.zeros([2, 7])), /expects last dim 30/);
});

test('activations: exact GELU via erf and fast GELU', () => {
  const x = tf.tensor1d([-2, -1, 0, 1, 3]);
  // Φ(x) values: Φ(-2)=0.0227501, Φ(-1)=0.1586553, Φ(1)=0.8413447, Φ(3)=0.9986501
  assertClose(gelu(x).dataSync(), [-2 * 0.0227501, -0.1586553, 0, 0.8413447, 3 * 0.9986501], 2e-5);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  assertClose(geluFast(x).dataSync(), [-2, -1, 0, 1, 3].map((v) => v * sig(1.702 * v)), 1e-6);
  assertClose(activate('relu', x).dataSync(), [0, 0, 0, 1, 3]);
  assert.throws(() => activate('swish' as never, x), /unknown activation/);
});

test('mlp: composition of linears with activation between, gradients match finite differences', () => {
  const mlp = new Mlp('m', { dims: [3, 4, 2], activation: 'tanh' }, new Rng(3));
  assert.deepEqual(
    mlp.variables().map((v) => v.name),
    ['m.l0.w', 'm.l0.b', 'm.l1.w', 'm.l1.b'],
  );
  const x = tf.tensor2d([0.3, -0.2, 0.5, 1, 0.1, -0.7], [2, 3]);
  const manual = mlp.layers[1]!.apply(tf.tanh(mlp.layers[0]!.apply(x)));
  assertClose(mlp.apply(x).dataSync(), manual.dataSync(), 1e-6);
  const r = checkVariableGrads(() => tf.sum(tf.square(mlp.apply(x))) as tf.Scalar, mlp.variables());
  assert.ok(r.maxRelError < 2e-2, `FD rel error ${r.maxRelError}`);
});

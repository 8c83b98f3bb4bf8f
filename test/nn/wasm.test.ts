import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { TransformerBlock } from '../../src/nn/transformerBlock.js';
import { TimeEmbedding } from '../../src/nn/timeEmbedding.js';
import { gelu, geluFast } from '../../src/nn/activations.js';
import { assertAllGradsNonZero, fixedRandom } from './helpers.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('wasm: transformer block (masked attention, LN, GELU FFN) and time embedding backward passes run', () => {
  assert.equal(tf.getBackend(), 'wasm');
  for (const activation of ['gelu', 'gelu-fast'] as const) {
    const blk = new TransformerBlock(`b.${activation}`, { dim: 8, heads: 2, ffnHidden: 16, activation, dropout: 0.1 }, new Rng(1));
    const x = fixedRandom([2, 3, 8], 1) as tf.Tensor3D;
    const mask = tf.tensor2d([1, 1, 0, 0, 0, 0], [2, 3]);
    const w = fixedRandom([2, 3, 8], 2);
    assertAllGradsNonZero(() => tf.sum(tf.mul(blk.apply(x, { mask, training: true }).y, w)) as tf.Scalar, blk.variables());
  }
  const te = new TimeEmbedding('te', { dim: 4 }, new Rng(2));
  assertAllGradsNonZero(() => tf.sum(tf.square(te.apply(tf.tensor2d([0.1, 0.5, 0.9, 0], [2, 2])))) as tf.Scalar, te.variables());
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.add(gelu(x), geluFast(x))))(tf.tensor1d([-1, 0, 2]));
  assert.ok(g.dataSync().every(Number.isFinite));
});

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { MultiHeadAttention } from '../../src/nn/multiHeadAttention.js';
import { TransformerBlock } from '../../src/nn/transformerBlock.js';
import { FeedForwardOptions, TokenFeedForward } from '../../src/nn/feedForward.js';
import { assertClose, setVar, checkVariableGrads, assertAllGradsNonZero, fixedRandom } from './helpers.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

/** One head, width 2, identity projections, zero biases. */
function identityAttention(): MultiHeadAttention {
  const mha = new MultiHeadAttention('att', { dim: 2, heads: 1 }, new Rng(1));
  for (const l of [mha.q, mha.k, mha.v, mha.o]) {
    setVar(l.w, [1, 0, 0, 1]);
    setVar(l.b!, [0, 0]);
  }
  return mha;
}

test('attention: hand-computed weights with a key mask; fully masked row → 0, no NaN', () => {
  const mha = identityAttention();
  const q = tf.tensor3d([1, 0, 0, 2, 3, 3, 1, 1], [2, 2, 2]);
  const kv = tf.tensor3d([1, 0, 0, 1, 5, 5, 9, 9, 9, 9, 9, 9], [2, 3, 2]);
  const mask = tf.tensor2d([1, 1, 0, 0, 0, 0], [2, 3]); // sample 2: nothing to attend
  const { y, weights } = mha.applyWithWeights(q, kv, { mask });
  const sm = (a: number, b: number) => [Math.exp(a) / (Math.exp(a) + Math.exp(b)), Math.exp(b) / (Math.exp(a) + Math.exp(b))];
  const s = Math.SQRT1_2;
  const w1 = sm(1 * s, 0); // query (1,0) vs keys (1,0), (0,1)
  const w2 = sm(0, 2 * s); // query (0,2)
  assertClose(weights.dataSync(), [...w1, 0, ...w2, 0, 0, 0, 0, 0, 0, 0], 1e-6);
  // values are the keys: y = w·[(1,0),(0,1)]
  assertClose(y.dataSync(), [w1[0]!, w1[1]!, w2[0]!, w2[1]!, 0, 0, 0, 0], 1e-6);
  // gradient through a fully masked row stays finite
  const g = tf.grad((x: tf.Tensor) => tf.sum(mha.apply(x as tf.Tensor3D, kv, { mask })))(q);
  assert.ok(g.dataSync().every(Number.isFinite));
});

test('attention: per-query mask [B, Lq, Lk] and multi-head FD gradient', () => {
  const mha = new MultiHeadAttention('att2', { dim: 4, heads: 2, kvDim: 3, outDim: 5 }, new Rng(2));
  const q = fixedRandom([2, 3, 4], 1) as tf.Tensor3D;
  const kv = fixedRandom([2, 4, 3], 2) as tf.Tensor3D;
  const mask = tf.tensor3d(
    [1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1],
    [2, 3, 4],
  );
  const y = mha.apply(q, kv, { mask });
  assert.deepEqual(y.shape, [2, 3, 5]);
  const yd = y.dataSync();
  assertClose(yd.slice(10, 15), [0, 0, 0, 0, 0]); // sample 0, query 2 fully masked
  // query 0 of sample 0 attends only keys 0,1: changing key 2,3 must not change it
  const kv2 = tf.concat([tf.concat([kv.slice([0, 0, 0], [1, 2, 3]), tf.fill([1, 2, 3], 7)], 1), kv.slice([1, 0, 0], [1, 4, 3])], 0) as tf.Tensor3D;
  const y2 = mha.apply(q, kv2, { mask }).dataSync();
  assertClose(y2.slice(0, 5), yd.slice(0, 5), 1e-6);
  const w = fixedRandom([2, 3, 5], 3);
  const loss = () => tf.sum(tf.mul(mha.apply(q, kv, { mask }), w)) as tf.Scalar;
  const r = checkVariableGrads(loss, mha.variables(), { eps: 1e-2 });
  assert.ok(r.maxRelError < 2e-2, `FD rel error ${r.maxRelError}`);
  assertAllGradsNonZero(loss, mha.variables());
});

test('transformer block: pre-norm residual structure, pluggable FFN with aux', () => {
  const calls: number[][] = [];
  const doubler: TokenFeedForward<{ note: tf.Scalar }> = {
    apply(x: tf.Tensor2D, opts: FeedForwardOptions) {
      calls.push([...x.shape, opts.tokenMask ? opts.tokenMask.size : -1]);
      return { y: tf.mul(x, 2) as tf.Tensor2D, aux: { note: tf.scalar(42) } };
    },
    variables: () => [],
  };
  const blk = new TransformerBlock('blk', { dim: 4, heads: 2, ffn: doubler }, new Rng(3));
  const x = fixedRandom([2, 3, 4], 5) as tf.Tensor3D;
  const mask = tf.tensor2d([1, 1, 1, 1, 0, 0], [2, 3]);
  const { y, aux } = blk.apply(x, { mask });
  assert.deepEqual(calls, [[6, 4, 6]]);
  assert.equal(aux!.note.dataSync()[0], 42);
  // independent recomputation: x1 = x + MHA(LN1 x); y = x1 + 2·LN2(x1)
  const n1 = blk.ln1.apply(x) as tf.Tensor3D;
  const x1 = tf.add(x, blk.attn.apply(n1, n1, { mask }));
  const expected = tf.add(x1, tf.mul(blk.ln2.apply(x1), 2));
  assertClose(y.dataSync(), expected.dataSync(), 1e-5);
  assert.ok(
    blk.variables().every((v) => v.name.startsWith('blk.')),
    'names prefixed',
  );
  // default dense FFN: every variable receives gradient
  const dense = new TransformerBlock('blk2', { dim: 4, heads: 2, ffnHidden: 8 }, new Rng(4));
  const w = fixedRandom([2, 3, 4], 6);
  assertAllGradsNonZero(() => tf.sum(tf.mul(dense.apply(x, { mask }).y, w)) as tf.Scalar, dense.variables());
  assert.equal(new Set(dense.variables().map((v) => v.name)).size, dense.variables().length);
});

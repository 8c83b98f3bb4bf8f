/**
 * The input refusals of routing (src/moe/routing.ts) and the Soft MoE layer (src/moe/softMoe.ts),
 * which the mutation run found executed by no test: each names what, where and how to fix it.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { FlexiModalError } from '../../src/errors.js';
import { Gate } from '../../src/moe/gating.js';
import { routeTokens } from '../../src/moe/routing.js';
import { SoftMoE, type SoftMoEConfig } from '../../src/moe/softMoe.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const refuses = (fn: () => unknown, where: string | undefined, message: RegExp, hint?: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof FlexiModalError && e.where === where && message.test(e.message) && (!hint || hint.test(e.hint ?? '')), String(message));

test('routing refuses a topK outside [1, S] and masks of the wrong length', () => {
  const gate = new Gate('r', { dim: 2, numExperts: 3, gating: 'softmax' }, new Rng(1));
  const x = tf.tensor2d([[1, 0], [0, 1]]);
  let seed = 0;
  const route = (o: Partial<Parameters<typeof routeTokens>[2]>) => routeTokens(gate, x, { topK: 2, training: false, ...o }, () => seed++);
  for (const K of [0, 4, 1.5]) refuses(() => route({ topK: K }), 'config key r.topK', new RegExp(`topK = ${K} must be an integer in \\[1, numExperts = 3\\]`), /lower topK or add experts/);
  refuses(() => route({ tokenMask: new Float32Array(3) }), 'r', /tokenMask has 3 entries for 2 tokens/, /one 0\/1 entry per token row/);
  refuses(() => route({ expertMask: new Float32Array(5) }), 'r', /expertMask has 5 entries for 2 tokens × 3 experts/, /per token and expert/);
  // the edges are accepted: K = 1 and K = S
  assert.deepEqual(route({ topK: 1 }).topIdx.length, 2);
  assert.deepEqual(route({ topK: 3 }).topIdx.length, 6);
});

test('Soft MoE refuses a non-positive or fractional size, a wrong token width, mask length or group id', () => {
  const ok: SoftMoEConfig = { dim: 2, hidden: 4, numExperts: 2, slotsPerExpert: 1 };
  for (const key of ['dim', 'hidden', 'numExperts', 'slotsPerExpert'] as const) {
    for (const v of [0, 1.5]) refuses(() => new SoftMoE('s', { ...ok, [key]: v }, new Rng(1)), `config key s.${key}`, new RegExp(`${key} = ${v} must be a positive integer`), new RegExp(`set ${key} ≥ 1`));
  }
  const layer = new SoftMoE('s', ok, new Rng(1));
  assert.equal(layer.numSlots, 2);
  refuses(() => layer.apply(tf.zeros([1, 2, 3]) as tf.Tensor3D), undefined, /expects tokens of width 2, got 3/);
  refuses(() => layer.apply(tf.zeros([1, 2, 2]) as tf.Tensor3D, { tokenMask: new Float32Array(3) }), undefined, /token mask has 3 entries for \[1, 2\] tokens/);
  const residual = new SoftMoE('g', { ...ok, residual: { numGroups: 2, metric: 'entropy', threshold: 0.5 } }, new Rng(1));
  refuses(() => residual.apply(tf.zeros([1, 2, 2]) as tf.Tensor3D), undefined, /residual routing needs one group id per sample/);
  refuses(() => residual.apply(tf.zeros([1, 2, 2]) as tf.Tensor3D, { groupIds: new Int32Array([2]) }), undefined, /group id 2 outside \[0, 2\)/, /different number of modalities/);
});

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { gradCheck } from '../../src/engine/gradcheck.js';
import {
  cvSquared,
  entropyLoss,
  loadBalancingLoss,
  modalityDistributions,
} from '../../src/moe/losses.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('entropy loss E (eq. 4): hand values', () => {
  // separated modalities: H(p̂_j) = 0, mixture uniform → E = −ln 2 (the minimum for M = S = 2)
  near(entropyLoss(tf.tensor2d([[1, 0], [0, 1]])).dataSync()[0]!, -Math.LN2, 1e-6, 'separated');
  // identical distributions: E = 0 (the maximum)
  near(entropyLoss(tf.tensor2d([[0.5, 0.5], [0.5, 0.5]])).dataSync()[0]!, 0, 1e-6, 'identical');
  near(entropyLoss(tf.tensor2d([[0.3, 0.7], [0.3, 0.7]])).dataSync()[0]!, 0, 1e-6, 'identical skewed');
  // H(.8,.2) = 0.5004024, H(.4,.6) = 0.6730117, mixture (.6,.4): 0.6730117
  // E = (0.5004024 + 0.6730117)/2 − 0.6730117 = −0.0863046
  near(entropyLoss(tf.tensor2d([[0.8, 0.2], [0.4, 0.6]])).dataSync()[0]!, -0.0863046, 1e-6, 'mixed');
});

test('modality distributions average present tokens only; absent modalities leave the mean', () => {
  // tokens: two of modality 0, one of modality 1, one absent token of modality 1; modality 2 has none
  const probs = tf.tensor2d([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [1, 0]]);
  const membership = new Float32Array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
  const { probs: p, counts } = modalityDistributions(probs, membership, 3);
  assert.deepEqual(Array.from(counts), [2, 1, 0]);
  const a = p.arraySync();
  near(a[0]![0]!, 0.8, 1e-6, 'p̂_0');
  near(a[1]![0]!, 0.4, 1e-6, 'p̂_1');
  assert.deepEqual(a[2], [0, 0]);
  near(entropyLoss(p, counts).dataSync()[0]!, -0.0863046, 1e-6, 'E over active modalities');
});

test('entropy loss with no counted token is 0, not the NaN of a mean over zero rows', () => {
  // a batch where every modality is absent (counts all 0): nothing to regularise
  const probs = tf.tensor2d([[0, 0], [0, 0]]);
  const e = entropyLoss(probs, [0, 0]).dataSync()[0]!;
  assert.equal(e, 0);
  // one active modality: E = H(p̂_0) − H(p̂_0) = 0 as well, computed over that row only
  near(entropyLoss(tf.tensor2d([[0.8, 0.2], [0, 0]]), [3, 0]).dataSync()[0]!, 0, 1e-7, 'one active row');
});

test('modality distributions: a membership of the wrong length is refused, naming both sizes', () => {
  const probs = tf.tensor2d([[0.5, 0.5], [0.2, 0.8], [1, 0]]); // N = 3
  assert.throws(
    () => modalityDistributions(probs, new Float32Array(5), 2),
    (e: Error) => /membership has 5 entries, expected N·M = 6/.test(e.message) && /one weight per \(token, modality\)/.test(e.message),
  );
});

test('entropy loss: finite-difference gradient through softmax and modality averaging', () => {
  const membership = new Float32Array([1, 0, 1, 0, 0, 1, 0, 1, 1, 0]); // 5 tokens, 2 modalities
  const f = (logits: tf.Tensor) => {
    const { probs, counts } = modalityDistributions(tf.softmax(logits) as tf.Tensor2D, membership, 2);
    return entropyLoss(probs, counts);
  };
  const logits = tf.randomNormal([5, 4], 0, 1, 'float32', 5);
  const res = gradCheck(f, [logits], { eps: 1e-3 });
  assert.ok(res.maxAbsError < 2e-4, JSON.stringify(res));
  // minimising E separates the modalities: a few gradient steps lower E
  let z = logits;
  const e0 = f(z).dataSync()[0]!;
  for (let i = 0; i < 50; i++) z = tf.sub(z, tf.mul(tf.grad(f)(z), 2));
  assert.ok(f(z).dataSync()[0]! < e0 - 0.1, 'gradient descent lowers E');
});

test('cv² and load-balancing loss: hand values', () => {
  // [1,2,3]: mean 2, population variance 2/3 → cv² = 1/6
  near(cvSquared(tf.tensor1d([1, 2, 3])).dataSync()[0]!, 1 / 6, 1e-6, 'cv² [1,2,3]');
  near(cvSquared(tf.tensor1d([2, 2, 2])).dataSync()[0]!, 0, 1e-9, 'cv² equal');
  // [0,4]: mean 2, variance 4 → 1
  near(cvSquared(tf.tensor1d([0, 4])).dataSync()[0]!, 1, 1e-6, 'cv² [0,4]');
  near(loadBalancingLoss(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 4])).dataSync()[0]!, 1 / 6 + 1, 1e-6, 'sum');
  near(
    loadBalancingLoss(tf.tensor1d([1, 2, 3]), tf.tensor1d([0, 4]), { importance: 0.5, load: 0.1 }).dataSync()[0]!,
    0.5 / 6 + 0.1,
    1e-6,
    'weighted',
  );
  const g = gradCheck((v) => cvSquared(v as tf.Tensor1D), [tf.tensor1d([1, 2, 3.5])], { eps: 1e-3 });
  assert.ok(g.maxAbsError < 1e-3, JSON.stringify(g));
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { taskLoss, logitsToProbs, outputUnits } from '../../src/train/taskLoss.js';
import { gradCheck } from '../../src/engine/gradcheck.js';
import type { TaskSpec } from '../../src/data/schema.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const sig = (z: number) => 1 / (1 + Math.exp(-z));
const binary = { kind: 'binary', name: 'y' } as const;

test('binary BCE equals the hand-computed mean of −[y log p + (1−y) log(1−p)]', () => {
  const z = [0.3, -1.2, 2.0];
  const y = [1, 0, 1];
  const want = -(Math.log(sig(0.3)) + Math.log(1 - sig(-1.2)) + Math.log(sig(2.0))) / 3;
  const got = taskLoss(binary, tf.tensor2d(z, [3, 1]), Float32Array.from(y), { type: 'default', posWeight: 1, focalGamma: 2 });
  assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6);
});

test('positive weight multiplies only the positive terms', () => {
  const z = [0.3, -1.2];
  const y = [1, 0];
  const want = -(3 * Math.log(sig(0.3)) + Math.log(1 - sig(-1.2))) / 2;
  const got = taskLoss(binary, tf.tensor2d(z, [2, 1]), Float32Array.from(y), { type: 'default', posWeight: 3, focalGamma: 2 });
  assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6);
});

test('focal loss (γ=2) matches −(1−p)^γ log p for positives and −p^γ log(1−p) for negatives', () => {
  const z = [0.5, 1.5];
  const y = [1, 0];
  const p0 = sig(0.5);
  const p1 = sig(1.5);
  const want = (-((1 - p0) ** 2) * Math.log(p0) - p1 ** 2 * Math.log(1 - p1)) / 2;
  const got = taskLoss(binary, tf.tensor2d(z, [2, 1]), Float32Array.from(y), { type: 'focal', posWeight: 1, focalGamma: 2 });
  assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6);
});

test('multiclass cross-entropy equals −log softmax of the true class', () => {
  const task: TaskSpec = { kind: 'multiclass', name: 'c', classes: ['a', 'b', 'c'] };
  const z = [1, 2, 3, 0.5, 0.5, -1];
  const lse = (a: number[]) => Math.log(a.reduce((s, v) => s + Math.exp(v), 0));
  const want = (-(3 - lse([1, 2, 3])) - (0.5 - lse([0.5, 0.5, -1]))) / 2;
  const got = taskLoss(task, tf.tensor2d(z, [2, 3]), Float32Array.from([2, 0]), { type: 'default', posWeight: 1, focalGamma: 2 });
  assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6);
  const probs = logitsToProbs(task, tf.tensor2d(z, [2, 3])).arraySync();
  assert.ok(Math.abs(probs[0]!.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('multilabel BCE averages over labels then samples', () => {
  const task: TaskSpec = { kind: 'multilabel', name: 'm', labels: ['a', 'b'] };
  const z = [0.2, -0.4, 1.0, 0.0];
  const y = [1, 0, 0, 1];
  const terms = [Math.log(sig(0.2)), Math.log(1 - sig(-0.4)), Math.log(1 - sig(1.0)), Math.log(sig(0))];
  const want = -terms.reduce((a, b) => a + b) / 4;
  const got = taskLoss(task, tf.tensor2d(z, [2, 2]), Float32Array.from(y), { type: 'default', posWeight: 1, focalGamma: 2 });
  assert.ok(Math.abs(got.dataSync()[0]! - want) < 1e-6);
});

test('focal and BCE gradients agree with finite differences', () => {
  const y = Float32Array.from([1, 0, 1, 0]);
  for (const type of ['default', 'focal'] as const) {
    const r = gradCheck((z) => taskLoss(binary, z as tf.Tensor2D, y, { type, posWeight: 2, focalGamma: 2 }), [
      tf.tensor2d([0.3, -0.7, 1.1, 0.2], [4, 1]),
    ]);
    assert.ok(r.maxAbsError < 2e-3, `${type}: ${r.maxAbsError}`);
  }
});

test('multiclass focal loss: −(1 − p_y)^γ log p_y of the true class, by hand (γ = 2)', () => {
  const task = { kind: 'multiclass', name: 'c', classes: ['a', 'b', 'c'] } as TaskSpec;
  const rows = [
    [1.0, -0.5, 0.2],
    [0.1, 0.3, -2.0],
  ];
  const y = [0, 2];
  const want =
    rows
      .map((r, i) => {
        const z = r.map(Math.exp);
        const p = z[y[i]!]! / z.reduce((a, b) => a + b, 0);
        return -((1 - p) ** 2) * Math.log(p);
      })
      .reduce((a, b) => a + b, 0) / 2;
  const got = taskLoss(task, tf.tensor2d(rows.flat(), [2, 3]), Float32Array.from(y), { type: 'focal', posWeight: 1, focalGamma: 2 }).dataSync()[0]!;
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
});

test('per-sample weights: the loss is mean_i w_i · ℓ_i (the weights scale, not replace, each term)', () => {
  const z = [0.3, -1.2, 2.0];
  const y = [1, 0, 1];
  const w = [0.5, 2, 0.5];
  const l = [-Math.log(sig(0.3)), -Math.log(1 - sig(-1.2)), -Math.log(sig(2.0))];
  const want = (w[0]! * l[0]! + w[1]! * l[1]! + w[2]! * l[2]!) / 3;
  const got = taskLoss(binary, tf.tensor2d(z, [3, 1]), Float32Array.from(y), { type: 'default', posWeight: 1, focalGamma: 2 }, tf.tensor1d(w)).dataSync()[0]!;
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
});

test('logitsToProbs: softmax across classes for multiclass, an independent sigmoid per unit otherwise; outputUnits per task', () => {
  const logits = tf.tensor2d([0.5, -1, 2], [1, 3]);
  const e = [0.5, -1, 2].map(Math.exp);
  const soft = logitsToProbs({ kind: 'multiclass', name: 'c', classes: ['a', 'b', 'c'] } as TaskSpec, logits).dataSync();
  e.forEach((v, i) => assert.ok(Math.abs(soft[i]! - v / (e[0]! + e[1]! + e[2]!)) < 1e-6));
  const multi = logitsToProbs({ kind: 'multilabel', name: 'l', labels: ['a', 'b', 'c'] } as TaskSpec, logits).dataSync();
  [0.5, -1, 2].forEach((z, i) => assert.ok(Math.abs(multi[i]! - sig(z)) < 1e-6));
  assert.equal(outputUnits(binary as TaskSpec), 1);
  assert.equal(outputUnits({ kind: 'multiclass', name: 'c', classes: ['a', 'b', 'c'] } as TaskSpec), 3);
  assert.equal(outputUnits({ kind: 'multilabel', name: 'l', labels: ['a', 'b'] } as TaskSpec), 2);
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { AdamW } from '../../src/train/optim/adamw.js';
import { learningRateAt } from '../../src/train/optim/schedule.js';
import { clipByGlobalNorm } from '../../src/train/clip.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

test('AdamW: two steps match the hand-computed update (with decoupled decay)', () => {
  const w = tf.variable(tf.tensor1d([1.0, -2.0]), true, 'layer.w');
  const opt = new AdamW({ weightDecay: 0.1 });
  const g1 = [0.5, -1.0];
  const g2 = [0.1, 0.3];
  const lr = 0.01;
  // hand computation
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let theta = [1.0, -2.0];
  let m = [0, 0], v = [0, 0];
  for (const [t, g] of [[1, g1], [2, g2]] as const) {
    m = m.map((mi, i) => b1 * mi + (1 - b1) * g[i]!);
    v = v.map((vi, i) => b2 * vi + (1 - b2) * g[i]! ** 2);
    theta = theta.map((th, i) => {
      const mh = m[i]! / (1 - b1 ** t);
      const vh = v[i]! / (1 - b2 ** t);
      return th - lr * (mh / (Math.sqrt(vh) + eps) + 0.1 * th);
    });
    opt.apply([w], { 'layer.w': tf.tensor1d(g) }, lr);
  }
  const got = w.dataSync();
  theta.forEach((th, i) => assert.ok(Math.abs(got[i]! - th) < 1e-6, `${got[i]} vs ${th}`));
});

test('AdamW does not decay biases', () => {
  const b = tf.variable(tf.tensor1d([1.0]), true, 'layer.b');
  const opt = new AdamW({ weightDecay: 0.5 });
  opt.apply([b], { 'layer.b': tf.tensor1d([0]) }, 0.1);
  assert.equal(b.dataSync()[0], 1.0);
});

test('schedules: warm-up, cosine end point, step decay', () => {
  assert.equal(learningRateAt({ type: 'constant', warmupSteps: 4 }, 1, 0, 100, 10), 0.25);
  assert.equal(learningRateAt({ type: 'constant', warmupSteps: 4 }, 1, 50, 100, 10), 1);
  const cos = { type: 'cosine', warmupSteps: 0, minFactor: 0.1 } as const;
  assert.ok(Math.abs(learningRateAt(cos, 1, 0, 100, 10) - 1) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cos, 1, 50, 100, 10) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRateAt(cos, 1, 100, 100, 10) - 0.1) < 1e-12);
  const st = { type: 'step', warmupSteps: 0, stepEpochs: 5, gamma: 0.1 } as const;
  assert.equal(learningRateAt(st, 1, 49, 1000, 10), 1);
  assert.ok(Math.abs(learningRateAt(st, 1, 50, 1000, 10) - 0.1) < 1e-12);
});

test('clipByGlobalNorm scales all gradients by maxNorm/‖g‖ when above the limit', () => {
  const grads = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]) };
  const { grads: c, norm } = clipByGlobalNorm(grads, 1);
  assert.ok(Math.abs(norm - 5) < 1e-6);
  assert.deepEqual(Array.from(c.a!.dataSync()).map((x) => +x.toFixed(6)), [0.6, 0]);
  assert.deepEqual(Array.from(c.b!.dataSync()).map((x) => +x.toFixed(6)), [0, 0.8]);
  const { grads: same } = clipByGlobalNorm(grads, 10);
  assert.deepEqual(Array.from(same.a!.dataSync()), [3, 0]);
});

test('WeightAverage: bias-corrected EMA by hand, swap in and restore', async () => {
  const { WeightAverage } = await import('../../src/train/ema.js');
  const w = tf.variable(tf.tensor1d([0]), true, 'ema.w');
  const ema = new WeightAverage([w], 0.9);
  // after update t, β_t = min(0.9, (1+t)/(10+t))
  let shadow = 0;
  for (const [t, value] of [[1, 10], [2, 20]] as const) {
    w.assign(tf.tensor1d([value]));
    ema.update();
    const beta = Math.min(0.9, (1 + t) / (10 + t));
    shadow = beta * shadow + (1 - beta) * value;
  }
  const seen = ema.withAveraged(() => w.dataSync()[0]!);
  assert.ok(Math.abs(seen - shadow) < 1e-5, `${seen} vs ${shadow}`);
  assert.equal(w.dataSync()[0], 20, 'live weights restored');
  ema.dispose();
  w.dispose();
});

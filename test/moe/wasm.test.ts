import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { SparseMoE } from '../../src/moe/sparse-moe.js';
import { createRouter, routerLosses } from '../../src/moe/routers.js';
import { randn2d, sparseDenseMaxDiff } from './helpers.js';
import { entropyLoss } from '../../src/moe/losses.js';
import { ExpertPool } from '../../src/moe/experts.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('wasm: sparse == dense (forward and gradients) with noisy Laplace gating', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const moe = new SparseMoE(
    'w.moe',
    { dim: 8, hidden: 16, numExperts: 6, topK: 2, gating: 'laplace', noisyGating: true, gateInitStd: 0.5 },
    new Rng(1),
  );
  const d = sparseDenseMaxDiff(moe, randn2d([12, 8], 1, 2), {
    training: true,
    seed: 3,
    tokenMask: new Float32Array(12).fill(1).fill(0, 5, 6),
  });
  assert.ok(d.value < 1e-5 && d.grad < 1e-5, JSON.stringify(d));
});

test('wasm: a per-modality router step with entropy + balance losses runs backward', () => {
  const router = createRouter(
    'w.router',
    { design: 'per-modality', numModalities: 2, dim: 4, hidden: 8, numExperts: 4, topK: 2, gating: 'softmax', noisyGating: true },
    new Rng(2),
  );
  const tokens = [0, 1].map((j) => tf.randomNormal([2, 3, 4], 0, 1, 'float32', j) as tf.Tensor3D);
  const res = tf.variableGrads(() => {
    const out = router.apply({ tokens, present: [1, 1, 1, 0] }, { training: true, seed: 1 });
    const aux = routerLosses(out.stats, { entropy: 1, balance: 1 });
    return tf.add(tf.sum(tf.square(out.tokens[0]!)), aux.total) as tf.Scalar;
  }, router.variables());
  assert.ok(Number.isFinite(res.value.dataSync()[0]!));
  for (const v of router.variables().filter((x) => x.name.includes('gate'))) {
    assert.ok(tf.max(tf.abs(res.grads[v.name]!)).dataSync()[0]! > 0, v.name);
  }
});

test('wasm: entropy loss of a batch with no counted token is exactly 0', () => {
  // the guard matters here: on wasm a mean over zero rows reads uninitialised memory (measured
  // −1.9e-39 with the guard removed), where tfjs-cpu happens to give 0
  assert.equal(entropyLoss(tf.tensor2d([[0, 0], [0, 0]]), [0, 0]).dataSync()[0], 0);
});

test('wasm: at inference an expert runs the fused GELU kernel (FlexiGeluSigmoid) and equals the naive FFN', async () => {
  const pool = new ExpertPool('w.pool', { dim: 3, hidden: 4, numExperts: 1 }, new Rng(6));
  const [w1, b1, w2, b2] = pool.variables().map((v) => v.arraySync()) as [number[][], number[], number[][], number[]];
  const x = [[0.5, -1, 2], [0, 0.3, -0.7]];
  // naive d → h → d FFN with GELU ≈ z·σ(1.702 z) (experts.ts doc)
  const want = x.map((r) => {
    const h = b1.map((b, j) => {
      const z = b + r.reduce((acc, v, i) => acc + v * w1[i]![j]!, 0);
      return z / (1 + Math.exp(-1.702 * z));
    });
    return b2.map((b, c) => b + h.reduce((acc, v, j) => acc + v * w2[j]![c]!, 0));
  });
  const got = pool.expert(0, tf.tensor2d(x)).arraySync();
  got.forEach((row, n) => row.forEach((v, c) => assert.ok(Math.abs(v - want[n]![c]!) < 1e-5, `[${n}][${c}] ${v} vs ${want[n]![c]}`)));
  const info = await tf.profile(() => {
    tf.tidy(() => {
      pool.expert(0, tf.tensor2d(x));
    });
  });
  assert.ok(info.kernels.some((k) => k.name === 'FlexiGeluSigmoid'), info.kernels.map((k) => k.name).join(','));
});

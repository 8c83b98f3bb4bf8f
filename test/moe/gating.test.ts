import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { gradCheck } from '../../src/engine/gradcheck.js';
import { Rng } from '../../src/engine/rng.js';
import {
  Gate,
  GATE_EPS,
  gatingLogits,
  MODIFIED_GATE_FNS,
  type GatingFunction,
  type ModifiedGateFn,
} from '../../src/moe/gating.js';
import { routeTokens } from '../../src/moe/routing.js';
import { topKRows } from '../../src/moe/topk.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

function close(actual: ArrayLike<number>, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

// x = (1, 2); W columns W_0 = (0.5, 1), W_1 = (−1, 0); b = (0.1, −0.2)
const X = [[1, 2]];
const W = [
  [0.5, -1],
  [1, 0],
];
const B = [0.1, -0.2];

// hand values: logits and p_0 = σ(h_0 − h_1)
const CASES: Array<{ gating: GatingFunction; fn?: ModifiedGateFn; h: [number, number] }> = [
  { gating: 'softmax', h: [2.6, -1.2] }, // 0.5+2+0.1, −1−0.2
  { gating: 'gaussian', h: [-1.25, -8] }, // −(0.5²+1²), −(2²+2²)
  { gating: 'laplace', h: [-1.1180344, -2.8284271] }, // −√(1.25+ε), −√(8+ε)
  { gating: 'modified-softmax', fn: 'sigmoid', h: [1.3463264, -0.9310586] }, // σ(1)·0.5+σ(2)+0.1, −σ(1)−0.2
  { gating: 'modified-softmax', fn: 'tanh', h: [1.4448247, -0.9615942] },
  { gating: 'modified-softmax', fn: 'cos', h: [-0.0459957, -0.7403023] },
  { gating: 'modified-softmax', fn: 'l2-normalize', h: [1.218034, -0.6472136] }, // x/√5
];

test('gating logits and probabilities match hand values (2 experts, 2 dims)', () => {
  for (const c of CASES) {
    tf.tidy(() => {
      const useBias = c.gating === 'softmax' || c.gating === 'modified-softmax';
      const h = gatingLogits(c.gating, tf.tensor2d(X), tf.tensor2d(W), useBias ? tf.tensor1d(B) : null, c.fn);
      close(h.dataSync(), c.h, 2e-5, `${c.gating}/${c.fn ?? ''} logits`);
      const p0 = 1 / (1 + Math.exp(c.h[1] - c.h[0]));
      close(tf.softmax(h).dataSync(), [p0, 1 - p0], 1e-5, `${c.gating}/${c.fn ?? ''} probs`);
    });
  }
  assert.ok(GATE_EPS <= 1e-6);
});

test('laplace gate has a finite gradient at distance 0', () => {
  const g = tf.grad((x: tf.Tensor) => tf.sum(gatingLogits('laplace', x as tf.Tensor2D, tf.tensor2d([[1], [2]]), null)));
  const v = g(tf.tensor2d([[1, 2]])).dataSync();
  assert.ok(Array.from(v).every(Number.isFinite), `gradient ${v}`);
});

test('top-K keeps the K largest logits (ties to the lower id) and renormalises over them', () => {
  const sel = topKRows(new Float32Array([1, 3, 2, 5, 5, 0]), 2, 3, 2);
  assert.deepEqual(Array.from(sel.topIdx), [1, 2, 0, 1]);
  assert.deepEqual(Array.from(sel.nextIdx), [0, 2]);
  // one token, softmax gate with logits (1, 3, 2): kept experts 1 and 2, gates softmax(3, 2)
  const gate = new Gate('t.topk.gate', { dim: 1, numExperts: 3, gating: 'softmax' }, new Rng(1));
  gate.w.assign(tf.tensor2d([[1, 3, 2]]));
  const r = routeTokens(gate, tf.tensor2d([[1]]), { topK: 2, training: false }, () => 0);
  assert.deepEqual(Array.from(r.topIdx), [1, 2]);
  close(r.topGates.dataSync(), [0.7310586, 0.2689414], 1e-6, 'top gates');
  // the full softmax over all 3 experts is different (it keeps mass on expert 0)
  const z = Math.exp(1) + Math.exp(3) + Math.exp(2);
  close(r.gateProbs.dataSync(), [Math.exp(1) / z, Math.exp(3) / z, Math.exp(2) / z], 1e-6, 'full probs');
  close(r.importance.dataSync(), [0, 0.7310586, 0.2689414], 1e-6, 'importance');
  close(r.load.dataSync(), [0, 1, 1], 0, 'load counts');
});

test('masked tokens are not routed', () => {
  const gate = new Gate('t.mask.gate', { dim: 2, numExperts: 3, gating: 'softmax' }, new Rng(2));
  const r = routeTokens(
    gate,
    tf.tensor2d([[1, 0], [0, 1]]),
    { topK: 2, training: false, tokenMask: new Float32Array([1, 0]) },
    () => 0,
  );
  assert.deepEqual(Array.from(r.topIdx.slice(2)), [-1, -1]);
  close(r.topGates.dataSync().slice(2), [0, 0], 0, 'masked gates');
  assert.equal(r.load.sum().dataSync()[0], 2);
});

/** Gate values and full probabilities as a pure function of (x, W, b) for finite differences. */
function gateValueFn(gating: GatingFunction, fn: ModifiedGateFn | undefined, K: number) {
  const R1 = tf.keep(tf.randomNormal([3, K], 0, 1, 'float32', 11));
  const R2 = tf.keep(tf.randomNormal([3, 4], 0, 1, 'float32', 12));
  return (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Scalar => {
    const fake = {
      name: 'fd',
      cfg: { numExperts: 4 },
      noiseW: null,
      logits: (xx: tf.Tensor2D) =>
        gatingLogits(gating, xx, w as tf.Tensor2D, gating === 'gaussian' || gating === 'laplace' ? null : (b as tf.Tensor1D), fn),
    } as unknown as Gate;
    const r = routeTokens(fake, x as tf.Tensor2D, { topK: K, training: false }, () => 0);
    return tf.add(tf.sum(tf.mul(r.topGates, R1)), tf.sum(tf.mul(r.gateProbs, R2))) as tf.Scalar;
  };
}

test('finite-difference gradients of the gate values for every gating function', () => {
  const fns: Array<[GatingFunction, ModifiedGateFn | undefined]> = [
    ['softmax', undefined],
    ['gaussian', undefined],
    ['laplace', undefined],
    ...MODIFIED_GATE_FNS.map((f) => ['modified-softmax', f] as [GatingFunction, ModifiedGateFn]),
  ];
  for (const [gating, fn] of fns) {
    const x = tf.randomNormal([3, 2], 0, 0.7, 'float32', 1);
    const w = tf.randomNormal([2, 4], 0, 0.7, 'float32', 2);
    const b = tf.randomNormal([4], 0, 0.3, 'float32', 3);
    const f = gateValueFn(gating, fn, 2);
    const inputs = gating === 'gaussian' || gating === 'laplace' ? [x, w] : [x, w, b];
    const res = gradCheck((...xs) => f(xs[0]!, xs[1]!, xs[2] ?? b), inputs, { eps: 1e-3 });
    if (process.env.MOE_DEBUG) console.log(gating, fn, res);
    assert.ok(res.maxAbsError < 5e-4, `${gating}/${fn ?? ''}: max abs error ${res.maxAbsError} (rel ${res.maxRelError})`);
  }
});

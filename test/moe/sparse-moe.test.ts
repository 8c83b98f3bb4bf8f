import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { gradCheck } from '../../src/engine/gradcheck.js';
import { Rng } from '../../src/engine/rng.js';
import { MODIFIED_GATE_FNS, type GatingFunction, type ModifiedGateFn } from '../../src/moe/gating.js';
import { SparseMoE, type SparseMoEConfig } from '../../src/moe/sparse-moe.js';
import { gatherRows, scatterAddRows } from '../../src/moe/row-ops.js';
import { randn2d, sparseDenseMaxDiff } from './helpers.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const ALL: Array<[GatingFunction, ModifiedGateFn | undefined]> = [
  ['softmax', undefined],
  ['gaussian', undefined],
  ['laplace', undefined],
  ...MODIFIED_GATE_FNS.map((f) => ['modified-softmax', f] as [GatingFunction, ModifiedGateFn]),
];

let uid = 0;
function makeMoE(cfg: Partial<SparseMoEConfig>, seed = 1): SparseMoE {
  return new SparseMoE(
    `t.moe${uid++}`,
    { dim: 6, hidden: 10, numExperts: 5, topK: 2, gating: 'softmax', gateInitStd: 0.5, ...cfg },
    new Rng(seed),
  );
}

test('gatherRows / scatterAddRows: values and finite-difference gradients', () => {
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const idx = new Int32Array([2, 0, 2, 1, 2]);
  assert.deepEqual(gatherRows(x, idx).arraySync(), [[5, 6], [1, 2], [5, 6], [3, 4], [5, 6]]);
  const v = tf.tensor2d([[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]);
  assert.deepEqual(scatterAddRows(v, idx, 4).arraySync(), [[2, 2], [4, 4], [9, 9], [0, 0]]);
  const R = randn2d([5, 2], 1, 3);
  const R2 = randn2d([4, 2], 1, 4);
  const g1 = gradCheck((a) => tf.sum(tf.mul(gatherRows(a as tf.Tensor2D, idx), R)) as tf.Scalar, [x]);
  const g2 = gradCheck((a) => tf.sum(tf.mul(scatterAddRows(a as tf.Tensor2D, idx, 4), R2)) as tf.Scalar, [v]);
  assert.ok(g1.maxAbsError < 1e-3 && g2.maxAbsError < 1e-3, `${g1.maxAbsError} ${g2.maxAbsError}`);
});

test('variable names follow <name>.gate.w|b, <name>.gate.noise.w, <name>.expert<i>.w1|b1|w2|b2', () => {
  const moe = new SparseMoE(
    'names',
    { dim: 4, hidden: 8, numExperts: 2, topK: 1, gating: 'softmax', noisyGating: true },
    new Rng(0),
  );
  assert.deepEqual(
    moe.variables().map((v) => `${v.name}:${v.shape}`),
    [
      'names.gate.w:4,2',
      'names.gate.b:2',
      'names.gate.noise.w:4,2',
      ...[0, 1].flatMap((i) => [`names.expert${i}.w1:4,8`, `names.expert${i}.b1:8`, `names.expert${i}.w2:8,4`, `names.expert${i}.b2:4`]),
    ],
  );
  const lap = new SparseMoE('names.lap', { dim: 4, hidden: 8, numExperts: 2, topK: 1, gating: 'laplace' }, new Rng(0));
  assert.deepEqual(lap.variables().slice(0, 1).map((v) => v.name), ['names.lap.gate.w']);
});

test('sparse dispatch == dense reference (forward and all gradients, 1e-5) for every gating function', () => {
  for (const [gating, fn] of ALL) {
    const moe = makeMoE({ gating, modifiedGateFn: fn, noisyGating: true });
    const x = randn2d([9, 6], 1, 7);
    const mask = new Float32Array([1, 1, 0, 1, 1, 1, 1, 0, 1]);
    const d = sparseDenseMaxDiff(moe, x, { training: true, seed: 5, tokenMask: mask });
    assert.ok(d.value < 1e-5 && d.grad < 1e-5, `${gating}/${fn ?? ''}: value ${d.value}, grad ${d.grad}`);
    assert.equal(d.gradCount, moe.variables().length + 1, 'every variable and x got a gradient');
  }
});

test('masked tokens give zero output rows', () => {
  const moe = makeMoE({});
  const out = moe.apply(randn2d([4, 6], 1, 1), {
    training: false,
    tokenMask: new Float32Array([1, 0, 1, 0]),
  });
  const y = out.y.arraySync();
  assert.ok(y[1]!.every((v) => v === 0) && y[3]!.every((v) => v === 0));
  assert.ok(y[0]!.some((v) => v !== 0));
  assert.deepEqual(Array.from(out.topIdx.slice(2, 4)), [-1, -1]);
});

test('sparse MoE output: finite-difference gradient w.r.t. x (gate values and experts)', () => {
  for (const gating of ['softmax', 'laplace'] as GatingFunction[]) {
    const moe = makeMoE({ gating, gateInitStd: 1 });
    const R = randn2d([4, 6], 1, 9);
    const x = randn2d([4, 6], 0.5, 8);
    const res = gradCheck(
      (a) => tf.sum(tf.mul(moe.apply(a as tf.Tensor2D, { training: false }).y, R)) as tf.Scalar,
      [x],
      { eps: 1e-3 },
    );
    assert.ok(res.maxAbsError < 2e-3, `${gating}: ${JSON.stringify(res)}`);
  }
});

test('y equals the hand combination Σ_k g_k E_{i_k}(x) computed expert by expert', () => {
  const moe = makeMoE({ numExperts: 4, topK: 3, gating: 'gaussian' });
  const x = randn2d([3, 6], 1, 2);
  const out = moe.apply(x, { training: false });
  const gates = out.topGates.arraySync();
  const y = out.y.arraySync();
  for (let n = 0; n < 3; n++) {
    const row = x.slice([n, 0], [1, 6]) as tf.Tensor2D;
    const expect = new Array(6).fill(0);
    for (let k = 0; k < 3; k++) {
      const e = moe.experts.expert(out.topIdx[n * 3 + k]!, row).dataSync();
      for (let c = 0; c < 6; c++) expect[c] += gates[n]![k]! * e[c]!;
    }
    for (let c = 0; c < 6; c++) assert.ok(Math.abs(y[n]![c]! - expect[c]) < 1e-5);
  }
  const sums = gates.map((g) => g.reduce((a, b) => a + b, 0));
  sums.forEach((s) => assert.ok(Math.abs(s - 1) < 1e-6));
});

test('noisy gating: training output depends on the noise seed, inference is deterministic', () => {
  const moe = makeMoE({ gating: 'softmax', noisyGating: true, gateInitStd: 0.05 });
  const x = randn2d([32, 6], 1, 3);
  const run = (training: boolean, seed?: number) => moe.apply(x, { training, seed });
  const t1 = run(true, 1);
  const t2 = run(true, 2);
  const diffTrain = tf.max(tf.abs(tf.sub(t1.y, t2.y))).dataSync()[0]!;
  assert.ok(diffTrain > 1e-4, `training outputs should differ, diff ${diffTrain}`);
  assert.notDeepEqual(Array.from(t1.topIdx), Array.from(t2.topIdx));
  const i1 = run(false, 1);
  const i2 = run(false, 2);
  const i3 = run(false);
  assert.deepEqual(i1.y.arraySync(), i2.y.arraySync());
  assert.deepEqual(i1.y.arraySync(), i3.y.arraySync());
  // inference equals the noise-free computation: gates from the clean logits
  const clean = tf.softmax(moe.gate.logits(x));
  assert.deepEqual(i1.gateProbs.arraySync(), clean.arraySync());
  // training noise is reproducible for a given seed
  assert.deepEqual(run(true, 1).y.arraySync(), t1.y.arraySync());
  // the smooth load estimate (noisy training) sums to about N·K and has a gradient to the noise weight
  const loadSum = t1.load.sum().dataSync()[0]!;
  assert.ok(loadSum > 32 && loadSum < 32 * 4, `load sum ${loadSum}`);
  const g = tf.variableGrads(() => tf.sum(tf.square(moe.apply(x, { training: true, seed: 4 }).load)) as tf.Scalar);
  assert.ok(tf.max(tf.abs(g.grads[moe.gate.noiseW!.name]!)).dataSync()[0]! > 0);
});

test('noiseAtInference (reference-code deviation) makes inference stochastic', () => {
  const moe = makeMoE({ gating: 'softmax', noisyGating: true, noiseAtInference: true, gateInitStd: 0.05 });
  const x = randn2d([32, 6], 1, 3);
  const a = moe.apply(x, { training: false, seed: 1 }).y;
  const b = moe.apply(x, { training: false, seed: 2 }).y;
  assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! > 1e-4);
});

test('no tensor leaks when run inside tidy', () => {
  const moe = makeMoE({ noisyGating: true });
  const x = randn2d([8, 6], 1, 3);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(moe.apply(x, { training: true }).y)) as tf.Scalar);
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
    });
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, before);
});

test("without a seed, training noise comes from the layer's own seeded sequence: reproducible per construction seed, new per call", () => {
  const x = randn2d([6, 6], 1, 12);
  const a = makeMoE({ noisyGating: true, gateInitStd: 0.05 }, 21);
  const b = makeMoE({ noisyGating: true, gateInitStd: 0.05 }, 21);
  const [a1, a2] = [a.apply(x, { training: true }), a.apply(x, { training: true })];
  const [b1, b2] = [b.apply(x, { training: true }), b.apply(x, { training: true })];
  // the gate probabilities are the softmax of the noisy logits, so they show the noise draw itself
  assert.deepEqual(a1.gateProbs.arraySync(), b1.gateProbs.arraySync());
  assert.deepEqual(a2.gateProbs.arraySync(), b2.gateProbs.arraySync());
  assert.notDeepEqual(a1.gateProbs.arraySync(), a2.gateProbs.arraySync());
});

test("dispatch: 'dense' runs every expert on all N tokens; the default runs each expert only on its routed rows", () => {
  const N = 7;
  const x = randn2d([N, 6], 1, 13);
  const spy = (moe: SparseMoE) => {
    const calls: Array<[number, number]> = [];
    const orig = moe.experts.expert.bind(moe.experts);
    moe.experts.expert = (i: number, rows: tf.Tensor2D) => {
      calls.push([i, rows.shape[0]]);
      return orig(i, rows);
    };
    return calls;
  };
  const moe = makeMoE({ numExperts: 5, topK: 2 });
  const calls = spy(moe);
  const sparse = moe.apply(x, { training: false });
  const sparseCalls = calls.splice(0);
  const explicit = moe.apply(x, { training: false, dispatch: 'sparse' });
  const explicitCalls = calls.splice(0);
  const dense = moe.apply(x, { training: false, dispatch: 'dense' });
  assert.deepEqual(calls, [0, 1, 2, 3, 4].map((e) => [e, N]));
  // naive count of the routed (token, expert) pairs per expert
  const count = new Array(5).fill(0);
  for (const e of sparse.topIdx) if (e >= 0) count[e]++;
  const want = count.flatMap((c, e) => (c > 0 ? [[e, c]] : []));
  assert.ok(want.length < 5 || want.some(([, c]) => c! < N), 'the example must route some expert to fewer than N rows');
  assert.deepEqual(sparseCalls, want);
  assert.deepEqual(explicitCalls, want);
  const d = tf.max(tf.abs(tf.sub(sparse.y, dense.y))).dataSync()[0]!;
  assert.ok(d < 1e-5, `sparse vs dense ${d}`);
  assert.deepEqual(explicit.y.arraySync(), sparse.y.arraySync());
});

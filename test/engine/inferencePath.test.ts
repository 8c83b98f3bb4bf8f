/**
 * The inference path (no gradient tape): fused wasm kernels, JS-side gate values, cached mTAND
 * queries. Each must give what the training path (the stock ops under a tape) gives.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { Rng } from '../../src/engine/rng.js';
import { LayerNorm } from '../../src/nn/layerNorm.js';
import { Linear } from '../../src/nn/linear.js';
import { TimeEmbedding } from '../../src/nn/timeEmbedding.js';
import { geluApprox } from '../../src/moe/experts.js';
import { Gate, GATE_EPS, gatingLogits } from '../../src/moe/gating.js';
import { routeTokens } from '../../src/moe/routing.js';
import { MTand } from '../../src/encoders/mtand.js';
import { runInferenceKernel } from '../../src/engine/inferenceKernels.js';
import { assertClose, fixedRandom, setVar } from '../nn/helpers.js';
import { randomInput } from '../encoders/naiveMtand.js';
import { setup } from './helpers.js';
import { generateSynthetic } from '../../src/data/synthetic.js';
import { fitNormalizer } from '../../src/data/normalize.js';
import { makeBatch } from '../../src/data/batch.js';
import { parseConfig } from '../../src/config/parse.js';
import { buildModel } from '../../src/models/build.js';

before(setup);

/** f's output computed under a gradient tape (the stock ops), as numbers. */
function underTape(f: () => tf.Tensor): ArrayLike<number> {
  let out: ArrayLike<number> = [];
  tf.grad((x: tf.Tensor) => {
    const y = f();
    out = y.dataSync().slice();
    return tf.add(tf.sum(y), tf.sum(x)) as tf.Scalar;
  })(tf.scalar(0));
  return out;
}

/** Names of the kernels f runs. */
async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  const info = await tf.profile(() => {
    tf.tidy(() => {
      f();
    });
  });
  return info.kernels.map((k) => k.name);
}

test('fused LayerNorm: hand-computed rows, same as the stock ops, and only outside a tape', async () => {
  const ln = new LayerNorm('inf.ln', { dim: 4 });
  setVar(ln.g, [1, 2, 0.5, -1]);
  setVar(ln.b, [0, 0.1, 0, 1]);
  const x = tf.tensor2d([[1, 2, 3, 4], [-2, 0, 2, 0]]);
  // row 1: mean 2.5, var 1.25; row 2: mean 0, var 2
  const hand = [
    [-1.5, -0.5, 0.5, 1.5].map((c) => c / Math.sqrt(1.25 + 1e-5)),
    [-2, 0, 2, 0].map((c) => c / Math.sqrt(2 + 1e-5)),
  ].flatMap((r) => r.map((v, i) => v * [1, 2, 0.5, -1][i]! + [0, 0.1, 0, 1][i]!));
  assertClose(ln.apply(x).dataSync(), hand, 1e-5, 'fused');
  assertClose(underTape(() => ln.apply(x)), hand, 1e-5, 'stock');
  const wide = new LayerNorm('inf.ln64', { dim: 64 });
  setVar(wide.g, Array.from(fixedRandom([64], 4).dataSync()));
  const big = fixedRandom([3, 5, 64], 3);
  assertClose(wide.apply(big).dataSync(), underTape(() => wide.apply(big)), 2e-6, 'random [3, 5, 64]');
  assert.ok((await kernelsOf(() => ln.apply(x))).includes('FlexiLayerNorm'));
});

test('fused GELU (x·σ(1.702x)) and time embedding match the stock ops', async () => {
  const x = tf.tensor1d([-3, -1, -0.2, 0, 0.2, 1, 3, 20, -20]);
  const hand = Array.from(x.dataSync(), (v) => v / (1 + Math.exp(-1.702 * v)));
  assertClose(geluApprox(x).dataSync(), hand, 1e-6, 'fused gelu');
  assertClose(underTape(() => geluApprox(x)), hand, 1e-5, 'stock gelu');
  assert.ok((await kernelsOf(() => geluApprox(x))).includes('FlexiGeluSigmoid'));

  const te = new TimeEmbedding('inf.te', { dim: 5 }, new Rng(4));
  const t = tf.tensor2d([0, 0.25, 0.5, 1, 0.9, 0.1], [2, 3]);
  const w = te.w.dataSync();
  const b = te.b.dataSync();
  const handT = Array.from(t.dataSync()).flatMap((v) => Array.from({ length: 5 }, (_, j) => (j === 0 ? v * w[0]! + b[0]! : Math.sin(v * w[j]! + b[j]!))));
  const fused = te.apply(t);
  assert.deepEqual(fused.shape, [2, 3, 5]);
  assertClose(fused.dataSync(), handT, 1e-5, 'fused time embedding');
  assertClose(underTape(() => te.apply(t)), handT, 1e-5, 'stock time embedding');
  assert.ok((await kernelsOf(() => te.apply(t))).includes('FlexiTimeEmbedding'));
});

test('fused Linear: hand-computed, same as the stock ops for ranks 1–3 and without bias, one kernel', async () => {
  const lin = new Linear('inf.lin', { inDim: 3, outDim: 2 }, new Rng(1));
  setVar(lin.w, [1, 2, 3, 4, 5, 6]); // [[1, 2], [3, 4], [5, 6]]
  setVar(lin.b!, [0.5, -1]);
  const x = tf.tensor2d([[1, 0, -1], [2, 1, 0]]);
  // [1 − 5 + 0.5, 2 − 6 − 1], [2 + 3 + 0.5, 4 + 4 − 1]
  assertClose(lin.apply(x).dataSync(), [-3.5, -5, 5.5, 7], 0, 'fused 2-D');
  assertClose(underTape(() => lin.apply(x)), [-3.5, -5, 5.5, 7], 0, 'stock 2-D');
  const one = lin.apply(tf.tensor1d([0, 1, 0]));
  assert.deepEqual(one.shape, [2]);
  assertClose(one.dataSync(), [3.5, 3], 0, 'fused 1-D');
  assert.deepEqual(lin.apply(tf.zeros([0, 3])).shape, [0, 2], 'no rows');
  for (const bias of [true, false]) {
    const wide = new Linear(`inf.lin.wide.${bias}`, { inDim: 5, outDim: 4, bias }, new Rng(2));
    if (bias) setVar(wide.b!, [0.1, -0.2, 0.3, -0.4]);
    const x3 = fixedRandom([2, 3, 5], 9);
    const fused = wide.apply(x3);
    assert.deepEqual(fused.shape, [2, 3, 4]);
    assertClose(fused.dataSync(), underTape(() => wide.apply(x3)), 1e-6, `random [2, 3, 5], bias ${bias}`);
    assert.deepEqual(await kernelsOf(() => wide.apply(x3)), ['FlexiLinear'], 'one kernel instead of Reshape, MatMul, Add, Reshape');
  }
  // many rows: the bias goes through the stock wasm Add inside the kernel
  const tall = new Linear('inf.lin.tall', { inDim: 5, outDim: 64 }, new Rng(3));
  setVar(tall.b!, Array.from({ length: 64 }, (_, j) => j / 10 - 3));
  const xt = fixedRandom([2, 40, 5], 10); // 80 rows · 64 outputs > 4096 elements
  const yt = tall.apply(xt);
  assert.deepEqual(yt.shape, [2, 40, 64]);
  assertClose(yt.dataSync(), underTape(() => tall.apply(xt)), 1e-6, 'random [2, 40, 5] → 64');
  const ids = tf.engine().backend.numDataIds();
  tf.tidy(() => {
    tall.apply(xt);
    lin.apply(x);
  });
  assert.equal(tf.engine().backend.numDataIds(), ids, 'no backend memory left behind');
});

test('fused gated mix σ(l)·a + (1 − σ(l))·b: hand values, same as the stock ops', async () => {
  const l = tf.tensor1d([0, 2, -1, 30]);
  const a = tf.tensor1d([1, -2, 4, 5]);
  const b = tf.tensor1d([3, 1, 0, -5]);
  const sig = (v: number): number => 1 / (1 + Math.exp(-v));
  const hand = [0, 1, 2, 3].map((i) => sig([0, 2, -1, 30][i]!) * [1, -2, 4, 5][i]! + (1 - sig([0, 2, -1, 30][i]!)) * [3, 1, 0, -5][i]!);
  const fused = runInferenceKernel('FlexiGatedMix', { logits: l, a, b });
  assert.ok(fused);
  assertClose(fused.dataSync(), hand, 1e-6, 'fused');
  assertClose(hand, [2, 1 - 3 * sig(2), 4 * sig(-1), 5], 1e-6, 'the hand values themselves');
  const [L, A, B] = [fixedRandom([2, 3, 4], 1), fixedRandom([2, 3, 4], 2), fixedRandom([2, 3, 4], 3)];
  const stock = (): tf.Tensor => {
    const g = tf.sigmoid(L);
    return tf.add(tf.mul(g, A), tf.mul(tf.sub(1, g), B));
  };
  assertClose(runInferenceKernel('FlexiGatedMix', { logits: L, a: A, b: B })!.dataSync(), underTape(stock), 1e-6, 'random [2, 3, 4]');
  assert.throws(() => runInferenceKernel('FlexiGatedMix', { logits: L, a: tf.zeros([3, 4]), b: B }), /one shape/);
});

test('fused Gaussian and Laplace gate logits: hand-computed distances, same as the stock ops', async () => {
  const x = tf.tensor2d([[0, 0], [1, 2], [3, -1]]);
  const w = tf.tensor2d([[0, 1, 3], [0, 2, -1]]); // experts at (0,0), (1,2), (3,-1)
  const d2 = [[0, 5, 10], [5, 0, 13], [10, 13, 0]].flat();
  for (const gating of ['gaussian', 'laplace'] as const) {
    const hand = d2.map((v) => (gating === 'gaussian' ? -v : -Math.sqrt(v + GATE_EPS)));
    assertClose(gatingLogits(gating, x, w, null).dataSync(), hand, 1e-5, `fused ${gating}`);
    assertClose(underTape(() => gatingLogits(gating, x, w, null)), hand, 1e-3, `stock ${gating}`);
    assert.ok((await kernelsOf(() => gatingLogits(gating, x, w, null))).includes('FlexiDistanceLogits'));
    const xr = fixedRandom([7, 16], 5) as tf.Tensor2D;
    const wr = fixedRandom([16, 4], 6) as tf.Tensor2D;
    assertClose(gatingLogits(gating, xr, wr, null).dataSync(), underTape(() => gatingLogits(gating, xr, wr, null)), 1e-5, `random ${gating}`);
  }
});

test('a fused kernel is not used on another backend or under a tape', async () => {
  const x = tf.tensor1d([1, 2]);
  assert.equal(underTape(() => runInferenceKernel('FlexiGeluSigmoid', { x }) ?? tf.fill([1], -1)).length, 1, 'under a tape: stock ops');
  await tf.setBackend('cpu');
  try {
    assert.equal(runInferenceKernel('FlexiGeluSigmoid', { x: tf.tensor1d([1]) }), null);
    const ln = new LayerNorm('inf.ln.cpu', { dim: 2 });
    assertClose(ln.apply(tf.tensor2d([[1, 3]])).dataSync(), [-1, 1], 1e-4, 'cpu stock LayerNorm');
  } finally {
    await tf.setBackend('wasm');
  }
});

test('routing outside a tape: same experts, gate values, importance and load as under a tape', () => {
  for (const gating of ['softmax', 'laplace'] as const) {
    const gate = new Gate(`inf.gate.${gating}`, { dim: 6, numExperts: 5, gating }, new Rng(7));
    const x = fixedRandom([9, 6], 8) as tf.Tensor2D;
    const tokenMask = Float32Array.from([1, 1, 0, 1, 1, 1, 1, 0, 1]);
    const expertMask = Float32Array.from({ length: 45 }, (_, i) => (i % 5 === 4 && i < 20 ? 0 : 1));
    const opts = { topK: 2, training: false, tokenMask, expertMask };
    const free = routeTokens(gate, x, opts, () => 0);
    let taped: { idx: Int32Array; gates: Float32Array; imp: Float32Array; load: Float32Array } | null = null;
    tf.grad((s: tf.Tensor) => {
      const r = routeTokens(gate, tf.add(x, s) as tf.Tensor2D, opts, () => 0);
      taped = { idx: r.topIdx, gates: r.topGates.dataSync().slice() as Float32Array, imp: r.importance.dataSync().slice() as Float32Array, load: r.load.dataSync().slice() as Float32Array };
      return tf.sum(r.topGates) as tf.Scalar;
    })(tf.scalar(0));
    const t = taped!;
    assert.deepEqual(Array.from(free.topIdx), Array.from(t.idx), gating);
    assertClose(free.topGates.dataSync(), t.gates, 1e-6, `${gating} gates`);
    assertClose(free.importance.dataSync(), t.imp, 1e-5, `${gating} importance`);
    assertClose(free.load.dataSync(), t.load, 0, `${gating} load`);
    // masked tokens: not routed, zero gates
    assert.deepEqual(Array.from(free.topIdx.slice(4, 6)), [-1, -1]);
    assert.deepEqual(Array.from(free.topGates.dataSync().slice(4, 6)), [0, 0]);
  }
});

test('mTAND reuses its reference-point queries only while its weights are unchanged', () => {
  const m = new MTand('inf.mtand', { inputDim: 3, d: 6, gamma: 5, heads: 2, dt: 4, freqInit: 3 }, new Rng(11));
  const input = randomInput(3, 4, 3, 5);
  const first = m.apply(input).z.dataSync().slice();
  assertClose(m.apply(input).z.dataSync(), first, 0, 'second call (cached queries)');
  assertClose(underTape(() => m.apply(input).z), first, 1e-5, 'under a tape (no cache)');
  // an optimizer step or a weight load assigns new data: the queries follow
  setVar(m.q.w, Array.from(m.q.w.dataSync(), (v) => v * -1.5));
  const after = m.apply(input).z.dataSync();
  assertClose(after, underTape(() => m.apply(input).z), 1e-5, 'after a weight change');
  assert.ok(after.some((v, i) => Math.abs(v - first[i]!) > 1e-4), 'the output changed with the weights');
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    m.apply(input);
  });
  assert.equal(tf.memory().numTensors, before, 'the cache holds no tensor');
});

test('whole models: the inference path gives the logits of the stock ops under a tape', () => {
  const data = generateSynthetic({ n: 24, seed: 5, missingness: { demo: 0.3, vitals: 0.3, notes: 0.5, labs: 0.4 } });
  const batch = makeBatch(data.spec, data.samples.slice(0, 10), fitNormalizer(data.spec, data.samples));
  const models: Record<string, Record<string, unknown>> = {
    'fusemoe utde laplace': {
      type: 'fusemoe', d: 16, blocks: 1, heads: 2, dropout: 0,
      encoder: { kind: 'utde', gamma: 4, dt: 8, heads: 2, embeddingGamma: 2 },
      moe: { numExperts: 4, topK: 2, hidden: 16, router: 'per-modality', gating: 'laplace' },
    },
    remind: { type: 'remind', d: 16, blocks: 1, heads: 2, dropout: 0, softMoe: { numExperts: 4, slotsPerExpert: 1, hidden: 16 } },
  };
  for (const [label, model] of Object.entries(models)) {
    const cfg = parseConfig({ data: { type: 'synthetic' }, model }, 'test');
    const m = buildModel(cfg.model, data.spec, 3);
    try {
      const free = tf.tidy(() => m.forward(batch, { training: false }).logits.dataSync().slice());
      assertClose(free, underTape(() => m.forward(batch, { training: false }).logits), 1e-4, label);
    } finally {
      m.dispose();
    }
  }
});

/**
 * Each fast wasm kernel against the cpu backend: forward values and the gradients that use it,
 * on random shapes including edge cases (batch 1, broadcasting, transposes, negative axes,
 * int32 indices, repeated segment ids, non-contiguous slices).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { isFastKernel } from '../../src/engine/fastKernels.js';
import { assertSameOnBackends, matMulCases, naiveMatMul, randint, randn, runOn, setup, valueAndGrads } from './helpers.js';

before(setup);

const T = (d: { values: Float32Array | Int32Array; shape: number[] }, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor =>
  tf.tensor(d.values, d.shape, dtype);

test('fast kernels are registered for wasm', () => {
  for (const k of ['BatchMatMul', 'GatherV2', 'UnsortedSegmentSum', 'Slice', 'StridedSlice', 'SplitV', 'Unpack', 'Concat', 'Pack', 'Conv2DBackpropFilter', 'Identity', 'Exp', 'Erf']) {
    assert.ok(isFastKernel(k), `${k} should be the engine's kernel`);
  }
});

test('BatchMatMul: 2-D with every transpose combination, forward and gradients', async () => {
  let seed = 1;
  for (const [m, k, n] of [[7, 5, 3], [1, 4, 6], [6, 1, 2], [33, 17, 9], [4, 6, 1]] as const) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randn(tA ? [k, m] : [m, k], seed++);
        const b = randn(tB ? [n, k] : [k, n], seed++);
        await assertSameOnBackends(`matMul ${m}x${k}x${n} tA=${tA} tB=${tB}`, () =>
          valueAndGrads((x, y) => tf.matMul(x!, y!, tA, tB), [T(a), T(b)]),
        );
      }
    }
  }
});

test('BatchMatMul: batched, broadcast batch, rank 4, batch 1', async () => {
  const cases: Array<[number[], number[], boolean, boolean, boolean?]> = [
    [[3, 4, 5], [3, 5, 2], false, false],
    [[3, 5, 4], [3, 2, 5], true, true],
    [[1, 4, 5], [1, 5, 2], false, false], // batch 1
    // Broadcast batch dims: the engine's BatchMatMul gradient reduces them (tfjs-core's throws).
    [[1, 4, 5], [6, 5, 2], false, false], // a broadcast over b's batch
    [[6, 4, 5], [1, 2, 5], false, true], // b broadcast: folded into one product
    [[2, 3, 4, 5], [2, 3, 2, 5], false, true], // attention-like q·kᵀ
    [[2, 3, 4, 5], [5, 6], false, false], // [B,T,D]×[D,H] broadcasting (tfjs-core gradient fails; ours reduces)
    [[2, 3, 4, 5], [6, 5], false, true],
    [[3, 4, 5], [3, 5, 2], false, false],
    [[4, 5], [2, 5, 3], false, false],
  ];
  let seed = 100;
  for (const [sa, sb, tA, tB, grad] of cases) {
    const a = randn(sa, seed++);
    const b = randn(sb, seed++);
    await assertSameOnBackends(`batchMatMul ${sa}×${sb} tA=${tA} tB=${tB}`, () =>
      grad === false ? tf.matMul(T(a), T(b), tA, tB) : valueAndGrads((x, y) => tf.matMul(x!, y!, tA, tB), [T(a), T(b)]),
    );
  }
});

test('BatchMatMul: general broadcasting of the batch dims ([2,1]×[3] → [2,3]), forward and gradients', async () => {
  // tfjs's stock cpu and wasm kernels return a wrong result here; the engine's wasm and cpu
  // kernels are checked against plain loops (forward) and against the same product with the
  // operands broadcast explicitly (tf.broadcastTo) on cpu (forward and gradients).
  const cases: Array<[number[], number[]]> = [
    [[2, 1, 4, 5], [3, 5, 2]],
    [[1, 3, 4, 5], [2, 1, 5, 2]],
    [[2, 1, 4, 5], [1, 3, 5, 2]],
  ];
  for (const { a, b, tA, tB, label } of matMulCases(cases, 300)) {
    const loops = naiveMatMul(a, b, tA, tB);
    const outer = loops.shape.slice(0, -2);
    const full = (x: tf.Tensor): tf.Tensor => tf.broadcastTo(x, [...outer, ...x.shape.slice(-2)]);
    const want = await runOn('cpu', () => valueAndGrads((x, y) => tf.matMul(full(x!), full(y!), tA, tB), [T(a), T(b)]));
    for (const backend of ['wasm', 'cpu'] as const) {
      const value = await runOn(backend, () => tf.matMul(T(a), T(b), tA, tB));
      assert.deepEqual(value[0]!.shape, loops.shape, `${backend} ${label}`);
      loops.values.forEach((v, i) => assert.ok(Math.abs(value[0]!.values[i]! - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${backend} ${label}: value ${i}`));
      const got = await runOn(backend, () => valueAndGrads((x, y) => tf.matMul(x!, y!, tA, tB), [T(a), T(b)]));
      assert.deepEqual(got.map((g) => g.shape), [[], a.shape, b.shape], label);
      for (let o = 0; o < 3; o++) {
        want[o]!.values.forEach((v, i) => assert.ok(Math.abs(got[o]!.values[i]! - v) <= 1e-4 * Math.max(1, Math.abs(v)), `${backend} ${label}: output ${o}[${i}] ${got[o]!.values[i]} vs ${v}`));
      }
    }
  }
});

test('GatherV2: axes (incl. negative), repeated int32 indices, batchDims, gradient via UnsortedSegmentSum', async () => {
  const x = randn([5, 4, 3], 7);
  const cases: Array<[number[], number, number, number]> = [
    // [indices shape, axis, dim size, batchDims]
    [[6], 0, 5, 0],
    [[2, 3], 1, 4, 0],
    [[4], -1, 3, 0],
    [[1], 0, 5, 0],
  ];
  let seed = 20;
  for (const [ish, axis, dim] of cases) {
    const idx = randint(ish, dim, seed++);
    idx.values[0] = idx.values[idx.values.length - 1]!; // ensure a repeat
    await assertSameOnBackends(`gather axis ${axis} idx ${ish}`, () =>
      valueAndGrads((t) => tf.gather(t!, T(idx, 'int32'), axis), [T(x)]),
    );
  }
  // batchDims = 1: x [B, N, D], indices [B, K] (stock wasm reads out of bounds here).
  const xb = randn([3, 6, 2], 8);
  const ib = randint([3, 4], 6, 9);
  await assertSameOnBackends('gather batchDims=1', () => tf.gather(T(xb), T(ib, 'int32'), 1, 1));
  // Rows of a [N, D] matrix, the MoE dispatch pattern, with its gradient.
  const rows = randn([50, 8], 10);
  const ridx = randint([200], 50, 11);
  await assertSameOnBackends('gather rows', () => valueAndGrads((t) => tf.gather(t!, T(ridx, 'int32')), [T(rows)]));
});

test('GatherV2: out-of-range index throws', async () => {
  await tf.setBackend('wasm');
  assert.throws(() => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32')).dataSync()), /index value 3/);
});

test('UnsortedSegmentSum: repeated ids, 3-D values, empty segments, int32, gradient', async () => {
  const x = randn([8, 3], 30);
  const ids = new Int32Array([2, 0, 2, 2, 4, 0, 1, 4]);
  await assertSameOnBackends('segment sum', () =>
    valueAndGrads((t) => tf.unsortedSegmentSum(t!, tf.tensor1d(ids, 'int32'), 6), [T(x)]),
  );
  const x2 = randn([7, 4, 5], 31);
  const ids2 = randint([7], 3, 32);
  await assertSameOnBackends('segment sum 3-D x', () => tf.unsortedSegmentSum(T(x2), T(ids2, 'int32') as tf.Tensor1D, 3));
  // Hand-computed: rows 0 and 2 into segment 1, row 1 into segment 0; segment 2 stays zero.
  await tf.setBackend('wasm');
  const got = tf.tidy(() =>
    tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), tf.tensor1d([1, 0, 1], 'int32'), 3).arraySync(),
  );
  assert.deepEqual(got, [[3, 4], [6, 8], [0, 0]]);
  const gi = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([0, 0, 1], 'int32'), 2).arraySync());
  assert.deepEqual(gi, [3, 3]);
});

test('Slice / StridedSlice: contiguous and non-contiguous regions, ranks 1-5, gradients', async () => {
  const cases: Array<[number[], number[], number[]]> = [
    [[10], [3], [4]],
    [[6, 5], [2, 0], [3, 5]], // contiguous rows
    [[6, 5], [1, 2], [4, 2]], // non-contiguous
    [[4, 3, 5], [1, 0, 1], [2, 3, 3]],
    [[4, 3, 5], [0, 1, 0], [4, 1, 5]], // middle axis
    [[2, 3, 4, 5], [1, 1, 1, 1], [1, 2, 2, 3]],
    [[2, 2, 3, 2, 3], [0, 1, 1, 0, 1], [2, 1, 2, 2, 2]],
    [[3, 4], [0, 0], [0, 4]], // empty
  ];
  let seed = 40;
  for (const [shape, begin, size] of cases) {
    const x = randn(shape, seed++);
    await assertSameOnBackends(`slice ${shape} @${begin} size ${size}`, () =>
      valueAndGrads((t) => tf.slice(t!, begin, size), [T(x)]),
    );
  }
  const x = randn([5, 6, 4], 50);
  await assertSameOnBackends('stridedSlice simple', () => tf.stridedSlice(T(x), [1, 0, 0], [3, 6, 4], [1, 1, 1]));
  await assertSameOnBackends('stridedSlice shrink', () => tf.stridedSlice(T(x), [2, 0, 0], [3, 6, 4], [1, 1, 1], 0, 0, 0, 0, 1));
  await assertSameOnBackends('stridedSlice strided (stock path)', () => tf.stridedSlice(T(x), [0, 1, 0], [5, 6, 4], [2, 2, 1]));
  const xi = randint([4, 6], 100, 51);
  await assertSameOnBackends('slice int32', () => tf.slice(T(xi, 'int32'), [1, 2], [2, 3]));
});

test('SplitV / Unpack / Concat / Pack: axes incl. negative, gradients', async () => {
  const x = randn([4, 6, 3], 60);
  await assertSameOnBackends('split sizes axis 1', () => valueAndGrads((t) => tf.concat(tf.split(t!, [1, 3, 2], 1).map((p, i) => tf.mul(p, i + 1)), 1), [T(x)]));
  await assertSameOnBackends('split count axis -1', () => tf.split(T(x), 3, -1));
  await assertSameOnBackends('unstack axis 0', () => valueAndGrads((t) => tf.stack(tf.unstack(t!, 0).map((p, i) => tf.mul(p, i + 1)), 0), [T(x)]));
  await assertSameOnBackends('unstack axis 1', () => tf.unstack(T(x), 1));
  await assertSameOnBackends('unstack axis -1', () => tf.unstack(T(x), -1));
  const a = randn([2, 3, 4], 61);
  const b = randn([2, 1, 4], 62);
  const c = randn([2, 5, 4], 63);
  await assertSameOnBackends('concat axis 1', () => valueAndGrads((p, q, r) => tf.concat([p!, q!, r!], 1), [T(a), T(b), T(c)]));
  const d = randn([2, 3, 2], 64);
  await assertSameOnBackends('concat axis -1', () => valueAndGrads((p, q) => tf.concat([p!, q!], -1), [T(a).slice([0, 0, 0], [2, 3, 2]), T(d)]));
  await assertSameOnBackends('concat axis 0', () => tf.concat([T(a), T(a)], 0));
  await assertSameOnBackends('stack axis 1', () => valueAndGrads((p, q) => tf.stack([p!, q!], 1), [T(a), T(a)]));
  await assertSameOnBackends('stack axis -1', () => tf.stack([T(a), T(a), T(a)], -1));
  const ai = randint([3, 2], 10, 65);
  await assertSameOnBackends('concat int32', () => tf.concat([T(ai, 'int32'), T(ai, 'int32')], 1));
});

test('Conv2DBackpropFilter: conv1d and conv2d gradients (missing on stock wasm)', async () => {
  const x1 = randn([2, 9, 3], 70);
  const f1 = randn([3, 3, 4], 71);
  for (const [stride, pad] of [[1, 'same'], [2, 'valid'], [1, 'valid']] as const) {
    await assertSameOnBackends(`conv1d stride ${stride} ${pad}`, () =>
      valueAndGrads((x, f) => tf.conv1d(x as tf.Tensor3D, f as tf.Tensor3D, stride, pad), [T(x1), T(f1)]),
    );
  }
  const x2 = randn([2, 5, 6, 3], 72);
  const f2 = randn([2, 3, 3, 4], 73);
  await assertSameOnBackends('conv2d same stride 2', () =>
    valueAndGrads((x, f) => tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, 'same'), [T(x2), T(f2)]),
  );
});

test('Identity shares data safely: clone outlives its source', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor1d([1, 2, 3]);
  const y = x.clone();
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  y.dispose();
});

test('transformer-style step (softmax, layerNorm via moments, masked attention, GELU) matches cpu', async () => {
  const B = 2, Tn = 5, D = 8, H = 2, dh = D / H;
  const x = randn([B, Tn, D], 80);
  const wq = randn([D, D], 81), wk = randn([D, D], 82), wv = randn([D, D], 83), w1 = randn([D, 16], 84);
  const mask = new Float32Array(B * Tn * Tn);
  for (let b = 0; b < B; b++) for (let i = 0; i < Tn; i++) for (let j = 0; j < Tn; j++) mask[(b * Tn + i) * Tn + j] = j <= i ? 0 : -1e9;
  const f = (xx: tf.Tensor, q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, w: tf.Tensor): tf.Tensor => {
    const { mean, variance } = tf.moments(xx, -1, true);
    const xn = tf.div(tf.sub(xx, mean), tf.sqrt(tf.add(variance, 1e-5))); // [B, T, D]
    const x2 = xn.reshape([B * Tn, D]);
    const heads = (w2: tf.Tensor): tf.Tensor => tf.matMul(x2, w2).reshape([B, Tn, H, dh]).transpose([0, 2, 1, 3]); // [B, H, T, dh]
    const qh = heads(q), kh = heads(k), vh = heads(v);
    const scores = tf.add(tf.div(tf.matMul(qh, kh, false, true), Math.sqrt(dh)), tf.tensor(mask, [B, 1, Tn, Tn]));
    const att = tf.matMul(tf.softmax(scores), vh).transpose([0, 2, 1, 3]).reshape([B * Tn, D]);
    const h = tf.matMul(att, w);
    const geluErf = tf.mul(tf.mul(h, 0.5), tf.add(1, tf.erf(tf.mul(h, Math.SQRT1_2))));
    const geluSig = tf.mul(h, tf.sigmoid(tf.mul(h, 1.702)));
    return tf.add(geluErf, geluSig);
  };
  await assertSameOnBackends('attention block', () =>
    valueAndGrads((a, b, c, d, e) => f(a!, b!, c!, d!, e!), [T(x), T(wq), T(wk), T(wv), T(w1)]),
    2e-4,
  );
});

test('Exp: σ(x)/σ(−x) path matches cpu (relative), large inputs fall back to stock, gradient', async () => {
  const x = randn([3, 40], 90);
  for (let i = 0; i < x.values.length; i++) x.values[i] = x.values[i]! * 8;
  const want = await (async () => { await tf.setBackend('cpu'); return tf.tidy(() => Array.from(tf.exp(T(x)).dataSync())); })();
  await tf.setBackend('wasm');
  const got = tf.tidy(() => Array.from(tf.exp(T(x)).dataSync()));
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-6 * Math.abs(want[i]!), `exp(${x.values[i]}): ${got[i]} vs ${want[i]}`);
  }
  await assertSameOnBackends('exp with |x| > 80 (stock path)', () => tf.exp(tf.tensor1d([-100, -85, 0, 1, 85])), 1e-6);
  await assertSameOnBackends('exp gradient', () => valueAndGrads((t) => tf.exp(t!), [T(randn([5, 7], 91))]), 1e-5);
  await assertSameOnBackends('exp int32 input', () => tf.exp(tf.tensor1d([0, 1, 2], 'int32')), 1e-6);
});

test('Erf: matches cpu within 3e-7 absolute on [-6, 6], NaN and ±Inf, gradient', async () => {
  const n = 2401;
  const xs = new Float32Array(n + 3);
  for (let i = 0; i < n; i++) xs[i] = -6 + (12 * i) / (n - 1);
  xs[n] = NaN;
  xs[n + 1] = Infinity;
  xs[n + 2] = -Infinity;
  await tf.setBackend('cpu');
  const want = tf.tidy(() => Array.from(tf.erf(tf.tensor1d(xs)).dataSync()));
  await tf.setBackend('wasm');
  const got = tf.tidy(() => Array.from(tf.erf(tf.tensor1d(xs)).dataSync()));
  for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= 3e-7, `erf(${xs[i]}): ${got[i]} vs ${want[i]}`);
  assert.ok(Number.isNaN(got[n]!));
  assert.deepEqual([got[n + 1], got[n + 2]], [1, -1]);
  // Hand values: erf(0.5) = 0.5204998778, erf(1) = 0.8427007929.
  const hv = tf.tidy(() => Array.from(tf.erf(tf.tensor1d([0, 0.5, 1, -1])).dataSync()));
  [0, 0.5204998778, 0.8427007929, -0.8427007929].forEach((v, i) => assert.ok(Math.abs(hv[i]! - v) < 2e-7));
  await assertSameOnBackends('erf gradient', () => valueAndGrads((t) => tf.erf(t!), [T(randn([4, 9], 92))]), 1e-5);
});

/**
 * Independent checks of src/moe/experts.ts and src/moe/row-ops.ts: config refusals, the Glorot
 * init draw sequence, the expert FFN and the top-K combine against naive loops, the dispatch plan
 * against a hand-worked example, and the row gather / scatter-add edge cases.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { FlexiModalError } from '../../src/errors.js';
import { ExpertPool, dispatchPlan } from '../../src/moe/experts.js';
import { gatherRows, scatterAddRows } from '../../src/moe/row-ops.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

let uid = 0;
const pool = (dim: number, hidden: number, numExperts: number, seed = 1) =>
  new ExpertPool(`chk.pool${uid++}`, { dim, hidden, numExperts }, new Rng(seed));

/** Naive expert FFN on one row (module doc: d → h → d, GELU ≈ z·σ(1.702 z)). */
function naiveExpert(x: number[], w1: number[][], b1: number[], w2: number[][], b2: number[]): number[] {
  const h = b1.map((b, j) => {
    let z = b;
    for (let i = 0; i < x.length; i++) z += x[i]! * w1[i]![j]!;
    return z / (1 + Math.exp(-1.702 * z));
  });
  return b2.map((b, c) => {
    let y = b;
    for (let j = 0; j < h.length; j++) y += h[j]! * w2[j]![c]!;
    return y;
  });
}

/** Parameters of expert e as nested arrays, after giving the biases non-zero values. */
function expertArrays(p: ExpertPool, e: number) {
  const [w1, b1, w2, b2] = p.variables().slice(4 * e, 4 * e + 4) as tf.Variable[];
  b1!.assign(tf.tensor1d(Array.from({ length: b1!.shape[0]! }, (_, j) => 0.1 * (j + 1) - 0.2 * e)));
  b2!.assign(tf.tensor1d(Array.from({ length: b2!.shape[0]! }, (_, c) => 0.05 * (c - 1) + 0.3 * e)));
  return {
    w1: w1!.arraySync() as number[][],
    b1: b1!.arraySync() as number[],
    w2: w2!.arraySync() as number[][],
    b2: b2!.arraySync() as number[],
  };
}

const assertClose = (got: number[][], want: number[][], tol: number, what: string) => {
  assert.equal(got.length, want.length, `${what}: rows`);
  got.forEach((row, n) =>
    row.forEach((v, c) => assert.ok(Math.abs(v - want[n]![c]!) <= tol, `${what}[${n}][${c}]: ${v} vs ${want[n]![c]}`)),
  );
};

test('ExpertPool refuses non-positive or non-integer sizes, naming the key, where and how to fix', () => {
  for (const key of ['dim', 'hidden', 'numExperts'] as const) {
    for (const bad of [0, -1, 2.5, NaN]) {
      const cfg = { dim: 2, hidden: 3, numExperts: 2, [key]: bad };
      assert.throws(
        () => new ExpertPool('cfgchk', cfg, new Rng(0)),
        (e: unknown) => {
          assert.ok(e instanceof FlexiModalError, `${key}=${bad}: ${String(e)}`);
          assert.equal(e.where, `config key cfgchk.${key}`);
          assert.equal(e.hint, `set ${key} ≥ 1`);
          assert.match(e.message, new RegExp(`${key} = ${bad} must be a positive integer`));
          return true;
        },
        `${key} = ${bad}`,
      );
    }
  }
  assert.equal(pool(1, 1, 1).variables().length, 4, 'sizes of 1 are valid');
});

test('Glorot init: w1, w2 of each expert are consecutive N(0,1) draws × √(2/(rows+cols)); biases 0', () => {
  const [d, h, S, seed] = [3, 5, 2, 11];
  const p = pool(d, h, S, seed);
  const rng = new Rng(seed); // the same draws, in construction order: e0.w1, e0.w2, e1.w1, e1.w2
  const std = Math.sqrt(2 / (d + h));
  const vars = p.variables();
  for (let e = 0; e < S; e++) {
    for (const [k, rows, cols] of [[0, d, h], [2, h, d]] as const) {
      const got = vars[4 * e + k]!.dataSync();
      assert.equal(got.length, rows * cols);
      for (let i = 0; i < rows * cols; i++) {
        const want = rng.normal() * std;
        assert.ok(Math.abs(got[i]! - want) <= 1e-6 * (1 + Math.abs(want)), `expert ${e} var ${k} [${i}]: ${got[i]} vs ${want}`);
      }
    }
    assert.ok(vars[4 * e + 1]!.dataSync().every((v) => v === 0) && vars[4 * e + 3]!.dataSync().every((v) => v === 0));
  }
});

test('expert(i, x) equals the naive FFN gelu(x W1 + b1) W2 + b2 row by row', () => {
  const p = pool(3, 4, 2, 5);
  const x = [[0.5, -1, 2], [0, 0.3, -0.7]];
  for (let e = 0; e < 2; e++) {
    const a = expertArrays(p, e);
    const got = p.expert(e, tf.tensor2d(x)).arraySync();
    assertClose(got, x.map((r) => naiveExpert(r, a.w1, a.b1, a.w2, a.b2)), 1e-5, `expert ${e}`);
  }
});

test('sparse and dense combine equal the naive Σ_k g[n,k]·E_{idx[n,k]}(x[n]); −1 slots are skipped', () => {
  const [d, h, S, K] = [2, 3, 3, 2];
  const p = pool(d, h, S, 9);
  const A = [0, 1, 2].map((e) => expertArrays(p, e));
  const x = [[1, -0.5], [0.2, 0.8], [-1.5, 0.4], [0.6, 0.6]];
  // token 0's first slot is −1 with a non-zero gate: it must contribute nothing (doc: −1 = skip);
  // token 2 is routed twice to expert 2; token 3 is not routed at all
  const topIdx = new Int32Array([-1, 1, 2, 0, 2, 2, -1, -1]);
  const gates = [[0.9, 0.4], [0.7, 0.3], [0.25, 0.5], [0.8, 0.2]];
  const want = x.map((row, n) => {
    const y = new Array(d).fill(0);
    for (let k = 0; k < K; k++) {
      const e = topIdx[n * K + k]!;
      if (e < 0) continue;
      const ye = naiveExpert(row, A[e]!.w1, A[e]!.b1, A[e]!.w2, A[e]!.b2);
      for (let c = 0; c < d; c++) y[c] += gates[n]![k]! * ye[c]!;
    }
    return y;
  });
  assertClose(p.sparse(tf.tensor2d(x), topIdx, tf.tensor2d(gates)).arraySync(), want, 1e-5, 'sparse');
  assertClose(p.dense(tf.tensor2d(x), topIdx, tf.tensor2d(gates)).arraySync(), want, 1e-5, 'dense');
  assert.deepEqual(want[3], [0, 0]);
});

test('no routed pair at all: sparse and dense return exact zeros of shape [N, d]', () => {
  const p = pool(3, 2, 2, 4);
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const topIdx = new Int32Array([-1, -1, -1, -1]);
  const gates = tf.tensor2d([[0.5, 0.5], [1, 0]]);
  const ys = p.sparse(x, topIdx, gates);
  assert.deepEqual(ys.shape, [2, 3]);
  assert.deepEqual(ys.arraySync(), [[0, 0, 0], [0, 0, 0]]);
  const yd = p.dense(x, topIdx, gates); // E_e(x)·0: zeros, possibly signed
  assert.deepEqual(yd.shape, [2, 3]);
  assert.ok(Array.from(yd.dataSync()).every((v) => v === 0), `${yd.dataSync()}`);
});

test('dispatchPlan: a hand-worked counting sort (grouped by expert, stable within an expert)', () => {
  // topIdx [N=3, K=2]: t0 → (1, 0), t1 → (2, 1), t2 → (−1, 1)
  const plan = dispatchPlan(new Int32Array([1, 0, 2, 1, -1, 1]), 2, 3);
  assert.deepEqual(Array.from(plan.counts), [1, 3, 1]);
  assert.deepEqual(Array.from(plan.pair), [1, 0, 3, 5, 2]);
  assert.deepEqual(Array.from(plan.token), [0, 0, 1, 2, 1]);
  const none = dispatchPlan(new Int32Array([-1, -1]), 1, 2);
  assert.deepEqual([none.token.length, Array.from(none.counts)], [0, [0, 0]]);
});

test('dispatchPlan refuses an expert id ≥ S, naming the id and S', () => {
  assert.throws(() => dispatchPlan(new Int32Array([0, 3]), 1, 3), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match(e.message, /dispatchPlan: expert id 3 ≥ 3/);
    return true;
  });
  assert.throws(() => dispatchPlan(new Int32Array([7]), 1, 3), /expert id 7 ≥ 3/);
});

test('scatterAddRows refuses an index outside [0, numRows), naming the index, its position and the range', () => {
  const v = tf.tensor2d([[1, 2], [3, 4]]);
  assert.throws(() => scatterAddRows(v, new Int32Array([0, 4]), 4), (e: unknown) => {
    assert.ok(e instanceof RangeError, String(e));
    assert.match(e.message, /row-ops: index 4 at 1 outside \[0, 4\)/);
    return true;
  });
  assert.throws(() => scatterAddRows(v, new Int32Array([5, 0]), 4), (e: unknown) => e instanceof RangeError && /index 5 at 0/.test(e.message));
  assert.throws(() => scatterAddRows(v, new Int32Array([1, -1]), 4), (e: unknown) => e instanceof RangeError && /index -1 at 1 outside \[0, 4\)/.test(e.message));
});

test('scatterAddRows refuses an index list whose length differs from the row count', () => {
  const v = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  for (const idx of [new Int32Array([0, 1]), new Int32Array([0, 1, 1, 0])]) {
    assert.throws(() => scatterAddRows(v, idx, 2), (e: unknown) => {
      assert.ok(e instanceof RangeError, String(e));
      assert.match(e.message, new RegExp(`scatterAddRows: ${idx.length} indices for 3 rows`));
      return true;
    });
  }
});

test('scatterAddRows of zero rows gives exact zeros [numRows, width]', () => {
  const y = scatterAddRows(tf.zeros([0, 2]) as tf.Tensor2D, new Int32Array(0), 3);
  assert.deepEqual(y.shape, [3, 2]);
  assert.deepEqual(y.arraySync(), [[0, 0], [0, 0], [0, 0]]);
});

test('scatterAddRows with distinct targets is a pure row copy, bit for bit (−0 kept, no added zero rows)', () => {
  const v = tf.tensor2d([[-0, 1.5], [2, -0]]);
  const y = scatterAddRows(v, new Int32Array([2, 0]), 3).arraySync();
  assert.ok(Object.is(y[2]![0], -0) && y[2]![1] === 1.5, `row 2 = ${y[2]}`);
  assert.ok(y[0]![0] === 2 && Object.is(y[0]![1], -0), `row 0 = ${y[0]}`);
  assert.deepEqual(y[1], [0, 0]);
});

test('gatherRows gradient: the scatter-add of dy (naive accumulation), twice in a row', () => {
  const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const idx = new Int32Array([2, 0, 2, 2]);
  const dyArr = [[1, 10], [2, 20], [3, 30], [4, 40]];
  const want = [[0, 0], [0, 0], [0, 0]];
  idx.forEach((r, j) => want[r]!.forEach((_, c) => (want[r]![c]! += dyArr[j]![c]!)));
  const f = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gatherRows(a as tf.Tensor2D, idx), tf.tensor2d(dyArr))));
  assert.deepEqual(f(x).arraySync(), want); // [[2,20],[0,0],[8,80]]
  assert.deepEqual(f(x).arraySync(), want);
});

test('sparse computes each expert once, only on its routed rows; an expert with no rows is not run', () => {
  const p = pool(2, 3, 4, 3);
  const calls: Array<[number, number[][]]> = [];
  const orig = p.expert.bind(p);
  p.expert = (i: number, rows: tf.Tensor2D) => {
    calls.push([i, rows.arraySync()]);
    return orig(i, rows);
  };
  const x = [[1, 2], [3, 4], [5, 6]];
  // K = 2: t0 → (3, 1), t1 → (3, −1), t2 → (1, 3); expert 0 and 2 get nothing
  p.sparse(tf.tensor2d(x), new Int32Array([3, 1, 3, -1, 1, 3]), tf.tensor2d([[0.5, 0.5], [1, 0], [0.5, 0.5]]));
  assert.deepEqual(calls, [
    [1, [x[0], x[2]]],
    [3, [x[0], x[1], x[2]]],
  ]);
  calls.length = 0;
  p.sparse(tf.tensor2d(x), new Int32Array([-1, 2, -1, -1, 2, -1]), tf.tensor2d([[0, 1], [0, 0], [1, 0]]));
  assert.deepEqual(calls, [[2, [x[0], x[2]]]], 'a single routed expert');
});

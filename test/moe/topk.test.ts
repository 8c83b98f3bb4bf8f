/**
 * topKRows (src/moe/topk.ts) against a naive sort on random rows with ties, every K from 1 to S,
 * and masked rows — written against the mutants Stryker left alive there (docs/CONTRIBUTING.md,
 * "Mutation testing").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { topKRows } from '../../src/moe/topk.js';

/** Indices of a row sorted by value, descending; ties to the lower index. */
function naiveOrder(row: number[]): number[] {
  return row.map((v, s) => [v, s] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, s]) => s);
}

test('topKRows equals a naive stable sort for every K (ties to the lower expert id)', () => {
  const rng = new Rng(7);
  const N = 60;
  const S = 7;
  // values on a coarse grid so that rows have ties; some rows strictly increasing or decreasing
  const logits = new Float32Array(N * S);
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      logits[n * S + s] = n % 10 === 0 ? s : n % 10 === 1 ? -s : Math.round(rng.normal() * 2) / 2;
    }
  }
  for (let K = 1; K <= S; K++) {
    const r = topKRows(logits, N, S, K);
    for (let n = 0; n < N; n++) {
      const row = Array.from(logits.subarray(n * S, (n + 1) * S));
      const order = naiveOrder(row);
      assert.deepEqual(Array.from(r.topIdx.subarray(n * K, (n + 1) * K)), order.slice(0, K), `row ${n}, K ${K}`);
      assert.equal(r.kthValue[n], row[order[K - 1]!]);
      if (K < S) {
        assert.equal(r.nextIdx[n], order[K]);
        assert.equal(r.nextValue[n], row[order[K]!]);
      } else {
        assert.equal(r.nextIdx[n], -1, 'no K+1-th expert');
        assert.equal(r.nextValue[n], -Infinity);
      }
    }
  }
});

test('topKRows: a masked token is not routed (ids −1, values −∞)', () => {
  const logits = new Float32Array([1, 3, 2, 5, 4, 6]);
  const r = topKRows(logits, 2, 3, 2, new Float32Array([0, 1]));
  assert.deepEqual(Array.from(r.topIdx), [-1, -1, 2, 0]); // row 1 = (5, 4, 6)
  assert.deepEqual([r.kthValue[0], r.nextValue[0], r.nextIdx[0]], [-Infinity, -Infinity, -1]);
  assert.deepEqual([r.kthValue[1], r.nextValue[1], r.nextIdx[1]], [5, 4, 1]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ExpertUsageAccumulator,
  expertModalityUsage,
  membershipFromLabels,
  usageShares,
} from '../../src/moe/usage-stats.js';

test('expert × modality usage: gate-weighted counts by hand', () => {
  // 3 tokens, K = 2, 3 experts, 2 modalities; token 2 is padding (−1)
  const topIdx = new Int32Array([0, 2, 2, 1, -1, -1]);
  const gates = new Float32Array([0.75, 0.25, 0.5, 0.5, 0, 0]);
  const membership = membershipFromLabels(new Int32Array([0, 1, 1]), 2);
  const u = expertModalityUsage(topIdx, gates, membership, 3, 2);
  // expert 0: 0.75 from modality 0; expert 1: 0.5 from modality 1; expert 2: 0.25 (m0) + 0.5 (m1)
  assert.deepEqual(Array.from(u), [0.75, 0, 0, 0.5, 0.25, 0.5]);
  const shares = usageShares(u, 3, 2);
  assert.deepEqual(shares[0], [1, 0]);
  assert.ok(Math.abs(shares[2]![0]! - 1 / 3) < 1e-12 && Math.abs(shares[2]![1]! - 2 / 3) < 1e-12);
  // multi-hot membership (joint tokens): a token counts for every modality it contains
  const multi = new Float32Array([1, 1, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(expertModalityUsage(topIdx, gates, multi, 3, 2)), [0.75, 0.75, 0, 0.5, 0.25, 0.75]);
});

test('accumulator sums over batches and resets', () => {
  const acc = new ExpertUsageAccumulator(2, 2);
  const m = membershipFromLabels(new Int32Array([0, 1]), 2);
  acc.add(new Int32Array([0, 1]), new Float32Array([1, 1]), m);
  acc.add(new Int32Array([0, 0]), new Float32Array([1, 1]), m);
  assert.deepEqual(Array.from(acc.totals()), [2, 1, 0, 1]);
  assert.deepEqual(acc.shares(), [[2 / 3, 1 / 3], [0, 1]]);
  acc.reset();
  assert.deepEqual(acc.shares(), [[0, 0], [0, 0]]);
});

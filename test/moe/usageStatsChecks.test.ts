// Mutation checks for src/moe/usage-stats.ts: shape errors (what, where, how to fix), expert-id
// range, one-hot membership with label −1, and totals() returning a copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import { ExpertUsageAccumulator, expertModalityUsage, membershipFromLabels } from '../../src/moe/usage-stats.js';

function throwsFm(fn: () => unknown, re: RegExp, hint: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FlexiModalError, `not a FlexiModalError: ${String(e)}`);
    assert.match(e.message, re);
    assert.equal(e.where, 'moe/usage-stats expertModalityUsage');
    assert.match(e.hint ?? '', hint);
    return true;
  });
}

test('topIdx and topGates of different lengths: error names both lengths and the fix', () => {
  throwsFm(
    () => expertModalityUsage(new Int32Array([0, 1]), new Float32Array([1]), new Float32Array([1, 0]), 2, 2),
    /topIdx has 2 entries but topGates 1/,
    /\[N, K\] ids and the matching \[N, K\] gates/,
  );
});

test('membership not N·M, or N not dividing the assignments: error with the lengths and the fix', () => {
  // 3 weights for M = 2: N = 1.5 is not an integer
  throwsFm(
    () => expertModalityUsage(new Int32Array([0, 1]), new Float32Array([1, 1]), new Float32Array([1, 0, 1]), 2, 2),
    /membership length 3 is not N·M for 2 assignments/,
    /one row of M weights per token/,
  );
  // N = 2 tokens but 3 assignments (3 % 2 ≠ 0)
  throwsFm(
    () => expertModalityUsage(new Int32Array([0, 1, 0]), new Float32Array([1, 1, 1]), new Float32Array([1, 0, 0, 1]), 2, 2),
    /membership length 4 is not N·M for 3 assignments/,
    /one row of M weights per token/,
  );
  // N = 2 tokens, 4 assignments: K = 2, accepted; by hand usage[0] = [1·1, 0], usage[1] = [0.5, 0.25]
  const u = expertModalityUsage(new Int32Array([0, 1, 1, -1]), new Float32Array([1, 0.5, 0.25, 9]), new Float32Array([1, 0, 0, 1]), 2, 2);
  assert.deepEqual([...u], [1, 0, 0.5, 0.25]);
});

test('an expert id ≥ numExperts is a RangeError naming the id; numExperts − 1 is fine', () => {
  const m = new Float32Array([1, 0]);
  assert.throws(() => expertModalityUsage(new Int32Array([3]), new Float32Array([1]), m, 3, 2), (e: unknown) => {
    assert.ok(e instanceof RangeError);
    assert.match((e as Error).message, /expert id 3 ≥ 3/);
    return true;
  });
  assert.throws(() => expertModalityUsage(new Int32Array([4]), new Float32Array([1]), m, 3, 2), /expert id 4 ≥ 3/);
  assert.deepEqual([...expertModalityUsage(new Int32Array([2]), new Float32Array([0.5]), m, 3, 2)], [0, 0, 0, 0, 0.5, 0]);
});

test('membershipFromLabels: label −1 leaves its row (and the row before) zero', () => {
  // by hand: token 0 → modality 0, token 1 → none, token 2 → modality 1
  assert.deepEqual([...membershipFromLabels(new Int32Array([0, -1, 1]), 2)], [1, 0, 0, 0, 0, 1]);
  assert.deepEqual([...membershipFromLabels(new Int32Array([1, -1]), 3)], [0, 1, 0, 0, 0, 0]);
});

test('totals() is a copy: writing to it does not change the accumulator', () => {
  const acc = new ExpertUsageAccumulator(1, 2);
  acc.add(new Int32Array([0]), new Float32Array([2]), new Float32Array([1, 0]));
  const t = acc.totals();
  t[0] = 99;
  t[1] = 7;
  assert.deepEqual([...acc.totals()], [2, 0]);
  assert.deepEqual(acc.shares(), [[1, 0]]);
});

test('an empty batch (N = 0 tokens, no assignments) gives all-zero usage; N = 0 with assignments is refused', () => {
  const u = expertModalityUsage(new Int32Array(0), new Float32Array(0), new Float32Array(0), 2, 3);
  assert.deepEqual([...u], [0, 0, 0, 0, 0, 0]);
  const acc = new ExpertUsageAccumulator(2, 3);
  acc.add(new Int32Array(0), new Float32Array(0), new Float32Array(0));
  assert.deepEqual([...acc.totals()], [0, 0, 0, 0, 0, 0]);
  throwsFm(
    () => expertModalityUsage(new Int32Array([0]), new Float32Array([1]), new Float32Array(0), 2, 3),
    /membership length 0 is not N·M for 1 assignments/,
    /one row of M weights per token/,
  );
});

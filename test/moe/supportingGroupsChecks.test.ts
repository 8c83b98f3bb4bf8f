// Mutation checks for src/moe/supportingGroups.ts: argument validation, the (mc, T) cache key,
// the counters' reset, and drawMembers' rng consumption (expected values by hand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlexiModalError } from '../../src/errors.js';
import { Rng } from '../../src/engine/rng.js';
import { SupportingGroupIndex, drawMembers } from '../../src/moe/supportingGroups.js';

/** Asserts fn throws a FlexiModalError whose message matches re and whose `where` is `where`. */
function throwsFm(fn: () => unknown, re: RegExp, where: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FlexiModalError, `not a FlexiModalError: ${String(e)}`);
    assert.match(e.message, re);
    assert.equal(e.where, where);
    return true;
  });
}

test('numModalities must be an integer in [1, 30]: 1 and 30 accepted, 0, 31, 2.5 refused with the range', () => {
  assert.equal(new SupportingGroupIndex([0, 1], 1).numModalities, 1);
  assert.equal(new SupportingGroupIndex([0, 2 ** 30 - 1], 30).size, 2);
  for (const bad of [0, 31, 2.5, -1]) {
    throwsFm(() => new SupportingGroupIndex([0], bad), new RegExp(`numModalities = ${bad} must be an integer in \\[1, 30\\]`), 'SupportingGroupIndex');
  }
});

test('group ids must lie in [0, 2^M): 0 accepted, −1 refused with the sample and the range', () => {
  const ix = new SupportingGroupIndex([0, 0b11], 2);
  assert.equal(ix.groupOf(0), 0);
  assert.equal(ix.groupOf(1), 0b11);
  throwsFm(() => new SupportingGroupIndex([0b01, -1], 2), /pool sample 1 has group id -1, outside \[0, 4\)/, 'SupportingGroupIndex');
  throwsFm(() => new SupportingGroupIndex([0b100], 2), /pool sample 0 has group id 4, outside \[0, 4\)/, 'SupportingGroupIndex');
});

test('target modality must be an integer in [0, M): −1 and 1.5 refused', () => {
  const ix = new SupportingGroupIndex([0b011, 0b101], 3);
  throwsFm(() => ix.peek(0, -1), /target modality -1 outside \[0, 3\)/, 'SupportingGroupIndex.lookup');
  throwsFm(() => ix.lookup(0, 1.5), /target modality 1.5 outside \[0, 3\)/, 'SupportingGroupIndex.lookup');
  throwsFm(() => ix.lookup(0, 3), /target modality 3 outside/, 'SupportingGroupIndex.lookup');
  assert.deepEqual(ix.counts, { exact: 0, 'observes-target': 0, empty: 0 });
});

test('cache key separates (mc, T) pairs: (∅, 1) and ({2}, 0) give their own groups; a repeat is the cached object', () => {
  // M = 4; pool: 0: {0,1}  1: {0,2}  2: {0}  3: {1,2}  4: {0,1,2}
  const ix = new SupportingGroupIndex([0b0011, 0b0101, 0b0001, 0b0110, 0b0111], 4);
  // G(1 | ∅) = samples with modality 1: 0, 3, 4 (by hand)
  assert.deepEqual([...ix.lookup(0b0000, 1).members], [0, 3, 4]);
  // G(0 | {2}) = samples containing {0,2}: 1, 4 (a key mc/M + T would collide with (∅, 1))
  assert.deepEqual([...ix.lookup(0b0100, 0).members], [1, 4]);
  // G(2 | {0}) = containing {0,2}: 1, 4; G(0 | {2}) again
  assert.deepEqual([...ix.lookup(0b0001, 2).members], [1, 4]);
  // cached per (mc, T): the same lookup object comes back
  assert.equal(ix.peek(0b0100, 0), ix.peek(0b0100, 0));
  assert.equal(ix.peek(0b0000, 1), ix.lookup(0b0000, 1));
});

test('resetCounts zeroes every kind; counting resumes from zero', () => {
  const ix = new SupportingGroupIndex([0b01], 2);
  ix.lookup(0, 0); // exact
  ix.lookup(0b10, 0); // needs {0,1}: none → observes-target
  ix.lookup(0, 1); // nobody has 1 → empty
  assert.deepEqual(ix.counts, { exact: 1, 'observes-target': 1, empty: 1 });
  ix.resetCounts();
  assert.deepEqual(ix.counts, { exact: 0, 'observes-target': 0, empty: 0 });
  ix.lookup(0, 1);
  assert.deepEqual(ix.counts, { exact: 0, 'observes-target': 0, empty: 1 });
});

test('drawMembers: n ≤ 0 draws nothing and leaves the rng untouched; n draws consume exactly n rng draws', () => {
  const members = Int32Array.from([3, 5, 8, 13]);
  const r = new Rng(5);
  assert.equal(drawMembers(members, -2, r).length, 0);
  assert.equal(drawMembers(members, 0, r).length, 0);
  assert.equal(r.next(), new Rng(5).next());
  // naive partial Fisher–Yates with an independent rng of the same seed (k = |members|: full shuffle)
  for (const n of [2, 4, 9]) {
    const a = new Rng(17);
    const got = drawMembers(members, n, a);
    const b = new Rng(17);
    const arr = [...members];
    const k = Math.min(n, arr.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(b.next() * (arr.length - i));
      [arr[i], arr[j]] = [arr[j]!, arr[i]!];
    }
    assert.deepEqual([...got], arr.slice(0, k));
    // the rng stream continues where k draws left it
    assert.equal(a.next(), b.next(), `rng state after drawing ${n}`);
  }
});

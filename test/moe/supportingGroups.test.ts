import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.js';
import { SupportingGroupIndex, drawMembers, popcount } from '../../src/moe/supportingGroups.js';
import { planRetrieval } from '../../src/models/retriever/retrievalPlan.js';

// Hand-made pool over M = 4 modalities (bit m = modality m); modality 3 is never observed.
//   0: {0,1}   1: {0,2}   2: {0}   3: {1,2}   4: {0,1,2}
const pool = [0b0011, 0b0101, 0b0001, 0b0110, 0b0111];

test('supporting groups (eq. 2): pool samples whose set contains mc ∪ {T}', () => {
  const ix = new SupportingGroupIndex(pool, 4);
  // mc = {0}, T = 1 → samples containing {0,1}: 0 and 4
  assert.deepEqual([...ix.lookup(0b0001, 1).members], [0, 4]);
  assert.equal(ix.peek(0b0001, 1).kind, 'exact');
  // mc = {2}, T = 0 → containing {0,2}: 1 and 4
  assert.deepEqual([...ix.lookup(0b0100, 0).members], [1, 4]);
  // mc = {1,2}, T = 0 → containing {0,1,2}: only 4
  assert.deepEqual([...ix.lookup(0b0110, 0).members], [4]);
  assert.deepEqual(ix.counts, { exact: 3, 'observes-target': 0, empty: 0 });
});

test('empty supporting group: relaxed to samples observing T, or empty when nobody has T; counted', () => {
  const ix = new SupportingGroupIndex([0b0011, 0b0101, 0b0001, 0b0110], 4); // no {0,1,2}
  const relaxed = ix.lookup(0b0110, 0); // G(0 | {1,2}) is empty → samples observing 0
  assert.equal(relaxed.kind, 'observes-target');
  assert.deepEqual([...relaxed.members], [0, 1, 2]);
  const none = ix.lookup(0b0001, 3); // nobody observes modality 3
  assert.equal(none.kind, 'empty');
  assert.equal(none.members.length, 0);
  ix.lookup(0b0001, 1);
  assert.deepEqual(ix.counts, { exact: 1, 'observes-target': 1, empty: 1 });
  // static per-split counts: sample {1,2} misses 0 (relaxed) and 3 (empty)
  assert.deepEqual(ix.splitCounts([0b0110]), { exact: 0, 'observes-target': 1, empty: 1 });
  // splitCounts does not touch the live counters
  assert.deepEqual(ix.counts, { exact: 1, 'observes-target': 1, empty: 1 });
});

test('bad group ids and targets are clear errors', () => {
  assert.throws(() => new SupportingGroupIndex([0b10000], 4), /outside \[0, 16\)/);
  assert.throws(() => new SupportingGroupIndex(pool, 4).lookup(0, 4), /target modality 4/);
});

test('drawMembers: distinct, min(n, |pool|), same seed → same draw', () => {
  const members = Int32Array.from([3, 5, 8, 13, 21, 34]);
  const a = drawMembers(members, 4, new Rng(9));
  const b = drawMembers(members, 4, new Rng(9));
  assert.deepEqual([...a], [...b]);
  assert.equal(new Set(a).size, 4);
  for (const x of a) assert.ok(members.includes(x));
  assert.equal(drawMembers(members, 10, new Rng(1)).length, 6);
  assert.equal(drawMembers(new Int32Array(0), 3, new Rng(1)).length, 0);
  assert.notDeepEqual([...drawMembers(members, 4, new Rng(10))], [...a]);
  assert.equal(popcount(0b1011), 3);
});

test('retrieval plan: |mc| intra draws; inference draws depend on the sample id only, training on the step seed', () => {
  const ix = new SupportingGroupIndex([0b0111, 0b0111, 0b0111, 0b0111, 0b0111, 0b0011], 3);
  // sample "a" observes {0,1} (misses 2), sample "b" observes {2} (misses 0 and 1)
  const obsAB = Uint8Array.from([1, 1, 0, 0, 0, 1]);
  const plan = planRetrieval(ix, obsAB, ['a', 'b'], { intraSamples: 'observed-count', interContext: true, modelSeed: 4 });
  assert.deepEqual(plan.map((q) => [q.b, q.target, q.intra.length, q.inter]), [
    [0, 2, 2, [0, 1]],
    [1, 0, 1, [2]],
    [1, 1, 1, [2]],
  ]);
  // the same sample in another batch position, with other neighbours: identical draws
  const obsBA = Uint8Array.from([0, 0, 1, 1, 1, 0]);
  const swapped = planRetrieval(ix, obsBA, ['b', 'a'], { intraSamples: 'observed-count', interContext: true, modelSeed: 4 });
  const aAlone = planRetrieval(ix, Uint8Array.from([1, 1, 0]), ['a'], { intraSamples: 'observed-count', interContext: true, modelSeed: 4 });
  assert.deepEqual([...swapped.find((q) => q.b === 1)!.intra], [...plan[0]!.intra]);
  assert.deepEqual([...aAlone[0]!.intra], [...plan[0]!.intra]);
  // training: same step seed → same draws; another → (here) different
  const t1 = planRetrieval(ix, obsAB, ['a', 'b'], { intraSamples: 3, interContext: false, modelSeed: 4, stepSeed: 11 });
  const t2 = planRetrieval(ix, obsAB, ['a', 'b'], { intraSamples: 3, interContext: false, modelSeed: 4, stepSeed: 11 });
  assert.deepEqual(t1.map((q) => [...q.intra]), t2.map((q) => [...q.intra]));
  assert.deepEqual(t1[0]!.inter, []);
  const seeds = [12, 13, 14, 15].map((s) => JSON.stringify(planRetrieval(ix, obsAB, ['a', 'b'], { intraSamples: 3, interContext: false, modelSeed: 4, stepSeed: s }).map((q) => [...q.intra])));
  assert.ok(seeds.some((s) => s !== JSON.stringify(t1.map((q) => [...q.intra]))));
});

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../src/engine/backend.js';
import { tf } from '../../src/engine/tf.js';
import type { TaskSpec } from '../../src/data/schema.js';
import { droSampleWeights, exponentiatedUpdate, GroupDro, GroupReweigh, makeGroupWeighting } from '../../src/train/groupWeighting.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

const binary: TaskSpec = { kind: 'binary', name: 'y' } as TaskSpec;
const bce = { type: 'default' as const, posWeight: 1, focalGamma: 2 };
const name = (id: number) => `g${id}`;
/** BCE of one sample by hand: −log σ(z) for y = 1, −log(1 − σ(z)) for y = 0. */
const bceOf = (z: number, y: number) => (y === 1 ? Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));

test('exponentiated update (REMIND eq. 4) against a hand computation', () => {
  // two equal groups, R = (1, 2), γ = 0.02: λ₁ = e^0.02 / (e^0.02 + e^0.04) = 1 / (1 + e^0.02)
  const two = exponentiatedUpdate(new Map([[1, 0.5], [3, 0.5]]), new Map([[1, 1], [3, 2]]), 0.02);
  assert.ok(Math.abs(two.get(1)! - 0.4950001666600003) < 1e-12);
  assert.ok(Math.abs(two.get(3)! - (1 - 0.4950001666600003)) < 1e-12);
  // λ = (0.2, 0.3, 0.5), R = (0.5, 1.5, 1.0), γ = 0.5:
  // 0.2e^0.25 = 0.256805, 0.3e^0.75 = 0.635100, 0.5e^0.5 = 0.824361, sum 1.716266
  const three = exponentiatedUpdate(new Map([[1, 0.2], [2, 0.3], [4, 0.5]]), new Map([[1, 0.5], [2, 1.5], [4, 1.0]]), 0.5);
  const want = [0.14963014164740995, 0.3700475959079368, 0.4803222624446533];
  [1, 2, 4].forEach((k, i) => assert.ok(Math.abs(three.get(k)! - want[i]!) < 1e-12, `λ_${k}`));
  // huge risks do not overflow (log-space)
  const big = exponentiatedUpdate(new Map([[1, 0.5], [2, 0.5]]), new Map([[1, 1e5], [2, 0]]), 1);
  assert.ok(Math.abs(big.get(1)! - 1) < 1e-12 && big.get(2)! >= 0);
});

test('DRO per-sample weights B·λ_g/n_g make the batch loss Σ_k λ_k R_k', () => {
  const ids = Int32Array.from([1, 1, 3, 5]);
  const lambda = new Map([[1, 0.2], [3, 0.3], [5, 0.5]]);
  assert.deepEqual(Array.from(droSampleWeights(ids, lambda)).map((x) => +x.toFixed(6)), [0.4, 0.4, 1.2, 2]);
  // with λ uniform over the three training groups, the weighted BCE equals (R₁ + R₃ + R₅) / 3
  const dro = new GroupDro([1, 3, 5, 5], name, 0.02, 1);
  const z = [0.3, -1.2, 2.0, 0.7];
  const y = [1, 0, 1, 0];
  const loss = dro.loss(binary, tf.tensor2d(z, [4, 1]), Float32Array.from(y), ids, bce);
  const l = z.map((zi, i) => bceOf(zi, y[i]!));
  const want = ((l[0]! + l[1]!) / 2 + l[2]! + l[3]!) / 3;
  assert.ok(Math.abs(loss.dataSync()[0]! - want) < 1e-5, `${loss.dataSync()[0]} vs ${want}`);
});

test('GroupDro refreshes λ every N steps from the mean loss of each group over the window', () => {
  const dro = new GroupDro([1, 3], name, 0.5, 2);
  assert.deepEqual(dro.snapshot(), { g1: 0.5, g3: 0.5 });
  // step 1: groups (1, 3), logits (0.5, −1), labels (1, 1)
  dro.loss(binary, tf.tensor2d([0.5, -1], [2, 1]), Float32Array.from([1, 1]), Int32Array.from([1, 3]), bce);
  dro.afterStep();
  assert.deepEqual(dro.snapshot(), { g1: 0.5, g3: 0.5 }, 'not refreshed before N = 2 steps');
  // step 2: groups (1, 1), logits (2, 0), labels (0, 1)
  dro.loss(binary, tf.tensor2d([2, 0], [2, 1]), Float32Array.from([0, 1]), Int32Array.from([1, 1]), bce);
  dro.afterStep();
  const R1 = (bceOf(0.5, 1) + bceOf(2, 0) + bceOf(0, 1)) / 3;
  const R3 = bceOf(-1, 1);
  const l1 = 1 / (1 + Math.exp(0.5 * (R3 - R1)));
  const s = dro.snapshot();
  assert.ok(Math.abs(s.g1! - l1) < 1e-6, `${s.g1} vs ${l1}`);
  assert.ok(Math.abs(s.g3! - (1 - l1)) < 1e-6);
  assert.ok(s.g3! > s.g1!, 'the higher-loss group is up-weighted');
  // step 3 alone: not refreshed (window restarted)
  dro.loss(binary, tf.tensor2d([5], [1, 1]), Float32Array.from([0]), Int32Array.from([3]), bce);
  dro.afterStep();
  assert.deepEqual(dro.snapshot(), s);
});

test('GroupDro: a group absent from the training split is added with λ = 1/K and counted', () => {
  const dro = new GroupDro([1, 3], name, 0.02, 1);
  dro.loss(binary, tf.tensor2d([0, 0], [2, 1]), Float32Array.from([1, 1]), Int32Array.from([1, 7]), bce);
  const s = dro.snapshot();
  assert.equal(dro.unseenGroupSamples, 1);
  // (0.5, 0.5, 0.5) renormalised
  for (const g of ['g1', 'g3', 'g7']) assert.ok(Math.abs(s[g]! - 1 / 3) < 1e-12);
});

test('reweigh: inverse-frequency weights with mean 1 over the training split', () => {
  // counts g1: 3, g3: 1 → c = N / K = 2, w₁ = 2/3, w₃ = 2
  const rw = new GroupReweigh([1, 1, 1, 3], name, 1);
  const w = rw.snapshot();
  assert.ok(Math.abs(w.g1! - 2 / 3) < 1e-12 && Math.abs(w.g3! - 2) < 1e-12);
  // power 0 = unweighted
  assert.deepEqual(new GroupReweigh([1, 1, 1, 3], name, 0).snapshot(), { g1: 1, g3: 1 });
  // the weighted loss uses them: (2/3·l₀ + 2·l₁) / 2
  const loss = rw.loss(binary, tf.tensor2d([1, -1], [2, 1]), Float32Array.from([1, 1]), Int32Array.from([1, 3]), bce);
  const want = ((2 / 3) * bceOf(1, 1) + 2 * bceOf(-1, 1)) / 2;
  assert.ok(Math.abs(loss.dataSync()[0]! - want) < 1e-5);
});

test("makeGroupWeighting: 'none' is null, the others build their class", () => {
  assert.equal(makeGroupWeighting({ type: 'none' }, [1], name), null);
  assert.equal(makeGroupWeighting({ type: 'group-dro', gamma: 0.02, everySteps: 1 }, [1], name)?.kind, 'group-dro');
  assert.equal(makeGroupWeighting({ type: 'reweigh', power: 1 }, [1], name)?.kind, 'reweigh');
});

test('GroupDro state survives a checkpoint round trip (JSON) and resumes the same λ refresh', () => {
  // step 1 on one object, then its state restored into a fresh one: step 2 must refresh λ exactly
  // as an uninterrupted run does (the hand value of the previous test)
  const first = new GroupDro([3, 1], name, 0.5, 2);
  first.loss(binary, tf.tensor2d([0.5, -1], [2, 1]), Float32Array.from([1, 1]), Int32Array.from([1, 3]), bce);
  first.afterStep();
  const state = JSON.parse(JSON.stringify(first.getState())) as { steps: number; lambda: [number, number][]; lossCount: [number, number][] };
  assert.equal(state.steps, 1);
  assert.deepEqual(state.lambda, [[1, 0.5], [3, 0.5]], 'λ initialised uniformly, groups in id order');
  assert.deepEqual(state.lossCount, [[1, 1], [3, 1]]);
  const resumed = new GroupDro([1, 3], name, 0.5, 2);
  resumed.setState(state);
  resumed.loss(binary, tf.tensor2d([2, 0], [2, 1]), Float32Array.from([0, 1]), Int32Array.from([1, 1]), bce);
  resumed.afterStep();
  const R1 = (bceOf(0.5, 1) + bceOf(2, 0) + bceOf(0, 1)) / 3;
  const R3 = bceOf(-1, 1);
  const l1 = 1 / (1 + Math.exp(0.5 * (R3 - R1)));
  const w = resumed.weights();
  assert.ok(Math.abs(w.get(1)! - l1) < 1e-6 && Math.abs(w.get(3)! - (1 - l1)) < 1e-6, `λ after resume: ${[...w]}`);
  assert.equal((resumed.getState() as { steps: number }).steps, 2);
});

test('GroupDro and GroupReweigh count the samples of groups unseen in training; their state round-trips', () => {
  const dro = new GroupDro([1, 3], name, 0.5, 1);
  dro.loss(binary, tf.tensor2d([0, 0, 0], [3, 1]), Float32Array.from([1, 0, 1]), Int32Array.from([1, 7, 7]), bce);
  assert.equal(dro.unseenGroupSamples, 2, 'two samples of group 7');
  const lam = dro.weights();
  assert.equal(lam.size, 3);
  assert.ok(Math.abs([...lam.values()].reduce((a, b) => a + b, 0) - 1) < 1e-12, 'λ still sums to 1');
  // reweigh: inverse frequency (power 1), unseen groups weigh 1 and are counted
  const rw = new GroupReweigh([1, 1, 1, 3], name, 1);
  rw.loss(binary, tf.tensor2d([0, 0, 0], [3, 1]), Float32Array.from([1, 0, 1]), Int32Array.from([1, 9, 9]), bce);
  assert.equal(rw.unseenGroupSamples, 2);
  const copy = new GroupReweigh([1, 1, 1, 3], name, 1);
  copy.setState(JSON.parse(JSON.stringify(rw.getState())));
  assert.equal(copy.unseenGroupSamples, 2);
  // c = N / Σ_k n_k^0 = 4 / 2 = 2: w₁ = 2/3, w₃ = 2
  const s = rw.snapshot();
  assert.ok(Math.abs(s['g1']! - 2 / 3) < 1e-12 && Math.abs(s['g3']! - 2) < 1e-12, JSON.stringify(s));
});

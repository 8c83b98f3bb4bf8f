import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { binOf, causalShifts, discretiseLocf } from '../../src/encoders/discretise.js';
import { UtdeEncoder } from '../../src/encoders/utde.js';
import type { TimeSeriesBatch } from '../../src/data/batchTypes.js';
import { assertClose, setVar, checkVariableGrads, assertAllGradsNonZero, fixedRandom } from '../nn/helpers.js';
import { randomInput } from './naiveMtand.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

/** Sample 0: var0 = 1 @0.2, 2 @0.4, 3 @0.9; var1 = 5 @0. Sample 1: var1 = −1 @0.5 (on a reference point), padding. */
function handBatch(): TimeSeriesBatch {
  const T = 4;
  const V = 2;
  const times = new Float32Array([0, 0.2, 0.4, 0.9, 0.5, 0, 0, 0]);
  const timeMask = new Float32Array([1, 1, 1, 1, 1, 0, 0, 0]);
  const values = new Float32Array(2 * T * V);
  const mask = new Float32Array(2 * T * V);
  const obs = (b: number, t: number, v: number, x: number) => {
    values[(b * T + t) * V + v] = x;
    mask[(b * T + t) * V + v] = 1;
  };
  obs(0, 0, 1, 5);
  obs(0, 1, 0, 1);
  obs(0, 2, 0, 2);
  obs(0, 3, 0, 3);
  obs(1, 0, 1, -1);
  values[(1 * T + 2) * V + 0] = 99; // at padding: must be ignored
  mask[(1 * T + 2) * V + 0] = 1;
  return { kind: 'timeseries', T, V, times, timeMask, values, mask };
}

test('UTDE discretisation: LOCF, observed-in-bin, time since last — by hand (γ = 3, refs 0, .5, 1)', () => {
  const d = discretiseLocf(handBatch(), 3, { timeSinceLast: true });
  // layout [B, γ, V]
  assertClose(d.values, [0, 5, 2, 5, 3, 5, 0, 0, 0, -1, 0, -1], 1e-7, 'values');
  assertClose(d.observed, [0, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0], 0, 'observed');
  assertClose(d.sinceLast!, [1, 0, 0.1, 0.5, 0.1, 1, 1, 1, 1, 0, 1, 0.5], 1e-6, 'sinceLast');
  assert.equal(discretiseLocf(handBatch(), 3).sinceLast, undefined);
  // bins: right-closed (r_{i−1}, r_i]; float32 times on a reference point land in its bin
  assert.equal(binOf(0, 48), 0);
  assert.equal(binOf(Math.fround(1 / 47), 48), 1);
  assert.equal(binOf(Math.fround(1 / 47) + 0.001, 48), 2);
  assert.equal(binOf(1, 48), 47);
  assert.equal(binOf(1.3, 48), 47);
});

test('causal shifts: block j holds step i − j, zeros before the start', () => {
  // B = 1, γ = 3, C = 2: steps (1,2), (3,4), (5,6); k = 2 → [x_i, x_{i−1}]
  const out = causalShifts(new Float32Array([1, 2, 3, 4, 5, 6]), 1, 3, 2, 2);
  assert.deepEqual(Array.from(out), [1, 2, 0, 0, 3, 4, 1, 2, 5, 6, 3, 4]);
});

test('UTDE gate: E = g ⊙ E_imp + (1 − g) ⊙ E_mTAND by hand, FD gradient of the gate', () => {
  const enc = new UtdeEncoder('enc.v', { inputDim: 1, d: 2, gamma: 2, heads: 1, dt: 2 }, new Rng(1));
  assert.deepEqual(
    enc.gate.variables().map((v) => v.name),
    ['enc.v.gate.l0.w', 'enc.v.gate.l0.b'],
  );
  // gate input [eImp(2) ⊕ eMtand(2)] → 2 logits; w as [4, 2]
  setVar(enc.gate.layers[0]!.w, [1, 0, 0, 1, -1, 0, 0, 0]);
  setVar(enc.gate.layers[0]!.b!, [0.5, -2]);
  const eImp = tf.tensor3d([2, 1], [1, 1, 2]);
  const eM = tf.tensor3d([1, 4], [1, 1, 2]);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const g0 = sig(2 - 1 + 0.5);
  const g1 = sig(1 - 2);
  assertClose(enc.mix(eImp, eM).dataSync(), [g0 * 2 + (1 - g0) * 1, g1 * 1 + (1 - g1) * 4], 1e-6);
  const a = fixedRandom([2, 3, 2], 1) as tf.Tensor3D;
  const b = fixedRandom([2, 3, 2], 2) as tf.Tensor3D;
  const w = fixedRandom([2, 3, 2], 3);
  const r = checkVariableGrads(() => tf.sum(tf.mul(enc.mix(a, b), w)) as tf.Scalar, enc.gate.variables(), { maxEntries: 16 });
  assert.ok(r.maxRelError < 1e-2, `FD rel error ${r.maxRelError}`);
});

test('UTDE encoder: imputation branch = causal conv over LOCF ⊕ mask; tokens and gradients', () => {
  const batch = handBatch();
  const enc = new UtdeEncoder('enc.vitals', { inputDim: 2, d: 4, gamma: 3, heads: 2, dt: 4, kernelSize: 2 }, new Rng(3));
  assert.equal(enc.conv.w.shape[0], 2 * 4); // k·C = 2·2V
  const { B, features } = enc.imputationFeatures(batch);
  assert.equal(B, 2);
  // sample 0, bin 1: values (2, 5), observed (1, 0)
  assertClose(features.subarray(4, 8), [2, 5, 1, 0], 0);
  const { tokens, empty } = enc.apply(batch, true);
  assert.deepEqual(tokens.shape, [2, 3, 4]);
  assert.ok(tokens.dataSync().every(Number.isFinite));
  assertClose(empty.dataSync(), [0, 0]);
  // recompute by hand from the parts
  const eM = enc.mtand.apply({ B: 2, T: 4, times: batch.times, timeMask: batch.timeMask, values: batch.values, mask: batch.mask }).z;
  const W = enc.conv.w.arraySync() as number[][];
  const bias = enc.conv.b!.dataSync();
  const eImp: number[] = [];
  for (let b = 0; b < 2; b++)
    for (let i = 0; i < 3; i++)
      for (let o = 0; o < 4; o++) {
        let s = bias[o]!;
        for (let j = 0; j < 2; j++) {
          if (i - j < 0) continue;
          for (let c = 0; c < 4; c++) s += features[(b * 3 + i - j) * 4 + c]! * W[j * 4 + c]![o]!;
        }
        eImp.push(s);
      }
  const expected = enc.mix(tf.tensor3d(eImp, [2, 3, 4]), eM);
  assertClose(tokens.dataSync(), expected.dataSync(), 1e-5);
  const w = fixedRandom([2, 3, 4], 5);
  const loss = () => tf.sum(tf.mul(enc.apply(batch, true).tokens, w)) as tf.Scalar;
  assertAllGradsNonZero(loss, enc.variables());
  const r = checkVariableGrads(loss, [enc.conv.w, enc.mtand.q.w, enc.mtand.time.w], { maxEntries: 6 });
  assert.ok(r.maxRelError < 2e-2, `FD rel error ${r.maxRelError}`);
});

test('UTDE encoder: all-missing and partly empty batches give finite outputs, zero tokens for empty samples', () => {
  const enc = new UtdeEncoder('u', { inputDim: 3, d: 4, gamma: 5, heads: 2, dt: 4, timeSinceLast: true }, new Rng(4));
  const inp = randomInput(3, 4, 3, 2); // sample 2 empty
  const batch: TimeSeriesBatch = { kind: 'timeseries', T: 4, V: 3, times: inp.times, timeMask: inp.timeMask, values: inp.values, mask: inp.mask! };
  const { tokens, empty } = enc.apply(batch, false);
  const z = tokens.dataSync();
  assert.ok(z.every(Number.isFinite));
  assert.ok(z.slice(2 * 20).every((v) => v === 0));
  assertClose(empty.dataSync(), [0, 0, 1]);
  const none: TimeSeriesBatch = { ...batch, timeMask: new Float32Array(12), mask: new Float32Array(36) };
  const g = tf.variableGrads(() => tf.sum(enc.apply(none, true).tokens) as tf.Scalar, enc.variables());
  assert.ok(Object.values(g.grads).every((t) => t.dataSync().every(Number.isFinite)));
  assert.equal(g.value.dataSync()[0], 0);
});

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { MTand, MTandEncoder } from '../../src/encoders/mtand.js';
import type { TimeSeriesBatch } from '../../src/data/batchTypes.js';
import { assertClose, setVar, checkVariableGrads, assertAllGradsNonZero, fixedRandom } from '../nn/helpers.js';
import { naiveMtand, randomInput } from './naiveMtand.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

/** One head, d_t = 2 with φ(τ) = [τ, 1], identity q/k maps, identity output (d = 2V = 4). */
function handLayer(): MTand {
  const m = new MTand('enc.ts.mtand', { inputDim: 2, d: 4, gamma: 2, heads: 1, dt: 2 }, new Rng(1));
  setVar(m.time.w, [1, 0]);
  setVar(m.time.b, [0, Math.PI / 2]);
  for (const l of [m.q, m.k]) {
    setVar(l.w, [1, 0, 0, 1]);
    setVar(l.b!, [0, 0]);
  }
  setVar(m.out.w, Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)));
  setVar(m.out.b!, [0, 0, 0, 0]);
  return m;
}

test('mTAND: hand-computed case (per-variable masking, never-observed variable, empty sample)', () => {
  const m = handLayer();
  assert.deepEqual(
    m.variables().map((v) => v.name),
    ['enc.ts.mtand.time.w', 'enc.ts.mtand.time.b', 'enc.ts.mtand.q.w', 'enc.ts.mtand.q.b', 'enc.ts.mtand.k.w', 'enc.ts.mtand.k.b', 'enc.ts.mtand.out.w', 'enc.ts.mtand.out.b'],
  );
  // sample 0: t = 0, .5, 1; var0 = 1 @0, 3 @.5; var1 = −2 @1
  // sample 1: t = .25 (then padding); var0 = 5, var1 never observed
  // sample 2: no observation at all
  const input = {
    B: 3,
    T: 3,
    times: new Float32Array([0, 0.5, 1, 0.25, 0, 0, 0, 0, 0]),
    timeMask: new Float32Array([1, 1, 1, 1, 0, 0, 0, 0, 0]),
    values: new Float32Array([1, 0, 3, 0, 0, -2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    mask: new Float32Array([1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  };
  const { z, empty } = m.apply(input);
  assert.deepEqual(z.shape, [3, 2, 4]);
  // φ(τ) = [τ, 1] → S(r, t) = (r·t + 1)/√2; ref r = 0: uniform weights; r = 1: weights ∝ exp(t/√2)
  const a = Math.exp(0 / Math.SQRT2);
  const bb = Math.exp(0.5 / Math.SQRT2);
  const var0AtR1 = (a * 1 + bb * 3) / (a + bb);
  const expected = [2, -2, 1, 1, var0AtR1, -2, 1, 1, 5, 0, 1, 0, 5, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  assertClose(z.dataSync(), expected, 1e-6, 'Z');
  assertClose(empty.dataSync(), [0, 0, 1]);
});

test('mTAND: agrees with a naive loop implementation on random data (1e-5)', () => {
  const m = new MTand('m', { inputDim: 3, d: 6, gamma: 5, heads: 2, dt: 4, freqInit: 3 }, new Rng(11));
  const input = randomInput(4, 6, 3, 5);
  const z = m.apply(input).z.dataSync();
  const ref = naiveMtand(m, input);
  assertClose(z, ref, 1e-5, 'Z vs naive');
  // shared-mask mode (timed embeddings) against the same reference
  const s = new MTand('s', { inputDim: 3, d: 5, gamma: 3, heads: 2, dt: 4, maskMode: 'shared', maskChannels: false }, new Rng(12));
  assertClose(s.apply(input).z.dataSync(), naiveMtand(s, input), 1e-5, 'shared Z vs naive');
});

test('mTAND: finite-difference gradient on a tiny case; every variable gets gradient', () => {
  const m = new MTand('g', { inputDim: 2, d: 3, gamma: 3, heads: 2, dt: 4, freqInit: 3 }, new Rng(21));
  const input = randomInput(3, 4, 2, 9);
  const w = fixedRandom([3, 3, 3], 4);
  const loss = () => tf.sum(tf.mul(m.apply(input).z, w)) as tf.Scalar;
  const r = checkVariableGrads(loss, m.variables(), { eps: 1e-2, maxEntries: 8 });
  assert.ok(r.maxRelError < 2e-2, `FD rel error ${r.maxRelError} (abs ${r.maxAbsError})`);
  assertAllGradsNonZero(loss, m.variables());
});

test('mTAND encoder: TimeSeriesBatch in, [B, γ, d] tokens out; all-missing batch is finite and zero', () => {
  const enc = new MTandEncoder('enc.vitals.mtand', { inputDim: 3, d: 8, gamma: 6, heads: 2, dt: 4 }, new Rng(2));
  assert.equal(enc.numTokens, 6);
  assert.equal(enc.dim, 8);
  const B = 2;
  const T = 1;
  const batch: TimeSeriesBatch = {
    kind: 'timeseries',
    T,
    V: 3,
    times: new Float32Array(B * T),
    timeMask: new Float32Array(B * T),
    values: new Float32Array(B * T * 3),
    mask: new Float32Array(B * T * 3),
  };
  const { tokens, empty } = enc.apply(batch, true);
  assert.deepEqual(tokens.shape, [2, 6, 8]);
  assert.ok(tokens.dataSync().every((v) => v === 0));
  assertClose(empty.dataSync(), [1, 1]);
  const g = tf.variableGrads(() => tf.sum(enc.apply(batch, true).tokens) as tf.Scalar, enc.variables());
  assert.ok(Object.values(g.grads).every((t) => t.dataSync().every(Number.isFinite)));
  assert.throws(() => enc.apply({ ...batch, V: 4, values: new Float32Array(8), mask: new Float32Array(8) }, false), /built for 3 variables/);
});

test('mTAND: no tensor leak across repeated tidy steps', () => {
  const m = new MTand('leak', { inputDim: 2, d: 4, gamma: 3, heads: 2, dt: 4 }, new Rng(3));
  const input = randomInput(2, 3, 2, 1);
  tf.tidy(() => m.apply(input));
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.tidy(() => void tf.variableGrads(() => tf.sum(m.apply(input).z) as tf.Scalar, m.variables()));
  assert.equal(tf.memory().numTensors, before);
});

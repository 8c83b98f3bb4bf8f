import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { makeEncoder, ModalityEncoder } from '../../src/encoders/encoder.js';
import { keepLastK, emptyRows, referencePoints } from '../../src/encoders/batchArrays.js';
import { summaryFeatures } from '../../src/encoders/meanPoolEncoder.js';
import { StaticEncoder } from '../../src/encoders/staticEncoder.js';
import { TimedEmbeddingEncoder } from '../../src/encoders/timedEmbedding.js';
import type { EmbeddingBatch, ModalityBatch, StaticBatch, TimeSeriesBatch } from '../../src/data/batchTypes.js';
import type { ModalitySpec } from '../../src/data/schema.js';
import { assertClose, setVar, assertAllGradsNonZero } from '../nn/helpers.js';
import { naiveMtand, randomInput } from './naiveMtand.js';

before(async () => {
  await initEngine({ backend: 'cpu' });
});

const tsSpec: ModalitySpec = { name: 'vitals', kind: 'timeseries', variables: ['hr', 'sbp', 'temp'] };
const embSpec: ModalitySpec = { name: 'notes', kind: 'embedding', dim: 5 };
const stSpec: ModalitySpec = { name: 'demo', kind: 'static', features: ['age', 'sex', 'bmi', 'icu'] };

function tsBatch(seed: number): TimeSeriesBatch {
  const inp = randomInput(3, 4, 3, seed);
  return { kind: 'timeseries', T: 4, V: 3, times: inp.times, timeMask: inp.timeMask, values: inp.values, mask: inp.mask! };
}

function embBatch(): EmbeddingBatch {
  const B = 3;
  const T = 4;
  const D = 5;
  const values = new Float32Array(B * T * D).map((_, i) => Math.sin(i));
  // sample 0: 4 vectors; sample 1: 2 vectors; sample 2: none
  return {
    kind: 'embedding',
    T,
    D,
    times: new Float32Array([0.1, 0.3, 0.6, 0.8, 0.2, 0.9, 0, 0, 0, 0, 0, 0]),
    timeMask: new Float32Array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
    values,
  };
}

function stBatch(): StaticBatch {
  return {
    kind: 'static',
    F: 4,
    values: new Float32Array([0.5, 1, -0.2, 0, 0, 0, 0, 0, 1.5, 0, 0, 0.3]),
    mask: new Float32Array([1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1]),
  };
}

function emptyOf(b: ModalityBatch): ModalityBatch {
  if (b.kind === 'static') return { ...b, values: new Float32Array(b.values.length), mask: new Float32Array(b.mask.length) };
  if (b.kind === 'embedding') return { ...b, timeMask: new Float32Array(b.timeMask.length) };
  return { ...b, timeMask: new Float32Array(b.timeMask.length), mask: new Float32Array(b.mask.length) };
}

test('makeEncoder: dispatch by kind, token counts, variable names prefixed and unique', () => {
  const rng = new Rng(1);
  const cfg = { d: 8, gamma: 6, heads: 2, dt: 4, embeddingGamma: 3, staticTokens: 2 };
  const cases: [ModalitySpec, Partial<typeof cfg> & { kind?: 'mtand' | 'utde' | 'mean-pool-mlp' }, number, string][] = [
    [tsSpec, {}, 6, 'enc.vitals.mtand.q.w'],
    [tsSpec, { kind: 'mtand' }, 6, 'enc.vitals.mtand.q.w'],
    [tsSpec, { kind: 'mean-pool-mlp' }, 1, 'enc.vitals.mlp.l0.w'],
    [embSpec, {}, 3, 'enc.notes.mtand.out.w'],
    [stSpec, {}, 2, 'enc.demo.mlp.l0.w'],
  ];
  for (const [spec, extra, L, someName] of cases) {
    const enc = makeEncoder(`enc.${spec.name}`, spec, { ...cfg, ...extra }, rng);
    assert.equal(enc.numTokens, L);
    assert.equal(enc.dim, 8);
    assert.equal(enc.kind, spec.kind);
    const names = enc.variables().map((v) => v.name);
    assert.ok(names.includes(someName), `${someName} in ${names.join(', ')}`);
    assert.ok(names.every((n) => n.startsWith(`enc.${spec.name}.`)));
    assert.equal(new Set(names).size, names.length);
    // tfjs registers variable names globally: dispose before building another one of that name
    tf.dispose(enc.variables());
  }
  assert.throws(() => makeEncoder('x', tsSpec, { d: 8, kind: 'lstm' as never }, rng), /unknown time-series encoder/);
  assert.throws(() => makeEncoder('y', tsSpec, { d: 8, heads: 3, dt: 4 }, rng), /not divisible by heads/);
});

test('every encoder: finite output of shape [B, L, d] on real and all-missing batches; non-zero gradients', () => {
  const rng = new Rng(2);
  const cfg = { d: 8, gamma: 5, heads: 2, dt: 4, embeddingGamma: 3, staticTokens: 2, kernelSize: 2 };
  const encs: [ModalityEncoder, ModalityBatch][] = [
    [makeEncoder('a', tsSpec, { ...cfg, kind: 'utde' }, rng), tsBatch(3)],
    [makeEncoder('b', tsSpec, { ...cfg, kind: 'mtand' }, rng), tsBatch(4)],
    [makeEncoder('c', tsSpec, { ...cfg, kind: 'mean-pool-mlp' }, rng), tsBatch(5)],
    [makeEncoder('d', embSpec, { ...cfg, keepLast: 2 }, rng), embBatch()],
    [makeEncoder('e', stSpec, cfg, rng), stBatch()],
  ];
  for (const [enc, batch] of encs) {
    const { tokens, empty } = enc.apply(batch, true);
    assert.deepEqual(tokens.shape, [3, enc.numTokens, 8], enc.name);
    assert.ok(tokens.dataSync().every(Number.isFinite), enc.name);
    const w = tf.randomUniform(tokens.shape, -1, 1, 'float32', 3);
    assertAllGradsNonZero(() => tf.sum(tf.mul(enc.apply(batch, true).tokens, w)) as tf.Scalar, enc.variables());
    const e = enc.apply(emptyOf(batch), true);
    assert.ok(e.tokens.dataSync().every((v) => v === 0), `${enc.name}: zero tokens when all missing`);
    assertClose(e.empty.dataSync(), [1, 1, 1]);
    const g = tf.variableGrads(() => tf.sum(enc.apply(emptyOf(batch), true).tokens) as tf.Scalar, enc.variables());
    assert.ok(Object.values(g.grads).every((t) => t.dataSync().every(Number.isFinite)), enc.name);
    assert.equal(empty.shape[0], 3);
  }
  assert.throws(() => encs[0]![0].apply(stBatch(), false), /expected a timeseries batch/);
});

test('timed embeddings: shared-mask mTAND with keep-last-k matches the naive reference on the kept steps', () => {
  const enc = new TimedEmbeddingEncoder('n', { inputDim: 5, d: 4, gamma: 3, heads: 2, dt: 4, keepLast: 2, freqInit: 3 }, new Rng(5));
  const batch = embBatch();
  const kept = keepLastK(batch, 3, 2);
  assertClose(kept, [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0], 0, 'keepLast mask');
  const { tokens, empty } = enc.apply(batch, false);
  const ref = naiveMtand(enc.mtand, { B: 3, T: 4, times: batch.times, timeMask: kept, values: batch.values });
  assertClose(tokens.dataSync(), ref, 1e-5);
  assertClose(empty.dataSync(), [0, 0, 1]);
});

test('static encoder: (values ⊕ mask) → linear by hand, n tokens, empty flag', () => {
  const enc = new StaticEncoder('s', { inputDim: 2, d: 2, numTokens: 2, hidden: 0 }, new Rng(6));
  // input [v0, v1, m0, m1] → 4 outputs (2 tokens × 2): W [4, 4] = identity
  setVar(enc.mlp.layers[0]!.w, Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0)));
  setVar(enc.mlp.layers[0]!.b!, [0, 0, 0, 0.5]);
  const batch: StaticBatch = { kind: 'static', F: 2, values: new Float32Array([3, 7, 0, 0]), mask: new Float32Array([1, 0, 0, 0]) };
  const { tokens, empty } = enc.apply(batch, false);
  assert.deepEqual(tokens.shape, [2, 2, 2]);
  // unobserved value 7 is masked to 0
  assertClose(tokens.dataSync(), [3, 0, 1, 0.5, 0, 0, 0, 0]);
  assertClose(empty.dataSync(), [0, 1]);
});

test('mean-pool features by hand; batch helpers', () => {
  const batch: TimeSeriesBatch = {
    kind: 'timeseries',
    T: 3,
    V: 2,
    times: new Float32Array([0.1, 0.5, 0.7]),
    timeMask: new Float32Array([1, 1, 1]),
    values: new Float32Array([1, 0, 3, 0, 0, 0]),
    mask: new Float32Array([1, 0, 1, 0, 0, 0]),
  };
  // var0: last 3, mean 2, log1p(2), last time 0.5; var1 never observed → zeros
  assertClose(summaryFeatures(batch), [3, 2, Math.log1p(2), 0.5, 0, 0, 0, 0], 1e-6);
  // extended adds min 1, max 3, first 1 (var1 still all zeros)
  assertClose(summaryFeatures(batch, 'extended'), [3, 2, Math.log1p(2), 0.5, 1, 3, 1, 0, 0, 0, 0, 0, 0, 0], 1e-6);
  assertClose(emptyRows(batch, 1), [0]);
  assertClose(referencePoints(3), [0, 0.5, 1]);
  assertClose(referencePoints(1), [1]);
});

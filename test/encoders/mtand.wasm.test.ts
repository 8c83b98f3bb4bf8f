import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { MTand } from '../../src/encoders/mtand.js';
import { makeEncoder } from '../../src/encoders/encoder.js';
import type { ModalityBatch } from '../../src/data/batchTypes.js';
import { assertClose, assertAllGradsNonZero, fixedRandom } from '../nn/helpers.js';
import { naiveMtand, randomInput } from './naiveMtand.js';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('mTAND on wasm: matches the naive loop; backward pass runs and is finite', () => {
  assert.equal(tf.getBackend(), 'wasm');
  const m = new MTand('w', { inputDim: 3, d: 6, gamma: 5, heads: 2, dt: 4, freqInit: 3 }, new Rng(11));
  const input = randomInput(4, 6, 3, 5);
  assertClose(m.apply(input).z.dataSync(), naiveMtand(m, input), 1e-5, 'Z vs naive (wasm)');
  const w = fixedRandom([4, 5, 6], 4);
  assertAllGradsNonZero(() => tf.sum(tf.mul(m.apply(input).z, w)) as tf.Scalar, m.variables());
});

test('every encoder kind runs forward and backward on wasm (no missing kernel)', () => {
  const inp = randomInput(3, 4, 3, 7);
  const ts: ModalityBatch = { kind: 'timeseries', T: 4, V: 3, times: inp.times, timeMask: inp.timeMask, values: inp.values, mask: inp.mask! };
  const emb: ModalityBatch = { kind: 'embedding', T: 4, D: 3, times: inp.times, timeMask: inp.timeMask, values: inp.values };
  const st: ModalityBatch = { kind: 'static', F: 3, values: inp.values.slice(0, 9), mask: inp.mask!.slice(0, 9) };
  const rng = new Rng(3);
  const cfg = { d: 8, gamma: 5, heads: 2, dt: 4, kernelSize: 2, timeSinceLast: true, embeddingGamma: 3, keepLast: 2 };
  const vars = ['a', 'b', 'c'];
  const cases: [string, Parameters<typeof makeEncoder>[1], ModalityBatch, typeof cfg & { kind?: 'utde' | 'mtand' | 'mean-pool-mlp' }][] = [
    ['utde', { name: 'v', kind: 'timeseries', variables: vars }, ts, { ...cfg, kind: 'utde' }],
    ['mtand', { name: 'v', kind: 'timeseries', variables: vars }, ts, { ...cfg, kind: 'mtand' }],
    ['mean', { name: 'v', kind: 'timeseries', variables: vars }, ts, { ...cfg, kind: 'mean-pool-mlp' }],
    ['emb', { name: 'n', kind: 'embedding', dim: 3 }, emb, cfg],
    ['st', { name: 's', kind: 'static', features: vars }, st, cfg],
  ];
  for (const [name, spec, batch, c] of cases) {
    const enc = makeEncoder(`wasm.${name}`, spec, c, rng);
    const w = fixedRandom([3, enc.numTokens, 8], 9);
    assertAllGradsNonZero(() => tf.sum(tf.mul(enc.apply(batch, true).tokens, w)) as tf.Scalar, enc.variables());
  }
});

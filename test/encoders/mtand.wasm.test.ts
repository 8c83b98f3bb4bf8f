import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';
import { MTand } from '../../src/encoders/mtand.js';
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

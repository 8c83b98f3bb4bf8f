/** Seeding: seeded tf random ops repeat across calls and across cpu/wasm; derived seeds are stable. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { deriveSeeds, rngFor, seedFor } from '../../src/engine/seed.js';
import { setup } from './helpers.js';

before(setup);

const draw = (seed: number): number[] =>
  tf.tidy(() => [
    ...Array.from(tf.randomNormal([50], 0, 1, 'float32', seed).dataSync()),
    ...Array.from(tf.randomUniform([20], -1, 1, 'float32', seed).dataSync()),
    ...Array.from(tf.truncatedNormal([20], 0, 1, 'float32', seed).dataSync()),
  ]);

test('seeded random ops are equal across two calls and across cpu and wasm', async () => {
  const s = seedFor(7, 'layer.w');
  await tf.setBackend('wasm');
  const a = draw(s);
  const b = draw(s);
  await tf.setBackend('cpu');
  const c = draw(s);
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
  assert.notDeepEqual(draw(seedFor(7, 'layer.b')), c);
});

test('seedFor is deterministic, name- and run-sensitive, and in the tf seed range', () => {
  assert.equal(seedFor(1, 'a'), seedFor(1, 'a'));
  assert.notEqual(seedFor(1, 'a'), seedFor(1, 'b'));
  assert.notEqual(seedFor(1, 'a'), seedFor(2, 'a'));
  const seeds = deriveSeeds(3, 1000);
  assert.equal(new Set(seeds).size, 1000);
  for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 1 && s <= 2147483646);
  assert.deepEqual(deriveSeeds(3, 5), seeds.slice(0, 5));
  const r1 = rngFor(5, 'shuffle');
  const r2 = rngFor(5, 'shuffle');
  assert.deepEqual([r1.next(), r1.next()], [r2.next(), r2.next()]);
  assert.throws(() => seedFor(1.5, 'x'), /integer/);
});

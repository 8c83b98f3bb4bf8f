/** Tensor count stays flat across training steps (Adam, optimizer.minimize) on cpu and wasm. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { assertFlatTensorCount, measureLeak } from '../../src/engine/memory.js';
import { ReferenceMoe } from '../../src/engine/referenceMoe.js';
import { setup } from './helpers.js';

before(setup);

function smallModelSteps(): number[] {
  // tf.variable does not dispose its initial value: create it inside tidy.
  const w1 = tf.tidy(() => tf.variable(tf.randomNormal([6, 16], 0, 0.3, 'float32', 1), true, 'mem.w1'));
  const b1 = tf.tidy(() => tf.variable(tf.zeros([16]), true, 'mem.b1'));
  const w2 = tf.tidy(() => tf.variable(tf.randomNormal([16, 2], 0, 0.3, 'float32', 2), true, 'mem.w2'));
  const x = tf.randomNormal([32, 6], 0, 1, 'float32', 3);
  const y = tf.randomNormal([32, 2], 0, 1, 'float32', 4);
  const opt = tf.train.adam(1e-2);
  const losses: number[] = [];
  const counts = assertFlatTensorCount(() => {
    const loss = opt.minimize(() => {
      const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
      const idx = tf.tensor1d([0, 3, 5, 3], 'int32');
      const g = tf.gather(h, idx); // exercises GatherV2 + UnsortedSegmentSum in backward
      return tf.add(tf.mean(tf.square(tf.sub(tf.matMul(h, w2), y))), tf.mul(tf.mean(g), 0.01)) as tf.Scalar;
    }, true);
    losses.push(loss!.dataSync()[0]!);
    loss!.dispose();
  }, 5);
  assert.ok(losses[4]! < losses[0]!, `loss should decrease: ${losses}`);
  [w1, b1, w2, x, y].forEach((t) => t.dispose());
  opt.dispose();
  return counts;
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`5 Adam steps keep tf.memory().numTensors flat (${backend})`, async () => {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const counts = smallModelSteps();
    assert.equal(counts.length, 5);
    assert.equal(tf.memory().numTensors, before, 'everything disposed after the loop');
  });
}

test('reference MoE step (sparse dispatch) does not leak on wasm', async () => {
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const moe = new ReferenceMoe({ tokens: 96 });
  assertFlatTensorCount(() => moe.step(), 4);
  moe.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('assertFlatTensorCount reports a leak', async () => {
  await tf.setBackend('wasm');
  const leaked: tf.Tensor[] = [];
  assert.throws(() => assertFlatTensorCount(() => leaked.push(tf.ones([2])), 3), /tensor leak/);
  leaked.forEach((t) => t.dispose());
  const { leaked: n } = measureLeak(() => tf.tidy(() => tf.ones([3]).add(1)));
  assert.equal(n, 1);
});

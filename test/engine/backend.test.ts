/** initEngine: backend choice, fast-kernel switch (stock restore), errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine, engineThreads } from '../../src/engine/backend.js';
import { fastKernelState, isFastKernel } from '../../src/engine/fastKernels.js';

test('wasm by default with fast kernels; cpu on request; stock restorable', async () => {
  assert.equal(await initEngine(), 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(fastKernelState(), 'all');
  assert.ok(isFastKernel('BatchMatMul'));
  assert.equal(engineThreads(), 1);

  assert.equal(await initEngine({ backend: 'cpu' }), 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  const onCpu = tf.tidy(() => Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true).dataSync()));
  assert.deepEqual(onCpu, [3, 3, 3, 3]);

  await initEngine({ backend: 'wasm', fastKernels: false });
  assert.equal(fastKernelState(), 'none');
  assert.ok(!isFastKernel('BatchMatMul'));
  assert.throws(() => tf.tidy(() => tf.unsortedSegmentSum(tf.ones([2]), tf.tensor1d([0, 1], 'int32'), 2)), /not registered/);

  await initEngine({ backend: 'wasm', fastKernels: 'missing-only' });
  assert.equal(fastKernelState(), 'missing');
  assert.ok(!isFastKernel('BatchMatMul'));
  const seg = tf.tidy(() => Array.from(tf.unsortedSegmentSum(tf.ones([3]), tf.tensor1d([0, 1, 1], 'int32'), 2).dataSync()));
  assert.deepEqual(seg, [1, 2]);

  await initEngine({ backend: 'wasm' });
  assert.equal(fastKernelState(), 'all');
  const viaFast = tf.tidy(() => Array.from(tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true).dataSync()));
  assert.deepEqual(viaFast, onCpu);
});

test('unknown backend is a clear error', async () => {
  await assert.rejects(initEngine({ backend: 'webgl' as never }), /unknown backend 'webgl'/);
});

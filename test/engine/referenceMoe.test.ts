/** The reference MoE step: sparse dispatch equals the dense computation; fast kernels equal stock-free cpu. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { ReferenceMoe } from '../../src/engine/referenceMoe.js';
import { noGrad, stopGradient } from '../../src/engine/noGrad.js';
import { setup } from './helpers.js';

before(setup);

test('sparse dispatch and dense computation agree (loss and gradients)', async () => {
  await tf.setBackend('wasm');
  const sparse = new ReferenceMoe({ tokens: 64, dHidden: 32 });
  const dense = new ReferenceMoe({ tokens: 64, dHidden: 32, dense: true });
  const gs = tf.variableGrads(() => sparse.loss(), sparse.variables());
  const gd = tf.variableGrads(() => dense.loss(), dense.variables());
  assert.ok(Math.abs(gs.value.dataSync()[0]! - gd.value.dataSync()[0]!) < 1e-6);
  const dv = dense.variables();
  for (const [i, v] of sparse.variables().entries()) {
    const name = v.name;
    const a = gs.grads[name]!.dataSync();
    const b = gd.grads[dv[i]!.name]!.dataSync();
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    assert.ok(m < 1e-6, `${name}: max |Δgrad| ${m}`);
  }
  tf.dispose([gs.value, gd.value, ...Object.values(gs.grads), ...Object.values(gd.grads)]);
  sparse.dispose();
  dense.dispose();
});

test('one training step gives the same loss trajectory on wasm (fast kernels) and cpu', async () => {
  const run = async (b: 'cpu' | 'wasm'): Promise<number[]> => {
    await tf.setBackend(b);
    const m = new ReferenceMoe({ tokens: 48, dHidden: 16, experts: 4, topK: 2 });
    const l = [m.step(), m.step(), m.step()];
    m.dispose();
    return l;
  };
  const c = await run('cpu');
  const w = await run('wasm');
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(c[i]! - w[i]!) < 1e-5, `step ${i}: cpu ${c[i]} wasm ${w[i]}`);
});

test('noGrad / stopGradient block gradients and allow ops without one (topk)', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor1d([1, 3, 2]);
  const g = tf.grad((t: tf.Tensor) => {
    const idx = noGrad((u) => tf.topk(u, 1).indices, t); // [1] int32
    return tf.add(tf.sum(tf.gather(t, idx)), tf.sum(tf.mul(stopGradient(t), t)));
  })(x);
  // d/dt [t[argmax] + Σ sg(t)·t] = onehot(argmax) + t
  assert.deepEqual(Array.from(g.dataSync()), [1, 4, 2]);
  tf.dispose([x, g]);
});

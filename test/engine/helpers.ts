/** Shared helpers for the engine tests: run a computation on cpu and wasm and compare. */
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf.js';
import { initEngine } from '../../src/engine/backend.js';
import { Rng } from '../../src/engine/rng.js';

/** Initialise wasm (with the fast kernels) once; tests switch to cpu for the reference. */
export async function setup(): Promise<void> {
  await initEngine({ backend: 'wasm', threads: 1, fastKernels: true });
}

/** Random float values (seeded). */
export function randn(shape: number[], seed: number): { values: Float32Array; shape: number[] } {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = r.normal();
  return { values, shape };
}

/** Random int32 values in [0, hi) (seeded). */
export function randint(shape: number[], hi: number, seed: number): { values: Int32Array; shape: number[] } {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Int32Array(n);
  for (let i = 0; i < n; i++) values[i] = r.int(hi);
  return { values, shape };
}

/** Runs `f` on the given backend and returns its outputs as plain arrays. */
export async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[]): Promise<{ shape: number[]; values: number[] }[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const out = f();
    const outs = Array.isArray(out) ? out : [out];
    return outs.map((t) => ({ shape: t.shape.slice(), values: Array.from(t.dataSync()) }));
  });
}

/** Asserts that `f` gives the same shapes and values (within `tol`, relative to magnitude) on cpu and wasm. */
export async function assertSameOnBackends(label: string, f: () => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<void> {
  const want = await runOn('cpu', f);
  const got = await runOn('wasm', f);
  assert.equal(got.length, want.length, `${label}: number of outputs`);
  for (let i = 0; i < want.length; i++) {
    assert.deepEqual(got[i]!.shape, want[i]!.shape, `${label}: output ${i} shape`);
    const a = got[i]!.values;
    const b = want[i]!.values;
    let scale = 1;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < b.length; j++) {
      const d = Math.abs(a[j]! - b[j]!);
      if (!(d <= tol * scale) || Number.isNaN(a[j]!)) {
        assert.fail(`${label}: output ${i} differs at ${j}: wasm ${a[j]} vs cpu ${b[j]} (|Δ| ${d}, tol ${tol * scale})`);
      }
    }
  }
}

/** Gradients of Σ f(xs)·w (w fixed random) with respect to every x, plus the value. */
export function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], seed = 99): tf.Tensor[] {
  const { value, grads } = tf.valueAndGrads((...ys: tf.Tensor[]) => {
    const y = f(...ys);
    const w = tf.tensor(randn(y.shape, seed).values, y.shape);
    return tf.sum(tf.mul(y, w)) as tf.Scalar;
  })(xs);
  return [value, ...grads];
}

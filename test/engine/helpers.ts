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

/** Both operands have a size-1 batch dim where the other has a larger one (general broadcasting). */
export function isGeneralBroadcast(sa: number[], sb: number[]): boolean {
  const r = Math.max(sa.length, sb.length) - 2;
  const pad = (s: number[]): number[] => [...new Array<number>(r - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const [oa, ob] = [pad(sa), pad(sb)];
  return oa.some((d, i) => d === 1 && ob[i]! > 1) && ob.some((d, i) => d === 1 && oa[i]! > 1);
}

/** op(A)·op(B) by plain loops with numpy broadcasting of the batch dims (the reference). */
export function naiveMatMul(
  a: { values: Float32Array; shape: number[] },
  b: { values: Float32Array; shape: number[] },
  tA: boolean,
  tB: boolean,
): { shape: number[]; values: number[] } {
  const r = Math.max(a.shape.length, b.shape.length) - 2;
  const pad = (s: number[]): number[] => [...new Array<number>(r - (s.length - 2)).fill(1), ...s.slice(0, -2)];
  const [oa, ob] = [pad(a.shape), pad(b.shape)];
  const outer = oa.map((d, i) => Math.max(d, ob[i]!));
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k, n] = [tA ? ac : ar, tA ? ar : ac, tB ? br : bc];
  const values: number[] = [];
  const batch = outer.reduce((x, y) => x * y, 1);
  for (let i = 0; i < batch; i++) {
    let rest = i;
    let ia = 0;
    let ib = 0;
    let sA = 1;
    let sB = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rest % outer[d]!;
      rest = Math.floor(rest / outer[d]!);
      if (oa[d]! > 1) ia += idx * sA;
      if (ob[d]! > 1) ib += idx * sB;
      sA *= oa[d]!;
      sB *= ob[d]!;
    }
    for (let p = 0; p < m; p++) {
      for (let q = 0; q < n; q++) {
        let s = 0;
        for (let j = 0; j < k; j++) {
          const av = a.values[ia * ar * ac + (tA ? j * ac + p : p * ac + j)]!;
          const bv = b.values[ib * br * bc + (tB ? q * bc + j : j * bc + q)]!;
          s += av * bv;
        }
        values.push(s);
      }
    }
  }
  return { shape: [...outer, m, n], values };
}

/** One BatchMatMul case: operands stored as op() expects (last two dims swapped when transposed). */
export interface MatMulCase {
  a: { values: Float32Array; shape: number[] };
  b: { values: Float32Array; shape: number[] };
  tA: boolean;
  tB: boolean;
  label: string;
}

/** Every (shapes, transposeA, transposeB) combination of `cases` with seeded random operands. */
export function* matMulCases(cases: Array<[number[], number[]]>, seed: number): Generator<MatMulCase & { sa: number[]; sb: number[] }> {
  const swap = (s: number[], tr: boolean): number[] => (tr ? [...s.slice(0, -2), s[s.length - 1]!, s[s.length - 2]!] : s);
  for (const [sa, sb] of cases) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const a = randn(swap(sa, tA), seed++);
        const b = randn(swap(sb, tB), seed++);
        yield { sa, sb, a, b, tA, tB, label: `${sa}×${sb} tA=${tA} tB=${tB}` };
      }
    }
  }
}

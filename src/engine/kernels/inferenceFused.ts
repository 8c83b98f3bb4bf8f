/**
 * Fused inference kernels for tfjs-backend-wasm: each replaces a chain of 3–10 small stock kernels
 * with one JS pass over the wasm heap. A single-stay prediction runs ≈300 kernels whose work is
 * tiny, so the engine's per-kernel bookkeeping (scopes, tracking, dispatch) is most of its time;
 * fusing the hottest chains cuts it. They have no gradient and are only called outside a gradient
 * tape (src/engine/inferenceKernels.ts), so training always runs the stock ops.
 *
 *  - FlexiLayerNorm  (x [..., D], gamma [D], beta [D]; attr eps) → (x − μ)/√(σ² + eps)·γ + β over the last axis
 *  - FlexiGeluSigmoid (x) → x·σ(1.702x), the experts' GELU approximation
 *  - FlexiTimeEmbedding (t [...], w [D], b [D]) → [..., D]: t·w₀ + b₀, then sin(t·w_j + b_j) (mTAND's φ)
 *  - FlexiLinear (x [..., I], w [I, O], b [O] optional) → [..., O]: x·w + b — the BatchMatMul kernel
 *    registered now (native BLAS or wasm) on x viewed as [N, I], then the bias added in place,
 *    instead of Reshape, BatchMatMul, Add, Reshape
 *  - FlexiGatedMix (logits, a, b, all one shape) → σ(logits)·a + (1 − σ(logits))·b (UTDE's gate)
 *  - FlexiDistanceLogits (x [N, D], w [D, S]; attrs kind, eps) → [N, S]: the Gaussian gate −‖x − w_s‖²
 *    or the Laplace gate −√(‖x − w_s‖² + eps), from the differences themselves (the stock chain
 *    expands ‖x‖² − 2x·w + ‖w‖² and clamps the cancellation error at 0)
 *
 * Arithmetic is in float64, rounded to float32 on store (the stock chains round after every op).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import { callStock } from './stock.js';
import { disposeInfo, view, type WasmBackendLike } from './wasmHeap.js';

interface Args<I> {
  inputs: I;
  backend: WasmBackendLike;
  attrs?: Record<string, unknown>;
}

function need32(name: string, ...ts: TensorInfo[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new Error(`engine: ${name} needs float32 inputs, got ${t.dtype}`);
}

function layerNorm(args: Args<{ x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }>): TensorInfo {
  const { inputs, backend } = args;
  const { x, gamma, beta } = inputs;
  need32('FlexiLayerNorm', x, gamma, beta);
  const eps = Number(args.attrs?.eps ?? 1e-5);
  const D = x.shape[x.shape.length - 1] ?? 1;
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const xv = view(backend, x) as Float32Array; // views after the allocation (the heap may grow)
  const gv = view(backend, gamma) as Float32Array;
  const bv = view(backend, beta) as Float32Array;
  const ov = view(backend, out) as Float32Array;
  for (let r = 0; r < xv.length; r += D) {
    let mean = 0;
    for (let i = 0; i < D; i++) mean += xv[r + i]!;
    mean /= D;
    let v = 0;
    for (let i = 0; i < D; i++) {
      const c = xv[r + i]! - mean;
      v += c * c;
    }
    const inv = 1 / Math.sqrt(v / D + eps);
    for (let i = 0; i < D; i++) ov[r + i] = (xv[r + i]! - mean) * inv * gv[i]! + bv[i]!;
  }
  return out;
}

function geluSigmoid(args: Args<{ x: TensorInfo }>): TensorInfo {
  const { inputs, backend } = args;
  need32('FlexiGeluSigmoid', inputs.x);
  const out = backend.makeOutput(inputs.x.shape.slice(), 'float32');
  const xv = view(backend, inputs.x) as Float32Array;
  const ov = view(backend, out) as Float32Array;
  for (let i = 0; i < xv.length; i++) {
    const v = xv[i]!;
    ov[i] = v / (1 + Math.exp(-1.702 * v));
  }
  return out;
}

function timeEmbedding(args: Args<{ t: TensorInfo; w: TensorInfo; b: TensorInfo }>): TensorInfo {
  const { inputs, backend } = args;
  const { t, w, b } = inputs;
  need32('FlexiTimeEmbedding', t, w, b);
  const D = w.shape[0] ?? 0;
  const out = backend.makeOutput([...t.shape, D], 'float32');
  const tv = view(backend, t) as Float32Array;
  const wv = view(backend, w) as Float32Array;
  const bv = view(backend, b) as Float32Array;
  const ov = view(backend, out) as Float32Array;
  for (let n = 0; n < tv.length; n++) {
    const time = tv[n]!;
    const o = n * D;
    if (D > 0) ov[o] = time * wv[0]! + bv[0]!;
    for (let j = 1; j < D; j++) ov[o + j] = Math.sin(time * wv[j]! + bv[j]!);
  }
  return out;
}

/** Largest output (elements) whose bias FlexiLinear adds in JS; above it, the stock wasm Add. */
const BIAS_IN_JS_MAX = 4096;

function linear(args: Args<{ x: TensorInfo; w: TensorInfo; b?: TensorInfo }>): TensorInfo {
  const { inputs, backend } = args;
  const { x, w, b } = inputs;
  need32('FlexiLinear', x, w, ...(b ? [b] : []));
  const I = w.shape[0]!;
  const O = w.shape[1]!;
  if (x.shape[x.shape.length - 1] !== I) throw new Error(`engine: FlexiLinear expects last dim ${I}, got shape [${x.shape.join(', ')}]`);
  const lead = x.shape.slice(0, -1);
  const N = lead.reduce((a, d) => a * d, 1);
  // The registered BatchMatMul (native BLAS or the wasm kernel) on x viewed as [N, I] — a view of
  // the same data, as the stock Reshape makes. Its output is ours to write the bias into.
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc as KernelFunc;
  const y = matMul({
    inputs: { a: { ...x, shape: [N, I] }, b: w },
    backend: backend as never,
    attrs: { transposeA: false, transposeB: false },
  }) as TensorInfo; // [N, O]
  if (b && N * O > BIAS_IN_JS_MAX) {
    // Many rows (batches): the stock wasm Add (SIMD) beats a JS loop.
    const withBias = callStock('Add', backend, { a: y, b }); // [N, O]
    disposeInfo(backend, y);
    return { ...withBias, shape: [...lead, O] };
  }
  if (b && N * O > 0) {
    const yv = view(backend, y) as Float32Array;
    const bv = view(backend, b) as Float32Array;
    for (let r = 0; r < N * O; r += O) for (let j = 0; j < O; j++) yv[r + j]! += bv[j]!;
  }
  return { ...y, shape: [...lead, O] }; // [..., O]
}

function gatedMix(args: Args<{ logits: TensorInfo; a: TensorInfo; b: TensorInfo }>): TensorInfo {
  const { inputs, backend } = args;
  const { logits, a, b } = inputs;
  need32('FlexiGatedMix', logits, a, b);
  const same = (t: TensorInfo): boolean => t.shape.length === logits.shape.length && t.shape.every((d, i) => d === logits.shape[i]);
  if (!same(a) || !same(b)) throw new Error(`engine: FlexiGatedMix needs one shape, got [${logits.shape}], [${a.shape}], [${b.shape}]`);
  const out = backend.makeOutput(logits.shape.slice(), 'float32');
  const lv = view(backend, logits) as Float32Array;
  const av = view(backend, a) as Float32Array;
  const bv = view(backend, b) as Float32Array;
  const ov = view(backend, out) as Float32Array;
  for (let i = 0; i < lv.length; i++) {
    const g = 1 / (1 + Math.exp(-lv[i]!));
    ov[i] = g * av[i]! + (1 - g) * bv[i]!;
  }
  return out;
}

function distanceLogits(args: Args<{ x: TensorInfo; w: TensorInfo }>): TensorInfo {
  const { inputs, backend } = args;
  const { x, w } = inputs;
  need32('FlexiDistanceLogits', x, w);
  const laplace = args.attrs?.kind === 'laplace';
  const eps = Number(args.attrs?.eps ?? 0);
  const [N, D] = x.shape as [number, number];
  const S = w.shape[1]!;
  const out = backend.makeOutput([N, S], 'float32');
  const xv = view(backend, x) as Float32Array;
  const wv = view(backend, w) as Float32Array;
  const ov = view(backend, out) as Float32Array;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      let d2 = 0;
      for (let i = 0; i < D; i++) {
        const c = xv[n * D + i]! - wv[i * S + s]!;
        d2 += c * c;
      }
      ov[n * S + s] = laplace ? -Math.sqrt(d2 + eps) : -d2;
    }
  }
  return out;
}

export const layerNormConfig: KernelConfig = { kernelName: 'FlexiLayerNorm', backendName: 'wasm', kernelFunc: layerNorm as never };
export const geluSigmoidConfig: KernelConfig = { kernelName: 'FlexiGeluSigmoid', backendName: 'wasm', kernelFunc: geluSigmoid as never };
export const timeEmbeddingConfig: KernelConfig = { kernelName: 'FlexiTimeEmbedding', backendName: 'wasm', kernelFunc: timeEmbedding as never };
export const linearConfig: KernelConfig = { kernelName: 'FlexiLinear', backendName: 'wasm', kernelFunc: linear as never };
export const gatedMixConfig: KernelConfig = { kernelName: 'FlexiGatedMix', backendName: 'wasm', kernelFunc: gatedMix as never };
export const distanceLogitsConfig: KernelConfig = { kernelName: 'FlexiDistanceLogits', backendName: 'wasm', kernelFunc: distanceLogits as never };

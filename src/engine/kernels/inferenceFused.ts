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
 *  - FlexiDistanceLogits (x [N, D], w [D, S]; attrs kind, eps) → [N, S]: the Gaussian gate −‖x − w_s‖²
 *    or the Laplace gate −√(‖x − w_s‖² + eps), from the differences themselves (the stock chain
 *    expands ‖x‖² − 2x·w + ‖w‖² and clamps the cancellation error at 0)
 *
 * Arithmetic is in float64, rounded to float32 on store (the stock chains round after every op).
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { view, type WasmBackendLike } from './wasmHeap.js';

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
export const distanceLogitsConfig: KernelConfig = { kernelName: 'FlexiDistanceLogits', backendName: 'wasm', kernelFunc: distanceLogits as never };

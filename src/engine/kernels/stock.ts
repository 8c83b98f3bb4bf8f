/**
 * Access to the stock tfjs-backend-wasm kernels that the fast kernels replace or build on.
 * The stock configs are captured the first time `captureStock` sees them (before any
 * replacement is registered), so a fast kernel can always fall back to, or call into, the
 * original implementation.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';
import type { WasmBackendLike } from './wasmHeap.js';

const stock = new Map<string, KernelConfig | null>();

/** Remembers the currently registered wasm kernel `name` as the stock one (first call wins). */
export function captureStock(name: string): KernelConfig | null {
  if (!stock.has(name)) {
    let cfg: KernelConfig | null = null;
    try {
      cfg = (tf.getKernel(name, 'wasm') as KernelConfig | undefined) ?? null;
    } catch {
      cfg = null;
    }
    stock.set(name, cfg);
  }
  return stock.get(name) ?? null;
}

/** The stock wasm kernel config for `name`, or null when wasm has none. */
export function stockConfig(name: string): KernelConfig | null {
  return captureStock(name);
}

/** Calls the stock wasm kernel `name`; throws if wasm has none. */
export function callStock(
  name: string,
  backend: WasmBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const cfg = captureStock(name);
  if (cfg === null) throw new Error(`engine: no stock wasm kernel '${name}'`);
  const f = cfg.kernelFunc as KernelFunc;
  return f({ inputs, backend: backend as never, attrs: attrs as never }) as TensorInfo;
}

/** Stock Transpose of `x` with permutation `perm` (a new TensorInfo the caller must dispose). */
export function stockTranspose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return callStock('Transpose', backend, { x }, { perm });
}

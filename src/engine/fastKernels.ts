/**
 * Registers the engine's fast tfjs-backend-wasm kernels (see docs/ENGINE.md for what each one
 * replaces and why). Uses only the public kernel registry API (`tf.getKernel`,
 * `tf.unregisterKernel`, `tf.registerKernel`); the stock kernels are remembered so that
 * `unregisterFastKernels()` restores them and the fast kernels can call into them.
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { batchMatMulConfig } from './kernels/batchMatMul.js';
import { blasBatchMatMulConfig } from './kernels/blasMatMul.js';
import { FAST_KERNELS, MISSING_KERNELS, installWasmKernels, restoreStockKernels } from './fastKernelSet.js';

export { FAST_KERNELS, MISSING_KERNELS } from './fastKernelSet.js';

let active: 'none' | 'missing' | 'all' = 'none';
/** Is BatchMatMul the native-BLAS kernel (only while the fast kernels are installed)? */
let nativeMatMul = false;

function install(configs: readonly KernelConfig[]): void {
  installWasmKernels(configs, (cfg) => (nativeMatMul && cfg === batchMatMulConfig ? blasBatchMatMulConfig : cfg));
}

/**
 * Replaces the slow/missing wasm kernels with the engine's fast ones. Idempotent. Call after
 * the wasm backend is registered (initEngine does it).
 */
export function registerFastKernels(): void {
  if (active === 'all') return;
  unregisterFastKernels();
  install(FAST_KERNELS);
  active = 'all';
}

/**
 * Registers only the kernels stock wasm is missing (UnsortedSegmentSum, Conv2DBackpropFilter),
 * leaving every existing stock kernel in place: the "stock" baseline of the benchmark.
 */
export function registerMissingKernelsOnly(): void {
  if (active === 'missing') return;
  unregisterFastKernels();
  install(MISSING_KERNELS);
  active = 'missing';
}

/**
 * Routes BatchMatMul through the native BLAS kernel (`on`, used when `openBlas` succeeded) or the
 * wasm one. Takes effect now if the fast kernels are installed, else when they are.
 */
export function useNativeMatMul(on: boolean): void {
  if (nativeMatMul === on) return;
  nativeMatMul = on;
  if (active === 'all') install([batchMatMulConfig]);
}

/** Is BatchMatMul the native BLAS kernel right now? */
export function nativeMatMulInUse(): boolean {
  return active === 'all' && nativeMatMul;
}

/** Restores the stock wasm kernels (and removes the added ones). */
export function unregisterFastKernels(): void {
  if (active === 'none') return;
  restoreStockKernels(active === 'all' ? FAST_KERNELS : MISSING_KERNELS);
  active = 'none';
}

/** Which kernel set is installed: 'none' (stock), 'missing' (stock + missing ones) or 'all'. */
export function fastKernelState(): 'none' | 'missing' | 'all' {
  return active;
}

/** Is the wasm kernel `name` one of ours right now? */
export function isFastKernel(name: string): boolean {
  const k = tf.getKernel(name, 'wasm') as KernelConfig | undefined;
  if (k === undefined) return false;
  const mine = FAST_KERNELS.find((c) => c.kernelName === name);
  if (mine === undefined) return false;
  const f = k.kernelFunc as KernelFunc;
  return f === mine.kernelFunc || (mine === batchMatMulConfig && f === blasBatchMatMulConfig.kernelFunc);
}

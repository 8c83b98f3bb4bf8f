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
import { concatConfig, packConfig } from './kernels/concat.js';
import { conv2DBackpropFilterConfig } from './kernels/conv2dBackpropFilter.js';
import { erfConfig } from './kernels/erf.js';
import { expConfig } from './kernels/exp.js';
import { gatherV2Config } from './kernels/gather.js';
import { identityConfig } from './kernels/identity.js';
import { distanceLogitsConfig, gatedMixConfig, geluSigmoidConfig, layerNormConfig, linearConfig, timeEmbeddingConfig } from './kernels/inferenceFused.js';
import { sliceConfig, splitVConfig, stridedSliceConfig, unpackConfig } from './kernels/slice.js';
import { captureStock } from './kernels/stock.js';
import { unsortedSegmentSumConfig } from './kernels/unsortedSegmentSum.js';

/** Every fast kernel, by name. */
export const FAST_KERNELS: readonly KernelConfig[] = [
  batchMatMulConfig,
  gatherV2Config,
  unsortedSegmentSumConfig,
  sliceConfig,
  stridedSliceConfig,
  splitVConfig,
  unpackConfig,
  concatConfig,
  packConfig,
  conv2DBackpropFilterConfig,
  identityConfig,
  expConfig,
  erfConfig,
  layerNormConfig,
  geluSigmoidConfig,
  timeEmbeddingConfig,
  distanceLogitsConfig,
  linearConfig,
  gatedMixConfig,
];

/** Kernels that stock wasm lacks entirely (registered even when fast kernels are off, if asked). */
export const MISSING_KERNELS: readonly KernelConfig[] = [unsortedSegmentSumConfig, conv2DBackpropFilterConfig];

let active: 'none' | 'missing' | 'all' = 'none';
/** Is BatchMatMul the native-BLAS kernel (only while the fast kernels are installed)? */
let nativeMatMul = false;

function install(configs: readonly KernelConfig[]): void {
  const backend = tf.findBackend('wasm');
  for (const cfg of configs) {
    const stock = captureStock(cfg.kernelName);
    if (stock !== null) tf.unregisterKernel(cfg.kernelName, 'wasm');
    else if (tf.getKernel(cfg.kernelName, 'wasm') !== undefined) tf.unregisterKernel(cfg.kernelName, 'wasm');
    // Keep the stock setup (its cwrap handles are used when a fast kernel falls back).
    const setupFunc = stock?.setupFunc;
    const impl = nativeMatMul && cfg === batchMatMulConfig ? blasBatchMatMulConfig : cfg;
    const wrapped: KernelConfig = { ...impl, setupFunc };
    tf.registerKernel(wrapped);
    if (backend != null && setupFunc != null) setupFunc(backend);
  }
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
  const backend = tf.findBackend('wasm');
  const names = active === 'all' ? FAST_KERNELS : MISSING_KERNELS;
  for (const cfg of names) {
    tf.unregisterKernel(cfg.kernelName, 'wasm');
    const stock = captureStock(cfg.kernelName);
    if (stock !== null) {
      tf.registerKernel(stock);
      if (backend != null && stock.setupFunc != null) stock.setupFunc(backend);
    }
  }
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

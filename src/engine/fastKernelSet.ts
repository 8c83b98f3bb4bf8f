/**
 * The engine's fast tfjs-backend-wasm kernels as a list, and installing / removing a list on the
 * wasm backend through the public kernel registry (`tf.getKernel`, `tf.unregisterKernel`,
 * `tf.registerKernel`). Pure JS over the wasm heap: no native addon, no file access, so the
 * browser build installs the same kernels (src/browser/engine.ts); src/engine/fastKernels.ts adds
 * the Node-only native BLAS matmul and the on/off state.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';
import { batchMatMulConfig } from './kernels/batchMatMul.js';
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

/**
 * Registers `configs` on the wasm backend in place of the stock kernels of the same names (the
 * stock ones are remembered: see kernels/stock.ts). `substitute` may swap a config for another
 * implementation of the same kernel (the native BLAS matmul).
 */
export function installWasmKernels(configs: readonly KernelConfig[], substitute: (cfg: KernelConfig) => KernelConfig = (c) => c): void {
  const backend = tf.findBackend('wasm');
  for (const cfg of configs) {
    const stock = captureStock(cfg.kernelName);
    if (stock !== null) tf.unregisterKernel(cfg.kernelName, 'wasm');
    else if (tf.getKernel(cfg.kernelName, 'wasm') !== undefined) tf.unregisterKernel(cfg.kernelName, 'wasm');
    // Keep the stock setup (its cwrap handles are used when a fast kernel falls back).
    const setupFunc = stock?.setupFunc;
    const wrapped: KernelConfig = { ...substitute(cfg), setupFunc };
    tf.registerKernel(wrapped);
    if (backend != null && setupFunc != null) setupFunc(backend);
  }
}

/** Removes `configs` from the wasm backend and re-registers the stock kernels they replaced. */
export function restoreStockKernels(configs: readonly KernelConfig[]): void {
  const backend = tf.findBackend('wasm');
  for (const cfg of configs) {
    tf.unregisterKernel(cfg.kernelName, 'wasm');
    const stock = captureStock(cfg.kernelName);
    if (stock !== null) {
      tf.registerKernel(stock);
      if (backend != null && stock.setupFunc != null) stock.setupFunc(backend);
    }
  }
}

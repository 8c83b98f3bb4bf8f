/**
 * Calls a fused inference kernel (src/engine/kernels/inferenceFused.ts) when one may be used: no
 * gradient tape is recording (inference, evaluation), and the kernel is registered on the active
 * backend (wasm with the fast kernels on). Otherwise returns null and the caller runs its stock ops.
 */
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { tf } from './tf.js';

export type InferenceKernel = 'FlexiLayerNorm' | 'FlexiGeluSigmoid' | 'FlexiTimeEmbedding' | 'FlexiDistanceLogits' | 'FlexiLinear' | 'FlexiGatedMix';

/** The fused kernel's output, or null when the stock ops must run (see above). */
export function runInferenceKernel(name: InferenceKernel, inputs: Record<string, tf.Tensor>, attrs: NamedAttrMap = {}): tf.Tensor | null {
  const engine = tf.engine();
  if (engine.isTapeOn()) return null;
  if (tf.getKernel(name, tf.getBackend()) === undefined) return null;
  if (Object.values(inputs).some((t) => t.dtype !== 'float32')) return null;
  return engine.runKernel(name, inputs, attrs) as tf.Tensor;
}

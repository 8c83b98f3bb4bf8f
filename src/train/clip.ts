/**
 * Gradient clipping by global norm: if ‖g‖₂ over all gradients exceeds `maxNorm`, every gradient
 * is scaled by maxNorm/‖g‖₂. Returns the clipped gradients (new tensors) and the norm before
 * clipping.
 */
import { tf } from '../engine/tf.js';

export function clipByGlobalNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number } {
  const names = Object.keys(grads);
  const norm = tf.tidy(() => {
    const sq = names.map((n) => tf.sum(tf.square(grads[n]!)));
    return Math.sqrt(tf.addN(sq).dataSync()[0]!);
  });
  const out: Record<string, tf.Tensor> = {};
  const scale = maxNorm > 0 && norm > maxNorm ? maxNorm / norm : 1;
  for (const n of names) out[n] = scale === 1 ? tf.clone(grads[n]!) : tf.mul(grads[n]!, scale);
  return { grads: out, norm };
}

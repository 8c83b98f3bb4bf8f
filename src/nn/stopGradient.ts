/**
 * stopGradient(x): the value of x with a zero gradient. tfjs has no such op; this is a
 * `tf.customGrad` that returns zeros (used for constants that cancel mathematically, e.g. the
 * max subtracted before an exp, so that no gradient flows through comparison-based kernels).
 */
import { tf } from '../engine/tf.js';

const stop = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/** x [any] → same values, zero gradient. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stop(x) as T;
}

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

const subMax = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.sub(x, tf.max(x, -1, true)),
  gradFunc: (dy: tf.Tensor) => dy.clone(),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * x − max(x) over the last axis, with the max treated as a constant (gradient = dy). The max
 * is computed inside the custom op, so no Max/Equal backward runs on the tape (a plain
 * `x − stopGradient(max(x))` still back-propagates zeros through the max, which was the
 * slowest kernel of an mTAND step on wasm).  x [..., n] → [..., n]
 */
export function subtractMaxNoGrad<T extends tf.Tensor>(x: T): T {
  return subMax(x) as T;
}

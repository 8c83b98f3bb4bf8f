/**
 * Masked mean pooling over the token axis: mean of the tokens whose mask is 1; 0 for a row with
 * no valid token (no NaN).
 */
import { tf } from '../engine/tf.js';

/** x [B, L, d], mask [B, L] (0/1, constant) → [B, d]. */
export function maskedMeanPool(x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = tf.expandDims(mask, -1); // [B, L, 1]
    const s = tf.sum(tf.mul(x, m), 1); // [B, d]
    const n = tf.maximum(tf.sum(m, 1), 1); // [B, 1]
    return tf.div(s, n) as tf.Tensor2D;
  });
}

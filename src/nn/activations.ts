/**
 * Activation functions. tfjs has no GELU op, so two versions are provided:
 *  - `gelu`     exact: 0.5·x·(1 + erf(x/√2)). Matches PyTorch's default nn.GELU. The erf kernel is
 *               a slow scalar path on wasm (≈15 % of an MoE step, ENGINE-NOTES).
 *  - `geluFast` sigmoid approximation x·σ(1.702x) (Hendrycks & Gimpel 2016); max abs deviation from
 *               the exact GELU ≈ 0.02, much faster on wasm.
 * Choice: layers default to `'gelu'` (exact, paper-faithful); configs can pick `'gelu-fast'`
 * for speed.
 */
import { tf } from '../engine/tf.js';
import { FlexiModalError } from '../errors.js';

export type ActivationName = 'gelu' | 'gelu-fast' | 'relu' | 'tanh' | 'sigmoid' | 'identity';

export const ACTIVATIONS: readonly ActivationName[] = ['gelu', 'gelu-fast', 'relu', 'tanh', 'sigmoid', 'identity'];

/** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** Fast GELU: x·σ(1.702x). */
export function geluFast(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702))));
}

/** Apply the named activation. */
export function activate(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'gelu-fast':
      return geluFast(x);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'identity':
      return x.clone();
    default:
      throw new FlexiModalError(`unknown activation '${String(name)}'`, {
        where: 'config key activation',
        hint: `use one of ${ACTIVATIONS.join(', ')}`,
      });
  }
}

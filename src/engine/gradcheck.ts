/**
 * Finite-difference gradient check: compares tfjs autodiff against central differences
 * computed in float64 on the JS side (the function is evaluated in float32 by tfjs, so use
 * well-scaled inputs and a step around 1e-2..1e-3).
 */
import { tf } from './tf.js';

export interface GradCheckResult {
  /** Largest |autodiff − finite difference| over all checked entries. */
  maxAbsError: number;
  /** Largest relative error |a − f| / max(1e-3, |a|, |f|). */
  maxRelError: number;
  /** Number of entries compared. */
  checked: number;
}

/**
 * Check d f / d inputs[i] for every input. `f` must return a scalar.
 * `maxEntries` limits the number of probed coordinates per input (chosen deterministically).
 */
export function gradCheck(
  f: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  opts: { eps?: number; maxEntries?: number } = {},
): GradCheckResult {
  const eps = opts.eps ?? 1e-2;
  const maxEntries = opts.maxEntries ?? 64;
  const grads = tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs);
  let maxAbs = 0;
  let maxRel = 0;
  let checked = 0;
  inputs.forEach((x, which) => {
    const base = x.dataSync().slice() as Float32Array;
    const analytic = grads[which]!.dataSync();
    const stride = Math.max(1, Math.floor(base.length / maxEntries));
    for (let j = 0; j < base.length; j += stride) {
      const evalAt = (delta: number): number =>
        tf.tidy(() => {
          const probe = base.slice();
          probe[j] = probe[j]! + delta;
          const xs = inputs.map((t, k) => (k === which ? tf.tensor(probe, x.shape, 'float32') : t));
          return f(...xs).dataSync()[0]!;
        });
      const numeric = (evalAt(eps) - evalAt(-eps)) / (2 * eps);
      const a = analytic[j]!;
      const abs = Math.abs(a - numeric);
      maxAbs = Math.max(maxAbs, abs);
      maxRel = Math.max(maxRel, abs / Math.max(1e-3, Math.abs(a), Math.abs(numeric)));
      checked++;
    }
  });
  grads.forEach((g) => g.dispose());
  return { maxAbsError: maxAbs, maxRelError: maxRel, checked };
}

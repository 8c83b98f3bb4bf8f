/** Shared test helpers for test/moe. */
import { tf } from '../../src/engine/tf.js';
import type { SparseMoE, SparseMoEApplyOptions } from '../../src/moe/sparse-moe.js';

/**
 * Max |sparse − dense| over the loss value (Σ R ∘ y) and the gradients w.r.t. every variable and x.
 * Both paths see the same routing (same seed, same weights).
 */
export function sparseDenseMaxDiff(
  moe: SparseMoE,
  x: tf.Tensor2D,
  opts: Omit<SparseMoEApplyOptions, 'dispatch'>,
): { value: number; grad: number; gradCount: number } {
  return tf.tidy(() => {
    const R = tf.randomNormal(x.shape, 0, 1, 'float32', 99);
    const vars = moe.variables();
    const run = (dispatch: 'sparse' | 'dense') => {
      const f = (xx: tf.Tensor, ...vs: tf.Tensor[]) => {
        void vs;
        return tf.sum(tf.mul(moe.apply(xx as tf.Tensor2D, { ...opts, dispatch }).y, R)) as tf.Scalar;
      };
      const value = f(x).dataSync()[0]!;
      const { grads } = tf.variableGrads(() => f(x));
      const gx = tf.grad((xx: tf.Tensor) => f(xx))(x);
      return { value, grads, gx };
    };
    const a = run('sparse');
    const b = run('dense');
    let grad = tf.max(tf.abs(tf.sub(a.gx, b.gx))).dataSync()[0]!;
    let gradCount = 1;
    for (const v of vars) {
      const ga = a.grads[v.name];
      const gb = b.grads[v.name];
      if (!ga || !gb) continue;
      gradCount++;
      grad = Math.max(grad, tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0]!);
    }
    return { value: Math.abs(a.value - b.value), grad, gradCount };
  });
}

/** Seeded N(0, std²) matrix. */
export function randn2d(shape: [number, number], std: number, seed: number): tf.Tensor2D {
  return tf.randomNormal(shape, 0, std, 'float32', seed) as tf.Tensor2D;
}

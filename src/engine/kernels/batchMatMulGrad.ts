/**
 * BatchMatMul gradient that supports broadcasting of the batch dims (tfjs-core's does not:
 * `matMul([B,T,D], [D,H])` or `[1,m,k]×[B,k,n]` throw "gradient … does not match the shape of
 * the input" in the backward pass, on every backend). Same products as tfjs-core's gradient,
 * then summed over the broadcast batch dims down to each input's shape. Registered globally
 * (gradients are backend-independent).
 */
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs-core';
import { tf } from '../tf.js';

/** Sums `g` down to `shape` over leading and broadcast (size-1) dims. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  let r = g;
  if (lead > 0) r = tf.sum(r, Array.from({ length: lead }, (_, i) => i));
  const axes: number[] = [];
  for (let i = 0; i < shape.length; i++) if (shape[i] === 1 && r.shape[i] !== 1) axes.push(i);
  if (axes.length > 0) r = tf.sum(r, axes, true);
  return tf.reshape(r, shape);
}

/** Gradient config for BatchMatMul with batch broadcasting. */
export const batchMatMulGradConfig: GradConfig = {
  kernelName: 'BatchMatMul',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: NamedAttrMap) => {
    const d = dy as tf.Tensor;
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const tA = attrs['transposeA'] as boolean;
    const tB = attrs['transposeB'] as boolean;
    // Fast 2-D path for the common [..., T, D] × [D, H] case: one big product for dB.
    if (b.rank === 2 && a.rank > 2 && !tA) {
      const D = a.shape[a.rank - 1]!;
      const H = d.shape[d.rank - 1]!;
      const a2 = tf.reshape(a, [-1, D]);
      const d2 = tf.reshape(d, [-1, H]);
      return {
        a: () => tf.reshape(tf.matMul(d2, b, false, !tB), a.shape),
        b: () => (tB ? tf.matMul(d2, a2, true, false) : tf.matMul(a2, d2, true, false)),
      };
    }
    let ga: () => tf.Tensor;
    let gb: () => tf.Tensor;
    if (!tA && !tB) {
      ga = () => tf.matMul(d, b, false, true);
      gb = () => tf.matMul(a, d, true, false);
    } else if (!tA && tB) {
      ga = () => tf.matMul(d, b, false, false);
      gb = () => tf.matMul(d, a, true, false);
    } else if (tA && !tB) {
      ga = () => tf.matMul(b, d, false, true);
      gb = () => tf.matMul(a, d, false, false);
    } else {
      ga = () => tf.matMul(b, d, true, true);
      gb = () => tf.matMul(d, a, true, true);
    }
    return { a: () => reduceTo(ga(), a.shape), b: () => reduceTo(gb(), b.shape) };
  },
};

let registered = false;

/**
 * Registers the engine's gradient fixes (idempotent):
 *  - BatchMatMul with broadcast batch dims (above);
 *  - GatherV2: tfjs-core returns the int32 indices as their own "gradient", which throws
 *    ("must have 'float32' dtype") whenever the indices depend on a variable, e.g. routing
 *    indices from `noGrad(topk)`. We return float32 zeros for the indices instead.
 */
export function registerBatchMatMulGrad(): void {
  if (registered) return;
  tf.registerGradient(batchMatMulGradConfig);
  const gather = tf.getGradient('GatherV2');
  if (gather !== undefined) {
    tf.registerGradient({
      ...gather,
      gradFunc: (dy, saved, attrs) => {
        const g = gather.gradFunc(dy, saved, attrs);
        const indices = saved[1]!;
        return { ...g, indices: () => tf.zeros(indices.shape, 'float32') };
      },
    });
  }
  registered = true;
}

/**
 * Gradient barriers. tfjs has no stopGradient, and ops without a gradient (topk, comparisons,
 * one-hot…) throw in the backward pass whenever they sit on a path from a variable to the loss.
 * `noGrad` runs such a computation inside `tf.customGrad` with zero gradients for its inputs.
 */
import { tf } from './tf.js';

/**
 * Runs `f(...inputs)` so that no gradient flows back into `inputs` (they receive zeros).
 * `f` must return a single tensor; it may use ops that have no gradient (topk, greater, …).
 */
export function noGrad<T extends tf.Tensor>(f: (...xs: tf.Tensor[]) => T, ...inputs: tf.Tensor[]): T {
  const shapes = inputs.map((x) => x.shape.slice());
  const g = tf.customGrad((...args: unknown[]) => {
    const xs = args.slice(0, inputs.length) as tf.Tensor[];
    const value = f(...xs);
    return {
      value,
      // Zero gradients built from shapes only (closure tensors are disposed by backprop time).
      gradFunc: () => shapes.map((s) => tf.zeros(s)),
    };
  });
  return g(...inputs) as T;
}

/** Identity in the forward pass, zero gradient in the backward pass. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return noGrad((y) => y.clone(), x) as T;
}

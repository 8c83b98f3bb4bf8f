/**
 * The single import point for TensorFlow.js in fleximodal.
 *
 * The all-in-one `@tensorflow/tfjs` package is used (not `tfjs-core` alone) because only it
 * registers the gradients and chained ops that training needs (see ENGINE-NOTES). Every module
 * imports `tf` from here so the engine can be swapped or patched in one place.
 */
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;

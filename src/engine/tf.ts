/**
 * The single import point for TensorFlow.js in fleximodal.
 *
 * `@tensorflow/tfjs-core` alone registers no gradients and no chained ops (`x.square()`): both are
 * registered here (dist/vendor/tfjs-gradients.js, built from tfjs-core's own sources by
 * scripts/vendor-tfjs.mjs), with the pure-JS cpu backend, so that the all-in-one `@tensorflow/tfjs`
 * (layers, converter, WebGL: ≈140 MB we never use) is not needed. Every module
 * imports `tf` from here so the engine can be swapped or patched in one place.
 */
import * as tf from '@tensorflow/tfjs-core';
// Built by scripts/vendor-tfjs.mjs (npm run build): tfjs-core's gradients and chained ops.
import '../../vendor/tfjs-gradients.js';
// The chained ops' declarations (`x.square()`), types only.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-backend-cpu';

tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;

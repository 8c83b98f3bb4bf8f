/**
 * The single import point for TensorFlow.js in fleximodal.
 *
 * `@tensorflow/tfjs-core` alone registers no gradients and no chained ops (`x.square()`): both are
 * registered here (dist/vendor/tfjs-gradients.cjs, built from tfjs-core's own sources by
 * scripts/vendor-tfjs.mjs), with the pure-JS cpu backend, so that the all-in-one `@tensorflow/tfjs`
 * (layers, converter, WebGL: ≈140 MB we never use) is not needed. Every module
 * imports `tf` from here so the engine can be swapped or patched in one place.
 *
 * The tfjs packages are CommonJS bundles of 0.5–1.2 MB. They are loaded with `require`, not
 * `import`: Node's ESM loader runs its CommonJS export scanner over every byte of them, which
 * tripled the package's import time (docs/EMBEDDING.md has the figures). `tf` is both the
 * module's value and a namespace of its tensor types (`tf.Tensor2D`), as with `import * as tf`.
 */
import { createRequire } from 'node:module';
import type * as TfCore from '@tensorflow/tfjs-core';
// The chained ops' declarations (`x.square()`), types only.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';

const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs-core') as typeof TfCore;
// Built by scripts/vendor-tfjs.mjs (npm run build): tfjs-core's gradients and chained ops. After
// tfjs-core: its chained ops patch the Tensor class core registered.
require('../../vendor/tfjs-gradients.cjs');
require('@tensorflow/tfjs-backend-cpu');

tf.env().set('PROD', true);

// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace tf {
  export type Rank = TfCore.Rank;
  export type Tensor<R extends TfCore.Rank = TfCore.Rank> = TfCore.Tensor<R>;
  export type Scalar = TfCore.Scalar;
  export type Tensor1D = TfCore.Tensor1D;
  export type Tensor2D = TfCore.Tensor2D;
  export type Tensor3D = TfCore.Tensor3D;
  export type Tensor4D = TfCore.Tensor4D;
  export type Variable<R extends TfCore.Rank = TfCore.Rank> = TfCore.Variable<R>;
  export type TensorContainer = TfCore.TensorContainer;
  export type NamedTensorMap = TfCore.NamedTensorMap;
  export type DataType = TfCore.DataType;
  export type AdamOptimizer = TfCore.AdamOptimizer;
}

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;

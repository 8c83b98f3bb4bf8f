/**
 * Dense layer y = x·W + b applied over the last axis of a tensor of any rank ≥ 1.
 *
 * The input is reshaped to 2-D internally ([N, in] with N = product of the leading dims) so that
 * only plain 2-D matMuls are used (broadcasting rank-3 × 2-D matMul fails in the wasm backward
 * pass, see ENGINE-NOTES).
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { runInferenceKernel } from '../engine/inferenceKernels.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { glorotUniform, initRng } from './init.js';

/**
 * y = x·w + b over the last axis: x [..., in], w [in, out], b [out] or null → [..., out]. Outside a
 * gradient tape (inference) one fused kernel (FlexiLinear) when the backend has it; otherwise
 * Reshape to [N, in], MatMul, Add, Reshape back.
 */
export function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const fused = runInferenceKernel('FlexiLinear', b ? { x, w, b } : { x, w });
  if (fused) return fused; // [..., out]
  const inDim = w.shape[0]!;
  const outDim = w.shape[1]!;
  const x2 = (x.rank === 2 ? x : x.reshape([-1, inDim])) as tf.Tensor2D; // [N, in]
  let y: tf.Tensor = tf.matMul(x2, w as tf.Tensor2D); // [N, out]
  if (b) y = tf.add(y, b);
  return x.rank === 2 ? y : y.reshape([...x.shape.slice(0, -1), outDim]); // [..., out]
}

export interface LinearConfig {
  inDim: number;
  outDim: number;
  /** Add a bias (initialised to 0). Default true. */
  bias?: boolean;
  /** Initialise from `new Rng(seed)` instead of the shared generator. */
  seed?: number;
}

/** y = x·W + b. Variables: `${name}.w` [in, out] (Glorot uniform), `${name}.b` [out] (zeros). */
export class Linear {
  readonly name: string;
  readonly inDim: number;
  readonly outDim: number;
  readonly w: tf.Variable; // [in, out]
  readonly b: tf.Variable | null; // [out]

  constructor(name: string, cfg: LinearConfig, rng: Rng) {
    if (!(cfg.inDim > 0 && cfg.outDim > 0 && Number.isInteger(cfg.inDim) && Number.isInteger(cfg.outDim))) {
      throw new FlexiModalError(`linear layer '${name}' needs positive integer sizes, got ${cfg.inDim}→${cfg.outDim}`, {
        where: `layer ${name}`,
        hint: 'check the model dimensions in the configuration',
      });
    }
    this.name = name;
    this.inDim = cfg.inDim;
    this.outDim = cfg.outDim;
    const r = initRng(rng, cfg.seed);
    const w = glorotUniform(r, cfg.inDim, cfg.outDim, cfg.inDim * cfg.outDim);
    this.w = tf.tidy(() => param(tf.tensor2d(w, [cfg.inDim, cfg.outDim]), true, `${name}.w`));
    this.b = cfg.bias === false ? null : tf.tidy(() => param(tf.zeros([cfg.outDim]), true, `${name}.b`));
  }

  /** x [..., in] → [..., out]. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const shape = x.shape;
      const last = shape[shape.length - 1];
      if (last !== this.inDim) {
        throw new FlexiModalError(`linear layer '${this.name}' expects last dim ${this.inDim}, got shape [${shape.join(', ')}]`, {
          where: `layer ${this.name}`,
          hint: 'the input width must match the layer configuration',
        });
      }
      return dense(x, this.w, this.b); // [..., out]
    });
  }

  variables(): tf.Variable[] {
    return this.b ? [this.w, this.b] : [this.w];
  }
}

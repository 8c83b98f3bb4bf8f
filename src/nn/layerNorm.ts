/**
 * Layer normalisation over the last axis: y = (x − μ)/√(σ² + ε) · g + b, with μ, σ² from
 * `tf.moments` (biased variance, as in PyTorch).
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { Rng } from '../engine/rng.js';
import { runInferenceKernel } from '../engine/inferenceKernels.js';

export interface LayerNormConfig {
  dim: number;
  /** Default 1e-5. */
  eps?: number;
}

/** Variables: `${name}.g` [dim] (ones), `${name}.b` [dim] (zeros). */
export class LayerNorm {
  readonly name: string;
  readonly dim: number;
  readonly eps: number;
  readonly g: tf.Variable; // [dim]
  readonly b: tf.Variable; // [dim]

  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  constructor(name: string, cfg: LayerNormConfig, _rng?: Rng) {
    this.name = name;
    this.dim = cfg.dim;
    this.eps = cfg.eps ?? 1e-5;
    this.g = tf.tidy(() => param(tf.ones([cfg.dim]), true, `${name}.g`));
    this.b = tf.tidy(() => param(tf.zeros([cfg.dim]), true, `${name}.b`));
  }

  /** x [..., dim] → [..., dim]. */
  apply(x: tf.Tensor): tf.Tensor {
    const fused = runInferenceKernel('FlexiLayerNorm', { x, gamma: this.g, beta: this.b }, { eps: this.eps });
    if (fused) return fused;
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
      const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(xhat, this.g), this.b);
    });
  }

  variables(): tf.Variable[] {
    return [this.g, this.b];
  }
}

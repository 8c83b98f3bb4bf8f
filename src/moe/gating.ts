/**
 * Gating functions of the sparse MoE (FuseMoE §3.1, seed 002 §4): the logits h(x) ∈ R^S per token.
 *
 *   softmax           h(x) = xW + b                     W: [d, S], b: [S]
 *   gaussian          h(x)_i = −‖W_i − x‖²              W_i = column i of W (an expert "centre")
 *   laplace           h(x)_i = −sqrt(‖W_i − x‖² + ε)    (ε keeps the gradient finite at distance 0)
 *   modified-softmax  h(x) = M(x)W + b,  M ∈ {sigmoid, tanh, cos, l2-normalize}
 *
 * Squared distances are computed by the expansion ‖x‖² − 2 x·W_i + ‖W_i‖² (two 2-D matmul-sized
 * ops instead of an [N, S, d] difference tensor), clamped at 0 before the square root.
 */
import { tf } from '../engine/tf.js';
import { param } from '../engine/params.js';
import { runInferenceKernel } from '../engine/inferenceKernels.js';
import type { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';

/** Which gating function produces the router logits. */
export type GatingFunction = 'softmax' | 'gaussian' | 'laplace' | 'modified-softmax';
/** The map M of modified softmax gating h = β₁ᵀM(x) + β₀. */
export type ModifiedGateFn = 'sigmoid' | 'tanh' | 'cos' | 'l2-normalize';

export const GATING_FUNCTIONS: readonly GatingFunction[] = ['softmax', 'gaussian', 'laplace', 'modified-softmax'];
export const MODIFIED_GATE_FNS: readonly ModifiedGateFn[] = ['sigmoid', 'tanh', 'cos', 'l2-normalize'];

/** ε inside the Laplace square root and the l2-normalisation. */
export const GATE_EPS = 1e-6;
/** Added to softplus(x W_noise) so the noise never vanishes (Shazeer 2017 `noise_epsilon`). */
export const NOISE_EPS = 1e-2;

/** Apply the modified-softmax map M elementwise / rowwise. x: [N, d] → [N, d]. */
export function modifiedGateMap(fn: ModifiedGateFn, x: tf.Tensor2D): tf.Tensor2D {
  switch (fn) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'cos':
      return tf.cos(x);
    case 'l2-normalize': {
      const n = tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), GATE_EPS)); // [N, 1]
      return tf.div(x, n) as tf.Tensor2D;
    }
  }
}

/** Squared distances ‖W_i − x_n‖² ≥ 0. x: [N, d], w: [d, S] → [N, S]. */
export function squaredDistances(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const xx = tf.sum(tf.square(x), 1, true); // [N, 1]
  const ww = tf.sum(tf.square(w), 0, true); // [1, S]
  const xw = tf.matMul(x, w); // [N, S]
  return tf.relu(tf.add(tf.sub(xx, tf.mul(xw, 2)), ww)) as tf.Tensor2D; // [N, S]
}

/**
 * Gate logits h(x) for one gating function. x: [N, d], w: [d, S], b: [S] or null → [N, S].
 * (Pure function; the `Gate` class owns the variables.)
 */
export function gatingLogits(
  gating: GatingFunction,
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Tensor1D | null,
  modifiedGateFn: ModifiedGateFn = 'sigmoid',
): tf.Tensor2D {
  switch (gating) {
    case 'softmax': {
      const h = tf.matMul(x, w) as tf.Tensor2D; // [N, S]
      return b ? (tf.add(h, b) as tf.Tensor2D) : h;
    }
    case 'modified-softmax': {
      const h = tf.matMul(modifiedGateMap(modifiedGateFn, x), w) as tf.Tensor2D; // [N, S]
      return b ? (tf.add(h, b) as tf.Tensor2D) : h;
    }
    case 'gaussian':
      return (runInferenceKernel('FlexiDistanceLogits', { x, w }, { kind: 'gaussian' }) ?? tf.neg(squaredDistances(x, w))) as tf.Tensor2D;
    case 'laplace':
      return (runInferenceKernel('FlexiDistanceLogits', { x, w }, { kind: 'laplace', eps: GATE_EPS }) ??
        tf.neg(tf.sqrt(tf.add(squaredDistances(x, w), GATE_EPS)))) as tf.Tensor2D;
  }
}

/** Configuration of a gate (router). */
export interface GateConfig {
  /** Token width d. */
  dim: number;
  /** Number of experts S the gate scores. */
  numExperts: number;
  gating: GatingFunction;
  /** M for 'modified-softmax' (default 'sigmoid'). */
  modifiedGateFn?: ModifiedGateFn;
  /** Create the noise weight W_noise for noisy top-K gating (Shazeer 2017). */
  noisyGating?: boolean;
  /** Std of the normal init of W (default 0.02). W_noise starts at 0 (as in Shazeer's code). */
  initStd?: number;
}

/**
 * A router: owns W [d, S] (`<name>.w`), the bias b [S] (`<name>.b`, softmax and modified-softmax
 * only: the distance gates have no bias in the paper) and, with noisy gating, W_noise [d, S]
 * (`<name>.noise.w`).
 */
export class Gate {
  readonly name: string;
  readonly cfg: Required<GateConfig>;
  readonly w: tf.Variable;
  readonly b: tf.Variable | null;
  readonly noiseW: tf.Variable | null;

  constructor(name: string, cfg: GateConfig, rng: Rng) {
    validateGateConfig(name, cfg);
    this.name = name;
    this.cfg = {
      dim: cfg.dim,
      numExperts: cfg.numExperts,
      gating: cfg.gating,
      modifiedGateFn: cfg.modifiedGateFn ?? 'sigmoid',
      noisyGating: cfg.noisyGating ?? false,
      initStd: cfg.initStd ?? 0.02,
    };
    const { dim, numExperts, initStd } = this.cfg;
    const init = new Float32Array(dim * numExperts);
    for (let i = 0; i < init.length; i++) init[i] = rng.normal() * initStd;
    this.w = tf.tidy(() => param(tf.tensor2d(init, [dim, numExperts]), true, `${name}.w`));
    const hasBias = cfg.gating === 'softmax' || cfg.gating === 'modified-softmax';
    this.b = hasBias ? tf.tidy(() => param(tf.zeros([numExperts]), true, `${name}.b`)) : null;
    this.noiseW = this.cfg.noisyGating
      ? tf.tidy(() => param(tf.zeros([dim, numExperts]), true, `${name}.noise.w`))
      : null;
  }

  /** Clean logits h(x). x: [N, d] → [N, S]. */
  logits(x: tf.Tensor2D): tf.Tensor2D {
    return gatingLogits(
      this.cfg.gating,
      x,
      this.w as tf.Tensor2D,
      this.b as tf.Tensor1D | null,
      this.cfg.modifiedGateFn,
    );
  }

  /** Noise scale softplus(x W_noise) + NOISE_EPS. x: [N, d] → [N, S]. Requires noisyGating. */
  noiseStd(x: tf.Tensor2D): tf.Tensor2D {
    if (!this.noiseW) throw new FlexiModalError('noiseStd called on a gate without noise', { where: this.name });
    return tf.add(tf.softplus(tf.matMul(x, this.noiseW as tf.Tensor2D)), NOISE_EPS) as tf.Tensor2D;
  }

  /** Trained parameters: w, b (if any), noise.w (if any). */
  variables(): tf.Variable[] {
    return [this.w, ...(this.b ? [this.b] : []), ...(this.noiseW ? [this.noiseW] : [])];
  }
}

function validateGateConfig(name: string, cfg: GateConfig): void {
  if (!GATING_FUNCTIONS.includes(cfg.gating)) {
    throw new FlexiModalError(`unknown gating function '${String(cfg.gating)}'`, {
      where: `config key ${name}.gating`,
      hint: `use one of ${GATING_FUNCTIONS.join(', ')}`,
    });
  }
  if (cfg.modifiedGateFn !== undefined && !MODIFIED_GATE_FNS.includes(cfg.modifiedGateFn)) {
    throw new FlexiModalError(`unknown modified gate map '${String(cfg.modifiedGateFn)}'`, {
      where: `config key ${name}.modifiedGateFn`,
      hint: `use one of ${MODIFIED_GATE_FNS.join(', ')}`,
    });
  }
  if (!(Number.isInteger(cfg.dim) && cfg.dim > 0) || !(Number.isInteger(cfg.numExperts) && cfg.numExperts > 0)) {
    throw new FlexiModalError(`dim (${cfg.dim}) and numExperts (${cfg.numExperts}) must be positive integers`, {
      where: `config key ${name}`,
      hint: 'set dim to the token width and numExperts ≥ 1',
    });
  }
}

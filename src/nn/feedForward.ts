/**
 * The position-wise feed-forward interface of a transformer block, and its dense default.
 *
 * Any object with `apply(x: [N, d]) → { y: [N, d], aux? }` can serve as the FFN, so a sparse MoE
 * layer can replace the dense one; `aux` carries whatever the FFN wants to hand back (router
 * losses, routing statistics) and is returned by the block untouched.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { ActivationName } from './activations.js';
import { Mlp } from './mlp.js';

export interface FeedForwardOptions {
  training: boolean;
  /** 1 for real tokens, 0 for padding.  [N] (constant data) */
  tokenMask?: tf.Tensor1D;
}

/** A token-wise map [N, d] → [N, d] with optional auxiliary output. */
export interface TokenFeedForward<A = unknown> {
  apply(x: tf.Tensor2D, opts: FeedForwardOptions): { y: tf.Tensor2D; aux?: A };
  variables(): tf.Variable[];
}

export interface DenseFeedForwardConfig {
  dim: number;
  /** Hidden width. Default 4·dim. */
  hidden?: number;
  /** Default 'gelu'. */
  activation?: ActivationName;
  dropout?: number;
}

/** d → hidden → d MLP. Variables: `${name}.l0.*`, `${name}.l1.*`. */
export class DenseFeedForward implements TokenFeedForward<never> {
  readonly mlp: Mlp;

  constructor(name: string, cfg: DenseFeedForwardConfig, rng: Rng) {
    this.mlp = new Mlp(
      name,
      { dims: [cfg.dim, cfg.hidden ?? 4 * cfg.dim, cfg.dim], activation: cfg.activation, dropout: cfg.dropout },
      rng,
    );
  }

  /** x [N, d] → { y: [N, d] }. */
  apply(x: tf.Tensor2D, opts: FeedForwardOptions = { training: false }): { y: tf.Tensor2D } {
    return { y: this.mlp.apply(x, opts.training) as tf.Tensor2D };
  }

  variables(): tf.Variable[] {
    return this.mlp.variables();
  }
}

/**
 * Multi-head scaled dot-product attention with an optional 0/1 key mask.
 *
 *   Q = q·W_q, K = kv·W_k, V = kv·W_v   split into h heads of width p/h
 *   A = softmax(QKᵀ/√(p/h) + (m − 1)·1e9)      (masked keys get −1e9, not −∞, so no NaN)
 *   y = concat_h(A·V)·W_o, then rows whose mask is all zero are set to exactly 0.
 *
 * A fully masked query row would otherwise attend uniformly over padding; it is zeroed
 * explicitly (also its output bias), so that a residual block leaves such tokens unchanged.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { FlexiModalError } from '../errors.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';

export interface MultiHeadAttentionConfig {
  /** Width of the query input. */
  dim: number;
  /** Width of the key/value input. Default `dim`. */
  kvDim?: number;
  heads: number;
  /** Total projection width p (split over heads). Default `dim`; must be divisible by `heads`. */
  projDim?: number;
  /** Output width. Default `dim`. */
  outDim?: number;
  /** Dropout on the attention weights (training only). Default 0. */
  dropout?: number;
  /** Biases in the projections. Default true. */
  bias?: boolean;
}

export interface AttentionOptions {
  /**
   * 0/1 mask (constant data, no gradient): [B, Lk] masks keys for every query,
   * [B, Lq, Lk] masks per query. 1 = attend.
   */
  mask?: tf.Tensor;
  training?: boolean;
}

/** Variables: `${name}.q.*`, `${name}.k.*`, `${name}.v.*`, `${name}.o.*`. */
export class MultiHeadAttention {
  readonly name: string;
  readonly heads: number;
  readonly projDim: number;
  readonly outDim: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;
  private readonly drop: Dropout;

  constructor(name: string, cfg: MultiHeadAttentionConfig, rng: Rng) {
    const p = cfg.projDim ?? cfg.dim;
    if (p % cfg.heads !== 0) {
      throw new FlexiModalError(`attention '${name}': width ${p} is not divisible by ${cfg.heads} heads`, {
        where: `layer ${name}`,
        hint: 'choose a model width that is a multiple of the number of heads',
      });
    }
    this.name = name;
    this.heads = cfg.heads;
    this.projDim = p;
    this.outDim = cfg.outDim ?? cfg.dim;
    const kv = cfg.kvDim ?? cfg.dim;
    this.q = new Linear(`${name}.q`, { inDim: cfg.dim, outDim: p, bias: cfg.bias }, rng);
    this.k = new Linear(`${name}.k`, { inDim: kv, outDim: p, bias: cfg.bias }, rng);
    this.v = new Linear(`${name}.v`, { inDim: kv, outDim: p, bias: cfg.bias }, rng);
    this.o = new Linear(`${name}.o`, { inDim: p, outDim: this.outDim, bias: cfg.bias }, rng);
    this.drop = new Dropout(`${name}.drop`, { rate: cfg.dropout ?? 0 }, rng);
  }

  /** q [B, Lq, dim], kv [B, Lk, kvDim] → [B, Lq, outDim]. */
  apply(q: tf.Tensor3D, kv: tf.Tensor3D, opts: AttentionOptions = {}): tf.Tensor3D {
    return tf.tidy(() => this.applyWithWeights(q, kv, opts).y);
  }

  /** Like `apply`, also returning the attention weights A [B, h, Lq, Lk]. */
  applyWithWeights(q: tf.Tensor3D, kv: tf.Tensor3D, opts: AttentionOptions = {}): { y: tf.Tensor3D; weights: tf.Tensor4D } {
    return tf.tidy(() => {
      const [B, Lq] = q.shape;
      const Lk = kv.shape[1];
      const h = this.heads;
      const dh = this.projDim / h;
      const split = (x: tf.Tensor, L: number): tf.Tensor4D =>
        x.reshape([B, L, h, dh]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, h, L, dh]
      const Q = split(this.q.apply(q), Lq);
      const K = split(this.k.apply(kv), Lk);
      const V = split(this.v.apply(kv), Lk);
      let s = tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(dh)) as tf.Tensor4D; // [B, h, Lq, Lk]
      let rowValid: tf.Tensor | null = null; // [B, Lq|1, 1]
      if (opts.mask) {
        const m = opts.mask;
        const m4 = m.rank === 2 ? m.reshape([B, 1, 1, Lk]) : m.reshape([B, 1, Lq, Lk]);
        s = tf.add(s, tf.mul(tf.sub(m4, 1), 1e9));
        rowValid = tf.max(m.rank === 2 ? m.reshape([B, 1, Lk]) : m, -1, true); // [B, 1|Lq, 1]
      }
      let a = tf.softmax(s, -1) as tf.Tensor4D; // [B, h, Lq, Lk]
      const weights = rowValid ? (tf.mul(a, rowValid.reshape([B, 1, -1, 1])) as tf.Tensor4D) : a;
      a = this.drop.apply(weights, opts.training ?? false) as tf.Tensor4D;
      const ctx = tf.matMul(a, V).transpose([0, 2, 1, 3]).reshape([B, Lq, this.projDim]); // [B, Lq, p]
      let y = this.o.apply(ctx) as tf.Tensor3D; // [B, Lq, out]
      if (rowValid) y = tf.mul(y, rowValid) as tf.Tensor3D;
      return { y, weights };
    });
  }

  variables(): tf.Variable[] {
    return [...this.q.variables(), ...this.k.variables(), ...this.v.variables(), ...this.o.variables()];
  }
}

/**
 * Pre-norm transformer block:
 *   x ← x + Dropout(MHA(LN₁(x)))
 *   x ← x + Dropout(FFN(LN₂(x)))
 * The FFN is pluggable (any `TokenFeedForward`, e.g. a sparse MoE); it sees the tokens flattened
 * to [B·L, d] and its `aux` output is returned as is.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import { ActivationName } from './activations.js';
import { Dropout } from './dropout.js';
import { DenseFeedForward, TokenFeedForward } from './feedForward.js';
import { LayerNorm } from './layerNorm.js';
import { MultiHeadAttention } from './multiHeadAttention.js';

export interface TransformerBlockConfig<A = unknown> {
  dim: number;
  heads: number;
  /** The FFN; default a dense d → ffnHidden → d MLP. */
  ffn?: TokenFeedForward<A>;
  /** Hidden width of the default FFN. Default 4·dim. */
  ffnHidden?: number;
  /** Activation of the default FFN. Default 'gelu'. */
  activation?: ActivationName;
  /** Residual dropout (and dropout inside the default FFN). Default 0. */
  dropout?: number;
  /** Dropout on attention weights. Default 0. */
  attnDropout?: number;
}

export interface BlockOptions {
  /** 1 for real tokens, 0 for padding (keys masked in attention).  [B, L] */
  mask?: tf.Tensor2D;
  training?: boolean;
}

/** Variables: `${name}.ln1.*`, `${name}.attn.*`, `${name}.ln2.*`, `${name}.ffn.*` (default FFN). */
export class TransformerBlock<A = unknown> {
  readonly name: string;
  readonly dim: number;
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly ln2: LayerNorm;
  readonly ffn: TokenFeedForward<A>;
  private readonly drop: Dropout;

  constructor(name: string, cfg: TransformerBlockConfig<A>, rng: Rng) {
    this.name = name;
    this.dim = cfg.dim;
    this.ln1 = new LayerNorm(`${name}.ln1`, { dim: cfg.dim });
    this.attn = new MultiHeadAttention(`${name}.attn`, { dim: cfg.dim, heads: cfg.heads, dropout: cfg.attnDropout }, rng);
    this.ln2 = new LayerNorm(`${name}.ln2`, { dim: cfg.dim });
    this.ffn =
      cfg.ffn ??
      (new DenseFeedForward(
        `${name}.ffn`,
        { dim: cfg.dim, hidden: cfg.ffnHidden, activation: cfg.activation, dropout: cfg.dropout },
        rng,
      ) as TokenFeedForward<A>);
    this.drop = new Dropout(`${name}.drop`, { rate: cfg.dropout ?? 0 }, rng);
  }

  /** x [B, L, d] → { y: [B, L, d], aux } (aux from the FFN). */
  apply(x: tf.Tensor3D, opts: BlockOptions = {}): { y: tf.Tensor3D; aux?: A } {
    const training = opts.training ?? false;
    const out = tf.tidy(() => {
      const [B, L, d] = x.shape;
      const n1 = this.ln1.apply(x) as tf.Tensor3D; // [B, L, d]
      const a = this.attn.apply(n1, n1, { mask: opts.mask, training }); // [B, L, d]
      const x1 = tf.add(x, this.drop.apply(a, training)) as tf.Tensor3D;
      const flat = this.ln2.apply(x1).reshape([B * L, d]) as tf.Tensor2D; // [N, d]
      const tokenMask = opts.mask ? (opts.mask.reshape([B * L]) as tf.Tensor1D) : undefined;
      const f = this.ffn.apply(flat, { training, tokenMask });
      const y = tf.add(x1, this.drop.apply(f.y.reshape([B, L, d]), training)) as tf.Tensor3D;
      return (f.aux === undefined ? { y } : { y, aux: f.aux }) as unknown as tf.TensorContainer;
    });
    return out as unknown as { y: tf.Tensor3D; aux?: A };
  }

  variables(): tf.Variable[] {
    return [...this.ln1.variables(), ...this.attn.variables(), ...this.ln2.variables(), ...this.ffn.variables()];
  }
}

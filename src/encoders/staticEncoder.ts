/**
 * Static-vector encoder: (values ⊕ mask) [B, 2F] → MLP → [B, n·d] → n tokens [B, n, d].
 * Samples with no observed feature get zero tokens and empty = 1.
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import type { ModalityBatch } from '../data/batchTypes.js';
import { FlexiModalError } from '../errors.js';
import type { ActivationName } from '../nn/activations.js';
import { Mlp } from '../nn/mlp.js';
import { batchSizeOf, emptyRows, expectKind } from './batchArrays.js';
import type { EncoderOutput, ModalityEncoder } from './encoder.js';

export interface StaticEncoderConfig {
  /** Number of features F. */
  inputDim: number;
  /** Token width d. */
  d: number;
  /** Number of output tokens n. Default 1. */
  numTokens?: number;
  /** Hidden width; 0 = a single linear layer. Default d. */
  hidden?: number;
  activation?: ActivationName;
  dropout?: number;
}

/** Variables: `${name}.mlp.l*.{w,b}`. */
export class StaticEncoder implements ModalityEncoder {
  readonly kind = 'static' as const;
  readonly name: string;
  readonly numTokens: number;
  readonly dim: number;
  readonly inputDim: number;
  readonly mlp: Mlp;

  constructor(name: string, cfg: StaticEncoderConfig, rng: Rng) {
    this.name = name;
    this.numTokens = cfg.numTokens ?? 1;
    this.dim = cfg.d;
    this.inputDim = cfg.inputDim;
    if (!(Number.isInteger(this.numTokens) && this.numTokens >= 1)) {
      throw new FlexiModalError(`staticTokens must be a positive integer, got ${cfg.numTokens}`, {
        where: `config key staticTokens (encoder ${name})`,
      });
    }
    const hidden = cfg.hidden ?? cfg.d;
    const out = this.numTokens * cfg.d;
    this.mlp = new Mlp(
      `${name}.mlp`,
      { dims: hidden > 0 ? [2 * cfg.inputDim, hidden, out] : [2 * cfg.inputDim, out], activation: cfg.activation, dropout: cfg.dropout },
      rng,
    );
  }

  /** batch: StaticBatch with F = inputDim → tokens [B, n, d], empty [B]. */
  apply(batch: ModalityBatch, training = false): EncoderOutput {
    expectKind(batch, 'static', `encoder ${this.name}`);
    if (batch.F !== this.inputDim) {
      throw new FlexiModalError(`encoder ${this.name} was built for ${this.inputDim} features, the batch has F=${batch.F}`, {
        where: `encoder ${this.name}`,
        hint: 'build the encoder from the same dataset spec as the batches',
      });
    }
    const B = batchSizeOf(batch, `encoder ${this.name}`);
    const F = batch.F;
    const x = new Float32Array(B * 2 * F); // [B, 2F]
    for (let b = 0; b < B; b++) {
      for (let f = 0; f < F; f++) {
        const m = batch.mask[b * F + f]! > 0 ? 1 : 0;
        x[b * 2 * F + f] = m ? batch.values[b * F + f]! : 0;
        x[b * 2 * F + F + f] = m;
      }
    }
    const empty = emptyRows(batch, B);
    return tf.tidy(() => {
      const y = this.mlp.apply(tf.tensor2d(x, [B, 2 * F]), training); // [B, n·d]
      const keep = tf.tensor2d(empty.map((e) => 1 - e), [B, 1]);
      const tokens = tf.mul(y, keep).reshape([B, this.numTokens, this.dim]) as tf.Tensor3D; // [B, n, d]
      return { tokens, empty: tf.tensor1d(empty) };
    });
  }

  variables(): tf.Variable[] {
    return this.mlp.variables();
  }
}

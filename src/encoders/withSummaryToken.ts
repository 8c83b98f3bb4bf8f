/**
 * A time-series encoder whose γ tokens are followed by one summary token (per-variable last value,
 * mean, log count and time of last observation → MLP; see meanPoolEncoder.ts), so the fusion
 * layers see both the continuous-time representation and the classic summary statistics.
 */
import { tf } from '../engine/tf.js';
import type { ModalityBatch } from '../data/batchTypes.js';
import type { EncoderOutput, ModalityEncoder } from './encoder.js';

export class WithSummaryToken implements ModalityEncoder {
  readonly kind = 'timeseries' as const;
  readonly name: string;
  readonly numTokens: number;
  readonly dim: number;

  constructor(
    private readonly base: ModalityEncoder,
    private readonly summary: ModalityEncoder,
  ) {
    this.name = base.name;
    this.numTokens = base.numTokens + summary.numTokens;
    this.dim = base.dim;
  }

  /** tokens [B, γ + 1, d]; empty as the base encoder's. */
  apply(batch: ModalityBatch, training: boolean): EncoderOutput {
    return tf.tidy(() => {
      const a = this.base.apply(batch, training);
      const b = this.summary.apply(batch, training);
      return { tokens: tf.concat([a.tokens, b.tokens], 1) as tf.Tensor3D, empty: a.empty };
    });
  }

  variables(): tf.Variable[] {
    return [...this.base.variables(), ...this.summary.variables()];
  }
}

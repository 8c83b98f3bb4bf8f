/**
 * Timed-embedding encoder (notes, images, ECG embeddings): mTAND over the embedding sequence.
 * All D dimensions share the observation times, so the per-variable mask of mTAND is the time
 * mask ('shared' mode: one softmax over the real time steps per (reference point, head)), and
 * values are the raw vectors (no mask channels). Output: γ' tokens of width d (γ' default 8).
 * Optional keep-last-k: only the k latest vectors of each sample are attended (paper: 5 notes).
 */
import { tf } from '../engine/tf.js';
import { Rng } from '../engine/rng.js';
import type { ModalityBatch } from '../data/batchTypes.js';
import { FlexiModalError } from '../errors.js';
import { batchSizeOf, expectKind, keepLastK } from './batchArrays.js';
import type { EncoderOutput, ModalityEncoder } from './encoder.js';
import { MTand, MTandConfig } from './mtand.js';

export interface TimedEmbeddingConfig extends Omit<MTandConfig, 'maskMode' | 'maskChannels' | 'gamma'> {
  /** Reference points γ'. Default 8. */
  gamma?: number;
  /** Keep only the last k vectors per sample; 0 = all. Default 0. */
  keepLast?: number;
}

/** Variables: `${name}.time.*`, `${name}.q.*`, `${name}.k.*`, `${name}.out.*` ([h·D, d]). */
export class TimedEmbeddingEncoder implements ModalityEncoder {
  readonly kind = 'embedding' as const;
  readonly name: string;
  readonly mtand: MTand;
  readonly keepLast: number;

  constructor(name: string, cfg: TimedEmbeddingConfig, rng: Rng) {
    this.name = name;
    this.keepLast = cfg.keepLast ?? 0;
    if (!(Number.isInteger(this.keepLast) && this.keepLast >= 0)) {
      throw new FlexiModalError(`keepLast must be a non-negative integer, got ${cfg.keepLast}`, {
        where: `config key keepLast (encoder ${name})`,
        hint: 'use 0 (keep all) or e.g. 5',
      });
    }
    this.mtand = new MTand(name, { ...cfg, gamma: cfg.gamma ?? 8, maskMode: 'shared', maskChannels: false }, rng);
  }

  get numTokens(): number {
    return this.mtand.gamma;
  }

  get dim(): number {
    return this.mtand.d;
  }

  /** batch: EmbeddingBatch with D = inputDim → tokens [B, γ', d], empty [B]. */
  apply(batch: ModalityBatch, _training = false): EncoderOutput {
    expectKind(batch, 'embedding', `encoder ${this.name}`);
    if (batch.D !== this.mtand.inputDim) {
      throw new FlexiModalError(`encoder ${this.name} was built for width ${this.mtand.inputDim}, the batch has D=${batch.D}`, {
        where: `encoder ${this.name}`,
        hint: 'build the encoder from the same dataset spec as the batches',
      });
    }
    const B = batchSizeOf(batch, `encoder ${this.name}`);
    const timeMask = this.keepLast > 0 ? keepLastK(batch, B, this.keepLast) : batch.timeMask;
    const { z, empty } = this.mtand.apply({ B, T: batch.T, times: batch.times, timeMask, values: batch.values });
    return { tokens: z, empty };
  }

  variables(): tf.Variable[] {
    return this.mtand.variables();
  }
}
